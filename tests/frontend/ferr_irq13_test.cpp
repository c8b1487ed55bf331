// The legacy x87 error path on the whole PC board (SDM Vol. 1 8.7, D.2.1;
// PIIX3 "Coprocessor Error"): the CPU's FERR# -> the coprocessor-error latch
// -> IRQ13 on the slave 8259 -> the CPU; port 0xF0 and FNCLEX end it.
#include <doctest/doctest.h>

#include <initializer_list>
#include <utility>
#include <vector>

#include "cpu/cpu_test_util.h"
#include "frontend/machine.h"

using namespace pc64;

TEST_CASE("the CPU's FERR# reaches the 8259 as IRQ13 (vector base + 5 on the slave); port 0xF0 clears it") {
  MachineConfig c;
  c.ram_bytes = 16ULL << 20;
  c.serial = SerialMode::None;
  Machine m(c);
  REQUIRE(m.board());
  m.reset();
  PortBus& p = m.ports();
  // 8259 pair: master at 0x08, slave at 0x70 cascaded on IRQ2, 8086 mode, all unmasked.
  for (auto [port, v] : std::initializer_list<std::pair<uint16_t, uint8_t>>{
           {0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0x00},
           {0xA0, 0x11}, {0xA1, 0x70}, {0xA1, 0x02}, {0xA1, 0x01}, {0xA1, 0x00}})
    p.port_write(port, 1, v);
  InterruptSource& intr = *m.board()->router;  // the CPU's interrupt source
  REQUIRE(intr.set_apic_base_msr(0xFEE00000));  // local APIC off: the 8259 drives INTR
  CHECK_FALSE(intr.intr_pending());
  intr.set_ferr(true);  // what a waiting x87 instruction does with CR0.NE = 0
  REQUIRE(intr.intr_pending());
  CHECK(intr.acknowledge_intr() == 0x75);
  p.port_write(0xF0, 1, 0);  // handler: clear the latch (asserts IGNNE#)
  p.port_write(0xA0, 1, 0x20);
  p.port_write(0x20, 1, 0x20);
  intr.set_ferr(true);  // ignored while IGNNE# is asserted
  CHECK_FALSE(intr.intr_pending());
  intr.set_ferr(false);  // FNCLEX
  intr.set_ferr(true);   // the next exception interrupts again
  CHECK(intr.intr_pending());
}

TEST_CASE("DOS-style x87 error handling end to end: CR0.NE=0, FDIV by zero, FWAIT -> IRQ13 handler -> port 0xF0, FNCLEX") {
  MachineConfig c;
  c.ram_bytes = 16ULL << 20;
  c.serial = SerialMode::None;
  Machine m(c);
  REQUIRE(m.board());
  m.reset();
  PortBus& p = m.ports();
  for (auto [port, v] : std::initializer_list<std::pair<uint16_t, uint8_t>>{
           {0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xFB},   // master: only the cascade
           {0xA0, 0x11}, {0xA1, 0x70}, {0xA1, 0x02}, {0xA1, 0x01}, {0xA1, 0xDF}})  // slave: only IRQ13
    p.port_write(port, 1, v);
  REQUIRE(m.board()->router->set_apic_base_msr(0xFEE00000));  // local APIC off: the 8259 drives INTR
  // Real-mode code at 0000:1000 (hand-assembled), IRQ13 handler at 0000:1100.
  const uint8_t main_code[] = {
      0xFB,                          // sti
      0xDB, 0xE3,                    // fninit
      0xD9, 0x2E, 0x00, 0x12,        // fldcw [0x1200]   (ZE unmasked)
      0xD9, 0xE8, 0xD9, 0xEE,        // fld1; fldz
      0xDE, 0xF9,                    // fdivp st1, st0: pending #Z
      0x9B,                          // fwait: FERR# -> IRQ13
      0xC6, 0x06, 0x00, 0x05, 0x01,  // mov byte [0x500], 1
      0xEB, 0xFE};                   // jmp $
  const uint8_t handler[] = {
      0xE6, 0xF0,                    // out 0xf0, al: clear the latch
      0xDB, 0xE2,                    // fnclex: FERR# off
      0xFE, 0x06, 0x01, 0x05,        // inc byte [0x501]
      0xB0, 0x20, 0xE6, 0xA0, 0xE6, 0x20,  // EOI slave, master
      0xCF};                         // iret
  const uint8_t cw[] = {0x7B, 0x03};
  const uint8_t ivt75[] = {0x00, 0x11, 0x00, 0x00};
  m.memory().write_bytes(0x1000, main_code, sizeof main_code);
  m.memory().write_bytes(0x1100, handler, sizeof handler);
  m.memory().write_bytes(0x1200, cw, sizeof cw);
  m.memory().write_bytes(0x75 * 4, ivt75, sizeof ivt75);
  CpuState& s = m.cpu().state();
  REQUIRE((s.cr0 & CR0_NE) == 0);  // the reset value: legacy error reporting
  for (Segment* g : {&s.seg[CS], &s.seg[DS], &s.seg[SS], &s.seg[ES]}) {
    g->selector = 0;
    g->base = 0;
  }
  s.rip = 0x1000;
  s.gpr[RSP] = 0x7000;
  m.cpu().state_changed();
  m.run(20000);
  CHECK(m.memory().read(0x500, 1) == 1);  // the FWAIT ran after the handler
  CHECK(m.memory().read(0x501, 1) == 1);  // IRQ13 ran exactly once
  CHECK_FALSE(m.board()->coprocessor_error->irq13());
  CHECK_FALSE(m.board()->coprocessor_error->ignne());  // FNCLEX negated FERR#, IGNNE# followed
}

