// Control transfer: JMP, Jcc, LOOP/JCXZ, CALL, RET (near and far), IRET,
// INT n/INT3/INTO/INT1, ENTER, LEAVE, BOUND.
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

// A near branch to `target` at operand size OS (log2 bytes): the target is
// truncated to the operand size and must lie within CS (or be canonical).
template <unsigned OS> inline uint64_t branch_target(Core& c, uint64_t target) {
  if constexpr (OS == 1) target &= 0xFFFF;
  else if constexpr (OS == 2) target &= 0xFFFFFFFF;
  if constexpr (OS == 3) {
    if (!is_canonical48(target)) c.gp(0);
  } else {
    if (target > c.s.seg[CS].limit && !c.mode64()) c.gp(0);
  }
  return target;
}
template <unsigned OS> inline void branch(Core& c, uint64_t target) { c.next_rip = branch_target<OS>(c, target); }

// EXIT: a Jcc in the middle of a block (decode_block went on at its
// fall-through), which, taken, leaves the block.
template <unsigned OS, unsigned CC, bool EXIT> void h_jcc(Core& c, const Insn& i) {
  if (c.cond_cc<CC>()) {
    branch<OS>(c, c.next_rip + i.imm);
    if (EXIT) c.exit_block = Core::kExitBranch;
  }
}
template <unsigned OS> void h_jmp_rel(Core& c, const Insn& i) { branch<OS>(c, c.next_rip + i.imm); }

template <class S> struct JmpInd {
  template <class T> static void fn(Core& c, const Insn& i) { branch<size_log2<T>()>(c, S::template get<T>(c, i)); }
};
template <class T> inline void push_ret(Core& c) { c.push_op<T>(static_cast<T>(c.next_rip)); }

// Near CALL checks the target (#GP) before it pushes (SDM Vol. 2 CALL
// pseudo-code), and push() moves RSP only after its store succeeded, so a
// faulting CALL changes nothing.
template <unsigned OS> [[gnu::noipa]] void call_rel_general(Core& c, const Insn& i) {
  using T = std::conditional_t<OS == 1, uint16_t, std::conditional_t<OS == 2, uint32_t, uint64_t>>;
  const uint64_t target = branch_target<OS>(c, c.next_rip + i.imm);
  push_ret<T>(c);
  c.next_rip = target;
}
template <unsigned OS> void h_call_rel(Core& c, const Insn& i) {
  if constexpr (OS == 3) {
    const uint64_t target = c.next_rip + i.imm;
    if (__builtin_expect(is_canonical48(target) && c.push64_hit(c.next_rip), 1)) {
      c.next_rip = target;
      return;
    }
  }
  call_rel_general<OS>(c, i);
}
template <class S> struct CallInd {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 8 && !S::kMem) {  // CALL r64: as h_call_rel<3>
      const uint64_t target = S::template get<T>(c, i);
      if (__builtin_expect(is_canonical48(target) && c.push64_hit(c.next_rip), 1)) {
        c.next_rip = target;
        return;
      }
    }
    general<T>(c, i);
  }
  template <class T> [[gnu::noipa]] static void general(Core& c, const Insn& i) {
    const uint64_t target = branch_target<size_log2<T>()>(c, S::template get<T>(c, i));
    push_ret<T>(c);
    c.next_rip = target;
  }
};
struct Ret {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 8) {
      uint64_t target;
      if (__builtin_expect(c.peek64_hit(target) && is_canonical48(target), 1)) {
        c.next_rip = target;
        c.s.gpr[RSP] += 8 + static_cast<uint16_t>(i.imm);
        return;
      }
    }
    general<T>(c, i);
  }
  template <class T> [[gnu::noipa]] static void general(Core& c, const Insn& i) {
    T target = c.peek_op<T>();
    branch<size_log2<T>()>(c, target);
    c.release_op<T>(sizeof(T) + static_cast<uint16_t>(i.imm));
  }
};

