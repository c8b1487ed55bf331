// Integer SIMD on XMM (SSE2, SSSE3, SSE4.1/4.2 lane operations) and MMX
// registers: one portable lane-wise implementation per operation, templated
// on the register width N (8 = MMX, 16 = XMM), so both register files share
// it (SDM Vol. 1 ch. 9, 11, 12; Vol. 2 per instruction).
#include <algorithm>
#include <cstdlib>
#include <limits>

#include "cpu/sse_common.h"

namespace pc64 {

namespace {

// ---------------- lane helpers ----------------

template <class T, unsigned N> constexpr unsigned kLanes = N / sizeof(T);

template <class T, unsigned N, class F> inline void map2(Xmm& d, const Xmm& s, F f) {
  T a[kLanes<T, N>], b[kLanes<T, N>];
  std::memcpy(a, &d, N);
  std::memcpy(b, &s, N);
  for (unsigned k = 0; k < kLanes<T, N>; ++k) a[k] = static_cast<T>(f(a[k], b[k]));
  std::memcpy(&d, a, N);
}
template <class T, unsigned N> inline T lane(const Xmm& x, unsigned k) {
  T v;
  std::memcpy(&v, reinterpret_cast<const uint8_t*>(&x) + k * sizeof(T), sizeof(T));
  (void)N;
  return v;
}
template <class T> inline void set_lane(Xmm& x, unsigned k, T v) {
  std::memcpy(reinterpret_cast<uint8_t*>(&x) + k * sizeof(T), &v, sizeof(T));
}
template <class T> inline T sat(int64_t v) {
  if (v < static_cast<int64_t>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  if (v > static_cast<int64_t>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

// A lane-wise binary operation as an Op type.
#define PC64_LANE_OP(Name, T, expr)                                              \
  struct Name {                                                                  \
    template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {      \
      map2<T, N>(d, s, [](T a, T b) { (void)a; return expr; });                         \
    }                                                                            \
  };

PC64_LANE_OP(Paddb, uint8_t, a + b)
PC64_LANE_OP(Paddw, uint16_t, a + b)
PC64_LANE_OP(Paddd, uint32_t, a + b)
PC64_LANE_OP(Paddq, uint64_t, a + b)
PC64_LANE_OP(Psubb, uint8_t, a - b)
PC64_LANE_OP(Psubw, uint16_t, a - b)
PC64_LANE_OP(Psubd, uint32_t, a - b)
PC64_LANE_OP(Psubq, uint64_t, a - b)
PC64_LANE_OP(Paddsb, int8_t, sat<int8_t>(int64_t(a) + b))
PC64_LANE_OP(Paddsw, int16_t, sat<int16_t>(int64_t(a) + b))
PC64_LANE_OP(Paddusb, uint8_t, sat<uint8_t>(int64_t(a) + b))
PC64_LANE_OP(Paddusw, uint16_t, sat<uint16_t>(int64_t(a) + b))
PC64_LANE_OP(Psubsb, int8_t, sat<int8_t>(int64_t(a) - b))
PC64_LANE_OP(Psubsw, int16_t, sat<int16_t>(int64_t(a) - b))
PC64_LANE_OP(Psubusb, uint8_t, sat<uint8_t>(int64_t(a) - b))
PC64_LANE_OP(Psubusw, uint16_t, sat<uint16_t>(int64_t(a) - b))
PC64_LANE_OP(Pmullw, uint16_t, uint32_t(a) * b)
PC64_LANE_OP(Pmulhw, int16_t, (int32_t(a) * b) >> 16)
PC64_LANE_OP(Pmulhuw, uint16_t, (uint32_t(a) * b) >> 16)
PC64_LANE_OP(Pmulld, uint32_t, uint64_t(a) * b)
PC64_LANE_OP(Pmulhrsw, int16_t, (((int32_t(a) * b) >> 14) + 1) >> 1)
PC64_LANE_OP(Pavgb, uint8_t, (unsigned(a) + b + 1) >> 1)
PC64_LANE_OP(Pavgw, uint16_t, (unsigned(a) + b + 1) >> 1)
PC64_LANE_OP(Pminub, uint8_t, std::min(a, b))
PC64_LANE_OP(Pmaxub, uint8_t, std::max(a, b))
PC64_LANE_OP(Pminsw, int16_t, std::min(a, b))
PC64_LANE_OP(Pmaxsw, int16_t, std::max(a, b))
PC64_LANE_OP(Pminsb, int8_t, std::min(a, b))
PC64_LANE_OP(Pmaxsb, int8_t, std::max(a, b))
PC64_LANE_OP(Pminuw, uint16_t, std::min(a, b))
PC64_LANE_OP(Pmaxuw, uint16_t, std::max(a, b))
PC64_LANE_OP(Pminsd, int32_t, std::min(a, b))
PC64_LANE_OP(Pmaxsd, int32_t, std::max(a, b))
PC64_LANE_OP(Pminud, uint32_t, std::min(a, b))
PC64_LANE_OP(Pmaxud, uint32_t, std::max(a, b))
PC64_LANE_OP(Pcmpeqb, uint8_t, a == b ? 0xFF : 0)
PC64_LANE_OP(Pcmpeqw, uint16_t, a == b ? 0xFFFF : 0)
PC64_LANE_OP(Pcmpeqd, uint32_t, a == b ? ~0u : 0)
PC64_LANE_OP(Pcmpeqq, uint64_t, a == b ? ~0ull : 0)
PC64_LANE_OP(Pcmpgtb, int8_t, a > b ? -1 : 0)
PC64_LANE_OP(Pcmpgtw, int16_t, a > b ? -1 : 0)
PC64_LANE_OP(Pcmpgtd, int32_t, a > b ? -1 : 0)
PC64_LANE_OP(Pcmpgtq, int64_t, a > b ? -1 : 0)
PC64_LANE_OP(Pand, uint64_t, a & b)
PC64_LANE_OP(Pandn, uint64_t, ~a & b)
PC64_LANE_OP(Por, uint64_t, a | b)
PC64_LANE_OP(Pxor, uint64_t, a ^ b)
PC64_LANE_OP(Psignb, int8_t, b < 0 ? -a : b == 0 ? 0 : a)
PC64_LANE_OP(Psignw, int16_t, b < 0 ? -a : b == 0 ? 0 : a)
PC64_LANE_OP(Psignd, int32_t, b < 0 ? int32_t(0u - uint32_t(a)) : b == 0 ? 0 : a)
PC64_LANE_OP(Pabsb, int8_t, b < 0 ? -b : b)
PC64_LANE_OP(Pabsw, int16_t, b < 0 ? -b : b)
PC64_LANE_OP(Pabsd, uint32_t, int32_t(b) < 0 ? 0u - b : b)
#undef PC64_LANE_OP

struct Pmuludq {  // low dword of each qword, unsigned 32x32 -> 64
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    map2<uint64_t, N>(d, s, [](uint64_t a, uint64_t b) { return (a & 0xFFFFFFFF) * (b & 0xFFFFFFFF); });
  }
};
struct Pmuldq {  // signed
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    map2<uint64_t, N>(d, s, [](uint64_t a, uint64_t b) {
      return static_cast<uint64_t>(int64_t(int32_t(a)) * int64_t(int32_t(b)));
    });
  }
};
struct Pmaddwd {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    Xmm r{};
    for (unsigned k = 0; k < N / 4; ++k) {
      int32_t v = int32_t(d.i16[2 * k]) * s.i16[2 * k];
      // The one overflowing case 0x8000*0x8000*2 wraps to 0x80000000 (SDM PMADDWD).
      v = static_cast<int32_t>(uint32_t(v) + uint32_t(int32_t(d.i16[2 * k + 1]) * s.i16[2 * k + 1]));
      r.i32[k] = v;
    }
    std::memcpy(&d, &r, N);
  }
};
struct Pmaddubsw {  // unsigned bytes of d times signed bytes of s, pairwise, saturated
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    Xmm r{};
    for (unsigned k = 0; k < N / 2; ++k)
      r.i16[k] = sat<int16_t>(int32_t(d.u8[2 * k]) * s.i8[2 * k] + int32_t(d.u8[2 * k + 1]) * s.i8[2 * k + 1]);
    std::memcpy(&d, &r, N);
  }
};
struct Psadbw {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    Xmm r{};
    for (unsigned q = 0; q < N / 8; ++q) {
      unsigned sum = 0;
      for (unsigned k = 0; k < 8; ++k) sum += std::abs(int(d.u8[8 * q + k]) - int(s.u8[8 * q + k]));
      r.u64[q] = sum;
    }
    std::memcpy(&d, &r, N);
  }
};

