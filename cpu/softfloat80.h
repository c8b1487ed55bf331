// Portable extended-precision arithmetic for the x87 path on hosts without
// an x87 (and on x86-64 with PC64_SOFTFLOAT): IEEE 754 operations on the
// 80-bit double-extended format with x87 precision control (24/53/64-bit
// significands, extended exponent range), the four rounding modes, x87
// special-operand rules (unsupported encodings, SNaN/QNaN propagation by
// larger significand, indefinite) and the six exception flags.
// SDM Vol. 1 4.2, 4.8, 8.1.5, 8.5, table 4-7 / 8-10.
#pragma once
#include <cstdint>

#include "cpu/fpu_state.h"

namespace pc64::sf80 {

// Rounding/precision context in, flags out (FSW exception bit layout).
struct Env {
  unsigned rc = 0;         // 0 nearest, 1 down, 2 up, 3 toward zero (FCW.RC)
  unsigned prec = 64;      // significand bits for results (FCW.PC: 24, 53, 64)
  uint16_t masks = 0x3F;   // FCW exception masks (unmasked OE/UE change the result)
  uint16_t flags = 0;      // raised exceptions: FSW_IE | FSW_DE | ...
  bool rounded_up = false; // -> C1
  bool tiny = false;       // the last rounding saw a tiny result (for SSE FTZ)
  static Env from_fcw(uint16_t fcw) {
    Env e;
    e.rc = (fcw >> 10) & 3;
    unsigned pc = (fcw >> 8) & 3;
    e.prec = pc == 0 ? 24 : pc == 2 ? 53 : 64;  // PC=01 is reserved; hardware treats it as 64-bit
    e.masks = fcw & 0x3F;
    return e;
  }
};

enum class Class { Zero, Normal, Denormal, Inf, QNaN, SNaN, Unsupported };
Class classify(const Float80& a);
inline bool is_nan(Class c) { return c == Class::QNaN || c == Class::SNaN; }

Float80 make(bool sign, uint16_t exp, uint64_t mant);
Float80 indefinite();  // negative QNaN 0xFFFF C000000000000000
Float80 neg(Float80 a);
Float80 abs(Float80 a);

Float80 add(Float80 a, Float80 b, Env& e);
Float80 sub(Float80 a, Float80 b, Env& e);
Float80 mul(Float80 a, Float80 b, Env& e);
Float80 div(Float80 a, Float80 b, Env& e);
Float80 sqrt(Float80 a, Env& e);
Float80 round_to_int(Float80 a, Env& e);  // FRNDINT

// Loads (exact except SNaN -> QNaN with IE; denormal -> DE).
Float80 from_f32(uint32_t v, Env& e);
Float80 from_f64(uint64_t v, Env& e);
Float80 from_int(int64_t v);
// Stores, rounded by e.rc to the target format (e.prec is not used).
uint32_t to_f32(Float80 a, Env& e);
uint64_t to_f64(Float80 a, Env& e);
// Integer stores of `bits` (16/32/64); out of range or NaN gives the integer
// indefinite (most negative value) with IE. `truncate` is FISTTP.
int64_t to_int(Float80 a, unsigned bits, bool truncate, Env& e);
// Rounds sign * m * 2^e0 (`sticky`: nonzero bits were lost below m) to
// e.prec bits with the x87 rules (flags, C1, denormals, overflow).
Float80 round_ext(bool sign, unsigned __int128 m, int32_t e0, bool sticky, Env& e);
// Rounds an extended value to e.prec bits (FLD constants honour RC).
Float80 round_prec(Float80 a, Env& e);

// FSCALE: a * 2^trunc(b).
Float80 scale(Float80 a, Float80 b, Env& e);
// FPREM (round = false, quotient truncated) / FPREM1 (IEEE remainder).
// Returns the (partial) remainder; `q` gets the low quotient bits and
// `partial` is set when the reduction is incomplete (C2).
Float80 prem(Float80 a, Float80 b, bool ieee, Env& e, uint64_t& q, bool& partial);

// Transcendental functions (softfloat80_transcendental.cpp), for finite
// operands in the instructions' domains; the x87 handlers deal with the
// special operands. Results are rounded once to 64 bits (precision control
// does not apply, SDM Vol. 1 8.1.5.2) from an approximation good to about
// 2^-120 relative, so they are within one ulp of the exact value.
Float80 exp2m1(Float80 a, Env& e);                 // F2XM1: 2^a - 1, |a| <= 1
Float80 ylog2x(Float80 y, Float80 x, Env& e);      // FYL2X: y * log2(x), x > 0
Float80 ylog2xp1(Float80 y, Float80 x, Env& e);    // FYL2XP1: y * log2(x + 1)
Float80 atan2(Float80 y, Float80 x, Env& e);       // FPATAN: arctan(y / x) in (-pi, pi]
// FSIN/FCOS/FPTAN on |a| < 2^63, the argument reduced with the x87's own
// 66-bit pi (SDM Vol. 1 8.3.10): sin, cos and tan of the reduced argument.
enum class Trig { kSin, kCos, kTan };
Float80 trig(Float80 a, Trig f, Env& e);

// Comparison: 0 less, 1 equal, 2 greater, 3 unordered. `quiet`: QNaN
// operands do not raise IE (FUCOM); SNaN and unsupported always do.
int compare(Float80 a, Float80 b, bool quiet, Env& e);

// ---------------- IEEE binary32/binary64 with SSE (MXCSR) semantics ----------------
// The portable SSE path: first-operand NaN propagation, the default NaN,
// DAZ, FTZ and tininess detected after rounding (SDM Vol. 1 4.8.3.5, 10.2.3,
// 11.5.2). Values are raw bit patterns; `dbl` selects binary64.
namespace sse {
struct Env {
  unsigned rc = 0;
  bool daz = false, ftz = false;
  uint32_t flags = 0;  // MXCSR flag layout (IE 1, DE 2, ZE 4, OE 8, UE 16, PE 32)
  static Env from_mxcsr(uint32_t mx) {
    Env e;
    e.rc = (mx >> 13) & 3;
    e.daz = mx & MXCSR_DAZ;
    e.ftz = mx & MXCSR_FTZ;
    return e;
  }
};
enum Op { kAdd, kSub, kMul, kDiv, kMin, kMax };
uint64_t arith(Op op, uint64_t a, uint64_t b, bool dbl, Env& e);
uint64_t sqrt(uint64_t a, bool dbl, Env& e);
// CMPxx predicate 0-7: all ones or zero.
bool compare(unsigned pred, uint64_t a, uint64_t b, bool dbl, Env& e);
uint64_t convert(uint64_t a, bool from_dbl, Env& e);  // f32 <-> f64
uint64_t from_int(int64_t v, bool dbl, Env& e);
int64_t to_int(uint64_t a, bool dbl, unsigned bits, bool truncate, Env& e);
// ROUNDxx: to an integral value in rounding mode `rc` (0-3); PE unless
// `suppress_pe` (imm8 bit 3). IE only for an SNaN; DAZ applies, no DE.
uint64_t round_int(uint64_t a, bool dbl, unsigned rc, bool suppress_pe, Env& e);
// RCPPS/RSQRTPS lanes: approximations within the SDM's 1.5 * 2^-12 bound;
// they ignore MXCSR (no flags, rounding, FTZ or DAZ) and treat denormal
// sources as zeros of the same sign.
uint32_t rcp(uint32_t a);
uint32_t rsqrt(uint32_t a);
}  // namespace sse

}  // namespace pc64::sf80
