// The portable x87 path (any host; forced on x86-64 by PC64_SOFTFLOAT): the
// x87 data instructions computed with softfloat80, with the x87 stack rules
// (SDM Vol. 1 8.5.1.1 stack overflow/underflow, 8.7 exception responses).
// Implemented: loads/stores in the real, integer and BCD formats, constants,
// FADD..FDIVR in every form, FCOM/FUCOM/FICOM/FCOMI/FUCOMI families, FTST,
// FXAM, FXCH, FCHS, FABS, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1,
// FCMOVcc, and the transcendental functions F2XM1, FYL2X, FYL2XP1, FPTAN,
// FPATAN, FSIN, FCOS, FSINCOS (softfloat80_transcendental.cpp: within one
// ulp of the exact value, where the hardware's own results may differ in
// the last bit).
#include "cpu/softfloat80.h"
#include "cpu/x87.h"

namespace pc64 {

namespace {

using sf80::Env;

Env env_of(const FpuState& f) { return Env::from_fcw(f.fcw); }

bool empty(const FpuState& f, unsigned i) { return f.st_empty(i); }
void set_st(FpuState& f, unsigned i, const Float80& v) {
  f.st(i) = v;
  f.ftw = static_cast<uint8_t>(f.ftw | (1u << f.phys(i)));
}
void pop(FpuState& f) {
  f.ftw = static_cast<uint8_t>(f.ftw & ~(1u << f.phys(0)));
  f.set_top(f.top() + 1);
}
void set_c1(FpuState& f, bool v) { f.fsw = static_cast<uint16_t>((f.fsw & ~FSW_C1) | (v ? FSW_C1 : 0)); }
void set_cc(FpuState& f, bool c3, bool c2, bool c0) {
  f.fsw = static_cast<uint16_t>((f.fsw & ~(FSW_C3 | FSW_C2 | FSW_C0)) | (c3 ? FSW_C3 : 0) | (c2 ? FSW_C2 : 0) |
                                (c0 ? FSW_C0 : 0));
}
void raise_es(FpuState& f) {
  if (f.fsw & ~f.fcw & kFswExceptions) f.fsw |= FSW_ES | FSW_B;
}

// Records exception flags; returns true if the result may be written (no
// unmasked pre-computation exception: IE, DE, ZE). C1 follows rounding.
bool accept(FpuState& f, const Env& e) {
  constexpr uint16_t kPre = FSW_IE | FSW_DE | FSW_ZE;
  uint16_t unmasked = e.flags & ~f.fcw & kFswExceptions;
  if (unmasked & kPre) {  // pre-computation: nothing computed, no post-computation flags
    f.fsw |= e.flags & kPre;
    raise_es(f);
    return false;
  }
  f.fsw |= e.flags;
  set_c1(f, (e.flags & FSW_PE) && e.rounded_up);
  raise_es(f);
  return true;
}

// Stack underflow (an empty register read) or overflow (push onto a full
// slot): IE + SF, C1 = overflow. Returns true when masked (the caller then
// writes the indefinite result).
bool stack_fault(FpuState& f, bool overflow) {
  f.fsw |= FSW_IE | FSW_SF;
  set_c1(f, overflow);
  raise_es(f);
  return f.fcw & FSW_IE;
}

// Pushes v (FLD family): a full ST(7) is a stack overflow.
void push(FpuState& f, const Float80& v, bool masked_result_ok = true) {
  (void)masked_result_ok;
  unsigned slot = (f.top() - 1) & 7;
  if ((f.ftw >> slot) & 1) {
    if (!stack_fault(f, true)) return;
    f.set_top(f.top() - 1);
    set_st(f, 0, sf80::indefinite());
    return;
  }
  f.set_top(f.top() - 1);
  set_st(f, 0, v);
}

// ---------------- arithmetic ----------------

enum ArithOp : uint8_t { kAdd, kMul, kCom, kComp, kSub, kSubr, kDiv, kDivr };

Float80 arith(unsigned op, const Float80& a, const Float80& b, Env& e) {
  switch (op) {
    case kAdd: return sf80::add(a, b, e);
    case kMul: return sf80::mul(a, b, e);
    case kSub: return sf80::sub(a, b, e);
    case kSubr: return sf80::sub(b, a, e);
    case kDiv: return sf80::div(a, b, e);
    default: return sf80::div(b, a, e);
  }
}

// Sets C3/C2/C0 from a compare; returns false when an unmasked exception
// stops the instruction (no pop). An invalid compare reports "unordered".
bool compare_into_cc(FpuState& f, const Float80& a, const Float80& b, bool quiet, uint16_t extra = 0) {
  Env e = env_of(f);
  int r = sf80::compare(a, b, quiet, e);
  uint16_t flags = e.flags | extra;
  if (flags & FSW_IE) flags &= ~FSW_DE;  // an invalid operand hides the denormal one
  f.fsw |= flags;
  uint16_t unmasked = flags & ~f.fcw & kFswExceptions;
  set_c1(f, false);
  // The codes are written even when the exception is unmasked (measured).
  set_cc(f, r == 1 || r == 3, r == 3, r == 0 || r == 3);
  raise_es(f);
  return !(unmasked & (FSW_IE | FSW_DE));
}

// Reads the memory operand of D8/DA/DC/DE as an extended value. An SNaN
// stays signalling here: the operation itself raises IE and applies the
// NaN rules (a QNaN in ST(0) wins over an SNaN operand).
Float80 load_operand(Core& c, const Insn& i, unsigned fmt, Env& e) {
  Env le = e;
  le.flags = 0;
  Float80 v;
  switch (fmt) {
    case 0: v = sf80::from_f32(c.mem_read<uint32_t>(i), le); break;
    case 1: v = sf80::from_f64(c.mem_read<uint64_t>(i), le); break;
    case 2: return sf80::from_int(static_cast<int32_t>(c.mem_read<uint32_t>(i)));
    default: return sf80::from_int(static_cast<int16_t>(c.mem_read<uint16_t>(i)));
  }
  if (le.flags & FSW_IE) v.mant &= ~(1ull << 62);  // back to the signalling form
  e.flags |= le.flags & ~FSW_IE;
  return v;
}

// D8/DC (real) and DA/DE (integer) memory forms: ST(0) = ST(0) op m.
template <unsigned Fmt> void h_arith_mem(Core& c, const Insn& i) {
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  Env e = env_of(f);
  Float80 m = load_operand(c, i, Fmt, e);
  x87_note_insn(c, i, true);
  unsigned op = i.aux;
  if (empty(f, 0)) {
    bool masked = stack_fault(f, false);
    if (op == kCom || op == kComp) {
      set_cc(f, true, true, true);
      if (op == kComp && masked) pop(f);
    } else if (masked) {
      set_st(f, 0, sf80::indefinite());
    }
    return;
  }
  if (op == kCom || op == kComp) {
    // A load-time SNaN/denormal counts for the compare too.
    if (compare_into_cc(f, f.st(0), m, false, e.flags) && op == kComp) pop(f);
    return;
  }
  // A NaN or unsupported register operand decides the result before the
  // memory operand's denormal is looked at.
  sf80::Class c0 = sf80::classify(f.st(0));
  if (sf80::is_nan(c0) || c0 == sf80::Class::Unsupported) e.flags &= ~FSW_DE;
  Float80 r = arith(op, f.st(0), m, e);
  if (e.flags & FSW_IE) e.flags &= ~FSW_DE;
  if (accept(f, e)) set_st(f, 0, r);
}

// Register forms. Dst0: D8 (ST(0) = ST(0) op ST(i)); otherwise DC/DE
// (ST(i) = ST(i) op ST(0), SUB/SUBR and DIV/DIVR swapped), Pop for DE.
template <bool Dst0, bool Pop> void h_arith_reg(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  unsigned op = i.aux, sti = i.r0;
  if (op == kCom || op == kComp) {  // FCOM/FCOMP ST(i) (and the DC/DE aliases)
    if (empty(f, 0) || empty(f, sti)) {
      set_cc(f, true, true, true);
      if (!stack_fault(f, false)) return;
    } else {
      if (!compare_into_cc(f, f.st(0), f.st(sti), false)) return;
    }
    if (op == kComp || Pop) pop(f);
    return;
  }
  if (!Dst0) op = (op >= kSub) ? (op ^ 1) : op;
  unsigned dst = Dst0 ? 0 : sti, src = Dst0 ? sti : 0;
  if (empty(f, dst) || empty(f, src)) {
    if (!stack_fault(f, false)) return;
    set_st(f, dst, sf80::indefinite());
    if (Pop) pop(f);
    return;
  }
  Env e = env_of(f);
  Float80 r = arith(op, f.st(dst), f.st(src), e);
  if (!accept(f, e)) return;
  set_st(f, dst, r);
  if (Pop) pop(f);
}

// FCOMPP / FUCOMPP.
template <bool Quiet> void h_fcompp(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0) || empty(f, 1)) {
    set_cc(f, true, true, true);
    if (!stack_fault(f, false)) return;
  } else {
    if (!compare_into_cc(f, f.st(0), f.st(1), Quiet)) return;
  }
  pop(f);
  pop(f);
}
// FUCOM/FUCOMP ST(i).
template <unsigned Pops> void h_fucom(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0) || empty(f, i.r0)) {
    set_cc(f, true, true, true);
    if (!stack_fault(f, false)) return;
  } else {
    if (!compare_into_cc(f, f.st(0), f.st(i.r0), true)) return;
  }
  for (unsigned k = 0; k < Pops; ++k) pop(f);
}
// FCOMI/FUCOMI(P): ZF, PF, CF; OF, SF, AF cleared.
template <bool Quiet, bool Pop> void h_fcomi(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  int r = 3;
  bool go = true;
  if (empty(f, 0) || empty(f, i.r0)) {
    go = stack_fault(f, false);
  } else {
    Env e = env_of(f);
    r = sf80::compare(f.st(0), f.st(i.r0), Quiet, e);
    f.fsw |= e.flags;
    raise_es(f);
    uint16_t unmasked = e.flags & ~f.fcw & kFswExceptions;
    set_c1(f, false);
    go = !(unmasked & (FSW_IE | FSW_DE));
  }
  uint64_t fl = (r == 1 || r == 3 ? ZF : 0) | (r == 3 ? PF : 0) | (r == 0 || r == 3 ? CF : 0);
  c.set_flags(kArithFlags, fl);
  if (Pop && go) pop(f);
}

