// The portable SSE floating-point path: the same shape as the host runners in
// sse_common.h (`uint32_t op(Xmm& d, const Xmm& s, uint32_t mxcsr)` returning
// the MXCSR flags raised), computed lane by lane with softfloat80's IEEE
// binary32/binary64 routines. Used on hosts without SSE and with
// PC64_SOFTFLOAT; tests compare each against the host instruction.
// Covered: ADD/SUB/MUL/DIV/MIN/MAX/SQRT (PS/PD/SS/SD), CMPxx, and the
// XMM-to-XMM conversions. Not yet: RCP/RSQRT, HADD/HSUB/ADDSUB, ROUND, DP,
// (U)COMIS, and the GPR conversions.
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

}  // namespace pc64::sse_soft
