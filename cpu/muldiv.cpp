// MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (#DE on a zero
// divisor or a quotient that does not fit, SDM Vol. 2 DIV/IDIV).
#include <limits>

#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

template <class T> using Wide = std::conditional_t<sizeof(T) == 8, unsigned __int128,
                                 std::conditional_t<sizeof(T) == 4, uint64_t, uint32_t>>;
template <class T> using SWide = std::conditional_t<sizeof(T) == 8, __int128,
                                 std::conditional_t<sizeof(T) == 4, int64_t, int32_t>>;

// Flags after a multiply: CF=OF from the overflow; SF/ZF/PF from the low
// half and AF clear, as the host CPUs we compare against produce.
template <class T> void mul_flags(Core& c, T lo, bool overflow) {
  c.set_lazy_szp(size_log2<T>(), lo, overflow ? (CF | OF) : 0);
}

// Writes the double-width result to AX, DX:AX, EDX:EAX or RDX:RAX.
template <class T> void store_pair(Core& c, T lo, T hi) {
  if constexpr (sizeof(T) == 1) {
    c.set_reg<uint16_t>(RAX, static_cast<uint16_t>(lo | (uint16_t(hi) << 8)));
  } else {
    c.set_reg<T>(RAX, lo);
    c.set_reg<T>(RDX, hi);
  }
}

template <bool SIGNED, class S> struct Mul1 {
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned bits = sizeof(T) * 8;
    T src = S::template get<T>(c, i);
    T a = c.reg<T>(0);
    T lo, hi;
    bool ovf;
    if constexpr (SIGNED) {
      SWide<T> p = SWide<T>(static_cast<Signed<T>>(a)) * SWide<T>(static_cast<Signed<T>>(src));
      lo = static_cast<T>(p);
      hi = static_cast<T>(static_cast<Wide<T>>(p) >> bits);
      ovf = p != SWide<T>(static_cast<Signed<T>>(lo));
    } else {
      Wide<T> p = Wide<T>(a) * Wide<T>(src);
      lo = static_cast<T>(p);
      hi = static_cast<T>(p >> bits);
      ovf = hi != 0;
    }
    store_pair<T>(c, lo, hi);
    mul_flags<T>(c, lo, ovf);
  }
};

// IMUL r, r/m (S1 = R0 dst) or IMUL r, r/m, imm. FLAGS = false: the variant
// without flag results (dead-flag elimination, cpu/dispatch.h).
template <class A, class B, bool FLAGS = true> struct Imul {
  template <class T> static void fn(Core& c, const Insn& i) {
    T x = A::template get<T>(c, i), y = B::template get<T>(c, i);
    if constexpr (!FLAGS) {
      c.set_reg<T>(i.r0, static_cast<T>(x * y));  // the low half is the same signed or not
      return;
    }
    SWide<T> p = SWide<T>(static_cast<Signed<T>>(x)) * SWide<T>(static_cast<Signed<T>>(y));
    T lo = static_cast<T>(p);
    c.set_reg<T>(i.r0, lo);
    mul_flags<T>(c, lo, p != SWide<T>(static_cast<Signed<T>>(lo)));
  }
};

template <bool SIGNED, class S> struct Div {
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned bits = sizeof(T) * 8;
    T src = S::template get<T>(c, i);
    if (src == 0) c.raise(kDE);
    Wide<T> n;
    if constexpr (sizeof(T) == 1) n = c.reg<uint16_t>(RAX);
    else n = (Wide<T>(c.reg<T>(RDX)) << bits) | c.reg<T>(RAX);
    T q, r;
    if constexpr (SIGNED) {
      // Sign-extend the 2*size-bit dividend (for 8-bit division it is AX).
      SWide<T> sn = sizeof(T) == 1 ? SWide<T>(static_cast<int16_t>(n)) : static_cast<SWide<T>>(n);
      SWide<T> sd = static_cast<Signed<T>>(src);
      // INT_MIN / -1 overflows the wide type too: treat it as a #DE up front.
      if (sd == -1 && sn == (SWide<T>(1) << (2 * bits - 1))) c.raise(kDE);
      SWide<T> sq = sn / sd, sr = sn % sd;
      if (sq > std::numeric_limits<Signed<T>>::max() || sq < std::numeric_limits<Signed<T>>::min()) c.raise(kDE);
      q = static_cast<T>(sq);
      r = static_cast<T>(sr);
    } else {
      Wide<T> wq = n / src;
      if (wq >> bits) c.raise(kDE);
      q = static_cast<T>(wq);
      r = static_cast<T>(n % src);
    }
    if constexpr (sizeof(T) == 1) {
      c.set_reg<uint16_t>(RAX, static_cast<uint16_t>(q | (uint16_t(r) << 8)));
    } else {
      c.set_reg<T>(RAX, q);
      c.set_reg<T>(RDX, r);
    }
  }
};

}  // namespace

bool build_mul(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  i.handler = d.is_mem(0) ? by_size<Mul1<false, M>>(sz) : by_size_quiet<Mul1<false, R0>>(sz);
  return true;
}

bool build_imul(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  if (d.nvis() == 1) {
    i.handler = d.is_mem(0) ? by_size<Mul1<true, M>>(sz) : by_size_quiet<Mul1<true, R0>>(sz);
    return true;
  }
  if (d.nvis() == 2) {
    i.handler = d.is_mem(1) ? by_size_wide<Imul<R0, M>>(sz) : by_size_wide_nf<Imul<R0, R1>, Imul<R0, R1, false>>(sz);
    return true;
  }
  i.handler = d.is_mem(1) ? by_size_wide<Imul<M, I>>(sz) : by_size_wide_nf<Imul<R1, I>, Imul<R1, I, false>>(sz);
  return true;
}

bool build_div(Insn& i, const Decoded& d, unsigned sgn) {
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  if (sgn) i.handler = d.is_mem(0) ? by_size<Div<true, M>>(sz) : by_size<Div<true, R0>>(sz);
  else i.handler = d.is_mem(0) ? by_size<Div<false, M>>(sz) : by_size<Div<false, R0>>(sz);
  return true;
}

}  // namespace pc64
