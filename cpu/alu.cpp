// Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP TEST, INC DEC
// NEG NOT, and the flag instructions (CLC STC CMC CLD STD LAHF SAHF SALC).
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

enum AluOp : unsigned { kAdd, kOr, kAdc, kSbb, kAnd, kSub, kXor, kCmp, kTest };

template <unsigned OP, class T> inline T alu(Core& c, T d, T s) {
  constexpr unsigned sz = size_log2<T>();
  T r;
  switch (OP) {
    case kAdd:
      r = static_cast<T>(d + s);
      c.set_lazy(FlagOp::Add, sz, r, d, s);
      return r;
    case kAdc: {
      uint8_t cin = c.cf();
      r = static_cast<T>(d + s + cin);
      c.set_lazy(FlagOp::Adc, sz, r, d, s, cin);
      return r;
    }
    case kSub:
    case kCmp:
      r = static_cast<T>(d - s);
      c.set_lazy(FlagOp::Sub, sz, r, d, s);
      return r;
    case kSbb: {
      uint8_t cin = c.cf();
      r = static_cast<T>(d - s - cin);
      c.set_lazy(FlagOp::Sbb, sz, r, d, s, cin);
      return r;
    }
    case kAnd:
    case kTest: r = d & s; break;
    case kOr: r = d | s; break;
    default: r = d ^ s; break;
  }
  c.set_lazy(FlagOp::Logic, sz, r, 0, 0);
  return r;
}

template <unsigned OP, class D, class S> struct Alu {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (D::kMem || S::kMem) {
      // A memory operand the TLB has: in place, inline. Anything else
      // (segment checks, misses, faults) out of line, by a tail call.
      constexpr bool writes = D::kMem && OP != kCmp && OP != kTest;
      if (__builtin_expect(c.mem_hit<T>(i, writes ? AccessKind::Write : AccessKind::Read, c.hit_host), 1))
        return Alu<OP, OnHost<D>, OnHost<S>>::template body<T>(c, i);
      general<T>(c, i);
    } else {
      body<T>(c, i);
    }
  }
  template <class T> [[gnu::noipa]] static void general(Core& c, const Insn& i) { body<T>(c, i); }
  template <class T> static void body(Core& c, const Insn& i) {
    if constexpr (OP == kCmp || OP == kTest) {
      T d = D::template get<T>(c, i);
      alu<OP, T>(c, d, S::template get<T>(c, i));
    } else if constexpr (D::kMem) {
      T s = S::template get<T>(c, i);
      c.mem_rmw<T>(i, [&](T d) { return alu<OP, T>(c, d, s); });
    } else {
      T s = S::template get<T>(c, i);
      D::template set<T>(c, i, alu<OP, T>(c, D::template get<T>(c, i), s));
    }
  }
};

// XOR/SUB reg,reg with the same register: the zeroing idiom, no read needed.
template <unsigned OP> struct AluZero {
  template <class T> static void fn(Core& c, const Insn& i) {
    c.set_reg<T>(i.r0, 0);
    if (OP == kXor) c.set_lazy(FlagOp::Logic, size_log2<T>(), 0, 0, 0);
    else c.set_lazy(FlagOp::Sub, size_log2<T>(), 0, 0, 0);
  }
};

// The register-destination forms without their flag results, for records
// whose flags nothing reads (dead-flag elimination, cpu/dispatch.h): CMP and
// TEST then do nothing at all. ADC and SBB read CF and have none.
template <unsigned OP, class S> struct AluNoFlags {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (OP == kCmp || OP == kTest) {
      return;
    } else {
      const T d = c.reg<T>(i.r0), s = S::template get<T>(c, i);
      T r;
      switch (OP) {
        case kAdd: r = static_cast<T>(d + s); break;
        case kSub: r = static_cast<T>(d - s); break;
        case kAnd: r = d & s; break;
        case kOr: r = d | s; break;
        default: r = d ^ s; break;
      }
      c.set_reg<T>(i.r0, r);
    }
  }
};
template <unsigned OP> struct AluZeroNoFlags {
  template <class T> static void fn(Core& c, const Insn& i) { c.set_reg<T>(i.r0, 0); }
};

template <unsigned OP> Handler alu_handler(Form f, unsigned sz, const Insn& i) {
  constexpr bool kNoFlagsForm = OP != kAdc && OP != kSbb;
  switch (f) {
    case Form::RR:
      if ((OP == kXor || OP == kSub) && i.r0 == i.r1) return by_size_nf<AluZero<OP>, AluZeroNoFlags<OP>>(sz);
      if constexpr (kNoFlagsForm) return by_size_nf<Alu<OP, R0, R1>, AluNoFlags<OP, R1>>(sz);
      return by_size_quiet<Alu<OP, R0, R1>>(sz);
    case Form::RM: return by_size<Alu<OP, R0, M>>(sz);
    case Form::MR: return by_size<Alu<OP, M, R0>>(sz);
    case Form::RI:
      if constexpr (kNoFlagsForm) return by_size_nf<Alu<OP, R0, I>, AluNoFlags<OP, I>>(sz);
      return by_size_quiet<Alu<OP, R0, I>>(sz);
    case Form::MI: return by_size<Alu<OP, M, I>>(sz);
    default: return nullptr;
  }
}

