// Segmentation: descriptor loads and their checks, the per-segment access
// checks the memory fast path uses, mode bookkeeping, far JMP/CALL/RET and
// IRET (SDM Vol. 3A ch. 3, 5; Vol. 2 JMP/CALL/RET/IRET pseudo-code).
#include "cpu/core.h"
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

void Core::update_segment_checks(unsigned seg) {
  const Segment& sg = s.seg[seg];
  SegmentCheck& c = segchk[seg];
  if (mode64()) {
    // 64-bit mode: no limit or type checks; only FS/GS have a base (SDM 3.2.4).
    c.base = (seg == FS || seg == GS) ? sg.base : 0;
    c.lo = 0;
    c.hi = ~0ull;
    c.readable = c.writable = true;
    c.flat = true;
    hit_base[seg] = c.base;
    return;
  }
  c.base = sg.base & 0xFFFFFFFF;
  if (!protected_mode()) {
    // Real and V86 mode: base = selector * 16, the cached limit still applies
    // ("unreal" mode keeps a 4 GiB limit loaded in protected mode).
    c.readable = c.writable = true;
    c.lo = 0;
    c.hi = sg.limit;
  } else if (seg != CS && (sg.selector & ~3) == 0) {
    c.readable = c.writable = false;  // null selector: any access is #GP(0)
    c.lo = 1;
    c.hi = 0;
  } else {
    c.readable = sg.readable();
    c.writable = sg.writable();
    if (sg.expand_down()) {
      c.lo = uint64_t(sg.limit) + 1;
      c.hi = sg.db() ? 0xFFFFFFFF : 0xFFFF;
    } else {
      c.lo = 0;
      c.hi = sg.limit;
    }
  }
  c.flat = c.base == 0 && c.lo == 0 && c.hi == 0xFFFFFFFF && c.readable && c.writable;
  hit_base[seg] = c.flat ? 0 : kNoHitBase;
}

void Core::update_mode() {
  ++chain_epoch;
  if (long_mode() && protected_mode() && s.seg[CS].l()) code_mode = 2;
  else if (protected_mode() && s.seg[CS].db()) code_mode = 1;
  else code_mode = 0;
  stack_mode = code_mode == 2 ? 2 : (s.seg[SS].db() ? 1 : 0);
  for (unsigned k = 0; k < kSegCount; ++k) update_segment_checks(k);
  update_ac_check();  // CPL or CR0 may have changed
  tlb_set = tlb.set(user());
  if (dbg.events()) dbg.on_mode(*this);
}

void Core::set_segment(unsigned seg, const Segment& sc) {
  s.seg[seg] = sc;
  if (seg == CS || seg == SS) update_mode();
  else update_segment_checks(seg);
}

void Core::load_segment_real(unsigned seg, uint16_t sel) {
  Segment sc = s.seg[seg];
  sc.selector = sel;
  sc.base = uint64_t(sel) << 4;
  if (v86()) {
    sc.limit = 0xFFFF;
    sc.attr = seg == CS ? 0xFB : 0xF3;  // present, DPL 3, accessed code/data (SDM 20.1.1)
  }
  set_segment(seg, sc);
}

bool Core::read_descriptor(uint16_t sel, Descriptor& d, bool wide) {
  uint64_t base;
  uint32_t limit;
  if (sel & 4) {
    if ((s.ldtr.selector & ~3) == 0 || !s.ldtr.present()) return false;
    base = s.ldtr.base;
    limit = s.ldtr.limit;
  } else {
    base = s.gdtr.base;
    limit = s.gdtr.limit;
  }
  uint32_t idx = sel & ~7u;
  if (idx + (wide ? 15u : 7u) > limit) return false;
  d.lo = read_sys<uint32_t>(base + idx);
  d.hi = read_sys<uint32_t>(base + idx + 4);
  d.hi2 = wide ? read_sys<uint32_t>(base + idx + 8) : 0;
  return true;
}

void Core::set_accessed(uint16_t sel, Descriptor& d) {
  if (!d.s() || (d.hi & 0x100)) return;
  d.hi |= 0x100;
  uint64_t base = (sel & 4) ? s.ldtr.base : s.gdtr.base;
  write_sys<uint32_t>(base + (sel & ~7u) + 4, d.hi);
}

Segment Core::segment_from(uint16_t sel, const Descriptor& d) const {
  Segment sc;
  sc.selector = sel;
  sc.base = d.base();
  if (!d.s() && mode64()) sc.base |= uint64_t(d.hi2) << 32;
  sc.limit = d.limit();
  sc.attr = d.attr();
  return sc;
}

