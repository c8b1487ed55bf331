// Data movement: MOV, MOVZX/MOVSX/MOVSXD, LEA, XCHG, XADD, CMPXCHG,
// CMPXCHG8B/16B, BSWAP, MOVBE, CBW/CWD families, XLAT, CMOVcc, SETcc, NOPs.
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

template <class D, class S> struct Mov {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (D::kMem || S::kMem) {
      // The common case inline; anything else (segment checks, TLB miss,
      // MMIO, faults) in general<T>, reached by a tail call.
      uint8_t* p;
      if (__builtin_expect(c.mem_hit<T>(i, D::kMem ? AccessKind::Write : AccessKind::Read, p), 1)) {
        T v;
        if constexpr (D::kMem) {
          v = S::template get<T>(c, i);
          std::memcpy(p, &v, sizeof v);
        } else {
          std::memcpy(&v, p, sizeof v);
          D::template set<T>(c, i, v);
        }
        return;
      }
      general<T>(c, i);
    } else {
      D::template set<T>(c, i, S::template get<T>(c, i));
    }
  }
  template <class T> [[gnu::noipa]] static void general(Core& c, const Insn& i) {
    D::template set<T>(c, i, S::template get<T>(c, i));
  }
};

template <bool SX, class ST, class S> struct Movx {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (S::kMem) {
      if (__builtin_expect(c.mem_hit<ST>(i, AccessKind::Read, c.hit_host), 1))
        return Movx<SX, ST, MHost>::template fn<T>(c, i);
      general<T>(c, i);
    } else {
      body<T>(c, i);
    }
  }
  template <class T> [[gnu::noipa]] static void general(Core& c, const Insn& i) { body<T>(c, i); }
  template <class T> static void body(Core& c, const Insn& i) {
    ST v = S::template get<ST>(c, i);
    T r = SX ? static_cast<T>(static_cast<Signed<T>>(static_cast<Signed<ST>>(v))) : static_cast<T>(v);
    c.set_reg<T>(i.r0, r);
  }
};

struct Lea {
  template <class T> static void fn(Core& c, const Insn& i) {
    // The address is computed at the address size, then truncated or
    // zero-extended to the operand size (SDM Vol. 2 LEA table 3-54).
    c.set_reg<T>(i.r0, static_cast<T>(c.ea(i)));
  }
};

template <class S> struct Xchg {  // r0 <-> S (register r1 or memory)
  template <class T> static void fn(Core& c, const Insn& i) {
    T a = c.reg<T>(i.r0);
    if constexpr (S::kMem) {
      T old = 0;
      c.mem_rmw<T>(i, [&](T m) {
        old = m;
        return a;
      });
      c.set_reg<T>(i.r0, old);
    } else {
      T b = c.reg<T>(i.r1);
      c.set_reg<T>(i.r1, a);
      c.set_reg<T>(i.r0, b);
    }
  }
};

template <class D> struct Xadd {  // D = R0 (reg dst, src r1) or M (mem dst, src r0)
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned sz = size_log2<T>();
    if constexpr (D::kMem) {
      T s = c.reg<T>(i.r0);
      T old = 0;
      c.mem_rmw<T>(i, [&](T d) {
        old = d;
        T r = static_cast<T>(d + s);
        c.set_lazy(FlagOp::Add, sz, r, d, s);
        return r;
      });
      c.set_reg<T>(i.r0, old);
    } else {
      T d = c.reg<T>(i.r0), s = c.reg<T>(i.r1);
      T r = static_cast<T>(d + s);
      c.set_lazy(FlagOp::Add, sz, r, d, s);
      c.set_reg<T>(i.r1, d);  // source gets the old destination first,
      c.set_reg<T>(i.r0, r);  // then the sum (matters when both are the same register)
    }
  }
};

template <class D> struct Cmpxchg {
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned sz = size_log2<T>();
    T acc = c.reg<T>(0);
    if constexpr (D::kMem) {
      T s = c.reg<T>(i.r0);
      T old = 0;
      c.mem_rmw<T>(i, [&](T d) {
        old = d;
        return d == acc ? s : d;  // the locked cycle always writes
      });
      c.set_lazy(FlagOp::Sub, sz, static_cast<T>(acc - old), acc, old);
      if (old != acc) c.set_reg<T>(0, old);
    } else {
      T d = c.reg<T>(i.r0), s = c.reg<T>(i.r1);
      c.set_lazy(FlagOp::Sub, sz, static_cast<T>(acc - d), acc, d);
      if (d == acc) c.set_reg<T>(i.r0, s);
      else c.set_reg<T>(0, d);
    }
  }
};