// Shifts: the count is the whole low quadword of the source (or imm8); a
// count at or above the lane width gives 0 (logical) or the sign (arithmetic).
template <class T, int Kind> struct Shift {  // Kind 0 = left, 1 = logical right, 2 = arithmetic right
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    uint64_t n = s.u64[0];
    constexpr unsigned bits = 8 * sizeof(T);
    T a[kLanes<T, N>];
    std::memcpy(a, &d, N);
    for (auto& v : a) {
      if (Kind == 0) v = n >= bits ? 0 : static_cast<T>(v << n);
      else if (Kind == 1) v = n >= bits ? 0 : static_cast<T>(v >> n);
      else {
        using S = std::make_signed_t<T>;
        v = static_cast<T>(static_cast<S>(v) >> (n >= bits ? bits - 1 : n));
      }
    }
    std::memcpy(&d, a, N);
  }
};
template <bool Left> struct ByteShift {  // PSLLDQ / PSRLDQ imm8 (XMM only)
  template <unsigned N> static void fn(Xmm& d, const Xmm&, unsigned imm) {
    unsigned n = imm & 0xFF;
    Xmm r{};
    for (unsigned k = 0; k < 16; ++k) {
      int from = Left ? int(k) - int(n) : int(k) + int(n);
      r.u8[k] = (from >= 0 && from < 16) ? d.u8[from] : 0;
    }
    d = r;
  }
};