namespace {
// Records the 32-bit result words a guest program writes to port 0xF4
// (tests/cpu/asm/common.inc's REPORT).
MachineConfig small_pc() {
  MachineConfig c;
  c.ram_bytes = 16ULL << 20;
  c.serial = SerialMode::None;
  return c;
}

struct ResultPort final : PortHandler {
  std::vector<uint32_t> words;
  uint32_t io_read(uint16_t, unsigned) override { return 0xFFFFFFFF; }
  void io_write(uint16_t, unsigned, uint32_t v) override { words.push_back(v); }
};
}  // namespace

TEST_CASE("CR0.NE=0: the waiting x87 instruction freezes until the IRQ13 handler ran; IGNNE# lets it proceed") {
  Machine m(small_pc());
  REQUIRE(m.board());
  m.reset();
  ResultPort results;
  m.ports().map(0xF4, 4, &results, "test results");
  REQUIRE(m.board()->router->set_apic_base_msr(0xFEE00000));  // local APIC off: the 8259 drives INTR
  const std::vector<uint8_t> prog = test::assemble_file(test::asm_source("x87_ferr.asm"));
  m.memory().write_bytes(0x1000, prog.data(), prog.size());
  CpuState& s = m.cpu().state();
  REQUIRE((s.cr0 & CR0_NE) == 0);
  s.seg[CS].selector = 0;
  s.seg[CS].base = 0;
  s.rip = 0x1000;
  m.cpu().state_changed();
  m.run(200000);
  const std::vector<uint32_t> want = {
      0x1,
      0x13000000, 0x14000006,  // handler 1: interrupted at the frozen FLD1, which has not run (TOP 6)
      0x20000105, 0x30000000,  // after it: ran once (TOP 5), ES clear
      0x13000000, 0x14000006,  // handler 2: the same, leaves ES set
      0x20000204, 0x30000001,  // IGNNE#: FLD1, FLD1, FWAIT proceeded without IRQ13 (TOP 4, ES still set)
      0x13000000, 0x14000003,  // handler 3: FNCLEX negated FERR# and IGNNE#, FWAIT froze again
      0x20000303, 0x30000000,
      0xD0E};
  CHECK(test::hex_words(results.words) == test::hex_words(want));
  CHECK_FALSE(m.board()->coprocessor_error->irq13());
  CHECK_FALSE(m.board()->coprocessor_error->ignne());
}