// LOOP family and JrCXZ; AS = address size (counter register width).
template <unsigned OS, unsigned AS, unsigned KIND> void h_loop(Core& c, const Insn& i) {
  uint64_t m = Core::kAddrMask[AS];
  uint64_t cnt = c.s.gpr[RCX] & m;
  bool take;
  if (KIND == 3) {
    take = cnt == 0;
  } else {
    cnt = (cnt - 1) & m;
    if (AS == 2) c.s.gpr[RCX] = cnt;
    else if (AS == 1) c.s.gpr[RCX] = cnt;  // ECX write zero-extends
    else c.s.gpr[RCX] = (c.s.gpr[RCX] & ~0xFFFFull) | cnt;
    take = cnt != 0 && (KIND == 0 || (KIND == 1 ? c.zf() : !c.zf()));
  }
  if (take) branch<OS>(c, c.next_rip + i.imm);
}

// Far transfers: direct (ptr16:xx in imm/imm2) or indirect (m16:xx).
template <unsigned KIND, bool MEM> void h_far(Core& c, const Insn& i) {
  uint16_t sel;
  uint64_t off;
  const unsigned os = i.osize;
  if (MEM) {
    uint64_t a = c.ea(i);
    if (os == 1) off = c.read<uint16_t>(i.seg, a);
    else if (os == 2) off = c.read<uint32_t>(i.seg, a);
    else off = c.read<uint64_t>(i.seg, a);
    sel = c.read<uint16_t>(i.seg, (a + (1u << os)) & Core::kAddrMask[i.asize]);
  } else {
    off = i.imm;
    sel = static_cast<uint16_t>(i.imm2);
  }
  if (KIND == 0) c.far_jump(sel, off, os);
  else c.far_call(sel, off, os);
}
void h_retf(Core& c, const Insn& i) { c.far_return(i.osize, static_cast<uint16_t>(i.imm)); }
void h_iret(Core& c, const Insn& i) { c.iret(i.osize); }

template <unsigned KIND> void h_int(Core& c, const Insn& i) {
  switch (KIND) {
    case 0: c.software_interrupt(static_cast<uint8_t>(i.imm), c.next_rip); break;
    case 1: c.deliver(kBP, false, 0, true, c.next_rip); break;
    case 2:
      if (c.mode64()) c.ud();
      if (c.of()) c.deliver(kOF, false, 0, true, c.next_rip);
      break;
    default: c.deliver(kDB, false, 0, false, c.next_rip); break;
  }
}

struct Enter {
  template <class T> static void fn(Core& c, const Insn& i) {
    const uint64_t saved_sp = c.s.gpr[RSP], saved_bp = c.s.gpr[RBP];
    try {
      unsigned level = i.imm2 & 31;
      c.push<T>(static_cast<T>(c.s.gpr[RBP]));
      uint64_t frame = c.rsp();
      if (level > 0) {
        uint64_t bp = c.s.gpr[RBP];
        for (unsigned k = 1; k < level; ++k) {
          bp = (bp - sizeof(T)) & c.sp_mask();
          c.push<T>(c.read<T>(SS, bp));
        }
        c.push<T>(static_cast<T>(frame));
      }
      uint64_t nsp = (c.rsp() - static_cast<uint16_t>(i.imm)) & c.sp_mask();
      c.read<uint8_t>(SS, nsp);  // the new stack top must be accessible (#SS/#PF now, not later)
      c.set_reg<T>(RBP, static_cast<T>(frame));
      c.set_rsp(nsp);
    } catch (...) {
      c.s.gpr[RSP] = saved_sp;
      c.s.gpr[RBP] = saved_bp;
      throw;
    }
  }
};
struct Leave {
  template <class T> static void fn(Core& c, const Insn&) {
    uint64_t bp = c.s.gpr[RBP] & c.sp_mask();
    T v = c.read<T>(SS, bp);
    c.set_rsp(bp + sizeof(T));
    c.set_reg<T>(RBP, v);
  }
};
struct Bound {
  template <class T> static void fn(Core& c, const Insn& i) {
    if (c.mode64()) c.ud();
    uint64_t a = c.ea(i);
    auto lo = static_cast<Signed<T>>(c.read<T>(i.seg, a));
    auto hi = static_cast<Signed<T>>(c.read<T>(i.seg, (a + sizeof(T)) & Core::kAddrMask[i.asize]));
    auto v = static_cast<Signed<T>>(c.reg<T>(i.r0));
    if (v < lo || v > hi) c.raise(kBR);
  }
};

