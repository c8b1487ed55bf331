// Portable double-extended arithmetic (see softfloat80.h). Values are
// unpacked to sign, unbiased exponent and a 128-bit significand, computed
// exactly (or with a sticky bit), and rounded once by round_pack.
#include "cpu/softfloat80.h"

namespace pc64::sf80 {

namespace {

using u128 = unsigned __int128;

constexpr int32_t kBias80 = 16383;

struct Unpacked {
  bool sign;
  int32_t exp;   // value = sig * 2^(exp - 63)
  uint64_t sig;  // bit 63 set (normalized) for nonzero finite values
};

Unpacked unpack(const Float80& a) {
  Unpacked u{a.sign(), 0, a.mant};
  unsigned ex = a.exp();
  if (ex == 0) {
    u.exp = 1 - kBias80;
    if (u.sig) {
      int s = __builtin_clzll(u.sig);
      u.sig <<= s;
      u.exp -= s;
    }
  } else {
    u.exp = static_cast<int32_t>(ex) - kBias80;
  }
  return u;
}

struct Format {
  int32_t emin, emax;  // unbiased exponent range of normal numbers
  unsigned prec;
  bool tiny_after = false;  // tininess detected after rounding (SSE) instead of before (x87)
};

// The rounded result before encoding: sig has bit 63 set for normal
// numbers; a denormal has exp == emin and bit 63 clear; inf/zero flagged.
struct Rounded {
  bool sign;
  int32_t exp;
  uint64_t sig;
  bool inf;
};

// Rounds sign * m * 2^e0 (+ a sticky remainder below bit 0) to `f`.
Rounded round_pack(bool sign, u128 m, int32_t e0, bool sticky, Format f, Env& env) {
  Rounded r{sign, f.emin, 0, false};
  if (m == 0) {
    if (sticky) env.flags |= FSW_PE | FSW_UE;  // cannot happen for exact ops
    return r;
  }
  // Normalize to hi:lo with the leading one at bit 127.
  int t = 127 - (m >> 64 ? __builtin_clzll(static_cast<uint64_t>(m >> 64)) : 64 + __builtin_clzll(static_cast<uint64_t>(m)));
  m <<= (127 - t);
  int32_t exp = t + e0;  // value = (m / 2^127) * 2^exp, i.e. hi's bit 63 is 2^exp
  bool tiny = exp < f.emin;
  if (tiny && f.tiny_after && exp == f.emin - 1) {
    // Not tiny if rounding at full precision with an unbounded exponent
    // carries up to 2^emin (SDM Vol. 1 4.9.1.5 "after rounding").
    unsigned drop0 = 128 - f.prec;
    u128 mask0 = (u128(1) << drop0) - 1;
    u128 rem0 = m & mask0, half0 = u128(1) << (drop0 - 1);
    bool inexact0 = rem0 != 0 || sticky;
    bool inc0 = env.rc == 0   ? (rem0 > half0 || (rem0 == half0 && (sticky || ((m >> drop0) & 1))))
                : env.rc == 1 ? (sign && inexact0)
                : env.rc == 2 ? (!sign && inexact0)
                              : false;
    if (inc0 && (m | mask0) == ~u128(0)) tiny = false;
  }
  env.tiny = tiny;
  // Unmasked x87 underflow: the exponent is re-biased by 24576 (SDM 8.5.5);
  // a result still too small after that is denormalized as usual.
  bool bias_under = tiny && !(env.masks & FSW_UE) && f.emin == 1 - kBias80;
  if (bias_under) {
    exp += 24576;
    if (exp < f.emin) {  // still out of range: zero, inexact, not rounded up (measured)
      env.flags |= FSW_UE | FSW_PE;
      env.rounded_up = false;
      return r;
    }
  }
  if (exp < f.emin) {
    unsigned sh = static_cast<unsigned>(f.emin - exp);
    if (sh >= 128) {
      sticky = sticky || m != 0;
      m = 0;
    } else {
      sticky = sticky || (m & ((u128(1) << sh) - 1)) != 0;
      m >>= sh;
    }
    exp = f.emin;
  }
  unsigned drop = 128 - f.prec;  // bits below the kept significand
  u128 mask = (u128(1) << drop) - 1;
  u128 rem = m & mask;
  bool inexact = rem != 0 || sticky;
  u128 half = u128(1) << (drop - 1);
  bool inc = false;
  switch (env.rc) {
    case 0:
      inc = rem > half || (rem == half && (sticky || ((m >> drop) & 1)));
      break;
    case 1: inc = sign && inexact; break;
    case 2: inc = !sign && inexact; break;
    default: break;
  }
  m &= ~mask;
  if (inc) {
    m += u128(1) << drop;
    if (m == 0) {  // carried out of bit 127
      m = u128(1) << 127;
      ++exp;
    }
  }
  if (inexact) {
    env.flags |= FSW_PE;
    env.rounded_up = inc;
  }
  // Underflow: masked, only a tiny and inexact result signals UE; unmasked,
  // any tiny result does (SDM Vol. 1 4.9.1.5).
  if (tiny && (inexact || !(env.masks & FSW_UE))) env.flags |= FSW_UE;
  r.sig = static_cast<uint64_t>(m >> 64);
  r.exp = exp;
  if (exp > f.emax) {
    env.flags |= FSW_OE | FSW_PE;
    if (!(env.masks & FSW_OE) && f.emin == 1 - kBias80) {
      if (exp - 24576 > f.emax) {  // still out of range: infinity, rounded up (measured)
        r.inf = true;
        env.rounded_up = true;
        return r;
      }
      r.exp = exp - 24576;  // unmasked overflow: re-biased result (SDM 8.5.4)
      env.rounded_up = inc;
      return r;
    }
    bool to_inf = env.rc == 0 || (env.rc == 1 && sign) || (env.rc == 2 && !sign);
    env.rounded_up = to_inf;
    if (to_inf) {
      r.inf = true;
    } else {
      r.exp = f.emax;
      r.sig = ~uint64_t(0) << (64 - f.prec);
    }
  }
  return r;
}

Float80 encode80(const Rounded& r) {
  if (r.inf) return make(r.sign, 0x7FFF, 1ull << 63);
  if (r.sig == 0) return make(r.sign, 0, 0);
  if (!(r.sig >> 63)) return make(r.sign, 0, r.sig);  // denormal
  return make(r.sign, static_cast<uint16_t>(r.exp + kBias80), r.sig);
}

Format ext(const Env& e) { return Format{1 - kBias80, kBias80, e.prec}; }

// NaN result for two operands by the x87 rules (SDM Vol. 1 table 4-7):
// SNaN operands raise IE; the larger significand wins between two NaNs,
// a QNaN wins over an SNaN; the result is quiet.
Float80 propagate(const Float80& a, Class ca, const Float80& b, Class cb, Env& e) {
  if (ca == Class::SNaN || cb == Class::SNaN) e.flags |= FSW_IE;
  Float80 r;
  if (is_nan(ca) && is_nan(cb)) {
    if (ca == Class::SNaN && cb == Class::QNaN) r = b;
    else if (cb == Class::SNaN && ca == Class::QNaN) r = a;
    else {
      uint64_t ma = a.mant << 1, mb = b.mant << 1;
      r = ma > mb ? a : ma < mb ? b : (a.sign() ? b : a);
    }
  } else {
    r = is_nan(ca) ? a : b;
  }
  r.mant |= 1ull << 62;
  return r;
}

// Handles unsupported/NaN operands and the denormal flag for a two-operand
// op; returns true with `out` set when the result is decided here.
bool specials2(const Float80& a, const Float80& b, Class& ca, Class& cb, Float80& out, Env& e) {
  ca = classify(a);
  cb = classify(b);
  if (ca == Class::Unsupported || cb == Class::Unsupported) {
    e.flags |= FSW_IE;
    out = indefinite();
    return true;
  }
  if (is_nan(ca) || is_nan(cb)) {
    out = propagate(a, ca, b, cb, e);
    return true;
  }
  if (ca == Class::Denormal || cb == Class::Denormal) e.flags |= FSW_DE;
  return false;
}

Float80 addsub(Float80 a, Float80 b, bool negate_b, Env& e) {
  Class ca, cb;
  Float80 out;
  if (specials2(a, b, ca, cb, out, e)) return out;
  bool sb = b.sign() ^ negate_b;
  if (ca == Class::Inf || cb == Class::Inf) {
    if (ca == Class::Inf && cb == Class::Inf && a.sign() != sb) {
      e.flags |= FSW_IE;
      return indefinite();
    }
    return ca == Class::Inf ? a : make(sb, 0x7FFF, 1ull << 63);
  }
  if (ca == Class::Zero && cb == Class::Zero) {
    bool s = a.sign() == sb ? a.sign() : e.rc == 1;
    return make(s, 0, 0);
  }
  if (cb == Class::Zero) return encode80(round_pack(a.sign(), unpack(a).sig, unpack(a).exp - 63, false, ext(e), e));
  if (ca == Class::Zero) return encode80(round_pack(sb, unpack(b).sig, unpack(b).exp - 63, false, ext(e), e));
  Unpacked x = unpack(a), y = unpack(b);
  y.sign = sb;
  if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) std::swap(x, y);
  // x has the larger magnitude; align y (with a sticky jam bit) 62 bits down.
  u128 mx = u128(x.sig) << 62, my = u128(y.sig) << 62;
  unsigned d = static_cast<unsigned>(x.exp - y.exp);
  if (d) {
    if (d >= 127) my = 1;
    else {
      bool lost = (my & ((u128(1) << d) - 1)) != 0;
      my = (my >> d) | (lost ? 1 : 0);
    }
  }
  u128 m = x.sign == y.sign ? mx + my : mx - my;
  if (m == 0) return make(e.rc == 1, 0, 0);  // exact cancellation: +0 (-0 rounding down)
  return encode80(round_pack(x.sign, m, x.exp - 63 - 62, false, ext(e), e));
}

u128 isqrt128(u128 v, u128& rem) {
  u128 r = 0, bit = u128(1) << 126;
  while (bit > v) bit >>= 2;
  while (bit) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  rem = v;
  return r;
}

}  // namespace