void Core::load_segment(unsigned seg, uint16_t sel) {
  if (!protected_mode()) {
    load_segment_real(seg, sel);
    return;
  }
  const uint32_t err = sel & ~3u;
  const unsigned rpl = sel & 3;
  if ((sel & ~3) == 0) {
    // Null selector: allowed except in SS (64-bit mode lets CPL<3 load a null SS
    // with RPL = CPL, SDM Vol. 2 MOV).
    if (seg == SS && !(mode64() && s.cpl != 3 && rpl == s.cpl)) gp(0);
    Segment sc;
    sc.selector = sel;
    sc.attr = 0;
    if (seg == SS) sc.attr = static_cast<uint16_t>(0x93 | (s.cpl << 5) | 0x4000);  // usable 64-bit null SS
    set_segment(seg, sc);
    return;
  }
  Descriptor d;
  if (!read_descriptor(sel, d)) gp(err);
  const bool code = d.s() && (d.type() & 8);
  const unsigned dpl = d.dpl();
  if (seg == SS) {
    if (rpl != s.cpl || dpl != s.cpl || !d.s() || code || !(d.type() & 2)) gp(err);
    if (!d.present()) raise(kSS, err);
  } else {
    if (!d.s() || (code && !(d.type() & 2))) gp(err);
    const bool conforming = code && (d.type() & 4);
    if (!conforming && (rpl > dpl || s.cpl > dpl)) gp(err);
    if (!d.present()) raise(kNP, err);
  }
  set_accessed(sel, d);
  set_segment(seg, segment_from(sel, d));
}

// ---- far transfers ----

namespace {
// Loads CS for a transfer to `sel` whose descriptor `d` was checked; the new
// CPL is `cpl` (RPL of CS is forced to it).
void enter_code_segment(Core& c, uint16_t sel, Core::Descriptor& d, unsigned cpl) {
  c.set_accessed(sel, d);
  Segment sc = c.segment_from(static_cast<uint16_t>((sel & ~3u) | cpl), d);
  c.s.cpl = cpl;
  c.s.seg[CS] = sc;
  c.update_mode();
}

void check_target_offset(Core& c, uint64_t off) {
  if (c.mode64()) {
    if (!is_canonical48(off)) c.gp(0);
  } else if (off > c.s.seg[CS].limit) {
    c.gp(0);
  }
}

// After a return to an outer privilege level, data segment registers the new
// CPL may not use are nulled (SDM Vol. 2 RET, IRET).
void null_inaccessible_segments(Core& c) {
  for (unsigned seg : {ES, DS, FS, GS}) {
    const Segment& sg = c.s.seg[seg];
    bool data_or_nc = !sg.is_code() || !sg.conforming();
    if ((sg.selector & ~3) != 0 && data_or_nc && sg.dpl() < c.s.cpl) {
      Segment z;
      z.selector = 0;
      c.set_segment(seg, z);
    }
  }
}

// Reads the stack pointer for privilege level `dpl` from the TSS.
void tss_stack(Core& c, unsigned dpl, uint16_t& ss, uint64_t& sp) {
  const Segment& tr = c.s.tr;
  if (c.long_mode()) {
    uint32_t off = 4 + dpl * 8;
    if (off + 7 > tr.limit) c.raise(kTS, tr.selector & ~3u);
    sp = c.read_sys<uint64_t>(tr.base + off);
    ss = static_cast<uint16_t>(dpl);
    return;
  }
  if ((tr.type() & 8) != 0) {  // 32-bit TSS
    uint32_t off = 4 + dpl * 8;
    if (off + 5 > tr.limit) c.raise(kTS, tr.selector & ~3u);
    sp = c.read_sys<uint32_t>(tr.base + off);
    ss = c.read_sys<uint16_t>(tr.base + off + 4);
  } else {  // 16-bit TSS
    uint32_t off = 2 + dpl * 4;
    if (off + 3 > tr.limit) c.raise(kTS, tr.selector & ~3u);
    sp = c.read_sys<uint16_t>(tr.base + off);
    ss = c.read_sys<uint16_t>(tr.base + off + 2);
  }
}

// Validates and loads a new SS for a privilege change to `cpl`.
Segment checked_stack_segment(Core& c, uint16_t ss, unsigned cpl) {
  if ((ss & ~3) == 0) {
    if (c.long_mode()) {
      Segment z;
      z.selector = static_cast<uint16_t>(cpl);
      z.attr = static_cast<uint16_t>(0x93 | (cpl << 5));
      return z;
    }
    c.raise(kTS, 0);
  }
  Core::Descriptor d;
  if (!c.read_descriptor(ss, d)) c.raise(kTS, ss & ~3u);
  if ((ss & 3) != cpl || d.dpl() != cpl || !d.s() || (d.type() & 8) || !(d.type() & 2)) c.raise(kTS, ss & ~3u);
  if (!d.present()) c.raise(kSS, ss & ~3u);
  c.set_accessed(ss, d);
  return c.segment_from(ss, d);
}

// A far JMP/CALL's selector: null is #GP(0), outside its table #GP(sel).
Core::Descriptor far_target_descriptor(Core& c, uint16_t sel) {
  if ((sel & ~3) == 0) c.gp(0);
  Core::Descriptor d;
  if (!c.read_descriptor(sel, d)) c.gp(sel & ~3u);
  return d;
}

// A direct far JMP/CALL to a code segment (SDM Vol. 2A, JMP and CALL): it
// must be code; conforming needs DPL <= CPL, non-conforming RPL <= CPL and
// DPL = CPL; then present (#NP).
void check_direct_code_target(Core& c, uint16_t sel, const Core::Descriptor& d) {
  const uint32_t err = sel & ~3u;
  if (!(d.type() & 8)) c.gp(err);
  if (d.type() & 4) {
    if (d.dpl() > c.s.cpl) c.gp(err);
  } else if ((sel & 3) > c.s.cpl || d.dpl() != c.s.cpl) {
    c.gp(err);
  }
  if (!d.present()) c.raise(kNP, err);
}
}  // namespace

