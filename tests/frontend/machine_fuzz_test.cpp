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