Float80 make(bool sign, uint16_t exp, uint64_t mant) {
  Float80 f;
  f.mant = mant;
  f.se = static_cast<uint16_t>((sign ? 0x8000 : 0) | (exp & 0x7FFF));
  return f;
}
Float80 indefinite() { return make(true, 0x7FFF, 0xC000000000000000ull); }
Float80 neg(Float80 a) {
  a.se ^= 0x8000;
  return a;
}
Float80 abs(Float80 a) {
  a.se &= 0x7FFF;
  return a;
}

Class classify(const Float80& a) {
  unsigned ex = a.exp();
  bool j = a.mant >> 63;
  if (ex == 0) return a.mant == 0 ? Class::Zero : Class::Denormal;
  if (ex == 0x7FFF) {
    if (!j) return Class::Unsupported;
    if ((a.mant << 1) == 0) return Class::Inf;
    return (a.mant >> 62) & 1 ? Class::QNaN : Class::SNaN;
  }
  return j ? Class::Normal : Class::Unsupported;
}

Float80 add(Float80 a, Float80 b, Env& e) { return addsub(a, b, false, e); }
Float80 sub(Float80 a, Float80 b, Env& e) { return addsub(a, b, true, e); }

Float80 mul(Float80 a, Float80 b, Env& e) {
  Class ca, cb;
  Float80 out;
  if (specials2(a, b, ca, cb, out, e)) return out;
  bool s = a.sign() ^ b.sign();
  if (ca == Class::Inf || cb == Class::Inf) {
    if (ca == Class::Zero || cb == Class::Zero) {
      e.flags |= FSW_IE;
      return indefinite();
    }
    return make(s, 0x7FFF, 1ull << 63);
  }
  if (ca == Class::Zero || cb == Class::Zero) return make(s, 0, 0);
  Unpacked x = unpack(a), y = unpack(b);
  return encode80(round_pack(s, u128(x.sig) * y.sig, x.exp - 63 + y.exp - 63, false, ext(e), e));
}

