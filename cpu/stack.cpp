// Stack instructions: PUSH/POP (register, memory, immediate, segment),
// PUSHA/POPA, PUSHF/POPF with the IOPL/VM rules (SDM Vol. 2 POPF table).
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

template <class S> struct Push {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 8 && !S::kMem) {
      if (__builtin_expect(c.push64_hit(S::template get<T>(c, i)), 1)) return;
    }
    general<T>(c, i);
  }
  template <class T> [[gnu::noipa]] static void general(Core& c, const Insn& i) {
    c.push_op<T>(S::template get<T>(c, i));
  }
};
struct PopReg {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 8) {
      uint64_t v;
      if (__builtin_expect(c.peek64_hit(v), 1)) {
        c.s.gpr[RSP] += 8;
        c.s.gpr[i.r0] = v;  // POP RSP: the popped value wins
        return;
      }
    }
    general<T>(c, i);
  }
  template <class T> [[gnu::noipa]] static void general(Core& c, const Insn& i) {
    T v = c.peek_op<T>();
    c.release_op<T>(sizeof(T));
    c.set_reg<T>(i.r0, v);  // POP rSP: the popped value wins
  }
};
struct PopMem {
  template <class T> static void fn(Core& c, const Insn& i) {
    T v = c.peek<T>();
    uint64_t old = c.s.gpr[RSP];
    // The destination address uses the incremented rSP (SDM Vol. 2 POP).
    c.set_rsp(c.rsp() + sizeof(T));
    try {
      c.mem_write<T>(i, v);
    } catch (...) {
      c.s.gpr[RSP] = old;
      throw;
    }
  }
};

struct Pusha {
  template <class T> static void fn(Core& c, const Insn&) {
    if (c.mode64()) c.ud();
    uint64_t old = c.s.gpr[RSP];
    T sp = static_cast<T>(old);
    try {
      for (unsigned r : {RAX, RCX, RDX, RBX}) c.push<T>(static_cast<T>(c.s.gpr[r]));
      c.push<T>(sp);
      for (unsigned r : {RBP, RSI, RDI}) c.push<T>(static_cast<T>(c.s.gpr[r]));
    } catch (...) {
      c.s.gpr[RSP] = old;
      throw;
    }
  }
};
struct Popa {
  template <class T> static void fn(Core& c, const Insn&) {
    if (c.mode64()) c.ud();
    T v[8];
    for (unsigned k = 0; k < 8; ++k) v[k] = c.peek<T>(k * sizeof(T));  // all reads before any write
    c.set_rsp(c.rsp() + 8 * sizeof(T));
    const unsigned order[8] = {RDI, RSI, RBP, RSP, RBX, RDX, RCX, RAX};
    for (unsigned k = 0; k < 8; ++k)
      if (order[k] != RSP) c.set_reg<T>(order[k], v[k]);
  }
};

// Virtual-8086 mode with IOPL < 3 and CR4.VME: 16-bit PUSHF/POPF see VIF in
// the IF position and IOPL as 3; the 32-bit forms still fault (SDM Vol. 3A
// 20.3.2, Vol. 2 PUSHF/POPF).
template <class T> bool v86_virtual_flags(Core& c) {
  if (!c.v86() || ((c.s.rflags & IOPL) >> 12) == 3) return false;
  if (!(c.s.cr4 & CR4_VME) || sizeof(T) != 2) c.gp(0);
  return true;
}

struct Pushf {
  template <class T> static void fn(Core& c, const Insn&) {
    if (v86_virtual_flags<T>(c)) {
      uint64_t f = c.rflags();
      c.push<uint16_t>(static_cast<uint16_t>((f & ~uint64_t(IF)) | ((f & VIF) ? IF : 0) | IOPL));
      return;
    }
    uint64_t f = c.rflags() & ~uint64_t(RF | VM);  // the image has RF and VM clear
    c.push<T>(static_cast<T>(f));
  }
};
struct Popf {
  template <class T> static void fn(Core& c, const Insn&) {
    const unsigned iopl = (c.s.rflags & IOPL) >> 12;
    if (v86_virtual_flags<T>(c)) {
      uint16_t v = c.peek<uint16_t>();
      // A pending virtual interrupt that this would enable, or TF: #GP(0).
      if (((v & IF) && (c.s.rflags & VIP)) || (v & TF)) c.gp(0);
      c.set_rsp(c.rsp() + 2);
      c.write_rflags(v, 0xFFFF & ~uint64_t(IOPL | IF));
      c.s.rflags = (c.s.rflags & ~uint64_t(VIF | RF)) | ((v & IF) ? VIF : 0);
      return;
    }
    T v = c.peek<T>();
    uint64_t mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT | AC | ID;
    if (c.s.cpl == 0 && !c.v86()) mask |= IOPL;
    if (c.s.cpl <= iopl || c.v86()) mask |= IF;
    if (sizeof(T) == 2) mask &= 0xFFFF;
    c.set_rsp(c.rsp() + sizeof(T));
    c.write_rflags(v, mask);
    c.s.rflags &= ~uint64_t(RF);
  }
};

}  // namespace

bool build_push(Insn& i, const Decoded& d, unsigned) {
  if (d.is_reg(0) && ZydisRegisterGetClass(d.op[0].reg.value) == ZYDIS_REGCLASS_SEGMENT)
    return build_push_sreg(i, d, false);
  set_operands(i, d);
  unsigned sz = d.osize();
  if (d.is_imm(0)) i.handler = by_size_wide<Push<I>>(sz);
  else if (d.is_mem(0)) i.handler = by_size_wide<Push<M>>(sz);
  else i.handler = by_size_wide<Push<R0>>(sz);
  return true;
}

bool build_pop(Insn& i, const Decoded& d, unsigned) {
  if (d.is_reg(0) && ZydisRegisterGetClass(d.op[0].reg.value) == ZYDIS_REGCLASS_SEGMENT)
    return build_push_sreg(i, d, true);
  set_operands(i, d);
  unsigned sz = d.osize();
  i.handler = d.is_mem(0) ? by_size_wide<PopMem>(sz) : by_size_wide<PopReg>(sz);
  return true;
}

bool build_pusha(Insn& i, const Decoded& d, unsigned pop) {
  unsigned sz = d.osize();
  if (sz == 3) return false;
  i.handler = pop ? by_size_wide<Popa>(sz) : by_size_wide<Pusha>(sz);
  return true;
}

bool build_pushf(Insn& i, const Decoded& d, unsigned pop) {
  unsigned sz = d.osize();
  if (pop) {
    i.handler = by_size_wide<Popf>(sz);
    i.flags |= kInsnEndsBlock;  // IF/TF may change: poll interrupts next
  } else {
    i.handler = by_size_wide<Pushf>(sz);
  }
  return true;
}

}  // namespace pc64