// ---------------- loads ----------------

template <unsigned Fmt> void h_fld_mem(Core& c, const Insn& i) {  // 0 m32, 1 m64, 2 m80, 3 m16int, 4 m32int, 5 m64int
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  Env e = env_of(f);
  Float80 v;
  if (Fmt == 0) v = sf80::from_f32(c.mem_read<uint32_t>(i), e);
  else if (Fmt == 1) v = sf80::from_f64(c.mem_read<uint64_t>(i), e);
  else if (Fmt == 2) {
    uint64_t off = c.ea(i);
    v.mant = c.read<uint64_t>(i.seg, off);
    v.se = c.read<uint16_t>(i.seg, (off + 8) & Core::kAddrMask[i.asize]);
  } else if (Fmt == 3) v = sf80::from_int(static_cast<int16_t>(c.mem_read<uint16_t>(i)));
  else if (Fmt == 4) v = sf80::from_int(static_cast<int32_t>(c.mem_read<uint32_t>(i)));
  else v = sf80::from_int(static_cast<int64_t>(c.mem_read<uint64_t>(i)));
  x87_note_insn(c, i, true);
  unsigned slot = (f.top() - 1) & 7;
  if ((f.ftw >> slot) & 1) {
    push(f, v);
    return;
  }
  f.fsw |= e.flags;
  if (e.flags & ~f.fcw & FSW_IE) {  // an unmasked DE still loads (measured)
    raise_es(f);
    return;
  }
  set_c1(f, false);
  raise_es(f);
  push(f, v);
}