Float80 div(Float80 a, Float80 b, Env& e) {
  Class ca, cb;
  Float80 out;
  uint16_t before = e.flags;
  if (specials2(a, b, ca, cb, out, e)) return out;
  // Division by zero is reported without the denormal flag of the dividend.
  (void)before;
  if (cb == Class::Zero && ca != Class::Zero) e.flags &= ~FSW_DE;
  bool s = a.sign() ^ b.sign();
  if (ca == Class::Inf) {
    if (cb == Class::Inf) {
      e.flags |= FSW_IE;
      return indefinite();
    }
    return make(s, 0x7FFF, 1ull << 63);
  }
  if (cb == Class::Inf) return make(s, 0, 0);
  if (cb == Class::Zero) {
    if (ca == Class::Zero) {
      e.flags |= FSW_IE;
      return indefinite();
    }
    e.flags |= FSW_ZE;
    return make(s, 0x7FFF, 1ull << 63);
  }
  if (ca == Class::Zero) return make(s, 0, 0);
  Unpacked x = unpack(a), y = unpack(b);
  // Long division in two steps for a 66/67-bit quotient plus sticky.
  u128 n = u128(x.sig) << 64;
  u128 q1 = n / y.sig, r1 = n % y.sig;
  u128 n2 = r1 << 2;
  u128 q = (q1 << 2) | (n2 / y.sig);
  bool sticky = (n2 % y.sig) != 0;
  return encode80(round_pack(s, q, x.exp - y.exp - 66, sticky, ext(e), e));
}

Float80 sqrt(Float80 a, Env& e) {
  Class c = classify(a);
  if (c == Class::Unsupported) {
    e.flags |= FSW_IE;
    return indefinite();
  }
  if (is_nan(c)) return propagate(a, c, a, c, e);
  if (c == Class::Zero) return a;
  if (a.sign()) {
    e.flags |= FSW_IE;
    return indefinite();
  }
  if (c == Class::Inf) return a;
  if (c == Class::Denormal) e.flags |= FSW_DE;
  Unpacked x = unpack(a);
  int32_t E = x.exp - 63;
  unsigned sh = (E & 1) ? 63 : 64;  // even exponent, M in [2^126, 2^128): a 64-bit root
  u128 M = u128(x.sig) << sh;
  int32_t Ee = E - static_cast<int32_t>(sh);
  u128 rem;
  u128 r = isqrt128(M, rem);
  // Two extra bits: round (sqrt(M) >= r + 1/2 <=> rem > r) and sticky.
  u128 m = (r << 2) | (rem > r ? 2 : 0) | (rem != 0 ? 1 : 0);
  return encode80(round_pack(false, m, Ee / 2 - 2, false, ext(e), e));
}

Float80 round_ext(bool sign, unsigned __int128 m, int32_t e0, bool sticky, Env& e) {
  return encode80(round_pack(sign, m, e0, sticky, ext(e), e));
}

Float80 round_prec(Float80 a, Env& e) {
  Class c = classify(a);
  if (c != Class::Normal && c != Class::Denormal) return a;
  Unpacked x = unpack(a);
  return encode80(round_pack(x.sign, x.sig, x.exp - 63, false, ext(e), e));
}

Float80 round_to_int(Float80 a, Env& e) {
  Class c = classify(a);
  if (c == Class::Unsupported) {
    e.flags |= FSW_IE;
    return indefinite();
  }
  if (is_nan(c)) return propagate(a, c, a, c, e);
  if (c == Class::Zero || c == Class::Inf) return a;
  if (c == Class::Denormal) e.flags |= FSW_DE;
  Unpacked x = unpack(a);
  if (x.exp >= 63) return a;
  // Round at the binary point: a format whose precision ends at 2^0.
  Format f{1 - kBias80, kBias80, 0};
  u128 m = u128(x.sig) << 64;
  int32_t e0 = x.exp - 127;
  // value = m * 2^e0; integer part = m >> (-e0)... use round_pack's
  // machinery by choosing prec so the last kept bit is 2^0.
  unsigned p = static_cast<unsigned>(x.exp + 1);  // bits at or above 2^0
  Env t = e;
  t.flags = 0;
  t.rounded_up = false;
  Rounded r;
  if (p == 0 || x.exp < 0) {
    // |a| < 1: result 0 or 1 by the rounding mode.
    bool inexact = true;
    bool one = false;
    switch (e.rc) {
      case 0: one = x.exp == -1 && (x.sig << 1) != 0; break;  // > 0.5 rounds to 1; exactly 0.5 -> 0
      case 1: one = x.sign; break;
      case 2: one = !x.sign; break;
      default: break;
    }
    if (inexact) e.flags |= FSW_PE;
    e.rounded_up = one;
    return one ? make(x.sign, kBias80, 1ull << 63) : make(x.sign, 0, 0);
  }
  f.prec = p;
  r = round_pack(x.sign, m, e0, false, f, t);
  e.flags |= t.flags & FSW_PE;
  e.rounded_up = t.rounded_up;
  return encode80(r);
}

Float80 from_f32(uint32_t v, Env& e) {
  bool s = v >> 31;
  unsigned ex = (v >> 23) & 0xFF;
  uint32_t fr = v & 0x7FFFFF;
  if (ex == 0xFF) {
    if (!fr) return make(s, 0x7FFF, 1ull << 63);
    if (!(fr & 0x400000)) e.flags |= FSW_IE;
    return make(s, 0x7FFF, (1ull << 63) | (1ull << 62) | (uint64_t(fr) << 40));
  }
  if (ex == 0) {
    if (!fr) return make(s, 0, 0);
    e.flags |= FSW_DE;
    int sh = __builtin_clz(fr) - 8;  // leading one to bit 23
    return make(s, static_cast<uint16_t>(kBias80 - 126 - sh), uint64_t(fr) << (40 + sh));
  }
  return make(s, static_cast<uint16_t>(ex - 127 + kBias80), (1ull << 63) | (uint64_t(fr) << 40));
}

