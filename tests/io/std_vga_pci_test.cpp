#include <doctest/doctest.h>

#include <vector>

#include "io/pci_bus.h"
#include "io/std_vga_pci.h"

using namespace pc64;

TEST_CASE("std-vga PCI function: identity, LFB BAR0, MMIO BAR2, ROM BAR") {
  PhysicalMemory mem(64 << 20);
  PortBus ports;
  VirtualClock clock;
  PciBus bus(ports, mem);
  std::vector<uint8_t> rom(40000, 0);
  rom[0] = 0x55;
  rom[1] = 0xAA;
  StdVgaPci vga(bus, clock, rom, 16u << 20);

  CHECK(bus.config_read(2, 0, 0x00, 4) == 0x11111234u);
  CHECK((bus.config_read(2, 0, 0x08, 4) >> 8) == 0x030000u);
  // BAR sizing: 16 MiB prefetchable LFB, 4 KiB MMIO.
  bus.config_write(2, 0, 0x10, 4, 0xFFFFFFFF);
  CHECK(bus.config_read(2, 0, 0x10, 4) == 0xFF000008u);
  bus.config_write(2, 0, 0x18, 4, 0xFFFFFFFF);
  CHECK(bus.config_read(2, 0, 0x18, 4) == 0xFFFFF000u);

  bus.config_write(2, 0, 0x10, 4, 0xE0000000);
  bus.config_write(2, 0, 0x18, 4, 0xE1000000);
  bus.config_write(2, 0, 0x30, 4, 0xE1010000 | 1);
  bus.config_write(2, 0, 0x04, 2, pci::kCommandMemory | pci::kCommandIo);

  // LFB: guest writes land in VRAM.
  mem.write(0xE0000000 + 0x1000, 4, 0xCAFEBABE);
  CHECK(vga.vga().vram()[0x1000] == 0xBE);
  CHECK(mem.read(0xE0000000 + 0x1000, 4) == 0xCAFEBABEu);

  // MMIO: DISPI registers at 0x500 + 2 * index, VGA ports at 0x400 + port - 0x3C0.
  CHECK(mem.read(0xE1000500, 2) == 0xB0C5);
  mem.write(0xE1000500 + 2 * vbe::kIndexXres, 2, 800);
  mem.write(0xE1000500 + 2 * vbe::kIndexYres, 2, 600);
  mem.write(0xE1000500 + 2 * vbe::kIndexBpp, 2, 32);
  mem.write(0xE1000500 + 2 * vbe::kIndexEnable, 2, vbe::kEnabled | vbe::kLfbEnabled);
  CHECK(vga.vbe().enabled());
  CHECK(vga.vbe().xres() == 800);
  CHECK(mem.read(0xE1000500 + 2 * vbe::kIndexVideoMemory64K, 2) == 256);
  mem.write(0xE1000400 + (0x3C8 - 0x3C0), 1, 5);
  mem.write(0xE1000400 + (0x3C9 - 0x3C0), 1, 0x21);
  CHECK(vga.vga().dac_write_index() == 5);
  CHECK(mem.read(0xE1000400 + (0x3CC - 0x3C0), 1) == vga.vga().misc_output());
  // QEMU extended registers: size 8, little-endian framebuffer.
  CHECK(mem.read(0xE1000600, 4) == 8);
  CHECK(mem.read(0xE1000604, 4) == 0x1E1E1E1Eu);

  // The expansion ROM is visible at its BAR.
  CHECK(mem.read(0xE1010000, 2) == 0xAA55);

  // Legacy ports and the 0xA0000 window stay in place.
  ports.port_write(0x1CE, 2, vbe::kIndexXres);
  CHECK(ports.port_read(0x1CF, 2) == 800);

  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  vga.serialize(save);
  StateSerializer load(blob.data(), blob.size());
  vga.serialize(load);
  CHECK(load.at_end());
  CHECK(vga.vbe().xres() == 800);
}

TEST_CASE("std-vga LFB is tracked RAM: host-pointer stores after the first, dirty pages for the renderer") {
  PhysicalMemory mem(64 << 20);
  PortBus ports;
  VirtualClock clock;
  PciBus bus(ports, mem);
  StdVgaPci vga(bus, clock, {}, 16u << 20);
  bus.config_write(2, 0, 0x10, 4, 0xE0000000);
  bus.config_write(2, 0, 0x04, 2, pci::kCommandMemory);
  std::vector<uint64_t> dirty;
  vga.vga().take_dirty(dirty);  // start clean (reset marks everything)

  constexpr uint64_t kPage = 0xE0000000 + 5 * 4096;
  PhysicalMemory::Page p = mem.page(kPage);
  // Reads are direct; a clean page has no direct write pointer.
  REQUIRE(p.read == vga.vga().vram() + 5 * 4096);
  CHECK(p.write == nullptr);
  // The first store takes the slow path: VRAM changes and the page turns dirty ...
  mem.write(kPage + 8, 4, 0x11223344);
  CHECK(vga.vga().vram()[5 * 4096 + 8] == 0x44);
  // ... and from then on stores go straight to VRAM through the host pointer.
  p = mem.page(kPage);
  REQUIRE(p.write == vga.vga().vram() + 5 * 4096);
  p.write[100] = 0x5A;
  CHECK(mem.read(kPage + 100, 1) == 0x5A);

  // The renderer takes the dirty set: page 5 only; the TLB must flush
  // (generation) and the page is write-tracked again.
  uint64_t gen = mem.generation();
  vga.vga().take_dirty(dirty);
  CHECK(dirty[0] == (1ULL << 5));
  CHECK(mem.generation() != gen);
  CHECK(mem.page(kPage).write == nullptr);
  // Nothing handed out since: taking again does not flush the TLB.
  gen = mem.generation();
  vga.vga().take_dirty(dirty);
  CHECK(dirty[0] == 0);
  CHECK(mem.generation() == gen);

  // A store straddling two pages marks both.
  mem.write(0xE0000000 + 7 * 4096 - 2, 4, 0xAABBCCDD);
  vga.vga().take_dirty(dirty);
  CHECK(dirty[0] == (3ULL << 6));
  CHECK(vga.vga().vram()[7 * 4096 + 1] == 0xAA);

  // Moving the BAR moves the mapping; the old address no longer decodes.
  bus.config_write(2, 0, 0x10, 4, 0xD0000000);
  CHECK(mem.read(0xD0000000 + 5 * 4096 + 8, 4) == 0x11223344u);
  CHECK(mem.page(0xE0000000 + 5 * 4096).read == nullptr);
}