// FSTP1 (D9 D8+i), the reserved alias: stores and pops without checking
// for an empty ST(0) (no stack fault; measured on Intel hardware).
void h_fstp1(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  bool was_empty = empty(f, 0);
  f.st(i.r0) = f.st(0);
  unsigned p = f.phys(i.r0);
  f.ftw = static_cast<uint8_t>(was_empty ? (f.ftw & ~(1u << p)) : (f.ftw | (1u << p)));
  if (!was_empty) set_c1(f, false);
  pop(f);
}

void h_fld_sti(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, i.r0)) {
    if (!stack_fault(f, false)) return;
    push(f, sf80::indefinite());
    set_c1(f, false);
    return;
  }
  Float80 v = f.st(i.r0);
  unsigned slot = (f.top() - 1) & 7;
  if (!((f.ftw >> slot) & 1)) set_c1(f, false);
  push(f, v);
}

// FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ: the constants carry
// more bits than fit; RC decides the last bit (SDM Vol. 1 8.3.8).
template <unsigned K> void h_fldconst(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  struct Const {
    uint16_t exp;
    uint64_t mant;
    uint64_t next;  // the following bits, for rounding
  };
  static constexpr Const kConst[] = {
      {0x3FFF, 0x8000000000000000ull, 0},                      // 1
      {0x4000, 0xD49A784BCD1B8AFEull, 0x492BF6FF4DAFDB4Cull},  // log2(10)
      {0x3FFF, 0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E88ull},  // log2(e)
      {0x4000, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull},  // pi
      {0x3FFD, 0x9A209A84FBCFF798ull, 0x8F8959AC0B7C9178ull},  // log10(2)
      {0x3FFE, 0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull},  // ln(2)
      {0, 0, 0},                                               // +0
  };
  const Const& k = kConst[K];
  uint64_t m = k.mant;
  unsigned rc = (f.fcw >> 10) & 3;
  bool up = rc == 2 ? k.next != 0 : rc == 0 ? (k.next >> 63) != 0 : false;
  if (up) ++m;  // none of the constants carries out of the significand
  Float80 v = sf80::make(false, k.exp, m);
  unsigned slot = (f.top() - 1) & 7;
  if (!((f.ftw >> slot) & 1)) set_c1(f, false);
  push(f, v);
}

