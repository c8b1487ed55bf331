#include <doctest/doctest.h>

#include <vector>

#include "io/i440fx.h"

using namespace pc64;

namespace {
struct HostBridgeRig {
  PhysicalMemory mem{2 << 20};
  PortBus ports;
  PciBus bus{ports, mem};
  I440fx host{bus, mem};
  HostBridgeRig() {
    // The BIOS image's last 128 KiB as seen below 1 MiB when not shadowed.
    std::vector<uint8_t> rom(0x20000);
    for (size_t i = 0; i < rom.size(); ++i) rom[i] = static_cast<uint8_t>(0xA0 + (i >> 14));
    mem.map_rom(0xE0000, rom, "bios alias");
  }
  void cfg_write(uint8_t off, unsigned size, uint32_t v) { bus.config_write(0, 0, off, size, v); }
  uint32_t cfg_read(uint8_t off, unsigned size) { return bus.config_read(0, 0, off, size); }
};
}  // namespace

TEST_CASE("i440FX identity and reset values") {
  HostBridgeRig r;
  CHECK(r.cfg_read(0x00, 4) == 0x12378086);
  CHECK(r.cfg_read(0x08, 4) == 0x06000002);
  for (uint8_t off = 0x59; off <= 0x5F; ++off) CHECK(r.cfg_read(off, 1) == 0);
  CHECK(r.cfg_read(I440fx::kSmram, 1) == 0x02);
}

TEST_CASE("PAM: all zero routes 0xC0000-0xFFFFF to the ROM") {
  HostBridgeRig r;
  CHECK(r.mem.read(0xF0000, 1) == 0xA4);  // ROM offset 0x10000
  r.mem.write(0xF0000, 1, 0x5A);           // dropped: ROM
  CHECK(r.mem.read(0xF0000, 1) == 0xA4);
  CHECK(r.mem.read(0xC0000, 1) == 0xFF);   // nothing there (no option ROM)
}

TEST_CASE("PAM: write-enable then read-enable shadows the BIOS into RAM") {
  HostBridgeRig r;
  r.cfg_write(0x59, 1, 0x20);  // PAM0 WE only: reads ROM, writes RAM
  r.mem.write(0xF0000, 1, 0x5A);
  CHECK(r.mem.read(0xF0000, 1) == 0xA4);  // still reading the ROM
  r.cfg_write(0x59, 1, 0x10);  // RE only: read the shadow, writes to the bus
  CHECK(r.mem.read(0xF0000, 1) == 0x5A);
  r.mem.write(0xF0000, 1, 0x77);  // write-protected shadow
  CHECK(r.mem.read(0xF0000, 1) == 0x5A);
  CHECK(r.mem.read(0xFFFF0, 1) == 0);  // the rest of the shadow is RAM (zero)
  r.cfg_write(0x59, 1, 0x00);
  CHECK(r.mem.read(0xF0000, 1) == 0xA4);  // ROM visible again when read-disabled
  r.cfg_write(0x59, 1, 0x30);
  r.mem.write(0xF0001, 1, 0x66);
  CHECK(r.mem.read(0xF0001, 1) == 0x66);
}

TEST_CASE("PAM: SeaBIOS's dword writes at 0x58/0x5C program all seven registers") {
  HostBridgeRig r;
  // As fw/shadow.c does: read-modify-write the dwords holding PAM0-PAM6.
  uint32_t lo = r.cfg_read(0x58, 4), hi = r.cfg_read(0x5C, 4);
  lo = (lo & 0xFF) | 0x30u << 8 | 0x3333u << 16;
  hi = 0x33333333;
  r.cfg_write(0x58, 4, lo);
  r.cfg_write(0x5C, 4, hi);
  CHECK(r.cfg_read(0x59, 1) == 0x30);
  CHECK(r.cfg_read(0x5F, 1) == 0x33);
  for (uint64_t a : {0xC0000ULL, 0xC4000ULL, 0xD8000ULL, 0xE4000ULL, 0xEC000ULL, 0xFC000ULL}) {
    r.mem.write(a, 1, 0x42);
    CHECK(r.mem.read(a, 1) == 0x42);
  }
  // PAM5 low nibble read-only, high nibble off: 0xE0000 reads RAM, 0xE4000 the ROM.
  r.cfg_write(0x5E, 1, 0x01);
  CHECK(r.mem.read(0xE0000, 1) == 0);
  CHECK(r.mem.read(0xE4000, 1) == 0xA1);
}

TEST_CASE("i440FX reset puts the ROM back in front") {
  HostBridgeRig r;
  r.cfg_write(0x59, 1, 0x30);
  r.mem.write(0xF0000, 1, 0x11);
  CHECK(r.mem.read(0xF0000, 1) == 0x11);
  r.host.reset();
  CHECK(r.cfg_read(0x59, 1) == 0);
  CHECK(r.mem.read(0xF0000, 1) == 0xA4);
}

TEST_CASE("SMRAM: C_BASE_SEG fixed, D_LCK locks D_OPEN until reset") {
  HostBridgeRig r;
  r.cfg_write(I440fx::kSmram, 1, 0xFF);
  CHECK(r.cfg_read(I440fx::kSmram, 1) == (I440fx::kSmramDCls | I440fx::kSmramDLck | I440fx::kSmramGSmrame | 0x02));
  r.cfg_write(I440fx::kSmram, 1, I440fx::kSmramDOpen);  // locked: only D_CLS may change
  CHECK(r.cfg_read(I440fx::kSmram, 1) == (I440fx::kSmramDLck | I440fx::kSmramGSmrame | 0x02));
  r.host.reset();
  r.cfg_write(I440fx::kSmram, 1, I440fx::kSmramDOpen | I440fx::kSmramGSmrame);
  CHECK(r.cfg_read(I440fx::kSmram, 1) == (I440fx::kSmramDOpen | I440fx::kSmramGSmrame | 0x02));
}

TEST_CASE("i440FX state round-trips including the PAM routing") {
  HostBridgeRig a;
  a.cfg_write(0x59, 1, 0x10);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.host.serialize(save);
  HostBridgeRig b;
  b.mem.write_bytes(0xF0000, "\x99", 1);  // lands nowhere (ROM)
  StateSerializer load(blob.data(), blob.size());
  b.host.serialize(load);
  CHECK(load.at_end());
  CHECK(b.cfg_read(0x59, 1) == 0x10);
  CHECK(b.mem.read(0xF0000, 1) == 0);  // reading the (empty) shadow RAM, not the ROM
}