Float80 from_f64(uint64_t v, Env& e) {
  bool s = v >> 63;
  unsigned ex = (v >> 52) & 0x7FF;
  uint64_t fr = v & 0xFFFFFFFFFFFFFull;
  if (ex == 0x7FF) {
    if (!fr) return make(s, 0x7FFF, 1ull << 63);
    if (!(fr >> 51)) e.flags |= FSW_IE;
    return make(s, 0x7FFF, (1ull << 63) | (1ull << 62) | (fr << 11));
  }
  if (ex == 0) {
    if (!fr) return make(s, 0, 0);
    e.flags |= FSW_DE;
    int sh = __builtin_clzll(fr) - 11;  // leading one to bit 52
    return make(s, static_cast<uint16_t>(kBias80 - 1022 - sh), fr << (11 + sh));
  }
  return make(s, static_cast<uint16_t>(ex - 1023 + kBias80), (1ull << 63) | (fr << 11));
}

Float80 from_int(int64_t v) {
  if (v == 0) return make(false, 0, 0);
  bool s = v < 0;
  uint64_t a = s ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  int lz = __builtin_clzll(a);
  return make(s, static_cast<uint16_t>(kBias80 + 63 - lz), a << lz);
}

namespace {
// Shared by the f32/f64 stores: specials, then round_pack into the format.
template <unsigned ExpBits, unsigned FracBits>
uint64_t to_ieee(Float80 a, Env& e) {
  using std::uint64_t;
  constexpr int32_t bias = (1 << (ExpBits - 1)) - 1;
  constexpr uint64_t exp_all = (uint64_t(1) << ExpBits) - 1;
  const uint64_t sign = uint64_t(a.sign()) << (ExpBits + FracBits);
  Class c = classify(a);
  if (c == Class::Unsupported) {
    e.flags |= FSW_IE;
    a = indefinite();
    c = Class::QNaN;
  }
  if (is_nan(c)) {
    if (c == Class::SNaN) e.flags |= FSW_IE;
    uint64_t fr = (a.mant << 1) >> (64 - FracBits);
    fr |= uint64_t(1) << (FracBits - 1);
    return (uint64_t(a.sign()) << (ExpBits + FracBits)) | (exp_all << FracBits) | fr;
  }
  if (c == Class::Inf) return sign | (exp_all << FracBits);
  if (c == Class::Zero) return sign;
  // A denormal source does not signal DE on a store (measured on Intel hardware).
  Unpacked x = unpack(a);
  Env t = e;
  t.prec = FracBits + 1;
  t.masks |= FSW_OE | FSW_UE;  // memory stores never re-bias
  t.flags = 0;
  Rounded r = round_pack(x.sign, x.sig, x.exp - 63, false, Format{1 - bias, bias, FracBits + 1}, t);
  e.flags |= t.flags;
  e.rounded_up = t.rounded_up;
  if (r.inf) return sign | (exp_all << FracBits);
  uint64_t frac = (r.sig >> (63 - FracBits)) & ((uint64_t(1) << FracBits) - 1);
  if (!(r.sig >> 63)) return sign | frac;  // denormal or zero
  return sign | (uint64_t(r.exp + bias) << FracBits) | frac;
}
}  // namespace

uint32_t to_f32(Float80 a, Env& e) { return static_cast<uint32_t>(to_ieee<8, 23>(a, e)); }
uint64_t to_f64(Float80 a, Env& e) { return to_ieee<11, 52>(a, e); }

int64_t to_int(Float80 a, unsigned bits, bool truncate, Env& e) {
  const int64_t min = bits == 64 ? INT64_MIN : -(int64_t(1) << (bits - 1));
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t(1) << (bits - 1)) - 1;
  Class c = classify(a);
  if (c == Class::Unsupported || is_nan(c) || c == Class::Inf) {
    e.flags |= FSW_IE;
    return min;
  }
  if (c == Class::Zero) return 0;
  Env t = e;
  if (truncate) t.rc = 3;
  t.flags = 0;
  Float80 r = round_to_int(a, t);
  bool up = t.rounded_up;
  uint16_t pe = t.flags & FSW_PE;
  if (classify(r) == Class::Zero) {
    e.flags |= pe;
    e.rounded_up = up;
    return 0;
  }
  Unpacked x = unpack(r);
  if (x.exp > 63 || (x.exp == 63 && !(x.sign && x.sig == (1ull << 63)))) {
    e.flags |= FSW_IE;
    return min;
  }
  uint64_t mag = x.sig >> (63 - x.exp);
  int64_t v = x.sign ? static_cast<int64_t>(uint64_t(0) - mag) : static_cast<int64_t>(mag);
  if (v < min || v > max || (x.sign && mag > uint64_t(max) + 1)) {
    e.flags |= FSW_IE;
    return min;
  }
  e.flags |= pe;
  e.rounded_up = up;
  return v;
}

Float80 scale(Float80 a, Float80 b, Env& e) {
  Class ca, cb;
  Float80 out;
  if (specials2(a, b, ca, cb, out, e)) return out;
  if (cb == Class::Inf) {
    if (b.sign()) {  // 2^-inf
      if (ca == Class::Inf) {
        e.flags |= FSW_IE;
        return indefinite();
      }
      return make(a.sign(), 0, 0);
    }
    if (ca == Class::Zero) {
      e.flags |= FSW_IE;
      return indefinite();
    }
    return make(a.sign(), 0x7FFF, 1ull << 63);
  }
  if (ca == Class::Inf || ca == Class::Zero) return a;
  Unpacked y = unpack(b);
  int64_t n;
  if (cb == Class::Zero || y.exp < 0) n = 0;
  else if (y.exp > 20) n = y.sign ? -(int64_t(1) << 20) : (int64_t(1) << 20);  // beyond any exponent range
  else n = static_cast<int64_t>(y.sig >> (63 - y.exp)) * (y.sign ? -1 : 1);
  Unpacked x = unpack(a);
  // FSCALE does not round to the precision control (measured): 64 bits.
  return encode80(round_pack(x.sign, x.sig, static_cast<int32_t>(x.exp - 63 + n), false, Format{1 - kBias80, kBias80, 64}, e));
}

