// Guest-driven fuzzing of the whole PC board (issue 6): random port and MMIO
// accesses of every size into each device's range, as a hostile guest could
// make them, with the virtual clock moving in between. Passing means no
// crash, no sanitizer report (CI runs this under ASan/UBSan) and no hang.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include "frontend/machine.h"

using namespace pc64;

TEST_CASE("10^5 random port and MMIO accesses to a machine with every device") {
  MachineConfig c;  // the full PC board, no firmware, no disks
  c.ram_bytes = 64ULL << 20;
  c.serial = SerialMode::None;
  Machine m(c);
  REQUIRE(m.board());

  struct Range {
    uint16_t base, count;
  };
  // Every device's ports (PIC, PIT, 0x61, i8042, RTC, POST/debug, DMA-less
  // ISA, 0x92, APM, ELCR, PCI config, fw_cfg, VBE, VGA, IDE, UARTs, PM, SMBus).
  const Range ports[] = {{0x20, 2},   {0xA0, 2},   {0x40, 4},   {0x61, 1},   {0x60, 1},   {0x64, 1},
                         {0x70, 4},   {0x80, 1},   {0x402, 1},  {0xE9, 1},   {0x92, 1},   {0xB2, 2},
                         {0x4D0, 2},  {0xCF8, 8},  {0x510, 2},  {0x514, 8},  {0x1CE, 3},  {0x3B0, 48},
                         {0x1F0, 8},  {0x3F6, 1},  {0x170, 8},  {0x376, 1},  {0x3F8, 8},  {0x2F8, 8},
                         {0x600, 64}, {0xC000, 64}};
  const struct {
    uint64_t base, size;
  } mmio[] = {{0xFEE00000, 0x1000}, {0xFEC00000, 0x1000}, {0xA0000, 0x20000}, {0xC0000, 0x40000}};

  uint64_t seed = std::getenv("PC64_FUZZ_SEED") ? std::strtoull(std::getenv("PC64_FUZZ_SEED"), nullptr, 0) : 1;
  std::mt19937_64 rng(seed);
  const unsigned sizes[] = {1, 2, 4};
  uint64_t reads = 0;
  for (int i = 0; i < 100000; ++i) {
    uint64_t r = rng();
    unsigned size = sizes[(r >> 8) % 3];
    uint32_t value = static_cast<uint32_t>(rng());
    bool write = r & 1;
    if ((r >> 4) % 8 == 0) {
      const auto& w = mmio[(r >> 16) % std::size(mmio)];
      uint64_t addr = w.base + (rng() % w.size);
      unsigned msize = sizes[(r >> 20) % 3] << ((r >> 22) & 1);  // 1, 2, 4 or 8
      if (write) m.memory().write(addr, msize, value);
      else reads += m.memory().read(addr, msize) != 0;
    } else {
      const Range& p = ports[(r >> 16) % std::size(ports)];
      uint16_t port = static_cast<uint16_t>(p.base + (rng() % p.count));
      if (write) m.ports().port_write(port, size, value);
      else reads += m.ports().port_read(port, size) != 0;
    }
    if (i % 64 == 0) m.clock().advance_to(m.clock().now() + (rng() % 2'000'000));  // timers fire in between
  }
  // The board survives and still answers sanely: PCI host bridge ID, PIT ticking.
  m.ports().port_write(0xCF8, 4, 0x80000000);
  CHECK(m.ports().port_read(0xCFC, 4) == 0x12378086u);
  CHECK(reads > 0);
}

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
  CHECK(m.memory().read(0x500, 1) == 1);  // the FWAIT carried on (IGNNE# semantics)
  CHECK(m.memory().read(0x501, 1) == 1);  // IRQ13 ran exactly once
  CHECK_FALSE(m.board()->coprocessor_error->irq13());
  CHECK_FALSE(m.board()->coprocessor_error->ignne());  // FNCLEX negated FERR#, IGNNE# followed
}
