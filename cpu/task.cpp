// Hardware task switching (SDM Vol. 3A ch. 7): JMP/CALL to a TSS or task
// gate, interrupts/exceptions through a task gate (32-bit Windows uses one for
// #DF and NMI) and IRET with NT set. 16- and 32-bit TSS formats; not
// available in IA-32e mode.
#include "cpu/core.h"

namespace pc64 {

namespace {

// 32-bit TSS offsets (SDM figure 7-2).
constexpr unsigned kLink = 0x00, kCr3 = 0x1C, kEip = 0x20, kEflags = 0x24, kEax = 0x28, kEs = 0x48, kLdt = 0x60, kTrap = 0x64;
// 16-bit TSS offsets (SDM figure 7-11).
constexpr unsigned k16Ip = 0x0E, k16Flags = 0x10, k16Ax = 0x12, k16Es = 0x22, k16Ldt = 0x2A;

void set_busy(Core& c, uint16_t sel, bool busy) {
  uint64_t a = c.s.gdtr.base + (sel & ~7u) + 4;
  uint32_t hi = c.read_sys<uint32_t>(a);
  hi = busy ? (hi | 0x200) : (hi & ~0x200u);
  c.write_sys<uint32_t>(a, hi);
}

}  // namespace

void Core::task_switch(uint16_t sel, Descriptor d, TaskSwitchReason reason, uint64_t return_rip, bool has_error,
                       uint32_t error) {
  if (long_mode()) gp(sel & ~3u);  // no task switching in IA-32e mode
  const uint32_t err = sel & ~3u;
  if (sel & 4) raise(kTS, err);     // TSS descriptors live in the GDT
  const unsigned type = d.type();
  const bool wide = (type & 8) != 0;
  const bool busy = (type & 2) != 0;
  if (d.s() || (type & 5) != 1) gp(err);
  if (reason == TaskSwitchReason::Iret ? !busy : busy) gp(err);
  if (!d.present()) raise(kNP, err);
  if (d.limit() < (wide ? 0x67u : 0x2Bu)) raise(kTS, err);

  // ---- save the outgoing task ----
  materialize_flags();
  uint64_t flags = s.rflags;
  if (reason == TaskSwitchReason::Iret) flags &= ~uint64_t(NT);
  const uint64_t old_base = s.tr.base;
  const bool old_wide = (s.tr.type() & 8) != 0;
  if (old_wide) {
    write_sys<uint32_t>(old_base + kEip, static_cast<uint32_t>(return_rip));
    write_sys<uint32_t>(old_base + kEflags, static_cast<uint32_t>(flags));
    for (unsigned r = 0; r < 8; ++r) write_sys<uint32_t>(old_base + kEax + 4 * r, static_cast<uint32_t>(s.gpr[r]));
    for (unsigned g = 0; g < 6; ++g) write_sys<uint16_t>(old_base + kEs + 4 * g, s.seg[g].selector);
  } else {
    write_sys<uint16_t>(old_base + k16Ip, static_cast<uint16_t>(return_rip));
    write_sys<uint16_t>(old_base + k16Flags, static_cast<uint16_t>(flags));
    for (unsigned r = 0; r < 8; ++r) write_sys<uint16_t>(old_base + k16Ax + 2 * r, static_cast<uint16_t>(s.gpr[r]));
    for (unsigned g = 0; g < 4; ++g) write_sys<uint16_t>(old_base + k16Es + 2 * g, s.seg[g].selector);
  }
  const uint16_t old_sel = s.tr.selector;
  if (reason == TaskSwitchReason::Jmp || reason == TaskSwitchReason::Iret) set_busy(*this, old_sel, false);

  // ---- read the incoming task ----
  const uint64_t nb = d.base();
  uint32_t regs[8];
  uint16_t segs[6] = {};
  uint64_t nip, nflags, ncr3 = s.cr3;
  uint16_t nldt;
  if (wide) {
    ncr3 = read_sys<uint32_t>(nb + kCr3);
    nip = read_sys<uint32_t>(nb + kEip);
    nflags = read_sys<uint32_t>(nb + kEflags);
    for (unsigned r = 0; r < 8; ++r) regs[r] = read_sys<uint32_t>(nb + kEax + 4 * r);
    for (unsigned g = 0; g < 6; ++g) segs[g] = read_sys<uint16_t>(nb + kEs + 4 * g);
    nldt = read_sys<uint16_t>(nb + kLdt);
  } else {
    nip = read_sys<uint16_t>(nb + k16Ip);
    nflags = read_sys<uint16_t>(nb + k16Flags);
    for (unsigned r = 0; r < 8; ++r) regs[r] = read_sys<uint16_t>(nb + k16Ax + 2 * r);
    for (unsigned g = 0; g < 4; ++g) segs[g] = read_sys<uint16_t>(nb + k16Es + 2 * g);
    nldt = read_sys<uint16_t>(nb + k16Ldt);
  }
  if (reason == TaskSwitchReason::Call || reason == TaskSwitchReason::Interrupt) {
    write_sys<uint16_t>(nb + kLink, old_sel);
    nflags |= NT;
  }
  if (reason != TaskSwitchReason::Iret) set_busy(*this, sel, true);
  d.hi |= 0x200;

  // ---- switch: from here on, faults belong to the new task ----
  s.tr.selector = sel;
  s.tr.base = nb;
  s.tr.limit = d.limit();
  s.tr.attr = d.attr();
  s.cr0 |= CR0_TS;
  // The local breakpoint enables L0-L3 and LE belong to the old task (SDM
  // Vol. 3B 18.2.4): cleared on every task switch.
  s.dr[7] &= ~uint64_t(0x155);
  dbg.sync_guest(*this);
  if (wide && (s.cr0 & CR0_PG) && ncr3 != s.cr3) {
    // PAE: the new task's PDPTEs load with its CR3; if they are bad, fall
    // back to reading them at walk time rather than failing the switch.
    if (pae_paging() && !load_pdptes(ncr3)) pdptes_loaded = false;
    s.cr3 = ncr3;
    tlb.flush_non_global();
  }
  for (unsigned r = 0; r < 8; ++r) s.gpr[r] = wide ? regs[r] : (s.gpr[r] & ~0xFFFFull) | regs[r];
  s.lazy.op = FlagOp::None;
  s.rflags = (nflags & 0x3F7FD7) | kFlagsFixed1;
  // Selectors first without checks, so a fault below reports in the new task.
  for (unsigned g = 0; g < 6; ++g) s.seg[g].selector = segs[g];
  s.ldtr.selector = nldt;
  ++chain_epoch;
  if (s.rflags & VM) {
    s.cpl = 3;
    for (unsigned g = 0; g < 6; ++g) load_segment_real(g, segs[g]);
  } else {
    // LDT, then CS (sets CPL), then the data segments (SDM 7.3 step 12).
    if ((nldt & ~3) == 0) {
      s.ldtr = Segment{};
    } else {
      Descriptor ld;
      if ((nldt & 4) || !read_descriptor(nldt, ld) || ld.s() || ld.type() != 2) raise(kTS, nldt & ~3u);
      if (!ld.present()) raise(kTS, nldt & ~3u);
      s.ldtr = segment_from(nldt, ld);
    }
    const uint16_t cs = segs[CS];
    Descriptor cd;
    if ((cs & ~3) == 0 || !read_descriptor(cs, cd) || !cd.s() || !(cd.type() & 8)) raise(kTS, cs & ~3u);
    if ((cd.type() & 4) ? cd.dpl() > (cs & 3u) : cd.dpl() != (cs & 3u)) raise(kTS, cs & ~3u);
    if (!cd.present()) raise(kNP, cs & ~3u);
    s.cpl = cs & 3;
    s.seg[CS] = segment_from(cs, cd);
    update_mode();
    try {
      for (unsigned g : {SS, ES, DS, FS, GS}) load_segment(g, segs[g]);
    } catch (const GuestFault& f) {
      // Segment faults while loading the new task's registers are #TS (or #SS/#NP).
      if (f.vector == kGP) raise(kTS, f.error);
      throw;
    }
  }
  update_mode();
  next_rip = nip;
  s.rip = nip;
  if (has_error) {
    if (wide) push<uint32_t>(error);
    else push<uint16_t>(static_cast<uint16_t>(error));
  }
  // EIP beyond the new CS limit faults here, as part of the switch, so an
  // external event's #GP gets EXT (task_gate_or_tss); SDM Vol. 2A INT n.
  if (nip > s.seg[CS].limit) gp(0);
  if (wide && (read_sys<uint16_t>(nb + kTrap) & 1)) {
    // TSS T bit: a #DB trap once the switch is complete, before the new
    // task's first instruction, with DR6.BT (SDM Vol. 3B 18.2.3, 18.3.1.5).
    s.dr[6] |= 0x8000;
    deliver(kDB, false, 0, false, nip);
  }
}

void Core::task_gate_or_tss(uint16_t sel, const Descriptor& d, TaskSwitchReason reason, uint64_t return_rip,
                            bool has_error, uint32_t error, uint32_t ext) {
  try {
    if (d.type() != 5) {
      task_switch(sel, d, reason, return_rip, has_error, error);
      return;
    }
    // Task gate: its selector names the TSS (SDM 7.2.5).
    const uint16_t tss = static_cast<uint16_t>(d.lo >> 16);
    Descriptor td;
    if ((tss & 4) || (tss & ~3) == 0 || !read_descriptor(tss, td)) gp(tss & ~3u);
    task_switch(tss, td, reason, return_rip, has_error, error);
  } catch (GuestFault& f) {
    // A fault while switching tasks to deliver an external interrupt or an
    // exception carries EXT (SDM Vol. 3A 6.13; INT n pseudocode TASK-GATE:
    // #TS/#NP/#GP(selector + EXT), #SS(EXT) pushing the error code).
    if (ext && (f.vector == kTS || f.vector == kNP || f.vector == kSS || f.vector == kGP)) f.error |= 1;
    throw;
  }
}

}  // namespace pc64