// Packs with saturation: d's lanes then s's lanes.
template <class From, class To> struct Pack {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    constexpr unsigned n = kLanes<From, N>;
    To r[2 * n];
    for (unsigned k = 0; k < n; ++k) {
      r[k] = sat<To>(lane<From, N>(d, k));
      r[n + k] = sat<To>(lane<From, N>(s, k));
    }
    std::memcpy(&d, r, N);
  }
};
// Interleaves the low (High = false) or high halves of d and s.
template <class T, bool High> struct Unpack {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    constexpr unsigned n = kLanes<T, N>;
    T r[n] = {};
    unsigned base = High ? n / 2 : 0;
    for (unsigned k = 0; k < n / 2; ++k) {
      r[2 * k] = lane<T, N>(d, base + k);
      r[2 * k + 1] = lane<T, N>(s, base + k);
    }
    std::memcpy(&d, r, N);
  }
};

struct Pshufd {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned imm) {
    for (unsigned k = 0; k < 4; ++k) d.u32[k] = s.u32[(imm >> (2 * k)) & 3];
  }
};
template <bool High> struct Pshufw4 {  // PSHUFHW / PSHUFLW
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned imm) {
    d = s;
    unsigned b = High ? 4 : 0;
    for (unsigned k = 0; k < 4; ++k) d.u16[b + k] = s.u16[b + ((imm >> (2 * k)) & 3)];
  }
};
struct Pshufw {  // MMX
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned imm) {
    for (unsigned k = 0; k < 4; ++k) d.u16[k] = s.u16[(imm >> (2 * k)) & 3];
  }
};
struct Pshufb {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    Xmm r{};
    for (unsigned k = 0; k < N; ++k) r.u8[k] = (s.u8[k] & 0x80) ? 0 : d.u8[s.u8[k] & (N - 1)];
    std::memcpy(&d, &r, N);
  }
};
// Horizontal add/sub of adjacent pairs: d's pairs then s's pairs.
template <class T, int Kind> struct Phop {  // Kind 0 add, 1 sub, 2 add saturated, 3 sub saturated
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    constexpr unsigned n = kLanes<T, N>;
    T r[n];
    for (unsigned k = 0; k < n / 2; ++k) {
      for (unsigned half = 0; half < 2; ++half) {
        const Xmm& x = half ? s : d;
        T a = lane<T, N>(x, 2 * k), b = lane<T, N>(x, 2 * k + 1);
        T v;
        if (Kind == 0) v = static_cast<T>(a + b);
        else if (Kind == 1) v = static_cast<T>(a - b);
        else if (Kind == 2) v = sat<T>(int64_t(a) + b);
        else v = sat<T>(int64_t(a) - b);
        r[half * n / 2 + k] = v;
      }
    }
    std::memcpy(&d, r, N);
  }
};
struct Palignr {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned imm) {
    uint8_t cat[2 * N];  // s is the low half, d the high half
    std::memcpy(cat, &s, N);
    std::memcpy(cat + N, &d, N);
    Xmm r{};
    for (unsigned k = 0; k < N; ++k) r.u8[k] = (imm + k < 2 * N) ? cat[imm + k] : 0;
    std::memcpy(&d, &r, N);
  }
};
struct Pblendw {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned imm) {
    for (unsigned k = 0; k < 8; ++k)
      if ((imm >> k) & 1) d.u16[k] = s.u16[k];
  }
};
template <class T, bool SX, unsigned Count> struct Pmovx {  // PMOVSX/ZX: low Count lanes of s widen
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    constexpr unsigned out = 16 / Count;
    Xmm r{};
    for (unsigned k = 0; k < Count; ++k) {
      T v = lane<T, 16>(s, k);
      uint64_t w = SX ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(v)))
                      : static_cast<uint64_t>(v);
      std::memcpy(reinterpret_cast<uint8_t*>(&r) + k * out, &w, out);
    }
    d = r;
  }
};
struct Packusdw {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    Xmm r;
    for (unsigned k = 0; k < 4; ++k) {
      r.u16[k] = sat<uint16_t>(d.i32[k]);
      r.u16[4 + k] = sat<uint16_t>(s.i32[k]);
    }
    d = r;
  }
};
struct Phminposuw {
  template <unsigned N> static void fn(Xmm& d, const Xmm& s, unsigned) {
    unsigned idx = 0;
    for (unsigned k = 1; k < 8; ++k)
      if (s.u16[k] < s.u16[idx]) idx = k;
    Xmm r{};
    r.u16[0] = s.u16[idx];
    r.u16[1] = static_cast<uint16_t>(idx);
    d = r;
  }
};
// ---------------- handlers ----------------

