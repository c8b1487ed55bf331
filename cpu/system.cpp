// System instructions and state: control/debug registers, EFER and MSRs,
// descriptor-table registers, CPUID/RDTSC/RDMSR/WRMSR, HLT, CLI/STI,
// SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS (SDM Vol. 2, Vol. 3A ch. 2, 5).
#include "cpu/decoder.h"
#include "cpu/operands.h"
#include "mem/log.h"

namespace pc64 {

// ---------------- control registers ----------------

void Core::write_cr0(uint64_t v) {
  if (v >> 32) gp(0);
  v |= CR0_ET;  // hard-wired to 1 since the 486
  if ((v & CR0_PG) && !(v & CR0_PE)) gp(0);
  if ((v & CR0_NW) && !(v & CR0_CD)) gp(0);
  const uint64_t old = s.cr0;
  if ((v & CR0_PG) && !(old & CR0_PG) && (s.efer & EFER_LME)) {
    if (!(s.cr4 & CR4_PAE)) gp(0);  // IA-32e needs PAE (SDM 9.8.5)
    if (s.seg[CS].l()) gp(0);
    s.efer |= EFER_LMA;
  }
  if (!(v & CR0_PG) && (old & CR0_PG)) {
    if (mode64()) gp(0);
    s.efer &= ~uint64_t(EFER_LMA);
  }
  // Entering PAE paging, or changing CD/NW under it, loads the PDPTE
  // registers; bad ones make the MOV fault with nothing changed (SDM 4.4.1).
  if ((v & CR0_PG) && (s.cr4 & CR4_PAE) && !(s.efer & EFER_LMA) && ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW)) &&
      !load_pdptes(s.cr3))
    gp(0);
  s.cr0 = v;
  if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) tlb.flush_all();
  if ((old ^ v) & CR0_PE) {
    // Entering or leaving protected mode: CPL follows CS.RPL once PE is set
    // (real mode runs at CPL 0).
    if (!(v & CR0_PE)) s.cpl = 0;
  }
  update_mode();
  exit_block = true;
}

void Core::write_cr3(uint64_t v) {
  if (long_mode() && (v >> kMaxPhysAddrBits)) gp(0);
  if (pae_paging() && !load_pdptes(v)) gp(0);  // SDM 4.4.1: #GP, CR3 unchanged
  s.cr3 = long_mode() ? v : (v & 0xFFFFFFFF);
  tlb.flush_non_global();
  ++chain_epoch;
  if (dbg.events()) dbg.on_cr3(*this, s.cr3);
}

void Core::write_cr4(uint64_t v) {
  // Supported: VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT, and
  // OSXSAVE because CPUID.1:ECX.XSAVE is set (SDM Vol. 3A 2.5: else #GP).
  constexpr uint64_t kSupported = 0x7FF | CR4_OSXSAVE;
  if (v & ~kSupported) gp(0);
  if (long_mode() && !(v & CR4_PAE)) gp(0);
  uint64_t old = s.cr4;
  // Under PAE paging, changing PAE, PGE or PSE reloads the PDPTE registers (SDM 4.4.1).
  if ((s.cr0 & CR0_PG) && (v & CR4_PAE) && !(s.efer & EFER_LMA) && ((old ^ v) & (CR4_PAE | CR4_PGE | CR4_PSE)) &&
      !load_pdptes(s.cr3))
    gp(0);
  s.cr4 = v;
  if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE)) tlb.flush_all();
  ++chain_epoch;
  exit_block = true;
}

void Core::write_efer(uint64_t v) {
  constexpr uint64_t kWritable = EFER_SCE | EFER_LME | EFER_NXE;
  if (v & ~(kWritable | EFER_LMA)) gp(0);
  if (((v ^ s.efer) & EFER_LME) && (s.cr0 & CR0_PG)) gp(0);
  s.efer = (s.efer & EFER_LMA) | (v & kWritable);
  tlb.flush_all();
  ++chain_epoch;
}

// ---------------- MSRs (SDM Vol. 4) ----------------