// ---------------- stores ----------------

template <unsigned Fmt, bool Pop> void h_fst_mem(Core& c, const Insn& i) {  // 0 m32, 1 m64, 2 m80
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  constexpr unsigned bytes = Fmt == 0 ? 4 : Fmt == 1 ? 8 : 10;
  uint64_t lin = c.linear(i.seg, c.ea(i), bytes, true);
  c.probe_write(lin, bytes, c.user());
  x87_note_insn(c, i, true);
  Float80 v;
  Env e = env_of(f);
  if (empty(f, 0)) {
    if (!stack_fault(f, false)) return;
    v = sf80::indefinite();
  } else {
    v = f.st(0);
  }
  uint64_t out = 0;
  if (Fmt == 0) out = sf80::to_f32(v, e);
  else if (Fmt == 1) out = sf80::to_f64(v, e);
  if (Fmt != 2) {
    uint16_t unmasked = e.flags & ~f.fcw & kFswExceptions;
    if (unmasked & (FSW_IE | FSW_DE | FSW_OE | FSW_UE)) {
      f.fsw |= e.flags & ~FSW_PE;
      raise_es(f);
      return;  // the destination and the stack are unchanged
    }
    f.fsw |= e.flags;
    if (!empty(f, 0)) set_c1(f, (e.flags & FSW_PE) && e.rounded_up);
    raise_es(f);
  }
  if (Fmt == 0) c.mem_write<uint32_t>(i, static_cast<uint32_t>(out));
  else if (Fmt == 1) c.mem_write<uint64_t>(i, out);
  else {
    uint64_t off = c.ea(i);
    c.write<uint64_t>(i.seg, off, v.mant);
    c.write<uint16_t>(i.seg, (off + 8) & Core::kAddrMask[i.asize], v.se);
    if (!empty(f, 0)) set_c1(f, false);
  }
  if (Pop) pop(f);
}

template <bool Pop> void h_fst_sti(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0)) {
    if (!stack_fault(f, false)) return;
    set_st(f, i.r0, sf80::indefinite());
  } else {
    set_st(f, i.r0, f.st(0));
    set_c1(f, false);
  }
  if (Pop) pop(f);
}

template <unsigned Bits, bool Pop, bool Trunc> void h_fist(Core& c, const Insn& i) {
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  uint64_t lin = c.linear(i.seg, c.ea(i), Bits / 8, true);
  c.probe_write(lin, Bits / 8, c.user());
  x87_note_insn(c, i, true);
  Env e = env_of(f);
  int64_t v;
  if (empty(f, 0)) {
    if (!stack_fault(f, false)) return;
    v = Bits == 64 ? INT64_MIN : -(int64_t(1) << (Bits - 1));
  } else {
    v = sf80::to_int(f.st(0), Bits, Trunc, e);
    uint16_t unmasked = e.flags & ~f.fcw & kFswExceptions;
    f.fsw |= e.flags;
    if (unmasked & (FSW_IE | FSW_DE)) {
      raise_es(f);
      return;
    }
    set_c1(f, (e.flags & FSW_PE) && e.rounded_up);
    raise_es(f);
  }
  if (Bits == 16) c.mem_write<uint16_t>(i, static_cast<uint16_t>(v));
  else if (Bits == 32) c.mem_write<uint32_t>(i, static_cast<uint32_t>(v));
  else c.mem_write<uint64_t>(i, static_cast<uint64_t>(v));
  if (Pop) pop(f);
}

// ---------------- one-register operations ----------------