template <class Op, Src K> void h_int_xmm(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s = load_src<K>(c, i);
  Op::template fn<16>(c.s.fpu.xmm[i.r0], s, static_cast<unsigned>(i.imm & 0xFF));
}
// Shift-by-immediate forms: the count is the imm8.
template <class Op> void h_int_xmm_imm(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s{};
  s.u64[0] = i.imm & 0xFF;
  Op::template fn<16>(c.s.fpu.xmm[i.r0], s, static_cast<unsigned>(i.imm & 0xFF));
}
template <class Op, bool Mem, bool Imm> void h_int_mmx(Core& c, const Insn& i) {
  check_mmx(c);
  Xmm s{}, d{};
  if (Imm) s.u64[0] = i.imm & 0xFF;
  else s.u64[0] = Mem ? c.mem_read<uint64_t>(i) : c.s.fpu.mm(i.r1);
  d.u64[0] = c.s.fpu.mm(i.r0);
  Op::template fn<8>(d, s, static_cast<unsigned>(i.imm & 0xFF));
  mmx_enter(c);
  mmx_write(c, i.r0, d.u64[0]);
}

// Picks the MMX or XMM form from the operand classes. `K` is the memory kind
// of the XMM form; `mmx_ok` says whether an MMX form exists.
template <class Op, Src K = Src::M128A> bool pick(Insn& i, const Decoded& d, bool mmx_ok = true) {
  set_operands(i, d);
  bool imm = d.is_imm(1);
  if (is_mmx(d, 0)) {
    if (!mmx_ok) return false;
    if (imm) i.handler = &h_int_mmx<Op, false, true>;
    else i.handler = d.is_mem(1) ? &h_int_mmx<Op, true, false> : &h_int_mmx<Op, false, false>;
    return true;
  }
  if (!is_xmm(d, 0)) return false;
  if (imm && d.nvis() == 2) i.handler = &h_int_xmm_imm<Op>;
  else i.handler = d.is_mem(1) ? &h_int_xmm<Op, K> : &h_int_xmm<Op, Src::Reg>;
  return true;
}

// ---------------- GPR <-> vector lanes ----------------

void h_pmovmskb(Core& c, const Insn& i) {  // r0 = GPR, r1 = mm/xmm (aux = 1 for XMM)
  unsigned m = 0;
  if (i.aux) {
    check_sse(c);
    const Xmm& x = c.s.fpu.xmm[i.r1];
    for (unsigned k = 0; k < 16; ++k) m |= unsigned(x.u8[k] >> 7) << k;
  } else {
    check_mmx(c);
    mmx_enter(c);
    uint64_t v = c.s.fpu.mm(i.r1);
    for (unsigned k = 0; k < 8; ++k) m |= unsigned((v >> (8 * k + 7)) & 1) << k;
  }
  c.s.gpr[i.r0] = m;  // zero-extended to the full register
}