Float80 prem(Float80 a, Float80 b, bool ieee, Env& e, uint64_t& q, bool& partial) {
  q = 0;
  partial = false;
  Class ca, cb;
  Float80 out;
  if (specials2(a, b, ca, cb, out, e)) return out;
  if (ca == Class::Inf || cb == Class::Zero) {
    e.flags = static_cast<uint16_t>((e.flags | FSW_IE) & ~FSW_DE);  // IE hides the denormal operand
    return indefinite();
  }
  if (ca == Class::Zero || cb == Class::Inf) {
    return ca == Class::Denormal
               ? encode80(round_pack(a.sign(), unpack(a).sig, unpack(a).exp - 63, false, Format{1 - kBias80, kBias80, 64}, e))
               : a;
  }
  Unpacked x = unpack(a), y = unpack(b);
  int32_t d = x.exp - y.exp;
  if (d < 0 && !(ieee && d == -1)) {
    Env t = e;
    t.prec = 64;
    return encode80(round_pack(x.sign, x.sig, x.exp - 63, false, ext(t), e));
  }
  // Partial reduction when the exponents are far apart (SDM FPREM: N is
  // implementation-specific between 32 and 63).
  int32_t shift = d;
  if (d >= 64) {
    partial = true;
    shift = 32 + (d & 31);
    shift = d - shift;  // reduce by y * 2^(d - N) ... the quotient's low bits are not reported
  }
  // Remainder of x.sig * 2^k by y.sig, k = shift (0..63) computed bitwise.
  u128 r = x.sig;
  uint64_t quot = 0;
  if (!partial) {
    if (d >= 0) {
      // r = x.sig * 2^d mod y.sig, quotient bits along the way.
      u128 num = u128(x.sig);
      for (int k = 0; k <= d; ++k) {
        quot <<= 1;
        if (num >= y.sig) {
          num -= y.sig;
          quot |= 1;
        }
        if (k < d) num <<= 1;
      }
      r = num;  // remainder has exponent y.exp: value r * 2^(y.exp - 63)
    } else {
      r = u128(x.sig);  // d == -1 (FPREM1 only): quotient 0 so far, remainder x
    }
    int32_t rexp = d >= 0 ? y.exp - 63 : x.exp - 63;
    bool sign = x.sign;
    if (ieee) {
      // Round the quotient to nearest even: compare 2r with y.
      u128 ys = d >= 0 ? u128(y.sig) : (u128(y.sig) << 1);
      u128 r2 = d >= 0 ? r << 1 : r << 1;
      if (d < 0) {
        // x in [y/2, y): remainder x - y if x > y/2.
        if (r2 > ys) {  // |x| > |y|/2: the remainder is x - y, i.e. -(y - x)
          r = ys - r;  // y - x in units of 2^(x.exp - 63)
          sign = !sign;
          quot = 1;
        }
      } else if (r2 > ys || (r2 == ys && (quot & 1))) {
        r = y.sig - r;
        sign = !sign;
        ++quot;
      }
    }
    q = quot;
    if (r == 0) return make(x.sign, 0, 0);
    Env t = e;
    t.prec = 64;
    return encode80(round_pack(sign, r, rexp, false, ext(t), e));
  }
  // Partial: subtract y * 2^shift * floor(x / (y * 2^shift)) keeping the low bits.
  int32_t n = d - shift;  // number of quotient bits developed: N
  u128 num = u128(x.sig);
  for (int k = 0; k <= n; ++k) {
    if (num >= y.sig) num -= y.sig;
    if (k < n) num <<= 1;
  }
  q = 0;
  if (num == 0) return make(x.sign, 0, 0);
  Env t = e;
  t.prec = 64;
  return encode80(round_pack(x.sign, num, x.exp - n - 63, false, ext(t), e));
}

int compare(Float80 a, Float80 b, bool quiet, Env& e) {
  Class ca = classify(a), cb = classify(b);
  if (ca == Class::Unsupported || cb == Class::Unsupported || ca == Class::SNaN || cb == Class::SNaN) {
    e.flags |= FSW_IE;
    return 3;
  }
  if (is_nan(ca) || is_nan(cb)) {
    if (!quiet) e.flags |= FSW_IE;
    return 3;
  }
  if (ca == Class::Denormal || cb == Class::Denormal) e.flags |= FSW_DE;
  if (ca == Class::Zero && cb == Class::Zero) return 1;
  if (ca == Class::Zero) return b.sign() ? 2 : 0;
  if (cb == Class::Zero) return a.sign() ? 0 : 2;
  bool sa = a.sign(), sb = b.sign();
  if (sa != sb) return sa ? 0 : 2;
  auto key = [](const Float80& f, Class c) -> std::pair<int32_t, uint64_t> {
    if (c == Class::Inf) return {1 << 20, 0};
    Unpacked u = unpack(f);
    return {u.exp, u.sig};
  };
  auto ka = key(a, ca), kb = key(b, cb);
  if (ka == kb) return 1;
  bool less = ka < kb;
  if (sa) less = !less;
  return less ? 0 : 2;
}

}  // namespace pc64::sf80

// ---------------- IEEE binary32/binary64 with SSE semantics ----------------