bool Core::read_msr(uint32_t idx, uint64_t& v) {
  switch (idx) {
    case 0x10: v = tsc(); return true;                 // IA32_TIME_STAMP_COUNTER
    case 0x17: v = 0; return true;                     // IA32_PLATFORM_ID
    case 0x1B: v = s.apic_base; return true;           // IA32_APIC_BASE
    case 0x3A: v = 1; return true;                     // IA32_FEATURE_CONTROL: locked, no VMX
    case 0x8B: v = s.bios_sign; return true;           // IA32_BIOS_SIGN_ID
    case 0xFE: v = 0x508; return true;                 // IA32_MTRRCAP: 8 variable, fixed, WC
    case 0x174: v = s.sysenter_cs; return true;
    case 0x175: v = s.sysenter_esp; return true;
    case 0x176: v = s.sysenter_eip; return true;
    case 0x1A0: v = s.misc_enable; return true;        // IA32_MISC_ENABLE
    case 0x277: v = s.pat; return true;                // IA32_PAT
    case 0x2FF: v = s.mtrr_def_type; return true;
    case 0x250: v = s.mtrr_fixed[0]; return true;
    case 0x258: v = s.mtrr_fixed[1]; return true;
    case 0x259: v = s.mtrr_fixed[2]; return true;
    case 0xC0000080: v = s.efer; return true;
    case 0xC0000081: v = s.star; return true;
    case 0xC0000082: v = s.lstar; return true;
    case 0xC0000083: v = s.cstar; return true;
    case 0xC0000084: v = s.sfmask; return true;
    case 0xC0000100: v = s.seg[FS].base; return true;
    case 0xC0000101: v = s.seg[GS].base; return true;
    case 0xC0000102: v = s.kernel_gs_base; return true;
    case 0xC0000103: v = s.tsc_aux; return true;
    default: break;
  }
  if (idx >= 0x268 && idx <= 0x26F) { v = s.mtrr_fixed[3 + idx - 0x268]; return true; }
  if (idx >= 0x200 && idx <= 0x20F) { v = s.mtrr_var[idx - 0x200]; return true; }
  return false;
}

namespace {

// Memory types an MTRR may hold (SDM Vol. 3A 11.11.2: UC WC WT WP WB) and
// those a PAT entry may hold (11.12.2: the same plus UC-). Others are #GP.
bool valid_mtrr_type(uint64_t t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }
bool valid_pat_type(uint64_t t) { return valid_mtrr_type(t) || t == 7; }
template <class F> bool every_byte(uint64_t v, F ok) {
  for (unsigned k = 0; k < 8; ++k)
    if (!ok((v >> (8 * k)) & 0xFF)) return false;
  return true;
}
constexpr uint64_t kPhysAddrHigh = ~0ull << kMaxPhysAddrBits;  // reserved above MAXPHYADDR

}  // namespace

