// The CPU side of the legacy x87 error path with CR0.NE = 0 (SDM Vol. 1
// D.2.1.1, D.2.2): a waiting x87 instruction with an unmasked exception
// pending asserts FERR# and freezes before it starts unless IGNNE# is
// asserted; only an interrupt the CPU accepts ends the freeze, so with IF = 0
// it waits for an NMI. The chipset is a stand-in here (the PC's wiring is
// tested in tests/frontend/ferr_irq13_test.cpp).
#include <doctest/doctest.h>

#include <utility>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

// FERR# latches an IRQ (vector 0x75) on its rising edge; IGNNE# is an input
// the test drives.
struct FerrChipset final : InterruptSource {
  bool ferr = false, ignne_pin = false, irq = false, nmi = false;
  bool intr_pending() const override { return irq; }
  uint8_t acknowledge_intr() override {
    irq = false;
    return 0x75;
  }
  bool take_nmi() override { return std::exchange(nmi, false); }
  void set_ferr(bool asserted) override {
    if (asserted && !ferr) irq = true;
    ferr = asserted;
  }
  bool ignne() const override { return ignne_pin; }
};

// Real mode at 0x1000: a pending #Z, then FWAIT at 0x1040; the NMI handler
// at 0x1100 counts itself at 0x601 and clears the exception.
const char* kProgram = R"(bits 16
org 0x1000
    fninit
    fldcw [cw]
    fld1
    fldz
    fdivp st1, st0
    times 0x40 - ($ - $$) nop
frozen:
    fwait
    mov byte [0x600], 1
    hlt
    times 0x100 - ($ - $$) nop
nmi:
    inc byte [0x601]
    fnclex
    iret
cw: dw 0x037B
)";

}  // namespace

TEST_CASE("x87 FERR# freeze with IF = 0: the CPU waits at the instruction until an NMI, then runs it") {
  Machine m;
  FerrChipset chip;
  m.cpu.set_interrupt_source(&chip);
  m.load(0x1000, assemble(kProgram));
  m.mem.write(2 * 4, 4, 0x00001100);  // IVT[2] (NMI) = 0000:1100
  m.real_mode(0x1000);
  REQUIRE((m.s().cr0 & CR0_NE) == 0);
  REQUIRE((m.s().rflags & IF) == 0);
  m.run(1000);
  CHECK(m.cpu.halted());
  CHECK(m.s().rip == 0x1040);        // frozen before FWAIT, which has not run
  CHECK(m.mem.read(0x600, 1) == 0);
  CHECK(chip.ferr);
  CHECK(chip.irq);                   // IRQ13 is waiting, but IF = 0 blocks it
  CHECK(m.run(1000) == 0);           // still frozen
  CHECK(m.s().rip == 0x1040);
  chip.nmi = true;
  m.run(1000);
  CHECK(m.mem.read(0x601, 1) == 1);  // the NMI handler ran (and cleared the exception) ...
  CHECK(m.mem.read(0x600, 1) == 1);  // ... then FWAIT ran and the program went on to HLT
  CHECK_FALSE(chip.ferr);
  CHECK(m.cpu.halted());
  CHECK(m.s().rip == 0x1047);        // after the HLT
}

TEST_CASE("x87 with CR0.NE = 0 and IGNNE# asserted: the waiting instruction proceeds, FERR# untouched") {
  Machine m;
  FerrChipset chip;
  chip.ignne_pin = true;
  m.cpu.set_interrupt_source(&chip);
  m.load(0x1000, assemble(kProgram));
  m.real_mode(0x1000);
  m.run(1000);
  CHECK(m.mem.read(0x600, 1) == 1);
  CHECK(m.s().rip == 0x1047);
  CHECK((m.s().fpu.fsw & FSW_ES) != 0);  // still pending: only ignored
  CHECK_FALSE(chip.ferr);
}