namespace pc64::sf80::sse {

namespace {

struct Ieee {
  unsigned fbits;
  int32_t bias;
  uint64_t exp_all;
};
Ieee fmt(bool dbl) { return dbl ? Ieee{52, 1023, 0x7FF} : Ieee{23, 127, 0xFF}; }

Class cls(uint64_t v, bool dbl) {
  Ieee f = fmt(dbl);
  uint64_t ex = (v >> f.fbits) & f.exp_all, fr = v & ((uint64_t(1) << f.fbits) - 1);
  if (ex == f.exp_all) return fr == 0 ? Class::Inf : ((fr >> (f.fbits - 1)) & 1) ? Class::QNaN : Class::SNaN;
  if (ex == 0) return fr == 0 ? Class::Zero : Class::Denormal;
  return Class::Normal;
}
bool sign_of(uint64_t v, bool dbl) { return (v >> (dbl ? 63 : 31)) & 1; }
uint64_t signed_zero(bool s, bool dbl) { return s ? (dbl ? 1ull << 63 : 1ull << 31) : 0; }
uint64_t inf(bool s, bool dbl) { return signed_zero(s, dbl) | (fmt(dbl).exp_all << fmt(dbl).fbits); }
uint64_t quiet(uint64_t v, bool dbl) { return v | (uint64_t(1) << (fmt(dbl).fbits - 1)); }
uint64_t default_nan(bool dbl) { return dbl ? 0xFFF8000000000000ull : 0xFFC00000ull; }

Unpacked unpack_ieee(uint64_t v, bool dbl) {
  Ieee f = fmt(dbl);
  uint64_t ex = (v >> f.fbits) & f.exp_all, fr = v & ((uint64_t(1) << f.fbits) - 1);
  Unpacked u{sign_of(v, dbl), 0, 0};
  if (ex == 0) {
    u.sig = fr << (63 - f.fbits);
    int sh = __builtin_clzll(u.sig);
    u.sig <<= sh;
    u.exp = 1 - f.bias - sh;
  } else {
    u.sig = (uint64_t(1) << 63) | (fr << (63 - f.fbits));
    u.exp = static_cast<int32_t>(ex) - f.bias;
  }
  return u;
}

// Rounds sign * m * 2^e0 into the format, with FTZ.
uint64_t round_ieee(bool s, u128 m, int32_t e0, bool sticky, bool dbl, Env& e) {
  Ieee f = fmt(dbl);
  sf80::Env t;
  t.rc = e.rc;
  t.masks = 0x3F;
  Rounded r = round_pack(s, m, e0, sticky, Format{1 - f.bias, f.bias, f.fbits + 1, true}, t);
  if (e.ftz && t.tiny) {  // flush to zero: underflow and inexact (SDM 10.2.3.3)
    e.flags |= MXCSR_UE | MXCSR_PE;
    return signed_zero(s, dbl);
  }
  e.flags |= t.flags;  // FSW and MXCSR share the flag positions
  if (r.inf) return inf(s, dbl);
  uint64_t frac = (r.sig >> (63 - f.fbits)) & ((uint64_t(1) << f.fbits) - 1);
  if (!(r.sig >> 63)) return signed_zero(s, dbl) | frac;
  return signed_zero(s, dbl) | (uint64_t(r.exp + f.bias) << f.fbits) | frac;
}

// DAZ turns denormal sources into zeros; otherwise they raise DE.
void prepare(uint64_t& v, Class& c, bool dbl, Env& e, bool& denormal) {
  if (c != Class::Denormal) return;
  if (e.daz) {
    v = signed_zero(sign_of(v, dbl), dbl);
    c = Class::Zero;
  } else {
    denormal = true;
  }
}

// a < b for non-NaN values (zeros of either sign are equal).
int order(uint64_t a, Class ca, uint64_t b, Class cb, bool dbl) {
  if (ca == Class::Zero && cb == Class::Zero) return 0;
  bool sa = sign_of(a, dbl), sb = sign_of(b, dbl);
  uint64_t mag = dbl ? ~(1ull << 63) : 0x7FFFFFFFull;
  uint64_t ma = ca == Class::Zero ? 0 : a & mag, mb = cb == Class::Zero ? 0 : b & mag;
  if (ma == 0) sa = false;
  if (mb == 0) sb = false;
  if (sa != sb) return sa ? -1 : 1;
  if (ma == mb) return 0;
  bool less = ma < mb;
  if (sa) less = !less;
  return less ? -1 : 1;
}

}  // namespace

uint64_t arith(Op op, uint64_t a, uint64_t b, bool dbl, Env& e) {
  Class ca = cls(a, dbl), cb = cls(b, dbl);
  bool den = false;
  prepare(a, ca, dbl, e, den);
  prepare(b, cb, dbl, e, den);
  if (op == kMin || op == kMax) {
    // A NaN in either operand returns the second (source) operand unchanged,
    // with IE even for a QNaN (SDM MINPS/MAXPS).
    if (is_nan(ca) || is_nan(cb)) {
      e.flags |= MXCSR_IE;
      return b;
    }
    if (den) e.flags |= MXCSR_DE;
    int o = order(a, ca, b, cb, dbl);
    if (op == kMin) return o < 0 ? a : b;
    return o > 0 ? a : b;
  }
  if (is_nan(ca) || is_nan(cb)) {
    if (ca == Class::SNaN || cb == Class::SNaN) e.flags |= MXCSR_IE;
    return is_nan(ca) ? quiet(a, dbl) : quiet(b, dbl);
  }
  bool sa = sign_of(a, dbl), sb = sign_of(b, dbl);
  if (op == kSub) sb = !sb;
  auto invalid = [&] {
    e.flags |= MXCSR_IE;
    return default_nan(dbl);
  };
  switch (op) {
    case kAdd:
    case kSub:
      if (ca == Class::Inf || cb == Class::Inf) {
        if (ca == Class::Inf && cb == Class::Inf && sa != sb) return invalid();
        if (den) e.flags |= MXCSR_DE;
        return ca == Class::Inf ? inf(sa, dbl) : inf(sb, dbl);
      }
      break;
    case kMul:
      if (ca == Class::Inf || cb == Class::Inf) {
        if (ca == Class::Zero || cb == Class::Zero) return invalid();
        if (den) e.flags |= MXCSR_DE;
        return inf(sa != sb, dbl);
      }
      break;
    default:  // kDiv
      if (ca == Class::Inf && cb == Class::Inf) return invalid();
      if (ca == Class::Zero && cb == Class::Zero) return invalid();
      if (cb == Class::Zero && ca != Class::Inf) {  // ZE without the dividend's DE (measured)
        e.flags |= MXCSR_ZE;
        return inf(sa != sb, dbl);
      }
      if (den) e.flags |= MXCSR_DE;
      if (ca == Class::Inf) return inf(sa != sb, dbl);
      if (cb == Class::Inf) return signed_zero(sa != sb, dbl);
      break;
  }
  if (den) e.flags |= MXCSR_DE;
  if (op == kAdd || op == kSub) {
    if (ca == Class::Zero && cb == Class::Zero) return signed_zero(sa == sb ? sa : e.rc == 1, dbl);
    if (cb == Class::Zero) return (sa == sign_of(a, dbl)) ? round_ieee(sa, unpack_ieee(a, dbl).sig, unpack_ieee(a, dbl).exp - 63, false, dbl, e) : a;
    if (ca == Class::Zero) {
      Unpacked y = unpack_ieee(b, dbl);
      return round_ieee(sb, y.sig, y.exp - 63, false, dbl, e);
    }
    Unpacked x = unpack_ieee(a, dbl), y = unpack_ieee(b, dbl);
    x.sign = sa;
    y.sign = sb;
    if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) std::swap(x, y);
    u128 mx = u128(x.sig) << 62, my = u128(y.sig) << 62;
    unsigned d = static_cast<unsigned>(x.exp - y.exp);
    if (d) {
      if (d >= 127) my = 1;
      else {
        bool lost = (my & ((u128(1) << d) - 1)) != 0;
        my = (my >> d) | (lost ? 1 : 0);
      }
    }
    u128 m = x.sign == y.sign ? mx + my : mx - my;
    if (m == 0) return signed_zero(e.rc == 1, dbl);
    return round_ieee(x.sign, m, x.exp - 63 - 62, false, dbl, e);
  }
  bool s = sa != sb;
  if (ca == Class::Zero || cb == Class::Zero) return signed_zero(s, dbl);
  Unpacked x = unpack_ieee(a, dbl), y = unpack_ieee(b, dbl);
  if (op == kMul) return round_ieee(s, u128(x.sig) * y.sig, x.exp - 63 + y.exp - 63, false, dbl, e);
  u128 n = u128(x.sig) << 64;
  u128 q1 = n / y.sig, r1 = n % y.sig;
  u128 n2 = r1 << 2;
  u128 q = (q1 << 2) | (n2 / y.sig);
  return round_ieee(s, q, x.exp - y.exp - 66, (n2 % y.sig) != 0, dbl, e);
}

