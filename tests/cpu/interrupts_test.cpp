// External interrupts: HLT wake-up, IF, the STI shadow, NMI, and delivery
// through the IVT (real mode) and a 64-bit IDT.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {
struct TestIntr : InterruptSource {
  bool pending = false;
  bool nmi = false;
  uint8_t vector = 0x20;
  int acks = 0;
  bool intr_pending() const override { return pending; }
  uint8_t acknowledge_intr() override {
    ++acks;
    pending = false;
    return vector;
  }
  bool take_nmi() override {
    bool n = nmi;
    nmi = false;
    return n;
  }
};
}  // namespace

TEST_CASE("interrupts: HLT waits, an interrupt wakes it, IF masks it") {
  Machine m;
  TestIntr intr;
  m.cpu.set_interrupt_source(&intr);
  m.load(0x600, assemble("bits 16\norg 0x600\n inc bx\n mov [0x500], dx\n iret\n"));
  m.load(0x20 * 4, {0x00, 0x06, 0x00, 0x00});
  m.load(0x700, assemble("bits 16\norg 0x700\n inc si\n iret\n"));
  m.load(2 * 4, {0x00, 0x07, 0x00, 0x00});  // NMI handler
  m.load(0x1000, assemble(R"(bits 16
org 0x1000
    xor bx, bx
    mov dx, 1
    sti
    mov dx, 5          ; runs before the interrupt (STI shadow)
    hlt
    mov cx, bx         ; after the wake-up
    cli
    hlt                ; IF=0: an INTR does not wake this one, an NMI does
    mov di, 7
    hlt
)"));
  m.real_mode(0x1000);
  intr.pending = true;
  m.run(1000);
  // Taken after the instruction following STI (pc64 polls between blocks,
  // so here at the HLT), then execution continues after the HLT.
  CHECK(intr.acks == 1);
  uint16_t seen_dx = 0;
  m.mem.read_bytes(0x500, &seen_dx, 2);
  CHECK(seen_dx == 5);
  CHECK((m.reg(RCX) & 0xFFFF) == 1);
  // Second HLT with IF=0: a pending INTR does not wake it.
  CHECK(m.cpu.halted());
  intr.pending = true;
  CHECK(m.run(1000) == 0);
  CHECK(intr.acks == 1);
  CHECK(m.cpu.halted());
  // An NMI does.
  intr.nmi = true;
  m.run(1000);
  CHECK((m.reg(RSI) & 0xFFFF) == 1);
  CHECK((m.reg(RDI) & 0xFFFF) == 7);
  CHECK(m.cpu.halted());
}

TEST_CASE("interrupts: 64-bit IDT gate with IST and stack alignment") {
  Machine m;
  TestIntr intr;
  intr.vector = 0x40;
  m.cpu.set_interrupt_source(&intr);
  // Handler: record RSP and the pushed frame, return with IRETQ.
  m.load(0x30000, assemble(R"(bits 64
org 0x30000
    mov [0x50000], rsp
    mov rax, [rsp]        ; RIP
    mov [0x50008], rax
    mov rax, [rsp + 24]   ; old RSP
    mov [0x50010], rax
    iretq
)"));
  m.load(0x10000, assemble(R"(bits 64
org 0x10000
    sti
    nop
    mov r15, 1
.idle:
    hlt                   ; the interrupt wakes this; IRETQ returns after it
    jmp .idle
)"));
  m.long_mode(0x10000);
  CpuState& st = m.s();
  // IDT at 0x40000 with one interrupt gate (vector 0x40), IST 1.
  uint64_t gate_lo = 0x30000 & 0xFFFF;
  gate_lo |= uint64_t(0x08) << 16;
  gate_lo |= uint64_t(0x8E01) << 32;  // present, interrupt gate, IST=1
  gate_lo |= uint64_t((0x30000 >> 16) & 0xFFFF) << 48;
  m.mem.write(0x40000 + 0x40 * 16, 8, gate_lo);
  m.mem.write(0x40000 + 0x40 * 16 + 8, 8, 0);
  st.idtr = {0x40000, 0xFFF};
  // 64-bit TSS at 0x41000 with IST1 = 0x60008 (misaligned on purpose).
  m.mem.write(0x41000 + 0x24, 8, 0x60008);
  st.tr.base = 0x41000;
  st.tr.limit = 0x67;
  st.tr.attr = 0x8B;
  st.gpr[RSP] = 0x80008;
  intr.pending = true;
  m.run(100);
  uint64_t rsp = 0, rip = 0, old_rsp = 0;
  m.mem.read_bytes(0x50000, &rsp, 8);
  m.mem.read_bytes(0x50008, &rip, 8);
  m.mem.read_bytes(0x50010, &old_rsp, 8);
  CHECK(rsp == 0x60000 - 40);  // IST aligned down to 16, then SS RSP RFLAGS CS RIP
  CHECK(old_rsp == 0x80008);
  CHECK(rip >= 0x10001);
  INFO("rip " << m.s().rip << " rsp " << m.s().gpr[RSP]);
  CHECK(m.reg(R15) == 1);
  CHECK(m.cpu.halted());
  CHECK_FALSE(m.cpu.shutdown());
}

namespace {
// A controller that, like the local APIC, holds an interrupt of priority
// class 2 (vector 0x2x) back while TPR[7:4] (= CR8) is 2 or more.
struct TprIntr : InterruptSource {
  uint8_t tpr = 0;
  bool pending = true;
  int acks = 0;
  bool intr_pending() const override { return pending && (0x25 >> 4) > tpr; }
  uint8_t acknowledge_intr() override {
    ++acks;
    pending = false;
    return 0x25;
  }
  uint8_t cr8() const override { return tpr; }
  void set_cr8(uint8_t v) override { tpr = v & 0xF; }
};
}  // namespace

TEST_CASE("interrupts: MOV CR8 is the APIC task priority; lowering it takes the held interrupt at once") {
  Machine m;
  TprIntr intr;
  m.cpu.set_interrupt_source(&intr);
  // Handler for vector 0x25: note the priority it ran under.
  m.load(0x30000, assemble("bits 64\norg 0x30000\n mov rdx, cr8\n mov r14, rdx\n inc r13\n iretq\n"));
  m.load(0x10000, assemble(R"(bits 64
org 0x10000
    mov rax, 3
    mov cr8, rax          ; mask priority classes 0-3
    sti
    mov rbx, cr8          ; reads the controller's TPR
    mov r12, r13          ; nothing taken yet
    xor eax, eax
    mov cr8, rax          ; unmask: the interrupt comes right after this
    mov r11, r13
    hlt
)"));
  m.long_mode(0x10000);
  CpuState& st = m.s();
  uint64_t gate = (0x30000 & 0xFFFF) | (uint64_t(0x08) << 16) | (uint64_t(0x8E00) << 32) |
                  (uint64_t(0x30000 >> 16) << 48);
  m.mem.write(0x40000 + 0x25 * 16, 8, gate);
  m.mem.write(0x40000 + 0x25 * 16 + 8, 8, 0);
  st.idtr = {0x40000, 0xFFF};
  m.run(100);
  CHECK(m.reg(RBX) == 3);
  CHECK(m.reg(R12) == 0);
  CHECK(m.reg(R11) == 1);   // taken between MOV CR8 and the next instruction
  CHECK(m.reg(R14) == 0);   // the handler saw TPR 0
  CHECK(intr.acks == 1);
}