void h_fxch(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  bool e0 = empty(f, 0), ei = empty(f, i.r0);
  if (e0 || ei) {
    if (!stack_fault(f, false)) return;
    if (e0) set_st(f, 0, sf80::indefinite());
    if (ei) set_st(f, i.r0, sf80::indefinite());
  } else {
    set_c1(f, false);
  }
  Float80 t = f.st(0);
  f.st(0) = f.st(i.r0);
  f.st(i.r0) = t;
}

void set_c2(FpuState& f, bool v) { f.fsw = static_cast<uint16_t>((f.fsw & ~FSW_C2) | (v ? FSW_C2 : 0)); }
// FSIN, FCOS, FSINCOS, FPTAN take |ST(0)| < 2^63; a larger operand sets C2
// and leaves the stack alone (SDM FSIN "Operation").
bool trig_out_of_range(FpuState& f) {
  const Float80& v = f.st(0);
  bool out = sf80::classify(v) == sf80::Class::Normal && v.exp() >= 16383 + 63;
  set_c2(f, out);
  return out;
}

// 0 fchs, 1 fabs, 2 fsqrt, 3 frndint, 4 f2xm1, 5 fsin, 6 fcos
template <unsigned K> void h_unary(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0)) {
    if (stack_fault(f, false)) set_st(f, 0, sf80::indefinite());
    return;
  }
  if (K <= 1) {
    set_st(f, 0, K == 0 ? sf80::neg(f.st(0)) : sf80::abs(f.st(0)));
    set_c1(f, false);
    return;
  }
  if (K >= 5 && trig_out_of_range(f)) return;
  Env e = env_of(f);
  Float80 r = K == 2   ? sf80::sqrt(f.st(0), e)
              : K == 3 ? sf80::round_to_int(f.st(0), e)
              : K == 4 ? sf80::exp2m1(f.st(0), e)
                       : sf80::trig(f.st(0), K == 5 ? sf80::Trig::kSin : sf80::Trig::kCos, e);
  if (accept(f, e)) set_st(f, 0, r);
}

void h_ftst(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0)) {
    set_cc(f, true, true, true);
    stack_fault(f, false);
    return;
  }
  compare_into_cc(f, f.st(0), sf80::make(false, 0, 0), false);
}

void h_fxam(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  const Float80& v = f.st(0);
  set_c1(f, v.sign());
  if (empty(f, 0)) {
    set_cc(f, true, false, true);
    return;
  }
  switch (sf80::classify(v)) {
    case sf80::Class::Unsupported: set_cc(f, false, false, false); break;
    case sf80::Class::QNaN:
    case sf80::Class::SNaN: set_cc(f, false, false, true); break;
    case sf80::Class::Normal: set_cc(f, false, true, false); break;
    case sf80::Class::Inf: set_cc(f, false, true, true); break;
    case sf80::Class::Zero: set_cc(f, true, false, false); break;
    case sf80::Class::Denormal: set_cc(f, true, true, false); break;
  }
}

// FCMOVcc: condition from EFLAGS (B, E, BE, U and their negations).
template <unsigned Cc, bool Neg> void h_fcmov(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  bool cond = Cc == 0 ? c.cf() : Cc == 1 ? c.zf() : Cc == 2 ? (c.cf() || c.zf()) : c.pf();
  if (Neg) cond = !cond;
  if (empty(f, 0) || empty(f, i.r0)) {
    // The underflow response replaces ST(0) whatever the condition.
    if (stack_fault(f, false)) set_st(f, 0, sf80::indefinite());
    return;
  }
  set_c1(f, false);
  if (cond) set_st(f, 0, f.st(i.r0));
}

// FSCALE, FPREM, FPREM1 (ST(0) op ST(1)) and FXTRACT.
template <unsigned K> void h_st01(Core& c, const Insn& i) {  // 0 fscale, 1 fprem, 2 fprem1
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0) || empty(f, 1)) {
    if (stack_fault(f, false)) set_st(f, 0, sf80::indefinite());
    return;
  }
  Env e = env_of(f);
  if (K == 0) {
    Float80 r = sf80::scale(f.st(0), f.st(1), e);
    if (accept(f, e)) set_st(f, 0, r);
    return;
  }
  uint64_t q = 0;
  bool partial = false;
  Float80 r = sf80::prem(f.st(0), f.st(1), K == 2, e, q, partial);
  if (!accept(f, e)) return;
  set_st(f, 0, r);
  if (!(e.flags & FSW_IE)) {
    // C2 = incomplete; C0, C3, C1 = quotient bits 2, 1, 0.
    set_cc(f, (q >> 1) & 1, partial, (q >> 2) & 1);
    set_c1(f, q & 1);
  }
}