void Core::far_jump(uint16_t sel, uint64_t offset, unsigned osize) {
  if (!protected_mode()) {
    load_segment_real(CS, sel);
    next_rip = offset & kAddrMask[osize == 1 ? 0 : 1];
    update_mode();
    return;
  }
  const uint32_t err = sel & ~3u;
  Descriptor d = far_target_descriptor(*this, sel);  // enter_code_segment sets its accessed bit
  if (d.s()) {
    check_direct_code_target(*this, sel, d);
    Segment old = s.seg[CS];
    unsigned old_mode = code_mode;
    enter_code_segment(*this, sel, d, s.cpl);
    uint64_t target = code_mode == 2 ? offset : offset & kAddrMask[osize == 1 ? 0 : 1];
    try {
      check_target_offset(*this, target);
    } catch (...) {
      s.seg[CS] = old;
      code_mode = old_mode;
      update_mode();
      throw;
    }
    next_rip = target;
    return;
  }
  // System descriptor: call gate (JMP through a gate never changes CPL).
  unsigned type = d.type();
  if (type == 4 || type == 0xC) {
    Descriptor gd = d;
    if (long_mode()) {
      if (type != 0xC || !read_descriptor(sel, gd, true)) gp(err);
    }
    if (d.dpl() < s.cpl || d.dpl() < (sel & 3)) gp(err);
    if (!d.present()) raise(kNP, err);
    uint16_t tsel = static_cast<uint16_t>(gd.lo >> 16);
    uint64_t toff = (gd.lo & 0xFFFF) | (type == 0xC ? (gd.hi & 0xFFFF0000u) : 0);
    if (long_mode()) toff |= uint64_t(gd.hi2) << 32;
    if ((tsel & ~3) == 0) gp(0);
    Descriptor cd;
    if (!read_descriptor(tsel, cd)) gp(tsel & ~3u);
    if (!cd.s() || !(cd.type() & 8)) gp(tsel & ~3u);
    if ((cd.type() & 4) ? cd.dpl() > s.cpl : cd.dpl() != s.cpl) gp(tsel & ~3u);
    if (!cd.present()) raise(kNP, tsel & ~3u);
    enter_code_segment(*this, tsel, cd, s.cpl);
    if (!mode64() && type == 4) toff &= 0xFFFF;
    check_target_offset(*this, toff);
    next_rip = toff;
    return;
  }
  if (type == 1 || type == 9 || type == 5) {  // TSS or task gate (SDM 7.3)
    if (d.dpl() < s.cpl || d.dpl() < (sel & 3)) gp(err);
    task_gate_or_tss(sel, d, TaskSwitchReason::Jmp, next_rip);
    return;
  }
  gp(err);
}

