// The portable SSE floating-point path: the same shape as the host runners in
// sse_common.h (`uint32_t op(Xmm& d, const Xmm& s, uint32_t mxcsr)` returning
// the MXCSR flags raised), computed lane by lane with softfloat80's IEEE
// binary32/binary64 routines. Used on hosts without SSE and with
// PC64_SOFTFLOAT; tests compare each against the host instruction.
// Covered: ADD/SUB/MUL/DIV/MIN/MAX/SQRT (PS/PD/SS/SD), CMPxx, (U)COMIS, the
// XMM-to-XMM conversions and CVTSI2SS/SD, CVT(T)SS/SD2SI, RCP/RSQRT (PS/SS),
// ADDSUB/HADD/HSUB (PS/PD), ROUND (PS/PD/SS/SD), DPPS/DPPD. The MMX-operand
// conversions are built from the XMM ones in sse_convert.cpp.
#pragma once
#include "cpu/fpu_state.h"
#include "cpu/softfloat80.h"

namespace pc64::sse_soft {

using sf80::sse::Env;

template <bool Dbl> inline uint64_t get(const Xmm& x, unsigned k) { return Dbl ? x.u64[k] : x.u32[k]; }
template <bool Dbl> inline void put(Xmm& x, unsigned k, uint64_t v) {
  if (Dbl) x.u64[k] = v;
  else x.u32[k] = static_cast<uint32_t>(v);
}
template <bool Dbl, bool Scalar> constexpr unsigned kLanes = Scalar ? 1 : (Dbl ? 2 : 4);

template <sf80::sse::Op Op, bool Dbl, bool Scalar> uint32_t arith(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r = d;
  for (unsigned k = 0; k < kLanes<Dbl, Scalar>; ++k)
    put<Dbl>(r, k, sf80::sse::arith(Op, get<Dbl>(d, k), get<Dbl>(s, k), Dbl, e));
  d = r;
  return e.flags;
}
template <bool Dbl, bool Scalar> uint32_t sqrt(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  for (unsigned k = 0; k < kLanes<Dbl, Scalar>; ++k) put<Dbl>(d, k, sf80::sse::sqrt(get<Dbl>(s, k), Dbl, e));
  return e.flags;
}
template <int Imm, bool Dbl, bool Scalar> uint32_t cmp(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r = d;
  uint64_t ones = Dbl ? ~0ull : 0xFFFFFFFFull;
  for (unsigned k = 0; k < kLanes<Dbl, Scalar>; ++k)
    put<Dbl>(r, k, sf80::sse::compare(Imm & 7, get<Dbl>(d, k), get<Dbl>(s, k), Dbl, e) ? ones : 0);
  d = r;
  return e.flags;
}

// RCPPS/RCPSS (Sqrt false), RSQRTPS/RSQRTSS (Sqrt true): 12-bit
// approximations; MXCSR plays no part and no flag is raised (SDM RCPPS).
template <bool Sqrt, bool Scalar> uint32_t recip(Xmm& d, const Xmm& s, uint32_t) {
  for (unsigned k = 0; k < kLanes<false, Scalar>; ++k) d.u32[k] = Sqrt ? sf80::sse::rsqrt(s.u32[k]) : sf80::sse::rcp(s.u32[k]);
  return 0;
}
// ADDSUBPS/PD: even lanes subtract, odd lanes add (SDM ADDSUBPS).
template <bool Dbl> uint32_t addsub(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  for (unsigned k = 0; k < kLanes<Dbl, false>; ++k)
    put<Dbl>(d, k, sf80::sse::arith(k & 1 ? sf80::sse::kAdd : sf80::sse::kSub, get<Dbl>(d, k), get<Dbl>(s, k), Dbl, e));
  return e.flags;
}
// HADDPS/PD, HSUBPS/PD: adjacent pairs of the destination fill the low half
// of the result, pairs of the source the high half; each pair is computed
// as low lane op high lane (SDM HADDPS/HSUBPS "SRC1[31:0] - SRC1[63:32]").
template <bool Dbl, bool Sub> uint32_t horizontal(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  constexpr unsigned n = kLanes<Dbl, false>;
  Xmm r;
  for (unsigned k = 0; k < n; ++k) {
    const Xmm& from = k < n / 2 ? d : s;
    unsigned lo = 2 * (k % (n / 2));
    put<Dbl>(r, k, sf80::sse::arith(Sub ? sf80::sse::kSub : sf80::sse::kAdd, get<Dbl>(from, lo), get<Dbl>(from, lo + 1), Dbl, e));
  }
  d = r;
  return e.flags;
}
// ROUNDPS/PD/SS/SD imm8: bits 1:0 the rounding mode, bit 2 "use MXCSR.RC
// instead", bit 3 suppresses the precision exception (SDM ROUNDPS table 4-18).
template <int Imm, bool Dbl, bool Scalar> uint32_t round(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  unsigned rc = (Imm & 4) ? e.rc : (Imm & 3);
  for (unsigned k = 0; k < kLanes<Dbl, Scalar>; ++k)
    put<Dbl>(d, k, sf80::sse::round_int(get<Dbl>(s, k), Dbl, rc, (Imm & 8) != 0, e));
  return e.flags;
}
// DPPS/DPPD (SDM DPPS "DP_primitive"): imm8 bits 7:4 (DPPD 5:4) select the
// lanes multiplied (a masked lane contributes +0.0 and raises nothing), the
// products are added in the SDM's order, each rounded: DPPS (p0 + p1) + (p2
// + p3), DPPD p0 + p1; bits 3:0 (1:0) select the lanes that get the sum,
// the others +0.0.
template <int Imm, bool Dbl> uint32_t dp(Xmm& d, const Xmm& s, uint32_t mx) {
  using sf80::sse::arith;
  Env e = Env::from_mxcsr(mx);
  constexpr unsigned n = kLanes<Dbl, false>;
  uint64_t p[4] = {0, 0, 0, 0};
  for (unsigned k = 0; k < n; ++k)
    if (Imm & (0x10 << k)) p[k] = arith(sf80::sse::kMul, get<Dbl>(d, k), get<Dbl>(s, k), Dbl, e);
  uint64_t sum = arith(sf80::sse::kAdd, p[0], p[1], Dbl, e);
  if (!Dbl) sum = arith(sf80::sse::kAdd, sum, arith(sf80::sse::kAdd, p[2], p[3], Dbl, e), Dbl, e);
  for (unsigned k = 0; k < n; ++k) put<Dbl>(d, k, (Imm & (1 << k)) ? sum : 0);
  return e.flags;
}

// ---- conversions (d = convert(s)) ----
inline uint32_t cvtss2sd(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  d.u64[0] = sf80::sse::convert(s.u32[0], false, e);
  return e.flags;
}
inline uint32_t cvtsd2ss(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  d.u32[0] = static_cast<uint32_t>(sf80::sse::convert(s.u64[0], true, e));
  return e.flags;
}
inline uint32_t cvtps2pd(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r;
  for (unsigned k = 0; k < 2; ++k) r.u64[k] = sf80::sse::convert(s.u32[k], false, e);
  d = r;
  return e.flags;
}
inline uint32_t cvtpd2ps(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r{};
  for (unsigned k = 0; k < 2; ++k) r.u32[k] = static_cast<uint32_t>(sf80::sse::convert(s.u64[k], true, e));
  d = r;
  return e.flags;
}
inline uint32_t cvtdq2ps(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r;
  for (unsigned k = 0; k < 4; ++k) r.u32[k] = static_cast<uint32_t>(sf80::sse::from_int(s.i32[k], false, e));
  d = r;
  return e.flags;
}
inline uint32_t cvtdq2pd(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r;
  for (unsigned k = 0; k < 2; ++k) r.u64[k] = sf80::sse::from_int(s.i32[k], true, e);
  d = r;
  return e.flags;
}
template <bool Trunc> uint32_t cvtps2dq(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r;
  for (unsigned k = 0; k < 4; ++k) r.i32[k] = static_cast<int32_t>(sf80::sse::to_int(s.u32[k], false, 32, Trunc, e));
  d = r;
  return e.flags;
}
template <bool Trunc> uint32_t cvtpd2dq(Xmm& d, const Xmm& s, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  Xmm r{};
  for (unsigned k = 0; k < 2; ++k) r.i32[k] = static_cast<int32_t>(sf80::sse::to_int(s.u64[k], true, 32, Trunc, e));
  d = r;
  return e.flags;
}

// ---- GPR conversions ----
// CVTSI2SS/SD: a signed integer into the low lane; the other lanes are kept.
template <bool Dbl, class T> uint32_t cvtsi2f(Xmm& d, T v, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  put<Dbl>(d, 0, sf80::sse::from_int(v, Dbl, e));
  return e.flags;
}
// CVT(T)SS/SD2SI: the low lane to a signed 32/64-bit integer (the integer
// indefinite value and IE on NaN or overflow).
template <bool Dbl, bool Trunc, class T> uint32_t cvtf2si(const Xmm& s, T& r, uint32_t mx) {
  Env e = Env::from_mxcsr(mx);
  r = static_cast<T>(sf80::sse::to_int(get<Dbl>(s, 0), Dbl, sizeof(T) * 8, Trunc, e));
  return e.flags;
}

// (U)COMISS/SD (SDM COMISD): unordered -> ZF PF CF = 1 1 1, less -> CF, equal
// -> ZF, greater -> none. COMIS signals invalid on any NaN (as the
// signalling predicate LT_OS), UCOMIS only on an SNaN (as EQ_OQ).
struct ComisResult {
  bool zf, pf, cf;
  uint32_t flags;
};
template <bool Dbl, bool Unordered> ComisResult comis(const Xmm& a, const Xmm& b, uint32_t mx) {
  uint64_t x = get<Dbl>(a, 0), y = get<Dbl>(b, 0);
  Env e = Env::from_mxcsr(mx);
  sf80::sse::compare(Unordered ? 0 : 1, x, y, Dbl, e);  // raises the flags once
  Env quiet = Env::from_mxcsr(mx);
  bool unord = sf80::sse::compare(3, x, y, Dbl, quiet);
  bool lt = sf80::sse::compare(1, x, y, Dbl, quiet);
  bool eq = sf80::sse::compare(0, x, y, Dbl, quiet);
  return {unord || eq, unord, unord || lt, e.flags};
}

}  // namespace pc64::sse_soft