void h_cmpxchg8b(Core& c, const Insn& i) {
  uint64_t cmp = (uint64_t(uint32_t(c.s.gpr[RDX])) << 32) | uint32_t(c.s.gpr[RAX]);
  uint64_t nv = (uint64_t(uint32_t(c.s.gpr[RCX])) << 32) | uint32_t(c.s.gpr[RBX]);
  uint64_t old = 0;
  c.mem_rmw<uint64_t>(i, [&](uint64_t m) {
    old = m;
    return m == cmp ? nv : m;
  });
  c.set_flags(ZF, old == cmp ? ZF : 0);
  if (old != cmp) {
    c.s.gpr[RAX] = uint32_t(old);
    c.s.gpr[RDX] = uint32_t(old >> 32);
  }
}

void h_cmpxchg16b(Core& c, const Insn& i) {
  uint64_t off = c.ea(i);
  if (off & 15) c.gp(0);  // must be 16-byte aligned (SDM Vol. 2 CMPXCHG16B)
  uint64_t lo_lin = c.linear(i.seg, off, 16, true);
  c.probe_write(lo_lin, 16, c.user());
  uint64_t lo = c.read_lin<uint64_t>(lo_lin), hi = c.read_lin<uint64_t>(lo_lin + 8);
  bool eq = lo == c.s.gpr[RAX] && hi == c.s.gpr[RDX];
  if (eq) {
    c.write_lin<uint64_t>(lo_lin, c.s.gpr[RBX]);
    c.write_lin<uint64_t>(lo_lin + 8, c.s.gpr[RCX]);
  } else {
    c.write_lin<uint64_t>(lo_lin, lo);
    c.write_lin<uint64_t>(lo_lin + 8, hi);
    c.s.gpr[RAX] = lo;
    c.s.gpr[RDX] = hi;
  }
  c.set_flags(ZF, eq ? ZF : 0);
}

struct Bswap {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 2) c.set_reg<T>(i.r0, 0);  // undefined; current CPUs give 0
    else if constexpr (sizeof(T) == 4) c.set_reg<T>(i.r0, __builtin_bswap32(c.reg<T>(i.r0)));
    else c.set_reg<T>(i.r0, __builtin_bswap64(c.reg<T>(i.r0)));
  }
};

template <class T> T byteswap(T v) {
  if constexpr (sizeof(T) == 2) return __builtin_bswap16(v);
  else if constexpr (sizeof(T) == 4) return __builtin_bswap32(v);
  else return __builtin_bswap64(v);
}
template <bool LOAD> struct Movbe {
  template <class T> static void fn(Core& c, const Insn& i) {
    if (LOAD) c.set_reg<T>(i.r0, byteswap<T>(c.mem_read<T>(i)));
    else c.mem_write<T>(i, byteswap<T>(c.reg<T>(i.r0)));
  }
};

struct ConvertAcc {  // CBW / CWDE / CDQE
  template <class T> static void fn(Core& c, const Insn&) {
    using H = std::conditional_t<sizeof(T) == 2, int8_t, std::conditional_t<sizeof(T) == 4, int16_t, int32_t>>;
    c.set_reg<T>(0, static_cast<T>(static_cast<Signed<T>>(static_cast<H>(c.s.gpr[RAX]))));
  }
};
struct ConvertDx {  // CWD / CDQ / CQO
  template <class T> static void fn(Core& c, const Insn&) {
    T a = c.reg<T>(0);
    c.set_reg<T>(RDX, static_cast<Signed<T>>(a) < 0 ? static_cast<T>(~T(0)) : T(0));
  }
};

void h_xlat(Core& c, const Insn& i) {
  uint64_t off = (c.s.gpr[RBX] + (c.s.gpr[RAX] & 0xFF)) & Core::kAddrMask[i.asize];
  c.set_reg<uint8_t>(0, c.read<uint8_t>(i.seg, off));
}

void h_nop(Core&, const Insn&) {}

template <class S> struct Cmov {
  template <class T> static void fn(Core& c, const Insn& i) {
    T v = S::template get<T>(c, i);  // the source is read (and may fault) either way
    if (c.cond(i.aux)) c.set_reg<T>(i.r0, v);
    else if constexpr (sizeof(T) == 4) c.set_reg<T>(i.r0, c.reg<T>(i.r0));  // 32-bit CMOV zero-extends anyway
  }
};

template <class D> void h_setcc(Core& c, const Insn& i) { D::template set<uint8_t>(c, i, c.cond(i.aux)); }

}  // namespace