void Core::far_call(uint16_t sel, uint64_t offset, unsigned osize) {
  // osize: log2 bytes of the operand size (1, 2, 3).
  const uint64_t ret_ip = next_rip;
  const uint16_t ret_cs = s.seg[CS].selector;
  auto push_ret = [&](unsigned sz) {
    if (sz == 1) {
      push<uint16_t>(ret_cs);
      push<uint16_t>(static_cast<uint16_t>(ret_ip));
    } else if (sz == 2) {
      push<uint32_t>(ret_cs);
      push<uint32_t>(static_cast<uint32_t>(ret_ip));
    } else {
      push<uint64_t>(ret_cs);
      push<uint64_t>(ret_ip);
    }
  };
  if (!protected_mode()) {
    uint64_t sp = s.gpr[RSP];
    try {
      push_ret(osize);
    } catch (...) {
      s.gpr[RSP] = sp;
      throw;
    }
    load_segment_real(CS, sel);
    next_rip = offset & kAddrMask[osize == 1 ? 0 : 1];
    return;
  }
  const uint32_t err = sel & ~3u;
  Descriptor d = far_target_descriptor(*this, sel);  // enter_code_segment sets its accessed bit
  if (d.s()) {
    check_direct_code_target(*this, sel, d);
    uint64_t sp = s.gpr[RSP];
    try {
      push_ret(osize);
    } catch (...) {
      s.gpr[RSP] = sp;
      throw;
    }
    enter_code_segment(*this, sel, d, s.cpl);
    uint64_t target = code_mode == 2 ? offset : offset & kAddrMask[osize == 1 ? 0 : 1];
    check_target_offset(*this, target);
    next_rip = target;
    return;
  }
  unsigned type = d.type();
  if (type == 1 || type == 9 || type == 5) {  // TSS or task gate (SDM 7.3)
    if (d.dpl() < s.cpl || d.dpl() < (sel & 3)) gp(err);
    task_gate_or_tss(sel, d, TaskSwitchReason::Call, next_rip);
    return;
  }
  if (type != 4 && type != 0xC) gp(err);
  Descriptor gd = d;
  if (long_mode() && (type != 0xC || !read_descriptor(sel, gd, true))) gp(err);
  if (d.dpl() < s.cpl || d.dpl() < (sel & 3)) gp(err);
  if (!d.present()) raise(kNP, err);
  uint16_t tsel = static_cast<uint16_t>(gd.lo >> 16);
  uint64_t toff = (gd.lo & 0xFFFF) | (type == 0xC ? (gd.hi & 0xFFFF0000u) : 0);
  if (long_mode()) toff |= uint64_t(gd.hi2) << 32;
  if ((tsel & ~3) == 0) gp(0);
  Descriptor cd;
  if (!read_descriptor(tsel, cd)) gp(tsel & ~3u);
  if (!cd.s() || !(cd.type() & 8) || cd.dpl() > s.cpl) gp(tsel & ~3u);
  if (!cd.present()) raise(kNP, tsel & ~3u);
  const unsigned gsize = long_mode() ? 3 : (type == 0xC ? 2 : 1);
  const unsigned nparams = long_mode() ? 0 : (d.hi & 0x1F);
  if (!(cd.type() & 4) && cd.dpl() < s.cpl) {
    // More privileged: switch to the inner stack from the TSS, copy
    // parameters, push the caller's SS:ESP (SDM Vol. 3A 5.8.5).
    unsigned ncpl = cd.dpl();
    uint16_t nss;
    uint64_t nsp;
    tss_stack(*this, ncpl, nss, nsp);
    Segment nss_seg = checked_stack_segment(*this, nss, ncpl);
    const uint16_t old_ss = s.seg[SS].selector;
    const uint64_t old_sp = s.gpr[RSP];
    const uint64_t old_spm = rsp();
    uint32_t params[32];
    for (unsigned k = 0; k < nparams; ++k)
      params[k] = gsize == 2 ? read<uint32_t>(SS, (old_spm + 4 * k) & sp_mask())
                             : read<uint16_t>(SS, (old_spm + 2 * k) & sp_mask());
    Segment old_ss_seg = s.seg[SS];
    unsigned old_cpl = s.cpl;
    s.cpl = ncpl;
    s.seg[SS] = nss_seg;
    update_mode();
    s.gpr[RSP] = nsp;
    try {
      if (gsize == 3) {
        push<uint64_t>(old_ss);
        push<uint64_t>(old_sp);
      } else if (gsize == 2) {
        push<uint32_t>(old_ss);
        push<uint32_t>(static_cast<uint32_t>(old_sp));
        for (unsigned k = nparams; k-- > 0;) push<uint32_t>(params[k]);
      } else {
        push<uint16_t>(old_ss);
        push<uint16_t>(static_cast<uint16_t>(old_sp));
        for (unsigned k = nparams; k-- > 0;) push<uint16_t>(static_cast<uint16_t>(params[k]));
      }
      push_ret(gsize);
    } catch (GuestFault& f) {
      s.cpl = old_cpl;
      s.seg[SS] = old_ss_seg;
      s.gpr[RSP] = old_sp;
      update_mode();
      // Overrunning the new stack names its selector (SDM Vol. 2 CALL: #SS(selector)).
      if (f.vector == kSS && f.error == 0) f.error = nss & ~3u;
      throw;
    }
    enter_code_segment(*this, tsel, cd, ncpl);
  } else {
    push_ret(gsize);
    enter_code_segment(*this, tsel, cd, s.cpl);
  }
  if (!mode64() && gsize == 1) toff &= 0xFFFF;
  check_target_offset(*this, toff);
  next_rip = toff;
}