uint64_t sqrt(uint64_t a, bool dbl, Env& e) {
  Class c = cls(a, dbl);
  bool den = false;
  prepare(a, c, dbl, e, den);
  if (is_nan(c)) {
    if (c == Class::SNaN) e.flags |= MXCSR_IE;
    return quiet(a, dbl);
  }
  if (c == Class::Zero) return a;
  if (sign_of(a, dbl)) {
    e.flags |= MXCSR_IE;
    return default_nan(dbl);
  }
  if (den) e.flags |= MXCSR_DE;
  if (c == Class::Inf) return a;
  Unpacked x = unpack_ieee(a, dbl);
  int32_t E = x.exp - 63;
  unsigned sh = (E & 1) ? 63 : 64;
  u128 M = u128(x.sig) << sh, rem;
  u128 r = isqrt128(M, rem);
  u128 m = (r << 2) | (rem > r ? 2 : 0) | (rem != 0 ? 1 : 0);
  return round_ieee(false, m, (E - static_cast<int32_t>(sh)) / 2 - 2, false, dbl, e);
}

bool compare(unsigned pred, uint64_t a, uint64_t b, bool dbl, Env& e) {
  Class ca = cls(a, dbl), cb = cls(b, dbl);
  bool den = false;
  prepare(a, ca, dbl, e, den);
  prepare(b, cb, dbl, e, den);
  bool signaling = pred == 1 || pred == 2 || pred == 5 || pred == 6;  // LT LE NLT NLE
  if (is_nan(ca) || is_nan(cb)) {
    if (signaling || ca == Class::SNaN || cb == Class::SNaN) e.flags |= MXCSR_IE;
    return pred == 3 || pred == 4 || pred == 5 || pred == 6;  // UNORD NEQ NLT NLE
  }
  if (den) e.flags |= MXCSR_DE;
  int o = order(a, ca, b, cb, dbl);
  switch (pred & 7) {
    case 0: return o == 0;
    case 1: return o < 0;
    case 2: return o <= 0;
    case 3: return false;
    case 4: return o != 0;
    case 5: return !(o < 0);
    case 6: return !(o <= 0);
    default: return true;
  }
}

uint64_t convert(uint64_t a, bool from_dbl, Env& e) {
  bool to_dbl = !from_dbl;
  Class c = cls(a, from_dbl);
  bool den = false;
  prepare(a, c, from_dbl, e, den);
  bool s = sign_of(a, from_dbl);
  if (is_nan(c)) {
    if (c == Class::SNaN) e.flags |= MXCSR_IE;
    Ieee ff = fmt(from_dbl), ft = fmt(to_dbl);
    uint64_t fr = a & ((uint64_t(1) << ff.fbits) - 1);
    fr = from_dbl ? fr >> (ff.fbits - ft.fbits) : fr << (ft.fbits - ff.fbits);
    return quiet(inf(s, to_dbl) | fr, to_dbl);
  }
  if (den) e.flags |= MXCSR_DE;
  if (c == Class::Inf) return inf(s, to_dbl);
  if (c == Class::Zero) return signed_zero(s, to_dbl);
  Unpacked x = unpack_ieee(a, from_dbl);
  return round_ieee(s, x.sig, x.exp - 63, false, to_dbl, e);
}

uint64_t from_int(int64_t v, bool dbl, Env& e) {
  if (v == 0) return 0;
  bool s = v < 0;
  uint64_t mag = s ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  return round_ieee(s, mag, 0, false, dbl, e);
}