void h_fxtract(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0)) {
    if (!stack_fault(f, false)) return;
    set_st(f, 0, sf80::indefinite());
    push(f, sf80::indefinite());
    return;
  }
  if (!empty(f, 7)) {
    if (!stack_fault(f, true)) return;
    set_st(f, 0, sf80::indefinite());
    push(f, sf80::indefinite());
    return;
  }
  Float80 v = f.st(0);
  Env e = env_of(f);
  Float80 ex, sig;
  switch (sf80::classify(v)) {
    case sf80::Class::Unsupported:
      e.flags |= FSW_IE;
      ex = sig = sf80::indefinite();
      break;
    case sf80::Class::SNaN:
      e.flags |= FSW_IE;
      v.mant |= 1ull << 62;
      ex = sig = v;
      break;
    case sf80::Class::QNaN: ex = sig = v; break;
    case sf80::Class::Zero:
      e.flags |= FSW_ZE;
      ex = sf80::make(true, 0x7FFF, 1ull << 63);
      sig = v;
      break;
    case sf80::Class::Inf:
      ex = sf80::abs(v);
      sig = v;
      break;
    default: {
      int32_t exp;
      uint64_t m = v.mant;
      if (v.exp() == 0) {
        e.flags |= FSW_DE;
        int sh = __builtin_clzll(m);
        m <<= sh;
        exp = -16382 - sh;
      } else {
        exp = static_cast<int32_t>(v.exp()) - 16383;
      }
      ex = sf80::from_int(exp);
      sig = sf80::make(v.sign(), 16383, m);
    }
  }
  if (!accept(f, e)) return;
  set_st(f, 0, ex);
  push(f, sig);
}

// ---------------- transcendental functions (F2XM1, FSIN, FCOS: h_unary) ----------------

// FPTAN (ST(0) = tan, then push 1.0) and FSINCOS (ST(0) = sin, push cos).
template <bool Tan> void h_fptan_fsincos(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0) || !empty(f, 7)) {
    if (!stack_fault(f, !empty(f, 0))) return;
    set_st(f, 0, sf80::indefinite());
    push(f, sf80::indefinite());
    return;
  }
  if (trig_out_of_range(f)) return;
  Env e = env_of(f);
  Float80 lo = sf80::trig(f.st(0), Tan ? sf80::Trig::kTan : sf80::Trig::kSin, e);
  // FPTAN pushes 1.0, or the NaN result again (an invalid or NaN operand).
  Float80 hi = !Tan ? sf80::trig(f.st(0), sf80::Trig::kCos, e)
               : sf80::is_nan(sf80::classify(lo)) ? lo : sf80::make(false, 16383, 1ull << 63);
  if (!accept(f, e)) return;
  set_st(f, 0, lo);
  push(f, hi);
}

// FYL2X, FYL2XP1, FPATAN: ST(1) = f(ST(1), ST(0)), then pop.
template <unsigned K> void h_st1_pop(Core& c, const Insn& i) {  // 0 fyl2x, 1 fyl2xp1, 2 fpatan
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  FpuState& f = c.s.fpu;
  if (empty(f, 0) || empty(f, 1)) {
    if (!stack_fault(f, false)) return;
    set_st(f, 1, sf80::indefinite());
    pop(f);
    return;
  }
  Env e = env_of(f);
  Float80 y = f.st(1), x = f.st(0);
  Float80 r = K == 0 ? sf80::ylog2x(y, x, e) : K == 1 ? sf80::ylog2xp1(y, x, e) : sf80::atan2(y, x, e);
  if (!accept(f, e)) return;
  set_st(f, 1, r);
  pop(f);
}

// FBLD m80: 18 packed BCD digits and a sign byte (SDM Vol. 1 4.7).
void h_fbld(Core& c, const Insn& i) {
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  uint64_t off = c.ea(i);
  uint64_t lo = c.read<uint64_t>(i.seg, off);
  uint16_t hi = c.read<uint16_t>(i.seg, (off + 8) & Core::kAddrMask[i.asize]);
  x87_note_insn(c, i, true);
  uint64_t v = 0;
  for (int d = 17; d >= 0; --d) {
    unsigned nib = d < 16 ? (lo >> (4 * d)) & 0xF : (hi >> (4 * (d - 16))) & 0xF;
    v = v * 10 + nib;
  }
  Float80 r = sf80::from_int(static_cast<int64_t>(v));
  if (hi & 0x8000) r = sf80::neg(r);  // also -0
  if (!empty(f, 7)) {
    push(f, r);
    return;
  }
  set_c1(f, false);
  push(f, r);
}

