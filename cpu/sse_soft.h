// The portable SSE floating-point path: the same shape as the host runners in
// sse_common.h (`uint32_t op(Xmm& d, const Xmm& s, uint32_t mxcsr)` returning
// the MXCSR flags raised), computed lane by lane with softfloat80's IEEE
// binary32/binary64 routines. Used on hosts without SSE and with
// PC64_SOFTFLOAT; tests compare each against the host instruction.
// Covered: ADD/SUB/MUL/DIV/MIN/MAX/SQRT (PS/PD/SS/SD), CMPxx, (U)COMIS, the
// XMM-to-XMM conversions and CVTSI2SS/SD, CVT(T)SS/SD2SI. Not yet: RCP/RSQRT,
// HADD/HSUB/ADDSUB, ROUND, DP.
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