bool Core::write_msr(uint32_t idx, uint64_t v) {
  auto canonical = [&](uint64_t a) { return is_canonical48(a); };
  // Reserved bits and invalid memory types raise #GP (the caller's false).
  if (idx == 0x277 && !every_byte(v, valid_pat_type)) return false;
  if (idx == 0x2FF && ((v & ~0xCFFull) || !valid_mtrr_type(v & 0xFF))) return false;  // IA32_MTRR_DEF_TYPE
  if ((idx == 0x250 || idx == 0x258 || idx == 0x259 || (idx >= 0x268 && idx <= 0x26F)) &&
      !every_byte(v, valid_mtrr_type))
    return false;  // fixed-range MTRRs: 8 types each
  if (idx >= 0x200 && idx <= 0x20F) {
    // IA32_MTRR_PHYSBASEn: type in 7:0, 11:8 reserved; PHYSMASKn: 10:0 reserved, V in bit 11.
    const bool mask = idx & 1;
    if (v & kPhysAddrHigh) return false;
    if (mask ? (v & 0x7FF) : ((v & 0xF00) || !valid_mtrr_type(v & 0xFF))) return false;
  }
  if (idx == 0xC0000103 && (v >> 32)) return false;  // IA32_TSC_AUX: 32 bits
  switch (idx) {
    case 0x10: s.tsc_offset = v - (time_base_ns + retired); return true;
    case 0x1B: s.apic_base = (v & ~0x6FFull) | (s.apic_base & 0x100); return true;  // BSP bit read-only
    case 0x79: return true;                                                        // BIOS_UPDT_TRIG: no microcode
    case 0x8B: s.bios_sign = v; return true;
    case 0x174: s.sysenter_cs = v & 0xFFFF; return true;
    case 0x175: if (!canonical(v)) return false; s.sysenter_esp = v; return true;
    case 0x176: if (!canonical(v)) return false; s.sysenter_eip = v; return true;
    case 0x1A0: s.misc_enable = v; return true;
    case 0x277: s.pat = v; return true;
    case 0x2FF: s.mtrr_def_type = v; return true;
    case 0x250: s.mtrr_fixed[0] = v; return true;
    case 0x258: s.mtrr_fixed[1] = v; return true;
    case 0x259: s.mtrr_fixed[2] = v; return true;
    case 0xC0000080: write_efer(v); return true;
    case 0xC0000081: s.star = v; return true;
    case 0xC0000082: if (!canonical(v)) return false; s.lstar = v; return true;
    case 0xC0000083: if (!canonical(v)) return false; s.cstar = v; return true;
    case 0xC0000084: s.sfmask = v & 0xFFFFFFFF; return true;
    case 0xC0000100: if (!canonical(v)) return false; s.seg[FS].base = v; update_segment_checks(FS); return true;
    case 0xC0000101: if (!canonical(v)) return false; s.seg[GS].base = v; update_segment_checks(GS); return true;
    case 0xC0000102: if (!canonical(v)) return false; s.kernel_gs_base = v; return true;
    case 0xC0000103: s.tsc_aux = v & 0xFFFFFFFF; return true;
    default: break;
  }
  if (idx >= 0x268 && idx <= 0x26F) { s.mtrr_fixed[3 + idx - 0x268] = v; return true; }
  if (idx >= 0x200 && idx <= 0x20F) { s.mtrr_var[idx - 0x200] = v; return true; }
  return false;
}

// ---------------- I/O permission ----------------

void Core::check_io(uint16_t port, unsigned size) {
  if (!(s.cr0 & CR0_PE)) return;
  if (!v86() && s.cpl <= ((s.rflags & IOPL) >> 12)) return;
  // TSS I/O permission bitmap (SDM Vol. 1 18.5.2): a 32/64-bit TSS with the
  // bitmap offset at 0x66; every bit for the accessed ports must be clear.
  const Segment& tr = s.tr;
  if (!tr.present() || (tr.type() != 9 && tr.type() != 0xB) || tr.limit < 0x67) gp(0);
  uint16_t base = read_sys<uint16_t>(tr.base + 0x66);
  uint32_t off = base + (port >> 3);
  if (off + 1 > tr.limit) gp(0);
  uint16_t bits = read_sys<uint16_t>(tr.base + off);
  if ((bits >> (port & 7)) & ((1u << size) - 1)) gp(0);
}