template <unsigned OS, bool EXIT = false> Handler jcc_for(unsigned cc) {
  static const Handler t[16] = {
      with_thread<&h_jcc<OS, 0, EXIT>>(),  with_thread<&h_jcc<OS, 1, EXIT>>(),  with_thread<&h_jcc<OS, 2, EXIT>>(),
      with_thread<&h_jcc<OS, 3, EXIT>>(),  with_thread<&h_jcc<OS, 4, EXIT>>(),  with_thread<&h_jcc<OS, 5, EXIT>>(),
      with_thread<&h_jcc<OS, 6, EXIT>>(),  with_thread<&h_jcc<OS, 7, EXIT>>(),  with_thread<&h_jcc<OS, 8, EXIT>>(),
      with_thread<&h_jcc<OS, 9, EXIT>>(),  with_thread<&h_jcc<OS, 10, EXIT>>(), with_thread<&h_jcc<OS, 11, EXIT>>(),
      with_thread<&h_jcc<OS, 12, EXIT>>(), with_thread<&h_jcc<OS, 13, EXIT>>(), with_thread<&h_jcc<OS, 14, EXIT>>(),
      with_thread<&h_jcc<OS, 15, EXIT>>()};
  return t[cc];
}

unsigned branch_osize(const Decoded& d) { return d.osize() < 1 ? 1 : d.osize(); }

bool build_far(Insn& i, const Decoded& d, unsigned kind) {
  set_operands(i, d);
  i.osize = static_cast<uint8_t>(branch_osize(d));
  if (d.nvis() >= 1 && d.op[0].type == ZYDIS_OPERAND_TYPE_POINTER) {
    i.imm = d.op[0].ptr.offset;
    i.imm2 = d.op[0].ptr.segment;
    i.handler = kind == 0 ? &h_far<0, false> : &h_far<1, false>;
    return true;
  }
  if (d.is_mem(0)) {
    i.handler = kind == 0 ? &h_far<0, true> : &h_far<1, true>;
    return true;
  }
  return false;
}

}  // namespace

bool build_far_branch(Insn& i, const Decoded& d, unsigned kind) { return build_far(i, d, kind); }