void Core::far_return(unsigned osize, uint16_t pop_bytes) {
  const unsigned w = 1u << osize;
  auto rd = [&](unsigned k) -> uint64_t {
    uint64_t a = (s.gpr[RSP] + k * w) & sp_mask();
    return w == 2 ? read<uint16_t>(SS, a) : w == 4 ? read<uint32_t>(SS, a) : read<uint64_t>(SS, a);
  };
  uint64_t ip = rd(0);
  uint16_t sel = static_cast<uint16_t>(rd(1));
  if (!protected_mode()) {
    load_segment_real(CS, sel);
    set_rsp(rsp() + 2 * w + pop_bytes);
    next_rip = ip & kAddrMask[osize == 1 ? 0 : 1];
    return;
  }
  const uint32_t err = sel & ~3u;
  const unsigned rpl = sel & 3;
  if ((sel & ~3) == 0) gp(0);
  Descriptor d;
  if (!read_descriptor(sel, d)) gp(err);
  if (!d.s() || !(d.type() & 8) || rpl < s.cpl) gp(err);
  if ((d.type() & 4) ? d.dpl() > rpl : d.dpl() != rpl) gp(err);
  if (!d.present()) raise(kNP, err);
  if (rpl == s.cpl) {
    enter_code_segment(*this, sel, d, rpl);
    set_rsp(rsp() + 2 * w + pop_bytes);
    next_rip = code_mode == 2 ? ip : ip & kAddrMask[osize == 1 ? 0 : 1];
    return;
  }
  // Return to an outer level: SS:ESP follow the parameters.
  uint64_t nsp = rd(2 + pop_bytes / w);
  uint16_t nss = static_cast<uint16_t>(rd(3 + pop_bytes / w));
  Segment nss_seg;
  if ((nss & ~3) == 0 && long_mode() && rpl != 3 && d.l()) {
    nss_seg.selector = nss;
    nss_seg.attr = static_cast<uint16_t>(0x93 | (rpl << 5));
  } else {
    if ((nss & ~3) == 0) gp(0);
    Descriptor sd;
    if (!read_descriptor(nss, sd)) gp(nss & ~3u);
    if ((nss & 3) != rpl || sd.dpl() != rpl || !sd.s() || (sd.type() & 8) || !(sd.type() & 2)) gp(nss & ~3u);
    if (!sd.present()) raise(kSS, nss & ~3u);
    set_accessed(nss, sd);
    nss_seg = segment_from(nss, sd);
  }
  enter_code_segment(*this, sel, d, rpl);
  s.seg[SS] = nss_seg;
  update_mode();
  s.gpr[RSP] = nsp + pop_bytes;
  if (stack_mode == 1) s.gpr[RSP] &= 0xFFFFFFFF;
  next_rip = code_mode == 2 ? ip : ip & kAddrMask[osize == 1 ? 0 : 1];
  null_inaccessible_segments(*this);
}

void Core::iret(unsigned osize) {
  const unsigned w = 1u << osize;
  auto rd = [&](unsigned k) -> uint64_t {
    uint64_t a = (s.gpr[RSP] + k * w) & sp_mask();
    return w == 2 ? read<uint16_t>(SS, a) : w == 4 ? read<uint32_t>(SS, a) : read<uint64_t>(SS, a);
  };
  nmi_blocked = false;
  if (!(s.cr0 & CR0_PE) || v86()) {
    // Virtual-8086 mode with IOPL < 3 needs CR4.VME and a 16-bit IRET, which
    // then sets VIF from the image's IF (SDM Vol. 3A 20.3.2, Vol. 2 IRET).
    const bool virt = v86() && ((s.rflags & IOPL) >> 12) != 3;
    if (virt && (!(s.cr4 & CR4_VME) || osize != 1)) gp(0);
    uint64_t ip = rd(0);
    uint16_t sel = static_cast<uint16_t>(rd(1));
    uint64_t fl = rd(2);
    if (osize == 1 && ip > s.seg[CS].limit) gp(0);
    if (virt) {
      if (((fl & IF) && (s.rflags & VIP)) || (fl & TF)) gp(0);
      load_segment_real(CS, sel);
      set_rsp(rsp() + 3 * w);
      write_rflags(fl, 0xFFFF & ~uint64_t(IOPL | IF));
      s.rflags = (s.rflags & ~uint64_t(VIF)) | ((fl & IF) ? VIF : 0);
      next_rip = ip;
      return;
    }
    load_segment_real(CS, sel);
    set_rsp(rsp() + 3 * w);
    uint64_t mask = (osize == 1 ? 0xFFFF : 0x257FD5) & ~uint64_t(VM | VIF | VIP);
    if (v86()) mask &= ~uint64_t(IOPL);
    write_rflags(fl, mask);
    next_rip = ip;
    return;
  }
  materialize_flags();
  if (s.rflags & NT) {
    if (long_mode()) gp(0);
    // Return to the previous task through the back link (SDM 7.3, IRET).
    uint16_t link = read_sys<uint16_t>(s.tr.base);
    Descriptor ld;
    if ((link & 4) || (link & ~3) == 0 || !read_descriptor(link, ld)) raise(kTS, link & ~3u);
    task_switch(link, ld, TaskSwitchReason::Iret, next_rip);
    return;
  }
  uint64_t ip = rd(0);
  uint16_t sel = static_cast<uint16_t>(rd(1));
  uint64_t fl = rd(2);
  if (osize == 1) fl = (s.rflags & ~0xFFFFull) | (fl & 0xFFFF);
  // Which flags may change (SDM Vol. 2 IRET): IOPL only at CPL 0, IF if CPL <= IOPL.
  auto flag_mask = [&](unsigned cpl) {
    uint64_t m = CF | PF | AF | ZF | SF | TF | DF | OF | NT | RF | AC | ID;
    if (cpl == 0) m |= IOPL | VIF | VIP;
    if (cpl <= ((s.rflags & IOPL) >> 12)) m |= IF;
    if (osize == 1) m &= 0xFFFF;
    return m;
  };
  if ((fl & VM) && s.cpl == 0 && !long_mode() && osize == 2) {
    // Return to virtual-8086 mode (SDM Vol. 3A 20.3).
    uint64_t nesp = rd(3);
    uint16_t nss = static_cast<uint16_t>(rd(4)), nes = static_cast<uint16_t>(rd(5)),
             nds = static_cast<uint16_t>(rd(6)), nfs = static_cast<uint16_t>(rd(7)),
             ngs = static_cast<uint16_t>(rd(8));
    write_rflags(fl, 0x3F7FD5);
    s.cpl = 3;
    for (auto [seg, v] : {std::pair<unsigned, uint16_t>{CS, sel}, {SS, nss}, {ES, nes}, {DS, nds}, {FS, nfs}, {GS, ngs}})
      load_segment_real(seg, v);
    update_mode();
    s.gpr[RSP] = nesp & 0xFFFF;
    next_rip = ip & 0xFFFF;
    return;
  }
  const uint32_t err = sel & ~3u;
  const unsigned rpl = sel & 3;
  if ((sel & ~3) == 0) gp(0);
  Descriptor d;
  if (!read_descriptor(sel, d)) gp(err);
  if (!d.s() || !(d.type() & 8) || rpl < s.cpl) gp(err);
  if ((d.type() & 4) ? d.dpl() > rpl : d.dpl() != rpl) gp(err);
  if (!d.present()) raise(kNP, err);
  const uint64_t mask = flag_mask(s.cpl);
  const bool pops_stack = rpl > s.cpl || mode64();
  if (!pops_stack) {
    enter_code_segment(*this, sel, d, rpl);
    set_rsp(rsp() + 3 * w);
    write_rflags(fl, mask);
    next_rip = code_mode == 2 ? ip : ip & kAddrMask[osize == 1 ? 0 : 1];
    return;
  }
  uint64_t nsp = rd(3);
  uint16_t nss = static_cast<uint16_t>(rd(4));
  Segment nss_seg;
  if ((nss & ~3) == 0 && long_mode() && (d.l() ? rpl != 3 : false)) {
    nss_seg.selector = nss;
    nss_seg.attr = static_cast<uint16_t>(0x93 | (rpl << 5));
  } else {
    if ((nss & ~3) == 0) gp(0);
    Descriptor sd;
    if (!read_descriptor(nss, sd)) gp(nss & ~3u);
    if ((nss & 3) != rpl || sd.dpl() != rpl || !sd.s() || (sd.type() & 8) || !(sd.type() & 2)) gp(nss & ~3u);
    if (!sd.present()) raise(kSS, nss & ~3u);
    set_accessed(nss, sd);
    nss_seg = segment_from(nss, sd);
  }
  const unsigned old_cpl = s.cpl;
  enter_code_segment(*this, sel, d, rpl);
  s.seg[SS] = nss_seg;
  update_mode();
  s.gpr[RSP] = stack_mode == 2 ? nsp : stack_mode == 1 ? (nsp & 0xFFFFFFFF) : (s.gpr[RSP] & ~0xFFFFull) | (nsp & 0xFFFF);
  write_rflags(fl, flag_mask(old_cpl));
  next_rip = code_mode == 2 ? ip : ip & kAddrMask[osize == 1 ? 0 : 1];
  if (rpl > old_cpl) null_inaccessible_segments(*this);
}