namespace {

void require_cpl0(Core& c) {
  if (c.s.cpl != 0 || c.v86()) c.gp(0);
}

enum SysOp : unsigned {
  kCpuid, kRdtsc, kRdtscp, kRdmsr, kWrmsr, kHlt, kCli, kSti, kClts, kWbinvd, kUd, kRdpmc,
  kSyscall, kSysret, kSysenter, kSysexit, kSwapgs,
};

// Flat code/data segments SYSCALL/SYSENTER load (SDM Vol. 2 SYSCALL).
Segment flat_segment(uint16_t sel, bool code, unsigned dpl, bool long64) {
  Segment sc;
  sc.selector = sel;
  sc.base = 0;
  sc.limit = 0xFFFFFFFF;
  sc.attr = static_cast<uint16_t>((code ? 0x9B : 0x93) | (dpl << 5) | 0x8000);  // present, accessed, G
  if (code && long64) sc.attr |= 0x2000;  // L
  else sc.attr |= 0x4000;                 // D/B
  return sc;
}

template <unsigned OP> void h_sys(Core& c, const Insn& i) {
  switch (OP) {
    case kCpuid: {
      uint32_t r[4];
      c.cpuid(static_cast<uint32_t>(c.s.gpr[RAX]), static_cast<uint32_t>(c.s.gpr[RCX]), r);
      c.s.gpr[RAX] = r[0];
      c.s.gpr[RBX] = r[1];
      c.s.gpr[RCX] = r[2];
      c.s.gpr[RDX] = r[3];
      break;
    }
    case kRdtsc:
    case kRdtscp: {
      if ((c.s.cr4 & CR4_TSD) && c.s.cpl != 0 && c.protected_mode()) c.gp(0);
      c.sync_retired(i);
      // TSC = virtual nanoseconds (a 1 GHz TSC): time at the start of this
      // run() plus one nanosecond per instruction retired so far.
      uint64_t t = c.tsc();
      c.s.gpr[RAX] = uint32_t(t);
      c.s.gpr[RDX] = uint32_t(t >> 32);
      if (OP == kRdtscp) c.s.gpr[RCX] = uint32_t(c.s.tsc_aux);
      break;
    }
    case kRdmsr: {
      require_cpl0(c);
      c.sync_retired(i);
      uint64_t v;
      if (!c.read_msr(static_cast<uint32_t>(c.s.gpr[RCX]), v)) {
        PC64_LOG(LogLevel::Debug, "cpu", "RDMSR of unknown MSR %#x", static_cast<uint32_t>(c.s.gpr[RCX]));
        c.gp(0);
      }
      c.s.gpr[RAX] = uint32_t(v);
      c.s.gpr[RDX] = uint32_t(v >> 32);
      break;
    }
    case kWrmsr: {
      require_cpl0(c);
      c.sync_retired(i);
      uint64_t v = (uint64_t(uint32_t(c.s.gpr[RDX])) << 32) | uint32_t(c.s.gpr[RAX]);
      if (!c.write_msr(static_cast<uint32_t>(c.s.gpr[RCX]), v)) {
        PC64_LOG(LogLevel::Debug, "cpu", "WRMSR of unknown MSR %#x", static_cast<uint32_t>(c.s.gpr[RCX]));
        c.gp(0);
      }
      c.exit_block = true;
      break;
    }
    case kHlt:
      require_cpl0(c);
      c.halted = true;
      c.irq_poll = true;  // leave the chained path (Core::run)
      c.exit_block = true;
      break;
    case kCli:
    case kSti: {
      if (c.protected_mode() || c.v86()) {
        unsigned iopl = (c.s.rflags & IOPL) >> 12;
        if (c.v86() ? iopl != 3 : c.s.cpl > iopl) {
          // Without the right to change IF: VME (virtual-8086 mode) and PVI
          // (CPL 3) let CLI/STI change VIF instead; STI faults while a
          // virtual interrupt is pending (VIP), so the monitor can deliver it
          // (SDM Vol. 3A 20.3.2, 20.4).
          const bool virt = c.v86() ? (c.s.cr4 & CR4_VME) : (c.s.cpl == 3 && (c.s.cr4 & CR4_PVI));
          if (!virt || (OP == kSti && (c.s.rflags & VIP))) c.gp(0);
          if (OP == kCli) c.s.rflags &= ~uint64_t(VIF);
          else c.s.rflags |= VIF;
          break;
        }
      }
      if (OP == kCli) {
        c.s.rflags &= ~uint64_t(IF);
      } else {
        if (!(c.s.rflags & IF)) {
          c.irq_shadow = 1;  // one-instruction shadow (SDM Vol. 2 STI)
          c.irq_poll = true;
        }
        c.s.rflags |= IF;
      }
      break;
    }
    case kClts:
      require_cpl0(c);
      c.s.cr0 &= ~uint64_t(CR0_TS);
      break;
    case kWbinvd:
      require_cpl0(c);
      break;
    case kUd:
      c.ud();
    case kRdpmc:
      c.gp(0);  // no performance counters are implemented
    case kSyscall: {
      if (!c.mode64() || !(c.s.efer & EFER_SCE)) c.ud();  // Intel: 64-bit mode only
      c.materialize_flags();
      c.s.gpr[RCX] = c.next_rip;
      c.s.gpr[R11] = c.s.rflags & ~uint64_t(RF);
      uint16_t sel = static_cast<uint16_t>(c.s.star >> 32) & 0xFFFC;
      c.s.seg[CS] = flat_segment(sel, true, 0, true);
      c.s.seg[SS] = flat_segment(static_cast<uint16_t>(sel + 8), false, 0, false);
      c.s.cpl = 0;
      c.s.rflags &= ~(c.s.sfmask | RF);
      c.s.rflags |= kFlagsFixed1;
      c.update_mode();
      c.next_rip = c.s.lstar;
      break;
    }
    case kSysret: {
      if (!c.mode64() || !(c.s.efer & EFER_SCE)) c.ud();
      if (c.s.cpl != 0) c.gp(0);
      uint16_t base = static_cast<uint16_t>(c.s.star >> 48);
      const bool to64 = i.osize == 3;
      uint64_t target = to64 ? c.s.gpr[RCX] : uint32_t(c.s.gpr[RCX]);
      if (to64 && !is_canonical48(target)) c.gp(0);
      c.s.seg[CS] = flat_segment(static_cast<uint16_t>((to64 ? base + 16 : base) | 3), true, 3, to64);
      Segment ss = flat_segment(static_cast<uint16_t>((base + 8) | 3), false, 3, false);
      c.s.seg[SS] = ss;
      c.s.cpl = 3;
      c.write_rflags((c.s.gpr[R11] & 0x3C7FD7) | 2, ~0ull);
      c.update_mode();
      c.next_rip = target;
      break;
    }
    case kSysenter: {
      if (!(c.s.cr0 & CR0_PE)) c.gp(0);
      if ((c.s.sysenter_cs & 0xFFFC) == 0) c.gp(0);
      const bool lm = c.long_mode();
      uint16_t sel = static_cast<uint16_t>(c.s.sysenter_cs & 0xFFFC);
      c.materialize_flags();
      c.s.rflags &= ~uint64_t(VM | IF | RF);
      c.s.seg[CS] = flat_segment(sel, true, 0, lm);
      c.s.seg[SS] = flat_segment(static_cast<uint16_t>(sel + 8), false, 0, false);
      c.s.cpl = 0;
      c.update_mode();
      c.s.gpr[RSP] = lm ? c.s.sysenter_esp : uint32_t(c.s.sysenter_esp);
      c.next_rip = lm ? c.s.sysenter_eip : uint32_t(c.s.sysenter_eip);
      break;
    }
    case kSysexit: {
      if (!(c.s.cr0 & CR0_PE) || c.v86() || c.s.cpl != 0 || (c.s.sysenter_cs & 0xFFFC) == 0) c.gp(0);
      const bool to64 = i.osize == 3;
      uint16_t base = static_cast<uint16_t>(c.s.sysenter_cs);
      uint64_t rip = to64 ? c.s.gpr[RDX] : uint32_t(c.s.gpr[RDX]);
      uint64_t rsp = to64 ? c.s.gpr[RCX] : uint32_t(c.s.gpr[RCX]);
      if (to64 && (!is_canonical48(rip) || !is_canonical48(rsp))) c.gp(0);
      c.s.seg[CS] = flat_segment(static_cast<uint16_t>((base + (to64 ? 32 : 16)) | 3), true, 3, to64);
      c.s.seg[SS] = flat_segment(static_cast<uint16_t>((base + (to64 ? 40 : 24)) | 3), false, 3, false);
      c.s.cpl = 3;
      c.update_mode();
      c.s.gpr[RSP] = rsp;
      c.next_rip = rip;
      break;
    }
    case kSwapgs: {
      if (!c.mode64()) c.ud();
      require_cpl0(c);
      std::swap(c.s.seg[GS].base, c.s.kernel_gs_base);
      c.update_segment_checks(GS);
      break;
    }
  }
}

// ---- MOV CRn / DRn ----
void h_mov_to_cr(Core& c, const Insn& i) {
  require_cpl0(c);
  uint64_t v = c.s.gpr[i.r1];
  if (!c.mode64()) v = uint32_t(v);
  switch (i.r0) {
    case 0: c.write_cr0(v); break;
    case 2: c.s.cr2 = v; break;
    case 3: c.write_cr3(v); break;
    case 4: c.write_cr4(v); break;
    case 8:
      // CR8 is the local APIC's TPR[7:4] (SDM Vol. 3A 10.8.6.1): a new
      // priority can unmask a pending interrupt, so poll again.
      if (v >> 4) c.gp(0);
      c.s.cr8 = v;
      if (c.intr) c.intr->set_cr8(static_cast<uint8_t>(v));
      c.irq_poll = true;
      c.exit_block = true;  // recognised at the next instruction boundary
      break;
    default: c.ud();
  }
}
void h_mov_from_cr(Core& c, const Insn& i) {
  require_cpl0(c);
  uint64_t v;
  switch (i.r1) {
    case 0: v = c.s.cr0; break;
    case 2: v = c.s.cr2; break;
    case 3: v = c.s.cr3; break;
    case 4: v = c.s.cr4; break;
    case 8: v = c.intr ? c.intr->cr8() : c.s.cr8; break;
    default: c.ud();
  }
  c.s.gpr[i.r0] = c.mode64() ? v : uint32_t(v);
}
unsigned dr_index(Core& c, unsigned n) {
  if (c.s.dr[7] & 0x2000) {
    // DR7.GD: any DR access faults with DR6.BD; GD clears so the handler
    // can use the debug registers (SDM Vol. 3B 18.2.4).
    c.s.dr[7] &= ~0x2000ull;
    c.s.dr[6] |= 0x2000;
    c.raise(kDB);
  }
  if (n == 4 || n == 5) {
    if (c.s.cr4 & CR4_DE) c.ud();
    return n + 2;  // DR4/DR5 alias DR6/DR7 without CR4.DE
  }
  return n;
}
void h_mov_to_dr(Core& c, const Insn& i) {
  require_cpl0(c);
  unsigned n = dr_index(c, i.r0);
  uint64_t v = c.s.gpr[i.r1];
  if (!c.mode64()) v = uint32_t(v);
  if (n == 6) v = (v & 0xE00F) | 0xFFFF0FF0;
  if (n == 7) v = (v & 0xFFFF2BFF) | 0x400;
  c.s.dr[n] = v;
  c.dbg.sync_guest(c);
}
void h_mov_from_dr(Core& c, const Insn& i) {
  require_cpl0(c);
  unsigned n = dr_index(c, i.r1);
  c.s.gpr[i.r0] = c.mode64() ? c.s.dr[n] : uint32_t(c.s.dr[n]);
}

// ---- LMSW SMSW INVLPG LGDT LIDT SGDT SIDT ----
template <unsigned OP> void h_sysop(Core& c, const Insn& i) {
  switch (OP) {
    case 0: {  // LMSW: PE can be set, not cleared; only MP EM TS change otherwise
      require_cpl0(c);
      uint16_t v = (i.flags & kInsnHasMem) ? c.mem_read<uint16_t>(i) : static_cast<uint16_t>(c.s.gpr[i.r0]);
      uint64_t cr0 = (c.s.cr0 & ~uint64_t(0xE)) | (v & 0xE) | (v & 1) | (c.s.cr0 & 1);
      c.write_cr0(cr0);
      break;
    }
    case 1: {  // SMSW
      if (i.flags & kInsnHasMem) c.mem_write<uint16_t>(i, static_cast<uint16_t>(c.s.cr0));
      else if (i.osize == 1) c.set_reg<uint16_t>(i.r0, static_cast<uint16_t>(c.s.cr0));
      else c.s.gpr[i.r0] = c.mode64() && i.osize == 3 ? c.s.cr0 : uint32_t(c.s.cr0);
      break;
    }
    case 2:  // INVLPG
      require_cpl0(c);
      c.tlb.invalidate_page(c.linear(i.seg, c.ea(i), 1, false));
      ++c.chain_epoch;
      break;
    case 3:
    case 4: {  // LGDT / LIDT: 16-bit limit then a 24/32/64-bit base
      require_cpl0(c);
      uint64_t a = c.ea(i);
      uint16_t limit = c.read<uint16_t>(i.seg, a);
      uint64_t base;
      uint64_t ba = (a + 2) & Core::kAddrMask[i.asize];
      if (c.mode64()) base = c.read<uint64_t>(i.seg, ba);
      else base = c.read<uint32_t>(i.seg, ba) & (i.osize == 1 ? 0xFFFFFF : 0xFFFFFFFF);
      DescriptorTable& t = OP == 3 ? c.s.gdtr : c.s.idtr;
      t.base = base;
      t.limit = limit;
      break;
    }
    default: {  // SGDT / SIDT
      const DescriptorTable& t = OP == 5 ? c.s.gdtr : c.s.idtr;
      uint64_t a = c.ea(i);
      uint64_t ba = (a + 2) & Core::kAddrMask[i.asize];
      c.write<uint16_t>(i.seg, a, t.limit);
      if (c.mode64()) c.write<uint64_t>(i.seg, ba, t.base);
      else c.write<uint32_t>(i.seg, ba, static_cast<uint32_t>(t.base));
      break;
    }
  }
}

}  // namespace

