// Operand accessors that handler templates are instantiated with, so one
// template gives one branch-free handler per operand form (reg/reg, reg/mem,
// mem/imm, ...): R0/R1 = register operand 0/1, M = the memory operand,
// I = the immediate.
#pragma once
#include "cpu/core.h"

namespace pc64 {

struct R0 {
  static constexpr bool kMem = false;
  template <class T> static T get(Core& c, const Insn& i) { return c.reg<T>(i.r0); }
  template <class T> static void set(Core& c, const Insn& i, T v) { c.set_reg<T>(i.r0, v); }
};
struct R1 {
  static constexpr bool kMem = false;
  template <class T> static T get(Core& c, const Insn& i) { return c.reg<T>(i.r1); }
  template <class T> static void set(Core& c, const Insn& i, T v) { c.set_reg<T>(i.r1, v); }
};
struct M {
  static constexpr bool kMem = true;
  template <class T> static T get(Core& c, const Insn& i) { return c.mem_read<T>(i); }
  template <class T> static void set(Core& c, const Insn& i, T v) { c.mem_write<T>(i, v); }
};
// The memory operand at the host address a handler's fast path found with
// Core::mem_hit() (Core::hit_host): nothing left to check, read and written
// in place. OnHost<X> swaps M for it.
struct MHost {
  static constexpr bool kMem = false;
  template <class T> static T get(Core& c, const Insn&) {
    T v;
    std::memcpy(&v, c.hit_host, sizeof v);
    return v;
  }
  template <class T> static void set(Core& c, const Insn&, T v) { std::memcpy(c.hit_host, &v, sizeof v); }
};
template <class X> using OnHost = std::conditional_t<std::is_same_v<X, M>, MHost, X>;

struct I {
  static constexpr bool kMem = false;
  template <class T> static T get(Core&, const Insn& i) { return static_cast<T>(i.imm); }
};

// Read-modify-write of a destination operand D with f(old) -> new.
template <class D, class T, class F> inline void modify(Core& c, const Insn& i, F f) {
  if constexpr (D::kMem) c.mem_rmw<T>(i, f);
  else D::template set<T>(c, i, static_cast<T>(f(D::template get<T>(c, i))));
}

}  // namespace pc64
