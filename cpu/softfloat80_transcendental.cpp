// The x87 transcendental functions for the portable path (see softfloat80.h):
// F2XM1, FYL2X, FYL2XP1, FPATAN, FSIN, FCOS, FPTAN (FSINCOS = FSIN + FCOS).
// Each is evaluated in a 128-bit-significand binary format (`Wide`, every
// step truncated, so the approximation is good to about 2^-120) with power
// series on a reduced argument, then rounded once to extended precision by
// the x87 rounding rules. The exact results the SDM's tables give (zeros,
// infinities, 2^±1 - 1, integer logarithms) are produced exactly.
#include <utility>

#include "cpu/softfloat80.h"

namespace pc64::sf80 {

namespace {

using u128 = unsigned __int128;

int clz128(u128 m) {
  uint64_t hi = static_cast<uint64_t>(m >> 64);
  return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll(static_cast<uint64_t>(m));
}

// value = (-1)^s * m * 2^(e - 127); m has bit 127 set, or is 0 for zero.
struct Wide {
  bool s = false;
  int32_t e = 0;
  u128 m = 0;
};

Wide norm(bool s, int32_t e, u128 m) {
  if (m == 0) return Wide{s, 0, 0};
  int lz = clz128(m);
  return Wide{s, e - lz, m << lz};
}
Wide wide_int(int64_t v) {
  bool s = v < 0;
  return norm(s, 127, s ? uint64_t(0) - uint64_t(v) : uint64_t(v));
}
// A finite extended value, exactly.
Wide wide(const Float80& a) {
  int32_t ex = a.exp() == 0 ? -16382 : static_cast<int32_t>(a.exp()) - 16383;
  return norm(a.sign(), ex, u128(a.mant) << 64);
}
Wide neg(Wide a) {
  a.s = !a.s;
  return a;
}
Wide mul(Wide a, Wide b) {
  if (!a.m || !b.m) return Wide{a.s != b.s, 0, 0};
  uint64_t a1 = static_cast<uint64_t>(a.m >> 64), a0 = static_cast<uint64_t>(a.m);
  uint64_t b1 = static_cast<uint64_t>(b.m >> 64), b0 = static_cast<uint64_t>(b.m);
  u128 hi = u128(a1) * b1 + ((u128(a1) * b0) >> 64) + ((u128(a0) * b1) >> 64);  // top half, low parts dropped
  return norm(a.s != b.s, a.e + b.e + 1, hi);
}
Wide add(Wide a, Wide b) {
  if (!a.m) return b;
  if (!b.m) return a;
  if (a.e < b.e || (a.e == b.e && a.m < b.m)) std::swap(a, b);
  unsigned d = static_cast<unsigned>(a.e - b.e);
  // One bit of headroom for the carry. An operand too small to show keeps
  // its direction as one unit, so a result next to a representable number
  // (cos of a tiny angle: just below 1) still rounds the right way.
  u128 x = a.m >> 1, y = d >= 126 ? 1 : b.m >> (d + 1);
  return norm(a.s, a.e + 1, a.s == b.s ? x + y : x - y);
}
Wide sub(Wide a, Wide b) { return add(a, neg(b)); }
// a / b (b nonzero) by restoring division: 128 quotient bits.
Wide div(Wide a, Wide b) {
  if (!a.m) return Wide{a.s != b.s, 0, 0};
  u128 rem = a.m, q = 0;
  bool carry = false;
  for (int k = 127; k >= 0; --k) {
    if (carry || rem >= b.m) {
      rem -= b.m;
      q |= u128(1) << k;
    }
    carry = rem >> 127;
    rem <<= 1;
  }
  return norm(a.s != b.s, a.e - b.e, q);
}
Wide half(Wide a) {
  if (a.m) --a.e;
  return a;
}
bool negligible(const Wide& term, const Wide& sum) { return !term.m || term.e < sum.e - 130; }

// z + z^3/3 + z^5/5 + ... (atanh), or with alternating signs (atan); |z| < 1/2.
Wide odd_series(Wide z, bool alternate) {
  Wide z2 = mul(z, z), power = z, sum = z;
  if (alternate) z2 = neg(z2);
  for (int k = 3; k < 400; k += 2) {
    power = mul(power, z2);
    Wide t = div(power, wide_int(k));
    bool done = negligible(t, sum);
    sum = add(sum, t);  // even a negligible term: it says which way to round
    if (done) break;
  }
  return sum;
}

struct Constants {
  Wide ln2, pi;
  Constants() {
    ln2 = add(odd_series(div(wide_int(1), wide_int(3)), false), odd_series(div(wide_int(1), wide_int(3)), false));
    // Machin: pi = 16 atan(1/5) - 4 atan(1/239).
    Wide a5 = odd_series(div(wide_int(1), wide_int(5)), true), a239 = odd_series(div(wide_int(1), wide_int(239)), true);
    pi = sub(mul(wide_int(16), a5), mul(wide_int(4), a239));
  }
};
const Constants& constants() {
  static const Constants k;  // immutable, computed once
  return k;
}

// ln(x) for x > 0: x = f * 2^k with f in [sqrt(1/2), sqrt(2)), ln f = 2 atanh((f-1)/(f+1)).
Wide log2_of(Wide x) {
  int32_t k = x.e;
  Wide f{false, 0, x.m};
  if ((x.m >> 64) > 0xB504F333F9DE6484ull) {  // f > sqrt(2): use f/2
    f.e = -1;
    ++k;
  }
  Wide one = wide_int(1);
  Wide ln_f = odd_series(div(sub(f, one), add(f, one)), false);
  ln_f.e += 1;  // times 2
  return add(wide_int(k), div(ln_f, constants().ln2));
}

Float80 round64(const Wide& w, Env& e) {
  e.prec = 64;  // precision control does not apply (SDM Vol. 1 8.1.5.2)
  if (!w.m) return make(w.s, 0, 0);
  return round_ext(w.s, w.m, w.e - 127, true, e);
}

// NaN and unsupported operands decide the result (as for FADD: SDM Vol. 1
// table 4-7); denormal operands raise DE.
bool nan_operands(const Float80& a, const Float80& b, Float80& out, Env& e) {
  Class ca = classify(a), cb = classify(b);
  if (ca == Class::Unsupported || cb == Class::Unsupported || is_nan(ca) || is_nan(cb)) {
    out = add(a, b, e);
    return true;
  }
  if (ca == Class::Denormal || cb == Class::Denormal) e.flags |= FSW_DE;
  return false;
}
Float80 invalid(Env& e) {
  e.flags |= FSW_IE;
  return indefinite();
}
Float80 inf80(bool s) { return make(s, 0x7FFF, 1ull << 63); }
Float80 one80(bool s) { return make(s, 16383, 1ull << 63); }

}  // namespace

Float80 exp2m1(Float80 a, Env& e) {
  Float80 out;
  if (nan_operands(a, a, out, e)) return out;
  Class c = classify(a);
  if (c == Class::Zero) return a;
  if (c == Class::Inf) return a.sign() ? one80(true) : a;  // 2^-inf - 1 = -1
  Wide x = wide(a);
  if (x.e > 0 || (x.e == 0 && x.m != u128(1) << 127)) return invalid(e);  // |a| > 1: undefined, pc64 says invalid
  if (x.e == 0) return a.sign() ? make(true, 16382, 1ull << 63) : a;      // 2^-1 - 1 = -1/2, 2^1 - 1 = 1
  // e^t - 1 = t + t^2/2! + ..., t = a ln 2.
  Wide t = mul(x, constants().ln2), term = t, sum = t;
  for (int k = 2; k < 60; ++k) {
    term = div(mul(term, t), wide_int(k));
    bool done = negligible(term, sum);
    sum = add(sum, term);
    if (done) break;
  }
  return round64(sum, e);
}

Float80 ylog2x(Float80 y, Float80 x, Env& e) {
  Float80 out;
  if (nan_operands(y, x, out, e)) return out;
  Class cy = classify(y), cx = classify(x);
  if (x.sign() && cx != Class::Zero) {  // log of a negative number: IE hides DE (measured)
    e.flags &= static_cast<uint16_t>(~FSW_DE);
    return invalid(e);
  }
  Wide xw = cx == Class::Inf || cx == Class::Zero ? Wide{} : wide(x);
  bool x_below_one = cx == Class::Zero || (cx != Class::Inf && xw.e < 0);
  bool x_is_one = cx != Class::Inf && cx != Class::Zero && xw.e == 0 && xw.m == u128(1) << 127;
  if (cx == Class::Zero) {  // log2(0) = -inf
    if (cy == Class::Zero) return invalid(e);
    if (cy != Class::Inf) e.flags = static_cast<uint16_t>((e.flags & ~FSW_DE) | FSW_ZE);  // ZE hides DE (measured)
    return inf80(!y.sign());
  }
  if (cx == Class::Inf) return cy == Class::Zero ? invalid(e) : inf80(y.sign());
  if (x_is_one) return cy == Class::Inf ? invalid(e) : make(y.sign(), 0, 0);
  if (cy == Class::Inf) return inf80(y.sign() != x_below_one);
  if (cy == Class::Zero) return make(y.sign() != x_below_one, 0, 0);
  e.prec = 64;
  if (xw.m == u128(1) << 127) {  // an integer logarithm: y * k rounded once, PE regardless (measured)
    Float80 r = mul(y, from_int(xw.e), e);
    e.flags |= FSW_PE;
    return r;
  }
  return round64(mul(wide(y), log2_of(xw)), e);
}

Float80 ylog2xp1(Float80 y, Float80 x, Env& e) {
  Float80 out;
  if (nan_operands(y, x, out, e)) return out;
  Class cy = classify(y), cx = classify(x);
  if (cx == Class::Inf) return invalid(e);  // outside the domain: undefined, pc64 says invalid
  if (cx == Class::Zero) return cy == Class::Inf ? invalid(e) : make(y.sign() != x.sign(), 0, 0);
  Wide xw = wide(x);
  if (x.sign() && xw.e >= 0) return invalid(e);  // x <= -1
  if (cy == Class::Inf) return inf80(y.sign() != x.sign());
  if (cy == Class::Zero) return make(y.sign() != x.sign(), 0, 0);
  Wide l;
  if (xw.e >= -2) {  // |x| >= 1/4: the general logarithm of 1 + x
    l = log2_of(add(wide_int(1), xw));
  } else {  // ln(1 + x) = 2 atanh(x / (2 + x)), accurate for small x
    Wide t = odd_series(div(xw, add(wide_int(2), xw)), false);
    t.e += 1;
    l = div(t, constants().ln2);
  }
  return round64(mul(wide(y), l), e);
}

Float80 atan2(Float80 y, Float80 x, Env& e) {
  Float80 out;
  if (nan_operands(y, x, out, e)) return out;
  Class cy = classify(y), cx = classify(x);
  const Wide pi = constants().pi;
  auto pi_times = [&](int num, int den) {  // sign(y) * pi * num / den
    Wide r = div(mul(pi, wide_int(num)), wide_int(den));
    r.s = y.sign();
    return round64(r, e);
  };
  if (cy == Class::Zero) return x.sign() ? pi_times(1, 1) : make(y.sign(), 0, 0);
  if (cy == Class::Inf) return cx != Class::Inf ? pi_times(1, 2) : x.sign() ? pi_times(3, 4) : pi_times(1, 4);
  if (cx == Class::Zero) return pi_times(1, 2);
  if (cx == Class::Inf) return x.sign() ? pi_times(1, 1) : make(y.sign(), 0, 0);
  Wide q = div(wide(y), wide(x));
  q.s = false;
  bool inverted = q.e > 0 || (q.e == 0 && q.m != u128(1) << 127);  // q > 1: atan q = pi/2 - atan(1/q)
  if (inverted) q = div(wide_int(1), q);
  Wide a;
  if (q.e >= -1 || (q.e == -2 && (q.m >> 64) > 0xD413CCCFE7799211ull)) {  // q > tan(pi/8) = 1.6568... * 2^-2
    Wide one = wide_int(1);
    a = add(half(half(pi)), odd_series(div(sub(q, one), add(q, one)), true));  // pi/4 + atan((q-1)/(q+1))
  } else {
    a = odd_series(q, true);
  }
  if (inverted) a = sub(half(pi), a);
  if (x.sign()) a = sub(pi, a);
  a.s = y.sign();
  return round64(a, e);
}

Float80 trig(Float80 a, Trig f, Env& e) {
  Float80 out;
  if (nan_operands(a, a, out, e)) return out;
  Class c = classify(a);
  if (c == Class::Inf) return invalid(e);
  if (c == Class::Zero) return f == Trig::kCos ? one80(false) : a;
  // |a| = n * P + r, |r| <= P/2, with P = pi/2 rounded to 66 bits as the
  // x87 reduces (so results for large arguments match the hardware's).
  const Wide pi = constants().pi;
  u128 pm = pi.m >> 62;
  if ((pi.m >> 61) & 1) ++pm;  // P = pm * 2^-65
  bool sign = a.sign();
  int32_t sh = static_cast<int32_t>(a.exp() == 0 ? 1 : a.exp()) - 16383 - 63 + 65;  // |a| = mant * 2^(sh - 65)
  uint64_t n = 0;
  Wide r;
  if (sh <= 0) {  // |a| < 1/2: no reduction
    r = wide(a);
    r.s = false;
  } else {
    u128 rem = a.mant;
    for (int k = 0; k < sh; ++k) {
      rem <<= 1;
      n <<= 1;
      if (rem >= pm) {
        rem -= pm;
        n |= 1;
      }
    }
    bool neg_r = false;
    if (rem * 2 > pm) {  // to the nearest multiple
      rem = pm - rem;
      neg_r = true;
      ++n;
    }
    r = norm(neg_r, 127 - 65, rem);
  }
  // sin r = r - r^3/3! + ..., cos r = 1 - r^2/2! + ...
  Wide r2 = neg(mul(r, r)), s = r, cs = wide_int(1), ts = r, tc = cs;
  for (int k = 2; k < 80; k += 2) {
    tc = div(mul(tc, r2), wide_int(k * (k - 1)));
    ts = div(mul(ts, r2), wide_int(k * (k + 1)));
    bool done = negligible(tc, cs) && negligible(ts, s);
    cs = add(cs, tc);
    s = add(s, ts);
    if (done) break;
  }
  // sin(r + n pi/2), cos(r + n pi/2) by the quadrant n mod 4.
  unsigned quad = static_cast<unsigned>(n & 3);
  Wide sin_v = quad & 1 ? cs : s, cos_v = quad & 1 ? neg(s) : cs;
  if (quad & 2) {
    sin_v = neg(sin_v);
    cos_v = neg(cos_v);
  }
  if (sign) sin_v = neg(sin_v);
  Wide v = f == Trig::kSin ? sin_v : f == Trig::kCos ? cos_v : div(sin_v, cos_v);
  return round64(v, e);
}

}  // namespace pc64::sf80