bool build_sys(Insn& i, const Decoded&, unsigned op) {
  static constexpr Handler t[] = {
      &h_sys<kCpuid>,   &h_sys<kRdtsc>,  &h_sys<kRdtscp>, &h_sys<kRdmsr>,   &h_sys<kWrmsr>,   &h_sys<kHlt>,
      &h_sys<kCli>,     &h_sys<kSti>,    &h_sys<kClts>,   &h_sys<kWbinvd>,  &h_sys<kUd>,      &h_sys<kRdpmc>,
      &h_sys<kSyscall>, &h_sys<kSysret>, &h_sys<kSysenter>, &h_sys<kSysexit>, &h_sys<kSwapgs>,
  };
  i.handler = t[op];
  i.flags |= kInsnEndsBlock;
  return true;
}

bool build_sysop(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  static constexpr Handler t[] = {&h_sysop<0>, &h_sysop<1>, &h_sysop<2>, &h_sysop<3>,
                                  &h_sysop<4>, &h_sysop<5>, &h_sysop<6>};
  if (op >= 2 && !d.is_mem(0)) return false;
  i.handler = t[op];
  if (op != 1) i.flags |= kInsnEndsBlock;
  return true;
}

bool build_mov_cr(Insn& i, const Decoded& d) {
  auto cls0 = ZydisRegisterGetClass(d.op[0].reg.value);
  auto cls1 = ZydisRegisterGetClass(d.op[1].reg.value);
  auto id = [&](unsigned k) { return static_cast<uint8_t>(ZydisRegisterGetId(d.op[k].reg.value)); };
  i.r0 = id(0);
  i.r1 = id(1);
  if (cls0 == ZYDIS_REGCLASS_CONTROL) i.handler = &h_mov_to_cr;
  else if (cls1 == ZYDIS_REGCLASS_CONTROL) i.handler = &h_mov_from_cr;
  else if (cls0 == ZYDIS_REGCLASS_DEBUG) i.handler = &h_mov_to_dr;
  else i.handler = &h_mov_from_dr;
  i.flags |= kInsnEndsBlock;
  return true;
}

}  // namespace pc64
