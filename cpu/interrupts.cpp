// Interrupt and exception delivery in real, protected and IA-32e mode
// (SDM Vol. 3A ch. 6), the #DF / triple-fault rules (6.15, table 6-5), and
// polling of the interrupt controller between blocks.
#include "cpu/core.h"
#include "mem/log.h"

namespace pc64 {

namespace {

bool is_contributory(uint8_t v) { return v == kDE || v == kTS || v == kNP || v == kSS || v == kGP; }

}  // namespace

void Core::triple_fault(const char* why) {
  shutdown = true;
  irq_poll = true;  // leave the chained path (Core::run)
  shutdown_reason = std::string("triple fault: ") + why;
  PC64_LOG(LogLevel::Warn, "cpu", "%s at CS:RIP %04x:%#llx", shutdown_reason.c_str(), s.seg[CS].selector,
           static_cast<unsigned long long>(s.rip));
}

void Core::deliver_fault(const GuestFault& f) {
  GuestFault cur = f;
  halted = false;
  for (int depth = 0;; ++depth) {
    try {
      // Fault-class exceptions push RF = 1 so the faulting instruction can be
      // restarted past an instruction breakpoint; #DB (instruction-breakpoint
      // faults and traps) pushes RF as it is (SDM Vol. 3B 18.3.1.1).
      if (cur.vector != kDB) s.rflags |= RF;
      deliver(cur.vector, cur.has_error, cur.error, false, s.rip);
      s.rip = next_rip;
      return;
    } catch (const GuestFault& g) {
      // A second exception while delivering the first (SDM table 6-5).
      if (cur.vector == kDF || depth > 3) {
        triple_fault("exception while delivering #DF");
        return;
      }
      bool df = (is_contributory(cur.vector) && is_contributory(g.vector)) ||
                (cur.vector == kPF && (is_contributory(g.vector) || g.vector == kPF));
      cur = df ? GuestFault{kDF, true, 0} : g;
    }
  }
}

void Core::deliver(uint8_t vector, bool has_error, uint32_t error, bool soft, uint64_t return_rip) {
  if (dbg.events()) dbg.on_vector(*this, vector);
  materialize_flags();
  const uint64_t old_flags = s.rflags;
  // External / hardware events carry EXT=1 in descriptor-related error codes.
  const uint32_t ext = soft ? 0 : 1;

  if (!(s.cr0 & CR0_PE)) {
    // Real mode: IVT entry = offset:segment at vector*4 (SDM 20.1.4).
    uint32_t off = vector * 4u;
    if (off + 3 > s.idtr.limit) gp(0);
    uint16_t ip = read_sys<uint16_t>(s.idtr.base + off);
    uint16_t cs = read_sys<uint16_t>(s.idtr.base + off + 2);
    push<uint16_t>(static_cast<uint16_t>(old_flags));
    push<uint16_t>(s.seg[CS].selector);
    push<uint16_t>(static_cast<uint16_t>(return_rip));
    s.rflags &= ~uint64_t(IF | TF | AC | RF);
    load_segment_real(CS, cs);
    next_rip = ip;
    return;
  }

  const bool lm = long_mode();
  const unsigned gate_size = lm ? 16 : 8;
  if (vector * gate_size + gate_size - 1 > s.idtr.limit) gp(vector * 8u + 2 + ext);
  uint64_t ga = s.idtr.base + vector * gate_size;
  uint32_t g0 = read_sys<uint32_t>(ga), g1 = read_sys<uint32_t>(ga + 4);
  uint32_t g2 = lm ? read_sys<uint32_t>(ga + 8) : 0;
  unsigned type = (g1 >> 8) & 0x1F;  // includes the S bit (must be 0)
  unsigned gdpl = (g1 >> 13) & 3;
  bool valid = lm ? (type == 0xE || type == 0xF) : (type == 0x5 || type == 0x6 || type == 0x7 || type == 0xE || type == 0xF);
  if (!valid) gp(vector * 8u + 2 + ext);
  if (soft && gdpl < s.cpl) gp(vector * 8u + 2);
  if (!(g1 & 0x8000)) raise(kNP, vector * 8u + 2 + ext);
  if (type == 0x5) {  // task gate: switch tasks; the error code goes on the new task's stack
    Descriptor gd;
    gd.lo = g0;
    gd.hi = g1;
    s.rflags = old_flags;
    task_gate_or_tss(0, gd, TaskSwitchReason::Interrupt, return_rip, has_error, error, ext);
    return;
  }
  const bool trap_gate = type & 1;
  const unsigned gsize = lm ? 3 : (type & 8) ? 2 : 1;  // push width: 8, 4 or 2 bytes

  uint16_t sel = static_cast<uint16_t>(g0 >> 16);
  uint64_t target = (g0 & 0xFFFF) | (g1 & 0xFFFF0000u);
  if (gsize == 1) target &= 0xFFFF;
  if (lm) target |= uint64_t(g2) << 32;
  if ((sel & ~3) == 0) gp(ext);
  Descriptor cd;
  if (!read_descriptor(sel, cd)) gp((sel & ~3u) + ext);
  if (!cd.s() || !(cd.type() & 8) || cd.dpl() > s.cpl) gp((sel & ~3u) + ext);
  if (!cd.present()) raise(kNP, (sel & ~3u) + ext);
  if (lm && (!(cd.attr() & 0x2000) || (cd.attr() & 0x4000))) gp((sel & ~3u) + ext);  // must be 64-bit code

  const bool conforming = cd.type() & 4;
  const bool to_inner = !conforming && cd.dpl() < s.cpl;
  if (v86() && (!to_inner || cd.dpl() != 0)) gp((sel & ~3u) + ext);
  const unsigned ncpl = conforming ? s.cpl : cd.dpl();
  const unsigned ist = lm ? (g1 & 7) : 0;

  // Save what a failure half-way must restore.
  const CpuState saved = s;
  const unsigned old_code = code_mode, old_stack = stack_mode;
  uint16_t new_ss = 0;  // the inner stack segment after a legacy stack switch
  try {
    const uint16_t old_ss = s.seg[SS].selector;
    const uint64_t old_sp = s.gpr[RSP];
    const uint16_t old_cs = s.seg[CS].selector;
    const bool from_v86 = v86();
    if (to_inner || ist) {
      uint16_t nss = 0;
      uint64_t nsp = 0;
      if (ist) {
        uint32_t off = 0x24 + (ist - 1) * 8;
        if (off + 7 > s.tr.limit) raise(kTS, (s.tr.selector & ~3u) + ext);
        nsp = read_sys<uint64_t>(s.tr.base + off);
        nss = static_cast<uint16_t>(ncpl);
        if (!to_inner) nss = s.seg[SS].selector;
      } else if (lm) {
        uint32_t off = 4 + ncpl * 8;
        if (off + 7 > s.tr.limit) raise(kTS, (s.tr.selector & ~3u) + ext);
        nsp = read_sys<uint64_t>(s.tr.base + off);
        nss = static_cast<uint16_t>(ncpl);
      } else if (s.tr.type() & 8) {
        uint32_t off = 4 + ncpl * 8;
        if (off + 5 > s.tr.limit) raise(kTS, (s.tr.selector & ~3u) + ext);
        nsp = read_sys<uint32_t>(s.tr.base + off);
        nss = read_sys<uint16_t>(s.tr.base + off + 4);
      } else {
        uint32_t off = 2 + ncpl * 4;
        if (off + 3 > s.tr.limit) raise(kTS, (s.tr.selector & ~3u) + ext);
        nsp = read_sys<uint16_t>(s.tr.base + off);
        nss = read_sys<uint16_t>(s.tr.base + off + 2);
      }
      if (lm) {
        if (to_inner) {
          Segment z;
          z.selector = static_cast<uint16_t>(ncpl);
          z.attr = static_cast<uint16_t>(0x93 | (ncpl << 5));
          s.seg[SS] = z;
        }
        nsp &= ~0xFull;  // 64-bit mode aligns the new stack (SDM 6.14.2)
      } else {
        if ((nss & ~3) == 0) raise(kTS, ext);
        Descriptor sd;
        if (!read_descriptor(nss, sd)) raise(kTS, (nss & ~3u) + ext);
        if ((nss & 3) != ncpl || sd.dpl() != ncpl || !sd.s() || (sd.type() & 8) || !(sd.type() & 2))
          raise(kTS, (nss & ~3u) + ext);
        if (!sd.present()) raise(kSS, (nss & ~3u) + ext);
        set_accessed(nss, sd);
        s.seg[SS] = segment_from(nss, sd);
        new_ss = nss;
      }
      s.cpl = ncpl;
      s.rflags &= ~uint64_t(VM);
      s.seg[CS].attr = cd.attr();  // so update_mode() sees the target mode for the pushes
      update_mode();
      s.gpr[RSP] = nsp;
      if (gsize == 3) {
        push<uint64_t>(old_ss);
        push<uint64_t>(old_sp);
      } else if (gsize == 2) {
        if (from_v86) {
          push<uint32_t>(s.seg[GS].selector);
          push<uint32_t>(s.seg[FS].selector);
          push<uint32_t>(s.seg[DS].selector);
          push<uint32_t>(s.seg[ES].selector);
        }
        push<uint32_t>(old_ss);
        push<uint32_t>(static_cast<uint32_t>(old_sp));
      } else {
        push<uint16_t>(old_ss);
        push<uint16_t>(static_cast<uint16_t>(old_sp));
      }
    } else if (lm) {
      s.gpr[RSP] &= ~0xFull;
      Segment cs = s.seg[CS];
      cs.attr = cd.attr();
      s.seg[CS] = cs;
      update_mode();
      s.gpr[RSP] = (old_sp & ~0xFull);
      push<uint64_t>(old_ss);
      push<uint64_t>(old_sp);
    }
    if (gsize == 3) {
      push<uint64_t>(old_flags);
      push<uint64_t>(old_cs);
      push<uint64_t>(return_rip);
      if (has_error) push<uint64_t>(error);
    } else if (gsize == 2) {
      push<uint32_t>(static_cast<uint32_t>(old_flags));
      push<uint32_t>(old_cs);
      push<uint32_t>(static_cast<uint32_t>(return_rip));
      if (has_error) push<uint32_t>(error);
    } else {
      push<uint16_t>(static_cast<uint16_t>(old_flags));
      push<uint16_t>(old_cs);
      push<uint16_t>(static_cast<uint16_t>(return_rip));
      if (has_error) push<uint16_t>(static_cast<uint16_t>(error));
    }
    if (from_v86) {
      for (unsigned seg : {ES, DS, FS, GS}) s.seg[seg] = Segment{};
    }
    set_accessed(sel, cd);
    Segment ncs = segment_from(static_cast<uint16_t>((sel & ~3u) | ncpl), cd);
    s.seg[CS] = ncs;
    s.cpl = ncpl;
    s.rflags &= ~uint64_t(TF | NT | VM | RF);
    if (!trap_gate) s.rflags &= ~uint64_t(IF);
    update_mode();
    next_rip = target;
  } catch (GuestFault& f) {
    // Undo the half-done delivery, but a page fault it caused keeps its CR2
    // (the #PF or #DF handler reads it).
    const uint64_t cr2 = s.cr2;
    s = saved;
    s.cr2 = cr2;
    code_mode = old_code;
    stack_mode = old_stack;
    update_mode();
    // Overrunning the new stack after a stack switch is #SS(selector + EXT)
    // (SDM Vol. 2 INT n, protected-mode exceptions); without a switch #SS(0).
    if (new_ss && f.vector == kSS && f.error == 0) f.error = (new_ss & ~3u) + ext;
    throw;
  }
}

namespace {

// Bit `vector` of the software interrupt redirection bitmap: the 32 bytes
// just below the I/O permission bitmap of a 32-bit TSS (SDM Vol. 3A 20.3.3).
bool redirection_bit(Core& c, uint8_t vector) {
  const Segment& tr = c.s.tr;
  if (!tr.present() || (tr.type() != 9 && tr.type() != 0xB) || tr.limit < 0x67) c.gp(0);
  const uint32_t off = c.read_sys<uint16_t>(tr.base + 0x66) - 32u + vector / 8u;
  if (off > tr.limit) c.gp(0);
  return (c.read_sys<uint8_t>(tr.base + off) >> (vector & 7)) & 1;
}

}  // namespace

void Core::software_interrupt(uint8_t vector, uint64_t return_rip) {
  if (v86()) {
    const bool iopl3 = ((s.rflags & IOPL) >> 12) == 3;
    // Table 20-2: without VME, IOPL < 3 faults (method 2) and IOPL 3 uses the
    // IDT (method 1). With VME a clear bitmap bit sends the interrupt to the
    // 8086 handler (methods 5, 6); a set bit behaves as without VME (3, 4).
    if (!(s.cr4 & CR4_VME) || redirection_bit(*this, vector)) {
      if (!iopl3) gp(0);
    } else {
      materialize_flags();
      uint16_t image = static_cast<uint16_t>(s.rflags);
      if (!iopl3) image = static_cast<uint16_t>((image & ~IF) | ((s.rflags & VIF) ? IF : 0) | IOPL);
      const uint16_t ip = read_lin<uint16_t>(vector * 4u), cs = read_lin<uint16_t>(vector * 4u + 2);
      const uint64_t sp = s.gpr[RSP];
      try {
        push<uint16_t>(image);
        push<uint16_t>(s.seg[CS].selector);
        push<uint16_t>(static_cast<uint16_t>(return_rip));
      } catch (...) {
        s.gpr[RSP] = sp;
        throw;
      }
      s.rflags &= ~(TF | (iopl3 ? IF : VIF));
      load_segment_real(CS, cs);
      next_rip = ip;
      return;
    }
  }
  deliver(vector, false, 0, true, return_rip);
}

bool Core::service_interrupts() {
  if (!intr) return false;
  if (!nmi_blocked && intr->take_nmi()) {
    halted = false;
    try {
      deliver(kNMI, false, 0, false, s.rip);
      s.rip = next_rip;
    } catch (const GuestFault& f) {
      deliver_fault(f);
    }
    nmi_blocked = true;
    return true;
  }
  if ((s.rflags & IF) && intr->intr_pending()) {
    halted = false;
    uint8_t v = intr->acknowledge_intr();
    try {
      deliver(v, false, 0, false, s.rip);
      s.rip = next_rip;
    } catch (const GuestFault& f) {
      deliver_fault(f);
    }
    return true;
  }
  return false;
}

}  // namespace pc64
