// x87 control instructions that do no arithmetic: FNINIT, FNCLEX, FLDCW,
// FNSTCW, FNSTSW, FWAIT, FNOP, FINCSTP/FDECSTP, FFREE(P), FNSTENV/FLDENV,
// FNSAVE/FRSTOR (16/32-bit layouts), EMMS, and the pending-exception path
// (#MF with CR0.NE) (SDM Vol. 1 8.1, 8.6-8.7; Vol. 2 per instruction).
#include "cpu/sse_common.h"
#include "mem/log.h"

namespace pc64 {

void x87_pending_exception(Core& c) {
  // SDM Vol. 1 8.7: with CR0.NE the pending exception is reported as #MF at
  // this waiting instruction.
  if (c.s.cr0 & CR0_NE) c.raise(kMF);
  // MS-DOS compatibility sub-mode (CR0.NE = 0; SDM Vol. 1 D.2.1.1, D.2.2):
  // with IGNNE# asserted the exception is disregarded and the instruction
  // proceeds. Otherwise the CPU asserts FERR#, which a PC turns into IRQ13,
  // and freezes just before this instruction until an interrupt arrives; the
  // handler (port 0xF0, FNCLEX) returns to the instruction, which starts
  // again. INTR is only taken with IF = 1, so with IF = 0 the CPU stays
  // frozen until an NMI or reset, as hardware does (D.2.2). QEMU and Bochs do
  // not freeze: they raise IRQ13 and let the instruction proceed.
  if (!c.intr || c.intr->ignne()) return;
  c.intr->set_ferr(true);
  c.irq_poll = true;  // IRQ13 is now pending at the PIC
  if (!(c.s.rflags & IF))
    PC64_LOG(LogLevel::Warn, "cpu", "x87 FERR# freeze with IF = 0 at RIP %#llx: waiting for an NMI or reset",
             static_cast<unsigned long long>(c.s.rip));
  throw X87Freeze{};
}

void x87_es_cleared(Core& c, uint16_t old_fsw) {
  // FERR# follows FSW.ES: negated once the pending exception is gone.
  if ((old_fsw & FSW_ES) && !(c.s.fpu.fsw & FSW_ES) && c.intr) {
    c.intr->set_ferr(false);
    c.irq_poll = true;
  }
}

namespace {

void h_fninit(Core& c, const Insn&) {
  check_fpu(c);
  uint16_t old = c.s.fpu.fsw;
  c.s.fpu.finit();
  x87_es_cleared(c, old);
}
void h_fnclex(Core& c, const Insn&) {
  check_fpu(c);
  uint16_t old = c.s.fpu.fsw;
  c.s.fpu.fsw &= ~(kFswExceptions | FSW_SF | FSW_ES | FSW_B);
  x87_es_cleared(c, old);
}
void h_fldcw(Core& c, const Insn& i) {
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  const uint16_t old_fsw = f.fsw;
  // Reserved bits 7 and 13-15 read as 0, bit 6 as 1 (as the hardware stores them).
  f.fcw = static_cast<uint16_t>((c.mem_read<uint16_t>(i) & 0x1F3F) | 0x40);
  // Unmasking a pending exception sets ES/B: reported at the next waiting instruction.
  if (f.fsw & ~f.fcw & kFswExceptions) f.fsw |= FSW_ES | FSW_B;
  else f.fsw &= ~(FSW_ES | FSW_B);
  x87_es_cleared(c, old_fsw);
}
void h_fnstcw(Core& c, const Insn& i) {
  check_fpu(c);
  c.mem_write<uint16_t>(i, c.s.fpu.fcw);
}
void h_fnstsw(Core& c, const Insn& i) {
  check_fpu(c);
  if (i.flags & kInsnHasMem) c.mem_write<uint16_t>(i, c.s.fpu.fsw);
  else c.set_reg<uint16_t>(RAX, c.s.fpu.fsw);
}
void h_fwait(Core& c, const Insn&) {
  // WAIT/FWAIT: #NM only when both MP and TS are set (SDM Vol. 3A table 2-2).
  if ((c.s.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) c.raise(kNM);
  if (c.s.fpu.fsw & FSW_ES) x87_pending_exception(c);
}
void h_fnop(Core& c, const Insn&) { check_fpu_wait(c); }
void h_fincstp(Core& c, const Insn&) {
  check_fpu_wait(c);
  c.s.fpu.set_top(c.s.fpu.top() + 1);
  c.s.fpu.fsw &= ~FSW_C1;
}
void h_fdecstp(Core& c, const Insn&) {
  check_fpu_wait(c);
  c.s.fpu.set_top(c.s.fpu.top() - 1);
  c.s.fpu.fsw &= ~FSW_C1;
}
template <bool Pop> void h_ffree(Core& c, const Insn& i) {
  check_fpu_wait(c);
  FpuState& f = c.s.fpu;
  f.ftw &= static_cast<uint8_t>(~(1u << f.phys(i.r0)));
  if (Pop) {
    f.ftw &= static_cast<uint8_t>(~(1u << f.phys(0)));
    f.set_top(f.top() + 1);
  }
}
void h_emms(Core& c, const Insn&) {
  check_mmx(c);
  c.s.fpu.ftw = 0;  // all registers empty
}

// ---- environment and full state (SDM Vol. 1 8.1.10, figures 8-9 .. 8-12) ----

// Environment image: 14 bytes (16-bit operand size) or 28 bytes (32-bit);
// real/V86 mode stores IP/DP as 20-bit linear addresses with the opcode.
unsigned env_bytes(const Insn& i) { return i.osize == 1 ? 14 : 28; }

void store_env(Core& c, const Insn& i, uint8_t* b) {
  FpuState& f = c.s.fpu;
  bool wide = i.osize != 1;
  unsigned step = wide ? 4 : 2;
  auto put = [&](unsigned idx, uint32_t v) { std::memcpy(b + idx * step, &v, step); };
  std::memset(b, wide ? 0xFF : 0, env_bytes(i));  // reserved halves read as 1s on the 32-bit form
  auto put16 = [&](unsigned idx, uint16_t v) { std::memcpy(b + idx * step, &v, 2); };
  put16(0, f.fcw);
  put16(1, f.fsw);
  put16(2, f.full_tag());
  if (c.protected_mode()) {
    put(3, static_cast<uint32_t>(f.fip));
    if (wide) {
      uint32_t w = f.fcs | (uint32_t(f.fop) << 16);
      put(4, w);
    } else {
      put16(4, f.fcs);
    }
    put(5, static_cast<uint32_t>(f.fdp));
    put16(6, f.fds);
  }
  if (!c.protected_mode()) {
    // Real-address / V86 layout: linear instruction and operand pointers.
    uint32_t ip = static_cast<uint32_t>(f.fip + (uint32_t(f.fcs) << 4));
    uint32_t dp = static_cast<uint32_t>(f.fdp + (uint32_t(f.fds) << 4));
    if (wide) {
      put(3, ip & 0xFFFF);
      put(4, ((ip >> 16) << 12) | f.fop);
      put(5, dp & 0xFFFF);
      put(6, (dp >> 16) << 12);
    } else {
      put16(3, static_cast<uint16_t>(ip));
      put16(4, static_cast<uint16_t>(((ip >> 16) << 12) | f.fop));
      put16(5, static_cast<uint16_t>(dp));
      put16(6, static_cast<uint16_t>((dp >> 16) << 12));
    }
  }
}

void load_env(Core& c, const Insn& i, const uint8_t* b) {
  FpuState& f = c.s.fpu;
  const uint16_t old_fsw = f.fsw;
  bool wide = i.osize != 1;
  unsigned step = wide ? 4 : 2;
  auto get = [&](unsigned idx) {
    uint32_t v = 0;
    std::memcpy(&v, b + idx * step, step);
    return v;
  };
  f.fcw = static_cast<uint16_t>((get(0) & 0x1F3F) | 0x40);  // as FLDCW stores it
  f.fsw = static_cast<uint16_t>(get(1));
  f.set_full_tag(static_cast<uint16_t>(get(2)));
  if (c.protected_mode()) {
    f.fip = get(3);
    f.fcs = static_cast<uint16_t>(get(4));
    if (wide) f.fop = static_cast<uint16_t>((get(4) >> 16) & 0x7FF);
    f.fdp = get(5);
    f.fds = static_cast<uint16_t>(get(6));
  } else {
    uint32_t w4 = get(4);
    f.fip = (get(3) & 0xFFFF) | ((w4 >> 12) << 16);
    f.fop = static_cast<uint16_t>(w4 & 0x7FF);
    f.fdp = (get(5) & 0xFFFF) | ((get(6) >> 12) << 16);
    f.fcs = f.fds = 0;
  }
  if (f.fsw & ~f.fcw & kFswExceptions) f.fsw |= FSW_ES | FSW_B;
  else f.fsw &= ~(FSW_ES | FSW_B);
  x87_es_cleared(c, old_fsw);
}

// Environment/save images are written and read as 16-bit units after a
// probe of the whole area, so a fault leaves memory and state unchanged.
void store_words(Core& c, const Insn& i, const uint8_t* b, unsigned n) {
  uint64_t off = c.ea(i);
  c.probe_write(c.linear(i.seg, off, n, true), n, c.user());
  for (unsigned k = 0; k < n; k += 2) {
    uint16_t v;
    std::memcpy(&v, b + k, 2);
    c.write<uint16_t>(i.seg, (off + k) & Core::kAddrMask[i.asize], v);
  }
}
void load_words(Core& c, const Insn& i, uint8_t* b, unsigned n) {
  uint64_t off = c.ea(i);
  for (unsigned k = 0; k < n; k += 2) {
    uint16_t v = c.read<uint16_t>(i.seg, (off + k) & Core::kAddrMask[i.asize]);
    std::memcpy(b + k, &v, 2);
  }
}

void h_fnstenv(Core& c, const Insn& i) {
  check_fpu(c);
  uint8_t b[28];
  store_env(c, i, b);
  store_words(c, i, b, env_bytes(i));
  c.s.fpu.fcw |= 0x3F;  // FNSTENV masks all exceptions afterwards (SDM FSTENV)
}
void h_fldenv(Core& c, const Insn& i) {
  check_fpu(c);
  uint8_t b[28];
  load_words(c, i, b, env_bytes(i));
  load_env(c, i, b);
}
void h_fnsave(Core& c, const Insn& i) {
  check_fpu(c);
  uint8_t b[28 + 80];
  store_env(c, i, b);
  unsigned n = env_bytes(i);
  FpuState& f = c.s.fpu;
  // The 80 bytes after the environment hold ST(0)..ST(7), 10 bytes each.
  uint8_t regs[80];
  for (unsigned k = 0; k < 8; ++k) {
    const Float80& r = f.st(k);
    std::memcpy(regs + 10 * k, &r.mant, 8);
    std::memcpy(regs + 10 * k + 8, &r.se, 2);
  }
  std::memcpy(b + n, regs, 80);
  store_words(c, i, b, n + 80);
  const uint16_t old_fsw = f.fsw;
  f.finit();  // FNSAVE then initialises the FPU
  x87_es_cleared(c, old_fsw);
}
void h_frstor(Core& c, const Insn& i) {
  check_fpu(c);
  unsigned n = env_bytes(i);
  uint8_t b[28 + 80];
  load_words(c, i, b, n + 80);
  load_env(c, i, b);
  FpuState& f = c.s.fpu;
  for (unsigned k = 0; k < 8; ++k) {
    Float80& r = f.st(k);
    std::memcpy(&r.mant, b + n + 10 * k, 8);
    std::memcpy(&r.se, b + n + 10 * k + 8, 2);
  }
}

}  // namespace

bool build_x87_control(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  switch (d.zi.mnemonic) {
    case ZYDIS_MNEMONIC_FNINIT: i.handler = &h_fninit; return true;
    case ZYDIS_MNEMONIC_FNCLEX: i.handler = &h_fnclex; return true;
    case ZYDIS_MNEMONIC_FLDCW: i.handler = &h_fldcw; return true;
    case ZYDIS_MNEMONIC_FNSTCW: i.handler = &h_fnstcw; return true;
    case ZYDIS_MNEMONIC_FNSTSW: i.handler = &h_fnstsw; return true;
    case ZYDIS_MNEMONIC_FWAIT: i.handler = &h_fwait; return true;
    case ZYDIS_MNEMONIC_FNOP: i.handler = &h_fnop; return true;
    case ZYDIS_MNEMONIC_FINCSTP: i.handler = &h_fincstp; return true;
    case ZYDIS_MNEMONIC_FDECSTP: i.handler = &h_fdecstp; return true;
    case ZYDIS_MNEMONIC_FFREE: i.handler = &h_ffree<false>; return true;
    case ZYDIS_MNEMONIC_FFREEP: i.handler = &h_ffree<true>; return true;
    case ZYDIS_MNEMONIC_EMMS: i.handler = &h_emms; return true;
    case ZYDIS_MNEMONIC_FNSTENV: i.handler = &h_fnstenv; return true;
    case ZYDIS_MNEMONIC_FLDENV: i.handler = &h_fldenv; return true;
    case ZYDIS_MNEMONIC_FNSAVE: i.handler = &h_fnsave; return true;
    case ZYDIS_MNEMONIC_FRSTOR: i.handler = &h_frstor; return true;
    // 8087/80287 leftovers that a 387+ treats as FNOP (SDM Vol. 2 FNOP notes).
    case ZYDIS_MNEMONIC_FENI8087_NOP:
    case ZYDIS_MNEMONIC_FDISI8087_NOP:
    case ZYDIS_MNEMONIC_FSETPM287_NOP: i.handler = &h_fnop; return true;
    default: return false;
  }
}

}  // namespace pc64