// ---- segment-register instructions ----

namespace {

void h_mov_sreg_from_r(Core& c, const Insn& i) {  // MOV Sreg, r16
  uint16_t sel = static_cast<uint16_t>(c.s.gpr[i.r1]);
  if (i.r0 == CS) c.ud();
  c.load_segment(i.r0, sel);
  if (i.r0 == SS) c.set_ss_shadow();
}
void h_mov_sreg_from_m(Core& c, const Insn& i) {
  uint16_t sel = c.mem_read<uint16_t>(i);
  if (i.r0 == CS) c.ud();
  c.load_segment(i.r0, sel);
  if (i.r0 == SS) c.set_ss_shadow();
}
template <class T> struct MovRFromSreg {
  template <class U> static void fn(Core& c, const Insn& i) {
    // MOV r32/r64, Sreg zero-extends the selector (SDM Vol. 2 MOV).
    c.set_reg<U>(i.r0, static_cast<U>(c.s.seg[i.r1].selector));
  }
};
void h_mov_m_from_sreg(Core& c, const Insn& i) { c.mem_write<uint16_t>(i, c.s.seg[i.r1].selector); }

template <unsigned SEG> struct PushSeg {
  template <class T> static void fn(Core& c, const Insn&) {
    // A 32-bit push of a segment register writes 16 bits on recent CPUs and
    // leaves the upper half alone; we store the zero-extended value (as older
    // processors do), which guests cannot rely on either way.
    c.push<T>(static_cast<T>(c.s.seg[SEG].selector));
  }
};
template <unsigned SEG> struct PopSeg {
  template <class T> static void fn(Core& c, const Insn&) {
    uint16_t sel = static_cast<uint16_t>(c.peek<T>());
    c.load_segment(SEG, sel);
    c.set_rsp(c.rsp() + sizeof(T));
    if (SEG == SS) c.set_ss_shadow();
  }
};

template <unsigned SEG> struct LoadFarPointer {
  template <class T> static void fn(Core& c, const Insn& i) {
    uint64_t off = c.ea(i);
    T v = c.read<T>(i.seg, off);
    uint16_t sel = c.read<uint16_t>(i.seg, (off + sizeof(T)) & Core::kAddrMask[i.asize]);
    c.load_segment(SEG, sel);
    c.set_reg<T>(i.r0, v);
    if (SEG == SS) c.set_ss_shadow();
  }
};

template <template <unsigned> class H> Handler seg_handler(unsigned seg, unsigned size) {
  switch (seg) {
    case ES: return by_size_wide_plain<H<ES>>(size);
    case CS: return by_size_wide_plain<H<CS>>(size);
    case SS: return by_size_wide_plain<H<SS>>(size);
    case DS: return by_size_wide_plain<H<DS>>(size);
    case FS: return by_size_wide_plain<H<FS>>(size);
    default: return by_size_wide_plain<H<GS>>(size);
  }
}

// ---- LLDT/SLDT/LTR/STR/LAR/LSL/VERR/VERW/ARPL (SDM Vol. 2) ----
uint16_t selector_operand(Core& c, const Insn& i) {
  return (i.flags & kInsnHasMem) ? c.mem_read<uint16_t>(i) : static_cast<uint16_t>(c.s.gpr[i.r0]);
}
void store_selector(Core& c, const Insn& i, uint16_t v) {
  if (i.flags & kInsnHasMem) c.mem_write<uint16_t>(i, v);
  else if (i.osize == 1) c.set_reg<uint16_t>(i.r0, v);
  else c.s.gpr[i.r0] = v;  // register destinations are zero-extended
}
void require_protected(Core& c) {
  if (!c.protected_mode()) c.ud();
}
void require_cpl0(Core& c) {
  if (c.s.cpl != 0) c.gp(0);
}

void h_lldt(Core& c, const Insn& i) {
  require_protected(c);
  require_cpl0(c);
  uint16_t sel = selector_operand(c, i);
  if ((sel & ~3) == 0) {
    c.s.ldtr = Segment{};
    return;
  }
  if (sel & 4) c.gp(sel & ~3u);
  Core::Descriptor d;
  if (!c.read_descriptor(sel, d, c.long_mode())) c.gp(sel & ~3u);
  if (d.s() || d.type() != 2) c.gp(sel & ~3u);
  if (!d.present()) c.raise(kNP, sel & ~3u);
  Segment sc;
  sc.selector = sel;
  sc.base = d.base() | (c.long_mode() ? uint64_t(d.hi2) << 32 : 0);
  sc.limit = d.limit();
  sc.attr = d.attr();
  c.s.ldtr = sc;
}
void h_sldt(Core& c, const Insn& i) {
  require_protected(c);
  store_selector(c, i, c.s.ldtr.selector);
}
void h_ltr(Core& c, const Insn& i) {
  require_protected(c);
  require_cpl0(c);
  uint16_t sel = selector_operand(c, i);
  if ((sel & ~3) == 0 || (sel & 4)) c.gp(sel & ~3u);
  Core::Descriptor d;
  if (!c.read_descriptor(sel, d, c.long_mode())) c.gp(sel & ~3u);
  // Available TSS: type 1 (16-bit) or 9 (32/64-bit).
  if (d.s() || (d.type() != 9 && (d.type() != 1 || c.long_mode()))) c.gp(sel & ~3u);
  if (!d.present()) c.raise(kNP, sel & ~3u);
  d.hi |= 0x200;  // busy
  uint64_t base = c.s.gdtr.base + (sel & ~7u);
  c.write_sys<uint32_t>(base + 4, d.hi);
  Segment sc;
  sc.selector = sel;
  sc.base = d.base() | (c.long_mode() ? uint64_t(d.hi2) << 32 : 0);
  sc.limit = d.limit();
  sc.attr = d.attr();
  c.s.tr = sc;
}
void h_str(Core& c, const Insn& i) {
  require_protected(c);
  store_selector(c, i, c.s.tr.selector);
}

// LAR/LSL/VERR/VERW: ZF tells whether the selector is visible at this CPL/RPL.
bool visible_descriptor(Core& c, uint16_t sel, Core::Descriptor& d, bool for_lsl, bool for_lar) {
  if ((sel & ~3) == 0) return false;
  if (!c.read_descriptor(sel, d)) return false;
  if (!d.s()) {
    unsigned t = d.type();
    bool ok;
    if (c.long_mode()) ok = t == 2 || t == 9 || t == 0xB || (for_lar && t == 0xC);
    else ok = t == 1 || t == 2 || t == 3 || t == 9 || t == 0xB || (for_lar && (t == 4 || t == 5 || t == 0xC));
    (void)for_lsl;
    if (!ok) return false;
  }
  bool conforming_code = d.s() && (d.type() & 0xC) == 0xC;
  if (!conforming_code && (d.dpl() < c.s.cpl || d.dpl() < (sel & 3))) return false;
  return true;
}
template <class T> struct Lar {
  template <class U> static void fn(Core& c, const Insn& i) {
    require_protected(c);
    uint16_t sel = (i.flags & kInsnHasMem) ? c.mem_read<uint16_t>(i) : static_cast<uint16_t>(c.s.gpr[i.r1]);
    Core::Descriptor d;
    bool ok = visible_descriptor(c, sel, d, false, true);
    c.set_flags(ZF, ok ? ZF : 0);
    if (ok) c.set_reg<U>(i.r0, static_cast<U>(d.hi & 0x00F0FF00));
  }
};
template <class T> struct Lsl {
  template <class U> static void fn(Core& c, const Insn& i) {
    require_protected(c);
    uint16_t sel = (i.flags & kInsnHasMem) ? c.mem_read<uint16_t>(i) : static_cast<uint16_t>(c.s.gpr[i.r1]);
    Core::Descriptor d;
    bool ok = visible_descriptor(c, sel, d, true, false);
    c.set_flags(ZF, ok ? ZF : 0);
    if (ok) c.set_reg<U>(i.r0, static_cast<U>(d.limit()));
  }
};
template <bool W> void h_verx(Core& c, const Insn& i) {
  require_protected(c);
  uint16_t sel = selector_operand(c, i);
  Core::Descriptor d;
  bool ok = visible_descriptor(c, sel, d, false, false) && d.s();
  if (ok) {
    bool code = d.type() & 8;
    ok = W ? (!code && (d.type() & 2)) : (!code || (d.type() & 2));
  }
  c.set_flags(ZF, ok ? ZF : 0);
}
template <class D> void h_arpl(Core& c, const Insn& i) {
  if (!c.protected_mode()) c.ud();
  uint16_t src = static_cast<uint16_t>(c.s.gpr[i.r1]);
  bool changed = false;
  modify<D, uint16_t>(c, i, [&](uint16_t dst) -> uint16_t {
    if ((dst & 3) < (src & 3)) {
      changed = true;
      return static_cast<uint16_t>((dst & ~3) | (src & 3));
    }
    return dst;
  });
  c.set_flags(ZF, changed ? ZF : 0);
}

}  // namespace