// PEXTRB/W/D/Q: lane imm of the vector to a GPR (zero-extended) or memory.
template <class T, bool Mmx> void h_pextr(Core& c, const Insn& i) {
  uint64_t v;
  if (Mmx) {
    check_mmx(c);
    mmx_enter(c);
    v = (c.s.fpu.mm(i.r1) >> (16 * (i.imm & 3))) & 0xFFFF;
  } else {
    check_sse(c);
    v = lane<T, 16>(c.s.fpu.xmm[i.r1], static_cast<unsigned>(i.imm & (16 / sizeof(T) - 1)));
  }
  if (i.flags & kInsnHasMem) c.mem_write<T>(i, static_cast<T>(v));
  else c.s.gpr[i.r0] = v;
}
// PINSRB/W/D/Q: GPR or memory into lane imm. r0 = vector, r1 = GPR.
template <class T, bool Mmx> void h_pinsr(Core& c, const Insn& i) {
  if (Mmx) check_mmx(c);
  else check_sse(c);
  T v = (i.flags & kInsnHasMem) ? c.mem_read<T>(i) : static_cast<T>(c.s.gpr[i.r1]);
  if (Mmx) {
    unsigned sh = 16 * (i.imm & 3);
    uint64_t m = c.s.fpu.mm(i.r0);
    m = (m & ~(0xFFFFull << sh)) | (uint64_t(uint16_t(v)) << sh);
    mmx_enter(c);
    mmx_write(c, i.r0, m);
  } else {
    set_lane<T>(c.s.fpu.xmm[i.r0], static_cast<unsigned>(i.imm & (16 / sizeof(T) - 1)), v);
  }
}

// PTEST: ZF = (d & s) == 0, CF = (~d & s) == 0; other arithmetic flags clear.
template <Src K> void h_ptest(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s = load_src<K>(c, i);
  const Xmm& d = c.s.fpu.xmm[i.r0];
  bool z = !((d.u64[0] & s.u64[0]) | (d.u64[1] & s.u64[1]));
  bool cf = !((~d.u64[0] & s.u64[0]) | (~d.u64[1] & s.u64[1]));
  c.set_flags(kArithFlags, (z ? ZF : 0) | (cf ? CF : 0));
}

// PBLENDVB (implicit XMM0 mask).
template <Src K> void h_pblendvb(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s = load_src<K>(c, i);
  Xmm& d = c.s.fpu.xmm[i.r0];
  const Xmm& m = c.s.fpu.xmm[0];
  for (unsigned k = 0; k < 16; ++k)
    if (m.u8[k] & 0x80) d.u8[k] = s.u8[k];
}

// MASKMOVDQU / MASKMOVQ: bytes of r0 whose mask byte (r1) has bit 7 set are
// stored at DS:rDI (segment overridable). Each byte is a separate store, so
// nothing is written if any selected byte faults... hardware may write some;
// pc64 probes first so a fault leaves memory unchanged.
template <unsigned N> void h_maskmov(Core& c, const Insn& i) {
  Xmm v{}, m{};
  if (N == 16) {
    check_sse(c);
    v = c.s.fpu.xmm[i.r0];
    m = c.s.fpu.xmm[i.r1];
  } else {
    check_mmx(c);
    mmx_enter(c);
    v.u64[0] = c.s.fpu.mm(i.r0);
    m.u64[0] = c.s.fpu.mm(i.r1);
  }
  uint64_t base = c.s.gpr[RDI] & Core::kAddrMask[i.asize];
  for (unsigned k = 0; k < N; ++k)
    if (m.u8[k] & 0x80) c.linear(i.seg, (base + k) & Core::kAddrMask[i.asize], 1, true);
  for (unsigned k = 0; k < N; ++k)
    if (m.u8[k] & 0x80) c.write<uint8_t>(i.seg, (base + k) & Core::kAddrMask[i.asize], v.u8[k]);
}

}  // namespace

// ---------------- builder ----------------