// ---- INC DEC NEG NOT ----
template <unsigned OP, class D> struct Unary {
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned sz = size_log2<T>();
    modify<D, T>(c, i, [&](T d) -> T {
      T r;
      switch (OP) {
        case 0: {  // INC: CF unchanged
          uint8_t cf = c.cf();
          r = static_cast<T>(d + 1);
          c.set_lazy(FlagOp::Inc, sz, r, d, 1, cf);
          return r;
        }
        case 1: {
          uint8_t cf = c.cf();
          r = static_cast<T>(d - 1);
          c.set_lazy(FlagOp::Dec, sz, r, d, 1, cf);
          return r;
        }
        case 2:  // NEG = 0 - d
          r = static_cast<T>(0 - d);
          c.set_lazy(FlagOp::Sub, sz, r, 0, d);
          return r;
        default: return static_cast<T>(~d);  // NOT: no flags
      }
    });
  }
};

// INC, DEC, NEG of a register without their flag results (see AluNoFlags).
template <unsigned OP> struct UnaryNoFlags {
  template <class T> static void fn(Core& c, const Insn& i) {
    const T d = c.reg<T>(i.r0);
    c.set_reg<T>(i.r0, static_cast<T>(OP == 0 ? d + 1 : OP == 1 ? d - 1 : 0 - d));
  }
};

// In the MR form the register operand is r0 (set_operands numbers register
// operands in order), so the memory-destination forms read the source from r0.
}  // namespace

bool build_alu(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  Form f = form_of(d);
  unsigned sz = d.op_size(0);
  Handler h = nullptr;
  switch (op) {
    case kAdd: h = alu_handler<kAdd>(f, sz, i); break;
    case kOr: h = alu_handler<kOr>(f, sz, i); break;
    case kAdc: h = alu_handler<kAdc>(f, sz, i); break;
    case kSbb: h = alu_handler<kSbb>(f, sz, i); break;
    case kAnd: h = alu_handler<kAnd>(f, sz, i); break;
    case kSub: h = alu_handler<kSub>(f, sz, i); break;
    case kXor: h = alu_handler<kXor>(f, sz, i); break;
    case kCmp: h = alu_handler<kCmp>(f, sz, i); break;
    case kTest: h = alu_handler<kTest>(f, sz, i); break;
  }
  i.handler = h;
  return h != nullptr;
}

bool build_unary(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  unsigned sz = d.op_size(0);
  bool mem = d.is_mem(0);
  switch (op) {
    case 0: i.handler = mem ? by_size<Unary<0, M>>(sz) : by_size_nf<Unary<0, R0>, UnaryNoFlags<0>>(sz); break;
    case 1: i.handler = mem ? by_size<Unary<1, M>>(sz) : by_size_nf<Unary<1, R0>, UnaryNoFlags<1>>(sz); break;
    case 2: i.handler = mem ? by_size<Unary<2, M>>(sz) : by_size_nf<Unary<2, R0>, UnaryNoFlags<2>>(sz); break;
    default: i.handler = mem ? by_size<Unary<3, M>>(sz) : by_size_quiet<Unary<3, R0>>(sz); break;
  }
  return true;
}

namespace {
template <unsigned OP> void h_flagop(Core& c, const Insn&) {
  switch (OP) {
    case 0: c.set_flags(CF, 0); break;
    case 1: c.set_flags(CF, CF); break;
    case 2: c.set_flags(CF, c.cf() ? 0 : CF); break;
    case 3: c.s.rflags &= ~uint64_t(DF); break;
    case 4: c.s.rflags |= DF; break;
    case 5: {  // LAHF: AH = SF:ZF:0:AF:0:PF:1:CF
      if (c.mode64() && false) c.ud();  // LAHF/SAHF in 64-bit mode are advertised (CPUID 80000001h ECX[0])
      uint8_t ah = static_cast<uint8_t>(c.rflags() & 0xD7) | 0x02;
      c.set_reg<uint8_t>(1, ah);
      break;
    }
    case 6:  // SAHF
      c.set_flags(SF | ZF | AF | PF | CF, c.reg<uint8_t>(1));
      break;
    default:  // SALC: AL = CF ? FF : 00 (undocumented, not valid in 64-bit mode)
      if (c.mode64()) c.ud();
      c.set_reg<uint8_t>(0, c.cf() ? 0xFF : 0);
      break;
  }
}
}  // namespace

bool build_flagop(Insn& i, const Decoded&, unsigned op) {
  static const Handler h[] = {with_thread<&h_flagop<0>>(), with_thread<&h_flagop<1>>(), with_thread<&h_flagop<2>>(),
                              with_thread<&h_flagop<3>>(), with_thread<&h_flagop<4>>(), with_thread<&h_flagop<5>>(),
                              with_thread<&h_flagop<6>>(), with_thread<&h_flagop<7>>()};
  i.handler = h[op];
  return true;
}

}  // namespace pc64