bool build_jmp(Insn& i, const Decoded& d, unsigned) {
  if (d.zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return build_far(i, d, 0);
  set_operands(i, d);
  unsigned os = branch_osize(d);
  if (d.is_imm(0)) {
    i.handler = os == 1 ? with_thread<&h_jmp_rel<1>>() : os == 2 ? with_thread<&h_jmp_rel<2>>() : with_thread<&h_jmp_rel<3>>();
    return true;
  }
  i.handler = d.is_mem(0) ? by_size_wide<JmpInd<M>>(os) : by_size_wide<JmpInd<R0>>(os);
  return true;
}

bool build_call(Insn& i, const Decoded& d, unsigned) {
  if (d.zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return build_far(i, d, 1);
  set_operands(i, d);
  unsigned os = branch_osize(d);
  if (d.is_imm(0)) {
    i.handler = os == 1 ? with_thread<&h_call_rel<1>>() : os == 2 ? with_thread<&h_call_rel<2>>() : with_thread<&h_call_rel<3>>();
    return true;
  }
  i.handler = d.is_mem(0) ? by_size_wide<CallInd<M>>(os) : by_size_wide<CallInd<R0>>(os);
  return true;
}

bool build_ret(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  i.osize = static_cast<uint8_t>(branch_osize(d));
  if (!d.is_imm(0)) i.imm = 0;
  if (d.zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
    i.handler = &h_retf;
    return true;
  }
  i.handler = by_size_wide<Ret>(i.osize);
  return true;
}

bool build_iret(Insn& i, const Decoded&, unsigned os) {
  i.osize = static_cast<uint8_t>(os);
  i.handler = &h_iret;
  return true;
}

bool build_jcc(Insn& i, const Decoded& d, unsigned cc) {
  set_operands(i, d);
  unsigned os = branch_osize(d);
  i.handler = os == 1 ? jcc_for<1>(cc) : os == 2 ? jcc_for<2>(cc) : jcc_for<3>(cc);
  i.osize = static_cast<uint8_t>(os);  // for jcc_exit_handler
  i.aux = static_cast<uint8_t>(cc);
  return true;
}

Handler jcc_exit_handler(const Insn& i) {
  const unsigned cc = i.aux & 15;
  switch (i.osize) {
    case 1: return i.handler == jcc_for<1>(cc) ? jcc_for<1, true>(cc) : nullptr;
    case 2: return i.handler == jcc_for<2>(cc) ? jcc_for<2, true>(cc) : nullptr;
    case 3: return i.handler == jcc_for<3>(cc) ? jcc_for<3, true>(cc) : nullptr;
    default: return nullptr;
  }
}

bool build_loop(Insn& i, const Decoded& d, unsigned kind) {
  set_operands(i, d);
  unsigned os = branch_osize(d);
  unsigned as = i.asize;
  // Table [os-1][as][kind].
  static constexpr Handler t[3][3][4] = {
      {{&h_loop<1, 0, 0>, &h_loop<1, 0, 1>, &h_loop<1, 0, 2>, &h_loop<1, 0, 3>},
       {&h_loop<1, 1, 0>, &h_loop<1, 1, 1>, &h_loop<1, 1, 2>, &h_loop<1, 1, 3>},
       {&h_loop<1, 2, 0>, &h_loop<1, 2, 1>, &h_loop<1, 2, 2>, &h_loop<1, 2, 3>}},
      {{&h_loop<2, 0, 0>, &h_loop<2, 0, 1>, &h_loop<2, 0, 2>, &h_loop<2, 0, 3>},
       {&h_loop<2, 1, 0>, &h_loop<2, 1, 1>, &h_loop<2, 1, 2>, &h_loop<2, 1, 3>},
       {&h_loop<2, 2, 0>, &h_loop<2, 2, 1>, &h_loop<2, 2, 2>, &h_loop<2, 2, 3>}},
      {{&h_loop<3, 0, 0>, &h_loop<3, 0, 1>, &h_loop<3, 0, 2>, &h_loop<3, 0, 3>},
       {&h_loop<3, 1, 0>, &h_loop<3, 1, 1>, &h_loop<3, 1, 2>, &h_loop<3, 1, 3>},
       {&h_loop<3, 2, 0>, &h_loop<3, 2, 1>, &h_loop<3, 2, 2>, &h_loop<3, 2, 3>}},
  };
  i.handler = t[os - 1][as][kind];
  return true;
}

bool build_int(Insn& i, const Decoded& d, unsigned kind) {
  set_operands(i, d);
  static constexpr Handler t[4] = {&h_int<0>, &h_int<1>, &h_int<2>, &h_int<3>};
  i.handler = t[kind];
  return true;
}

bool build_enter(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  i.handler = by_size_wide<Enter>(branch_osize(d));
  return true;
}

bool build_leave(Insn& i, const Decoded& d, unsigned) {
  i.handler = by_size_wide<Leave>(branch_osize(d));
  return true;
}

bool build_bound(Insn& i, const Decoded& d, unsigned) {
  if (!d.is_mem(1)) return false;
  set_operands(i, d);
  i.handler = by_size_wide<Bound>(d.osize());
  return true;
}

}  // namespace pc64