// One builder for every integer SIMD mnemonic (sse_int.cpp rows of
// insn_table_fpu.def); the MMX or XMM form follows from the operands.
bool build_simd_int(Insn& i, const Decoded& d, unsigned) {
  switch (d.zi.mnemonic) {
#define B(M, ...) \
  case ZYDIS_MNEMONIC_##M: return pick<__VA_ARGS__>(i, d);
#define X(M, ...) \
  case ZYDIS_MNEMONIC_##M: return pick<__VA_ARGS__>(i, d, false);
    B(PADDB, Paddb) B(PADDW, Paddw) B(PADDD, Paddd) B(PADDQ, Paddq)
    B(PSUBB, Psubb) B(PSUBW, Psubw) B(PSUBD, Psubd) B(PSUBQ, Psubq)
    B(PADDSB, Paddsb) B(PADDSW, Paddsw) B(PADDUSB, Paddusb) B(PADDUSW, Paddusw)
    B(PSUBSB, Psubsb) B(PSUBSW, Psubsw) B(PSUBUSB, Psubusb) B(PSUBUSW, Psubusw)
    B(PMULLW, Pmullw) B(PMULHW, Pmulhw) B(PMULHUW, Pmulhuw) B(PMULUDQ, Pmuludq)
    B(PMADDWD, Pmaddwd) B(PAVGB, Pavgb) B(PAVGW, Pavgw) B(PSADBW, Psadbw)
    B(PMINUB, Pminub) B(PMAXUB, Pmaxub) B(PMINSW, Pminsw) B(PMAXSW, Pmaxsw)
    B(PCMPEQB, Pcmpeqb) B(PCMPEQW, Pcmpeqw) B(PCMPEQD, Pcmpeqd)
    B(PCMPGTB, Pcmpgtb) B(PCMPGTW, Pcmpgtw) B(PCMPGTD, Pcmpgtd)
    B(PAND, Pand) B(PANDN, Pandn) B(POR, Por) B(PXOR, Pxor)
    B(PSLLW, Shift<uint16_t, 0>) B(PSLLD, Shift<uint32_t, 0>) B(PSLLQ, Shift<uint64_t, 0>)
    B(PSRLW, Shift<uint16_t, 1>) B(PSRLD, Shift<uint32_t, 1>) B(PSRLQ, Shift<uint64_t, 1>)
    B(PSRAW, Shift<uint16_t, 2>) B(PSRAD, Shift<uint32_t, 2>)
    X(PSLLDQ, ByteShift<true>) X(PSRLDQ, ByteShift<false>)
    B(PACKSSWB, Pack<int16_t, int8_t>) B(PACKSSDW, Pack<int32_t, int16_t>) B(PACKUSWB, Pack<int16_t, uint8_t>)
    B(PUNPCKLBW, Unpack<uint8_t, false>) B(PUNPCKLWD, Unpack<uint16_t, false>) B(PUNPCKLDQ, Unpack<uint32_t, false>)
    B(PUNPCKHBW, Unpack<uint8_t, true>) B(PUNPCKHWD, Unpack<uint16_t, true>) B(PUNPCKHDQ, Unpack<uint32_t, true>)
    X(PUNPCKLQDQ, Unpack<uint64_t, false>) X(PUNPCKHQDQ, Unpack<uint64_t, true>)
    X(PSHUFD, Pshufd) X(PSHUFHW, Pshufw4<true>) X(PSHUFLW, Pshufw4<false>)
    // SSSE3
    B(PSHUFB, Pshufb) B(PHADDW, Phop<uint16_t, 0>) B(PHADDD, Phop<uint32_t, 0>) B(PHADDSW, Phop<int16_t, 2>)
    B(PHSUBW, Phop<uint16_t, 1>) B(PHSUBD, Phop<uint32_t, 1>) B(PHSUBSW, Phop<int16_t, 3>)
    B(PMADDUBSW, Pmaddubsw) B(PMULHRSW, Pmulhrsw) B(PSIGNB, Psignb) B(PSIGNW, Psignw) B(PSIGND, Psignd)
    B(PABSB, Pabsb) B(PABSW, Pabsw) B(PABSD, Pabsd) B(PALIGNR, Palignr)
    // SSE4.1 / 4.2
    X(PMULLD, Pmulld) X(PMULDQ, Pmuldq) X(PMINSB, Pminsb) X(PMAXSB, Pmaxsb) X(PMINUW, Pminuw) X(PMAXUW, Pmaxuw)
    X(PMINSD, Pminsd) X(PMAXSD, Pmaxsd) X(PMINUD, Pminud) X(PMAXUD, Pmaxud) X(PCMPEQQ, Pcmpeqq) X(PCMPGTQ, Pcmpgtq)
    X(PACKUSDW, Packusdw) X(PBLENDW, Pblendw) X(PHMINPOSUW, Phminposuw)
    X(PMOVSXBW, Pmovx<uint8_t, true, 8>, Src::M64) X(PMOVSXBD, Pmovx<uint8_t, true, 4>, Src::M32)
    X(PMOVSXBQ, Pmovx<uint8_t, true, 2>, Src::M16) X(PMOVSXWD, Pmovx<uint16_t, true, 4>, Src::M64)
    X(PMOVSXWQ, Pmovx<uint16_t, true, 2>, Src::M32) X(PMOVSXDQ, Pmovx<uint32_t, true, 2>, Src::M64)
    X(PMOVZXBW, Pmovx<uint8_t, false, 8>, Src::M64) X(PMOVZXBD, Pmovx<uint8_t, false, 4>, Src::M32)
    X(PMOVZXBQ, Pmovx<uint8_t, false, 2>, Src::M16) X(PMOVZXWD, Pmovx<uint16_t, false, 4>, Src::M64)
    X(PMOVZXWQ, Pmovx<uint16_t, false, 2>, Src::M32) X(PMOVZXDQ, Pmovx<uint32_t, false, 2>, Src::M64)
#undef B
#undef X
    case ZYDIS_MNEMONIC_PSHUFW:
      return is_mmx(d, 0) && pick<Pshufw>(i, d);
    case ZYDIS_MNEMONIC_PTEST:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_ptest<Src::M128A> : &h_ptest<Src::Reg>;
      return true;
    case ZYDIS_MNEMONIC_PBLENDVB:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_pblendvb<Src::M128A> : &h_pblendvb<Src::Reg>;
      return true;
    case ZYDIS_MNEMONIC_PMOVMSKB:
      set_operands(i, d);
      i.aux = is_xmm(d, 1);
      i.handler = &h_pmovmskb;
      return true;
    case ZYDIS_MNEMONIC_PEXTRW:
    case ZYDIS_MNEMONIC_PEXTRB:
    case ZYDIS_MNEMONIC_PEXTRD:
    case ZYDIS_MNEMONIC_PEXTRQ: {
      set_operands(i, d);
      bool mmx = is_mmx(d, 1);
      if (d.is_reg(0)) i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(ZydisRegisterGetLargestEnclosing(
                           ZYDIS_MACHINE_MODE_LONG_64, d.op[0].reg.value)));
      i.r1 = vreg(d, 1);
      switch (d.zi.mnemonic) {
        case ZYDIS_MNEMONIC_PEXTRB: i.handler = &h_pextr<uint8_t, false>; break;
        case ZYDIS_MNEMONIC_PEXTRD: i.handler = &h_pextr<uint32_t, false>; break;
        case ZYDIS_MNEMONIC_PEXTRQ: i.handler = &h_pextr<uint64_t, false>; break;
        default: i.handler = mmx ? &h_pextr<uint16_t, true> : &h_pextr<uint16_t, false>; break;
      }
      return true;
    }
    case ZYDIS_MNEMONIC_PINSRW:
    case ZYDIS_MNEMONIC_PINSRB:
    case ZYDIS_MNEMONIC_PINSRD:
    case ZYDIS_MNEMONIC_PINSRQ: {
      set_operands(i, d);
      bool mmx = is_mmx(d, 0);
      i.r0 = vreg(d, 0);
      if (d.is_reg(1)) i.r1 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[1].reg.value));
      switch (d.zi.mnemonic) {
        case ZYDIS_MNEMONIC_PINSRB: i.handler = &h_pinsr<uint8_t, false>; break;
        case ZYDIS_MNEMONIC_PINSRD: i.handler = &h_pinsr<uint32_t, false>; break;
        case ZYDIS_MNEMONIC_PINSRQ: i.handler = &h_pinsr<uint64_t, false>; break;
        default: i.handler = mmx ? &h_pinsr<uint16_t, true> : &h_pinsr<uint16_t, false>; break;
      }
      return true;
    }
    case ZYDIS_MNEMONIC_MASKMOVDQU:
    case ZYDIS_MNEMONIC_MASKMOVQ:
      set_operands(i, d);
      i.r0 = vreg(d, 0);
      i.r1 = vreg(d, 1);
      i.seg = string_segment(d);
      i.handler = is_xmm(d, 0) ? &h_maskmov<16> : &h_maskmov<8>;
      return true;
    default:
      return false;
  }
}

}  // namespace pc64
