// The architectural contract of RCPPS/RCPSS and RSQRTPS/RSQRTSS (SDM Vol. 2
// RCPPS, RSQRTPS): only a bound, |relative error| <= 1.5 * 2^-12, plus the
// special cases, so implementations (Intel, AMD, pc64's portable path) may
// differ in the low bits. Tests check results against this contract instead
// of bit equality.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace pc64::test {

// Returns "" if `r` is an acceptable RCP (Sqrt false) / RSQRT (Sqrt true)
// result for single-precision source `a`, else what is wrong.
template <bool Sqrt> const char* approx_violation(uint32_t a, uint32_t r) {
  const uint32_t sign = a & 0x80000000u, mag = a & 0x7FFFFFFFu;
  const uint32_t inf = 0x7F800000u;
  if (mag > inf) return r == (a | 0x00400000u) ? "" : "NaN source: not the quieted source";
  if (mag < 0x00800000u) return r == (sign | inf) ? "" : "zero/denormal source: not inf of its sign";
  if (Sqrt && sign) return r == 0xFFC00000u ? "" : "negative source: not the QNaN indefinite";
  if (mag == inf) return r == sign ? "" : "infinite source: not zero of its sign";
  if (!Sqrt) {
    // Tiny reciprocals are flushed to zero: always from 1.00000000000110000000001B * 2^126
    // up, never up to 1.11111111110100000000000B * 2^125, either way between.
    if (mag >= 0x7E800C01u) return r == sign ? "" : "tiny result not flushed to zero";
    if (mag > 0x7E7FE800u && r == sign) return "";
  }
  if ((r & 0x80000000u) != sign) return "wrong sign";
  if ((r & 0x7F800000u) == 0 || (r & 0x7F800000u) == inf) return "not a normal number";
  float fa, fr;
  std::memcpy(&fa, &a, 4);
  std::memcpy(&fr, &r, 4);
  long double x = std::fabs(static_cast<long double>(fa)), y = std::fabs(static_cast<long double>(fr));
  long double exact = Sqrt ? 1.0L / std::sqrt(x) : 1.0L / x;
  return std::fabs(y - exact) <= 1.5L * std::ldexp(1.0L, -12) * exact ? "" : "relative error above 1.5 * 2^-12";
}

}  // namespace pc64::test