// FBSTP m80: rounded by RC; out of range or NaN stores the BCD indefinite.
void h_fbstp(Core& c, const Insn& i) {
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  uint64_t off = c.ea(i);
  c.probe_write(c.linear(i.seg, off, 10, true), 10, c.user());
  x87_note_insn(c, i, true);
  uint64_t lo = 0;
  uint16_t hi = 0;
  bool indefinite = false;
  if (empty(f, 0)) {
    if (!stack_fault(f, false)) return;
    indefinite = true;
  } else {
    Env e = env_of(f);
    Float80 t = sf80::round_to_int(f.st(0), e);
    e.flags &= ~FSW_DE;  // stores do not report denormal sources
    bool neg = f.st(0).sign();
    sf80::Class ct = sf80::classify(t);
    uint64_t mag = 0;
    if (ct == sf80::Class::Zero) {
      mag = 0;
    } else if (ct != sf80::Class::Normal || t.exp() - 16383 > 62) {
      e.flags |= FSW_IE;
    } else {
      mag = t.mant >> (63 - (t.exp() - 16383));
      if (mag > 999999999999999999ull) e.flags |= FSW_IE;
    }
    if (e.flags & FSW_IE) e.flags &= ~FSW_PE;
    uint16_t unmasked = e.flags & ~f.fcw & kFswExceptions;
    f.fsw |= e.flags;
    if (unmasked & (FSW_IE | FSW_DE)) {
      raise_es(f);
      return;
    }
    set_c1(f, (e.flags & FSW_PE) && e.rounded_up);
    raise_es(f);
    if (e.flags & FSW_IE) {
      indefinite = true;
    } else {
      for (int d = 0; d < 18; ++d) {
        uint64_t digit = mag % 10;
        mag /= 10;
        if (d < 16) lo |= digit << (4 * d);
        else hi = static_cast<uint16_t>(hi | (digit << (4 * (d - 16))));
      }
      if (neg) hi |= 0x8000;
    }
  }
  if (indefinite) {
    lo = 0xC000000000000000ull;
    hi = 0xFFFF;
  }
  c.write<uint64_t>(i.seg, off, lo);
  c.write<uint16_t>(i.seg, (off + 8) & Core::kAddrMask[i.asize], hi);
  pop(f);
}

}  // namespace