bool build_mov_sreg(Insn& i, const Decoded& d) {
  set_operands(i, d);
  if (d.is_reg(0) && ZydisRegisterGetClass(d.op[0].reg.value) == ZYDIS_REGCLASS_SEGMENT) {
    i.r0 = seg_code(d.op[0].reg.value);
    if (i.r0 == CS) return false;
    if (d.is_reg(1)) {
      i.r1 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[1].reg.value));
      i.handler = &h_mov_sreg_from_r;
    } else {
      i.handler = &h_mov_sreg_from_m;
    }
    if (i.r0 == SS) i.flags |= kInsnEndsBlock;  // interrupt shadow
    return true;
  }
  i.r1 = seg_code(d.op[1].reg.value);
  if (d.is_reg(0)) {
    i.handler = by_size_wide_plain<MovRFromSreg<void>>(d.op_size(0));
  } else {
    i.handler = &h_mov_m_from_sreg;
  }
  return true;
}

bool build_push_sreg(Insn& i, const Decoded& d, bool pop) {
  unsigned seg = seg_code(d.op[0].reg.value);
  unsigned sz = d.osize();
  if (pop) {
    if (seg == CS) return false;
    i.handler = seg_handler<PopSeg>(seg, sz);
    if (seg == SS) i.flags |= kInsnEndsBlock;
  } else {
    i.handler = seg_handler<PushSeg>(seg, sz);
  }
  return true;
}