bool build_mov(Insn& i, const Decoded& d, unsigned) {
  // MOV to/from control, debug and segment registers share the mnemonic.
  for (unsigned k = 0; k < 2 && k < d.nvis(); ++k) {
    if (d.op[k].type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
    auto cls = ZydisRegisterGetClass(d.op[k].reg.value);
    if (cls == ZYDIS_REGCLASS_CONTROL || cls == ZYDIS_REGCLASS_DEBUG) return build_mov_cr(i, d);
    if (cls == ZYDIS_REGCLASS_SEGMENT) return build_mov_sreg(i, d);
  }
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  switch (form_of(d)) {
    case Form::RR: i.handler = by_size_quiet<Mov<R0, R1>>(sz); return true;
    case Form::RM: i.handler = by_size<Mov<R0, M>>(sz); return true;
    case Form::MR: i.handler = by_size<Mov<M, R0>>(sz); return true;
    case Form::RI: i.handler = by_size_quiet<Mov<R0, I>>(sz); return true;
    case Form::MI: i.handler = by_size<Mov<M, I>>(sz); return true;
    default: return false;
  }
}

bool build_movx(Insn& i, const Decoded& d, unsigned sx) {
  set_operands(i, d);
  unsigned dsz = d.op_size(0), ssz = d.op_size(1);
  bool mem = d.is_mem(1);
  auto pick = [&]<bool SX>() -> Handler {
    switch (ssz) {
      case 0: return mem ? by_size_wide<Movx<SX, uint8_t, M>>(dsz) : by_size_wide_quiet<Movx<SX, uint8_t, R1>>(dsz);
      case 1: return mem ? by_size_wide<Movx<SX, uint16_t, M>>(dsz) : by_size_wide_quiet<Movx<SX, uint16_t, R1>>(dsz);
      default: return mem ? by_size_wide<Movx<SX, uint32_t, M>>(dsz) : by_size_wide_quiet<Movx<SX, uint32_t, R1>>(dsz);
    }
  };
  i.handler = sx ? pick.template operator()<true>() : pick.template operator()<false>();
  return dsz >= 1;
}

bool build_lea(Insn& i, const Decoded& d, unsigned) {
  if (!d.is_mem(1)) return false;
  set_operands(i, d);
  i.handler = by_size_wide_quiet<Lea>(d.op_size(0));
  return true;
}

bool build_xchg(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  switch (form_of(d)) {
    case Form::RR: i.handler = by_size_quiet<Xchg<R1>>(sz); return true;
    case Form::RM:
    case Form::MR: i.handler = by_size<Xchg<M>>(sz); return true;
    default: return false;
  }
}

bool build_xadd(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  i.handler = d.is_mem(0) ? by_size<Xadd<M>>(sz) : by_size<Xadd<R0>>(sz);
  return true;
}

bool build_cmpxchg(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  i.handler = d.is_mem(0) ? by_size<Cmpxchg<M>>(sz) : by_size<Cmpxchg<R0>>(sz);
  return true;
}

bool build_cmpxchg8b(Insn& i, const Decoded& d, unsigned wide) {
  if (!d.is_mem(0)) return false;
  set_operands(i, d);
  i.handler = wide ? &h_cmpxchg16b : &h_cmpxchg8b;
  return true;
}

bool build_bswap(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  i.handler = by_size_wide_quiet<Bswap>(d.op_size(0));
  return true;
}

bool build_movbe(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  unsigned sz = d.osize();
  if (d.is_mem(1)) i.handler = by_size_wide<Movbe<true>>(sz);
  else if (d.is_mem(0)) i.handler = by_size_wide<Movbe<false>>(sz);
  else return false;
  return true;
}

bool build_convert(Insn& i, const Decoded& d, unsigned dx) {
  i.handler = dx ? by_size_wide_quiet<ConvertDx>(d.osize()) : by_size_wide_quiet<ConvertAcc>(d.osize());
  return true;
}

bool build_xlat(Insn& i, const Decoded& d, unsigned) {
  i.seg = string_segment(d);
  i.handler = &h_xlat;
  return true;
}

bool build_nop(Insn& i, const Decoded&, unsigned) {
  i.handler = with_thread<&h_nop>();
  return true;
}

bool build_cmov(Insn& i, const Decoded& d, unsigned cc) {
  set_operands(i, d);
  i.aux = static_cast<uint8_t>(cc);
  unsigned sz = d.op_size(0);
  i.handler = d.is_mem(1) ? by_size_wide<Cmov<M>>(sz) : by_size_wide_quiet<Cmov<R1>>(sz);
  return true;
}

bool build_setcc(Insn& i, const Decoded& d, unsigned cc) {
  set_operands(i, d);
  i.aux = static_cast<uint8_t>(cc);
  i.handler = d.is_mem(0) ? with_thread<&h_setcc<M>>() : with_thread<&h_setcc<R0>, true>();
  return true;
}

}  // namespace pc64