bool x87_soft_build(Insn& i, const Decoded& d, unsigned opcode, unsigned modrm) {
  unsigned op = opcode & 7, reg = (modrm >> 3) & 7, rm = modrm & 7;
  bool mem = (modrm >> 6) != 3;
  i.aux = static_cast<uint8_t>(reg);
  i.r0 = static_cast<uint8_t>(rm);
  (void)d;
  if (mem) {
    switch (op) {
      case 0: i.handler = &h_arith_mem<0>; return true;
      case 2: i.handler = &h_arith_mem<2>; return true;
      case 4: i.handler = &h_arith_mem<1>; return true;
      case 6: i.handler = &h_arith_mem<3>; return true;
      case 1:
        if (reg == 0) i.handler = &h_fld_mem<0>;
        else if (reg == 2) i.handler = &h_fst_mem<0, false>;
        else if (reg == 3) i.handler = &h_fst_mem<0, true>;
        else return false;
        return true;
      case 3:
        switch (reg) {
          case 0: i.handler = &h_fld_mem<4>; return true;
          case 1: i.handler = &h_fist<32, true, true>; return true;
          case 2: i.handler = &h_fist<32, false, false>; return true;
          case 3: i.handler = &h_fist<32, true, false>; return true;
          case 5: i.handler = &h_fld_mem<2>; return true;
          case 7: i.handler = &h_fst_mem<2, true>; return true;
          default: return false;
        }
      case 5:
        switch (reg) {
          case 0: i.handler = &h_fld_mem<1>; return true;
          case 1: i.handler = &h_fist<64, true, true>; return true;
          case 2: i.handler = &h_fst_mem<1, false>; return true;
          case 3: i.handler = &h_fst_mem<1, true>; return true;
          default: return false;
        }
      default:
        switch (reg) {
          case 0: i.handler = &h_fld_mem<3>; return true;
          case 1: i.handler = &h_fist<16, true, true>; return true;
          case 2: i.handler = &h_fist<16, false, false>; return true;
          case 3: i.handler = &h_fist<16, true, false>; return true;
          case 4: i.handler = &h_fbld; return true;
          case 5: i.handler = &h_fld_mem<5>; return true;
          case 6: i.handler = &h_fbstp; return true;
          default: i.handler = &h_fist<64, true, false>; return true;
        }
    }
  }
  switch (op) {
    case 0: i.handler = &h_arith_reg<true, false>; return true;
    case 4: i.handler = &h_arith_reg<false, false>; return true;
    case 6:
      if (modrm == 0xD9) i.handler = &h_fcompp<false>;
      else i.handler = &h_arith_reg<false, true>;
      return true;
    case 1:
      if (reg == 0) i.handler = &h_fld_sti;
      else if (reg == 1) i.handler = &h_fxch;
      else if (reg == 3) i.handler = &h_fstp1;  // FSTPNCE / FSTP1 alias
      else if (modrm == 0xE0) i.handler = &h_unary<0>;
      else if (modrm == 0xE1) i.handler = &h_unary<1>;
      else if (modrm == 0xE4) i.handler = &h_ftst;
      else if (modrm == 0xE5) i.handler = &h_fxam;
      else if (modrm == 0xE8) i.handler = &h_fldconst<0>;
      else if (modrm == 0xE9) i.handler = &h_fldconst<1>;
      else if (modrm == 0xEA) i.handler = &h_fldconst<2>;
      else if (modrm == 0xEB) i.handler = &h_fldconst<3>;
      else if (modrm == 0xEC) i.handler = &h_fldconst<4>;
      else if (modrm == 0xED) i.handler = &h_fldconst<5>;
      else if (modrm == 0xEE) i.handler = &h_fldconst<6>;
      else if (modrm == 0xFA) i.handler = &h_unary<2>;
      else if (modrm == 0xFC) i.handler = &h_unary<3>;
      else if (modrm == 0xFD) i.handler = &h_st01<0>;
      else if (modrm == 0xF8) i.handler = &h_st01<1>;
      else if (modrm == 0xF5) i.handler = &h_st01<2>;
      else if (modrm == 0xF4) i.handler = &h_fxtract;
      else if (modrm == 0xF0) i.handler = &h_unary<4>;
      else if (modrm == 0xFE) i.handler = &h_unary<5>;
      else if (modrm == 0xFF) i.handler = &h_unary<6>;
      else if (modrm == 0xF2) i.handler = &h_fptan_fsincos<true>;
      else if (modrm == 0xFB) i.handler = &h_fptan_fsincos<false>;
      else if (modrm == 0xF1) i.handler = &h_st1_pop<0>;
      else if (modrm == 0xF9) i.handler = &h_st1_pop<1>;
      else if (modrm == 0xF3) i.handler = &h_st1_pop<2>;
      else return false;
      return true;
    case 2:
      if (reg <= 3) {
        static constexpr Handler k[] = {&h_fcmov<0, false>, &h_fcmov<1, false>, &h_fcmov<2, false>, &h_fcmov<3, false>};
        i.handler = k[reg];
      } else if (modrm == 0xE9) {
        i.handler = &h_fcompp<true>;
      } else {
        return false;
      }
      return true;
    case 3:
      if (reg <= 3) {
        static constexpr Handler k[] = {&h_fcmov<0, true>, &h_fcmov<1, true>, &h_fcmov<2, true>, &h_fcmov<3, true>};
        i.handler = k[reg];
      } else if (reg == 5) {
        i.handler = &h_fcomi<true, false>;
      } else if (reg == 6) {
        i.handler = &h_fcomi<false, false>;
      } else {
        return false;
      }
      return true;
    case 5:
      if (reg == 1) i.handler = &h_fxch;  // alias
      else if (reg == 2) i.handler = &h_fst_sti<false>;
      else if (reg == 3) i.handler = &h_fst_sti<true>;
      else if (reg == 4) i.handler = &h_fucom<0>;
      else if (reg == 5) i.handler = &h_fucom<1>;
      else return false;
      return true;
    default:  // DF
      if (reg == 1) i.handler = &h_fxch;                 // alias
      else if (reg == 2 || reg == 3) i.handler = &h_fst_sti<true>;  // FSTP aliases
      else if (reg == 5) i.handler = &h_fcomi<true, true>;
      else if (reg == 6) i.handler = &h_fcomi<false, true>;
      else return false;
      return true;
  }
}

}  // namespace pc64