int64_t to_int(uint64_t a, bool dbl, unsigned bits, bool truncate, Env& e) {
  const int64_t min = bits == 64 ? INT64_MIN : INT32_MIN;
  Class c = cls(a, dbl);
  bool den = false;
  prepare(a, c, dbl, e, den);  // no DE for conversions to integer
  if (is_nan(c) || c == Class::Inf) {
    e.flags |= MXCSR_IE;
    return min;
  }
  if (c == Class::Zero) return 0;
  Unpacked x = unpack_ieee(a, dbl);
  // Round at the binary point: value = sig * 2^(exp - 63).
  int32_t sh = 63 - x.exp;  // fraction bits
  uint64_t mag;
  bool inexact;
  if (sh <= 0) {
    if (x.exp >= 64) {
      e.flags |= MXCSR_IE;
      return min;
    }
    mag = x.sig << (-sh);
    inexact = false;
  } else {
    u128 m = u128(x.sig) << 64;
    unsigned drop = static_cast<unsigned>(sh) + 64;
    if (drop >= 128) {
      mag = 0;
      u128 half = u128(1) << 127;
      bool up = false;
      inexact = true;
      unsigned rc = truncate ? 3 : e.rc;
      if (rc == 0) up = drop == 128 && m > half;  // exactly 0.5 rounds to even 0
      else if (rc == 1) up = x.sign;
      else if (rc == 2) up = !x.sign;
      mag = up ? 1 : 0;
    } else {
      u128 mask = (u128(1) << drop) - 1, rem = m & mask, half = u128(1) << (drop - 1);
      mag = static_cast<uint64_t>(m >> drop);
      inexact = rem != 0;
      unsigned rc = truncate ? 3 : e.rc;
      bool up = rc == 0 ? (rem > half || (rem == half && (mag & 1))) : rc == 1 ? (x.sign && inexact)
                : rc == 2 ? (!x.sign && inexact) : false;
      if (up) ++mag;
    }
  }
  uint64_t limit = bits == 64 ? (1ull << 63) : (1ull << 31);
  if (mag > limit || (mag == limit && !x.sign)) {
    e.flags |= MXCSR_IE;
    return min;
  }
  if (inexact) e.flags |= MXCSR_PE;
  return x.sign ? static_cast<int64_t>(uint64_t(0) - mag) : static_cast<int64_t>(mag);
}


uint64_t round_int(uint64_t a, bool dbl, unsigned rc, bool suppress_pe, Env& e) {
  Class c = cls(a, dbl);
  bool den = false;
  prepare(a, c, dbl, e, den);  // DAZ applies; a denormal source raises no DE (SDM ROUNDPS)
  if (is_nan(c)) {
    if (c == Class::SNaN) e.flags |= MXCSR_IE;
    return quiet(a, dbl);
  }
  if (c == Class::Zero || c == Class::Inf) return a;
  Unpacked x = unpack_ieee(a, dbl);
  if (x.exp >= static_cast<int32_t>(fmt(dbl).fbits)) return a;  // no fraction bits: already an integer
  // value = sig * 2^(exp - 63): keep the bits above the binary point, round on the rest.
  uint64_t mag, rem, half;
  if (x.exp < 0) {  // |a| < 1: the whole significand is fraction
    mag = 0;
    rem = x.exp == -1 ? x.sig : 1;  // 2^-1 <= |a| < 1 compares against one half; smaller is below it
    half = x.exp == -1 ? 1ull << 63 : 2;
  } else {
    unsigned fb = 63 - static_cast<unsigned>(x.exp);
    mag = x.sig >> fb;
    rem = x.sig & ((1ull << fb) - 1);
    half = 1ull << (fb - 1);
  }
  bool inexact = rem != 0;
  bool up = rc == 0 ? (rem > half || (rem == half && (mag & 1))) : rc == 1 ? (x.sign && inexact)
            : rc == 2 ? (!x.sign && inexact) : false;
  if (up) ++mag;
  if (inexact && !suppress_pe) e.flags |= MXCSR_PE;
  if (mag == 0) return signed_zero(x.sign, dbl);  // keeps the source's sign (-0.3 -> -0.0)
  Env exact = e;  // an integer below 2^53 converts exactly: no flags
  return round_ieee(x.sign, mag, 0, false, dbl, exact);
}

namespace {
// The 12-bit approximations of RCPPS/RSQRTPS: pc64 returns sign * m * 2^e0
// rounded to nearest at 12 fraction bits (relative error <= 2^-13, inside
// the SDM's bound |error| <= 1.5 * 2^-12); a result below the normal range
// is flushed to zero with the operand's sign (SDM RCPPS "tiny results").
uint32_t approx12(bool s, u128 m, int32_t e0, bool sticky) {
  sf80::Env t;
  Rounded r = round_pack(s, m, e0, sticky, Format{-126, 127, 13, true}, t);
  if (!(r.sig >> 63)) return s ? 0x80000000u : 0;
  return (s ? 0x80000000u : 0) | (uint32_t(r.exp + 127) << 23) | uint32_t((r.sig >> 40) & 0x7FFFFF);
}
}  // namespace

uint32_t rcp(uint32_t a) {
  Class c = cls(a, false);
  bool s = sign_of(a, false);
  if (is_nan(c)) return static_cast<uint32_t>(quiet(a, false));
  if (c == Class::Zero || c == Class::Denormal) return static_cast<uint32_t>(inf(s, false));  // denormal counts as 0
  if (c == Class::Inf) return static_cast<uint32_t>(signed_zero(s, false));
  Unpacked x = unpack_ieee(a, false);
  // 1 / (sig * 2^(exp-63)) = (2^127 / sig) * 2^(-64 - exp)
  u128 n = u128(1) << 127;
  return approx12(s, n / x.sig, -64 - x.exp, n % x.sig != 0);
}

uint32_t rsqrt(uint32_t a) {
  Class c = cls(a, false);
  bool s = sign_of(a, false);
  if (is_nan(c)) return static_cast<uint32_t>(quiet(a, false));
  if (c == Class::Zero || c == Class::Denormal) return static_cast<uint32_t>(inf(s, false));  // denormal counts as 0
  if (s) return static_cast<uint32_t>(default_nan(false));  // negative (incl. -inf): the QNaN indefinite
  if (c == Class::Inf) return 0;
  Unpacked x = unpack_ieee(a, false);
  // a = S * 2^E with E even; 1/sqrt(a) = sqrt(2^126 / S) * 2^(-63 - E/2).
  int32_t E = x.exp - 63;
  u128 S = x.sig;
  if (E & 1) {
    S <<= 1;
    E -= 1;
  }
  u128 q = (u128(1) << 126) / S, rem;
  bool sticky = (u128(1) << 126) % S != 0;
  u128 r = isqrt128(q, rem);
  return approx12(false, r, -63 - E / 2, sticky || rem != 0);
}

}  // namespace pc64::sf80::sse