bool build_lfp(Insn& i, const Decoded& d, unsigned seg) {
  if (!d.is_mem(1)) return false;
  set_operands(i, d);
  unsigned sz = d.osize();
  switch (seg) {
    case ES: i.handler = by_size_wide_plain<LoadFarPointer<ES>>(sz); break;
    case SS: i.handler = by_size_wide_plain<LoadFarPointer<SS>>(sz); i.flags |= kInsnEndsBlock; break;
    case DS: i.handler = by_size_wide_plain<LoadFarPointer<DS>>(sz); break;
    case FS: i.handler = by_size_wide_plain<LoadFarPointer<FS>>(sz); break;
    default: i.handler = by_size_wide_plain<LoadFarPointer<GS>>(sz); break;
  }
  return true;
}

bool build_segop(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  switch (op) {
    case 0: i.handler = &h_lldt; i.flags |= kInsnEndsBlock; return true;
    case 1: i.handler = &h_sldt; return true;
    case 2: i.handler = &h_ltr; i.flags |= kInsnEndsBlock; return true;
    case 3: i.handler = &h_str; return true;
    case 4: i.handler = by_size_wide_plain<Lar<void>>(d.osize()); return true;
    case 5: i.handler = by_size_wide_plain<Lsl<void>>(d.osize()); return true;
    case 6: i.handler = &h_verx<false>; return true;
    case 7: i.handler = &h_verx<true>; return true;
    case 8:
      if (d.is_mem(0)) i.handler = &h_arpl<M>;
      else i.handler = &h_arpl<R0>;
      // ARPL's register operands are 16-bit GPR numbers.
      if (d.is_reg(0)) i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[0].reg.value));
      i.r1 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[1].reg.value));
      return true;
  }
  return false;
}

}  // namespace pc64
