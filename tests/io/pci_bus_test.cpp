#include <doctest/doctest.h>

#include <tuple>
#include <vector>

#include "io/pci_bus.h"

using namespace pc64;

namespace {

struct PirqRecorder final : IrqSink {
  std::vector<std::pair<unsigned, bool>> events;
  void set_irq(unsigned irq, bool level) override { events.push_back({irq, level}); }
};

// A function with every kind of BAR; accesses report the BAR and offset.
class BarTestFunction final : public PciFunction {
 public:
  BarTestFunction() : PciFunction(0x1234, 0x5678, 0x01, 0x020000) {
    define_io_bar(0, 16);
    define_mem_bar(1, 4096, false, false);
    define_mem_bar(2, 1 << 20, true, true);  // uses BARs 2 and 3
    std::vector<uint8_t> rom(3000, 0);
    rom[0] = 0x55;
    rom[1] = 0xAA;
    rom[2] = 6;
    define_rom(rom);
    set_interrupt_pin(1);
  }
  std::vector<std::tuple<int, uint64_t, unsigned, uint64_t>> writes;
  int moves = 0;

 protected:
  uint64_t bar_read(int index, uint64_t offset, unsigned) override { return index * 0x1000 + offset; }
  void bar_write(int index, uint64_t offset, unsigned size, uint64_t value) override {
    writes.push_back({index, offset, size, value});
  }
  void bar_moved(int, uint64_t, uint64_t) override { ++moves; }
};

class PlainFunction final : public PciFunction {
 public:
  PlainFunction() : PciFunction(0x8086, 0x1111, 0, 0x030000) {}
};

struct PciRig {
  PhysicalMemory mem{16 << 20};
  PortBus ports;
  PirqRecorder pirqs;
  PciBus bus{ports, mem, &pirqs, 16};
  BarTestFunction fn;
  PciRig() { bus.add(fn, 3, 0); }

  void select(uint8_t dev, uint8_t func, uint8_t off) {
    ports.port_write(0xCF8, 4, 0x80000000u | dev << 11 | func << 8 | (off & 0xFC));
  }
  uint32_t cfg_read(uint8_t dev, uint8_t func, uint8_t off, unsigned size) {
    select(dev, func, off);
    return ports.port_read(static_cast<uint16_t>(0xCFC + (off & 3)), size);
  }
  void cfg_write(uint8_t dev, uint8_t func, uint8_t off, unsigned size, uint32_t v) {
    select(dev, func, off);
    ports.port_write(static_cast<uint16_t>(0xCFC + (off & 3)), size, v);
  }
};

}  // namespace

TEST_CASE("PCI config reads of every size and offset within the dword") {
  PciRig r;
  CHECK(r.cfg_read(3, 0, 0x00, 4) == 0x56781234);
  CHECK(r.cfg_read(3, 0, 0x00, 2) == 0x1234);
  CHECK(r.cfg_read(3, 0, 0x02, 2) == 0x5678);
  CHECK(r.cfg_read(3, 0, 0x01, 1) == 0x12);
  CHECK(r.cfg_read(3, 0, 0x03, 1) == 0x56);
  CHECK(r.cfg_read(3, 0, 0x01, 2) == 0x7812);  // unaligned word inside the dword
  CHECK(r.cfg_read(3, 0, 0x08, 4) == 0x02000001);  // class 02 00 00, revision 1
  CHECK(r.cfg_read(3, 0, 0x0B, 1) == 0x02);
  // CONFIG_ADDRESS: reserved bits 30:24 and 1:0 read 0.
  r.ports.port_write(0xCF8, 4, 0xFFFFFFFF);
  CHECK(r.ports.port_read(0xCF8, 4) == 0x80FFFFFC);
  // Byte writes to 0xCF8 do not change CONFIG_ADDRESS.
  r.ports.port_write(0xCF8, 4, 0x80001800);
  r.ports.port_write(0xCF8, 1, 0x00);
  CHECK(r.ports.port_read(0xCF8, 4) == 0x80001800);
}

TEST_CASE("PCI config writes go through the write masks") {
  PciRig r;
  r.cfg_write(3, 0, 0x3C, 1, 0x0B);  // interrupt line: writable
  r.cfg_write(3, 0, 0x3D, 1, 0x04);  // interrupt pin: read-only
  CHECK(r.cfg_read(3, 0, 0x3C, 2) == 0x010B);
  r.cfg_write(3, 0, 0x00, 4, 0);  // IDs are read-only
  CHECK(r.cfg_read(3, 0, 0x00, 4) == 0x56781234);
  r.cfg_write(3, 0, 0x04, 2, 0xFFFF);
  CHECK(r.cfg_read(3, 0, 0x04, 2) == 0x0547);
  // A word write at 0xCFE reaches offset +2 of the selected dword.
  r.cfg_write(3, 0, 0x0E, 2, 0x40FF);  // latency timer 0x0D untouched; header type read-only
  r.cfg_write(3, 0, 0x0C, 2, 0x2010);
  CHECK(r.cfg_read(3, 0, 0x0C, 4) == 0x00002010);
}

TEST_CASE("absent functions and other buses read all-ones") {
  PciRig r;
  CHECK(r.cfg_read(4, 0, 0x00, 4) == 0xFFFFFFFF);
  CHECK(r.cfg_read(4, 0, 0x00, 2) == 0xFFFF);
  CHECK(r.cfg_read(3, 1, 0x02, 1) == 0xFF);
  r.ports.port_write(0xCF8, 4, 0x80011800);  // bus 1, device 3
  CHECK(r.ports.port_read(0xCFC, 4) == 0xFFFFFFFF);
  r.ports.port_write(0xCF8, 4, 0x00001800);  // enable bit clear
  CHECK(r.ports.port_read(0xCFC, 4) == 0xFFFFFFFF);
}

TEST_CASE("BAR sizing: 32-bit I/O, 32-bit and 64-bit memory, expansion ROM") {
  PciRig r;
  CHECK(r.cfg_read(3, 0, 0x10, 4) == 0x00000001);
  CHECK(r.cfg_read(3, 0, 0x18, 4) == 0x0000000C);  // 64-bit, prefetchable
  for (uint8_t off = 0x10; off <= 0x1C; off += 4) r.cfg_write(3, 0, off, 4, 0xFFFFFFFF);
  CHECK(r.cfg_read(3, 0, 0x10, 4) == 0xFFFFFFF1);  // 16 bytes of I/O
  CHECK(r.cfg_read(3, 0, 0x14, 4) == 0xFFFFF000);  // 4 KiB memory
  CHECK(r.cfg_read(3, 0, 0x18, 4) == 0xFFF0000C);  // 1 MiB, 64-bit prefetchable
  CHECK(r.cfg_read(3, 0, 0x1C, 4) == 0xFFFFFFFF);  // upper half: all writable
  CHECK(r.cfg_read(3, 0, 0x20, 4) == 0);           // unimplemented BAR4
  r.cfg_write(3, 0, 0x20, 4, 0xFFFFFFFF);
  CHECK(r.cfg_read(3, 0, 0x20, 4) == 0);
  r.cfg_write(3, 0, 0x30, 4, 0xFFFFF800);  // sizing leaves the enable bit alone
  CHECK(r.cfg_read(3, 0, 0x30, 4) == 0xFFFFF000);  // 3000 bytes round to 4 KiB
  CHECK(r.fn.bar_size(PciFunction::kRomBar) == 4096);
  // The sizing pattern never decodes, even with decoding on.
  r.cfg_write(3, 0, 0x04, 2, pci::kCommandIo | pci::kCommandMemory);
  for (int i = 0; i <= PciFunction::kRomBar; ++i) CHECK(r.fn.bar_address(i) == kPciBarUnmapped);
}

TEST_CASE("BARs map where the guest puts them and follow the command register") {
  PciRig r;
  r.cfg_write(3, 0, 0x10, 4, 0xC001);
  r.cfg_write(3, 0, 0x14, 4, 0xE0000000);
  r.cfg_write(3, 0, 0x18, 4, 0x00000000);
  r.cfg_write(3, 0, 0x1C, 4, 0x00000008);  // 0x8_0000_0000
  CHECK(r.fn.bar_address(0) == kPciBarUnmapped);  // decoding still off
  CHECK(r.ports.port_read(0xC004, 1) == 0xFF);
  r.cfg_write(3, 0, 0x04, 2, pci::kCommandIo);
  CHECK(r.fn.bar_address(0) == 0xC000);
  CHECK(r.fn.bar_address(1) == kPciBarUnmapped);
  CHECK(r.ports.port_read(0xC004, 2) == 0x0004);
  r.ports.port_write(0xC00F, 1, 0x99);
  REQUIRE(r.fn.writes.size() == 1);
  CHECK(std::get<0>(r.fn.writes[0]) == 0);
  CHECK(std::get<1>(r.fn.writes[0]) == 0xF);
  r.cfg_write(3, 0, 0x04, 2, pci::kCommandIo | pci::kCommandMemory);
  CHECK(r.fn.bar_address(1) == 0xE0000000);
  CHECK(r.fn.bar_address(2) == 0x800000000ULL);
  CHECK(r.mem.read(0xE0000010, 4) == 0x1010);
  CHECK(r.mem.read(0x800000008ULL, 4) == 0x2008);
  // Moving a BAR moves the window.
  r.cfg_write(3, 0, 0x14, 4, 0xE0100000);
  CHECK(r.mem.read(0xE0000010, 4) == 0xFFFFFFFF);
  CHECK(r.mem.read(0xE0100010, 4) == 0x1010);
  int moves = r.fn.moves;
  r.cfg_write(3, 0, 0x04, 2, 0);
  CHECK(r.fn.moves == moves + 3);
  CHECK(r.mem.read(0xE0100010, 4) == 0xFFFFFFFF);
  CHECK(r.ports.port_read(0xC004, 1) == 0xFF);
}

TEST_CASE("expansion ROM BAR maps the image while enabled") {
  PciRig r;
  r.cfg_write(3, 0, 0x04, 2, pci::kCommandMemory);
  r.cfg_write(3, 0, 0x30, 4, 0xE2000000);  // address without the enable bit
  CHECK(r.mem.read(0xE2000000, 2) == 0xFFFF);
  r.cfg_write(3, 0, 0x30, 4, 0xE2000001);
  CHECK(r.mem.read(0xE2000000, 2) == 0xAA55);
  CHECK(r.mem.read(0xE2000002, 1) == 6);
  r.mem.write(0xE2000000, 2, 0);  // read-only
  CHECK(r.mem.read(0xE2000000, 2) == 0xAA55);
  r.cfg_write(3, 0, 0x30, 4, 0);
  CHECK(r.mem.read(0xE2000000, 2) == 0xFFFF);
}

TEST_CASE("overlapping BARs do not crash: the second one stays unmapped") {
  PciRig r;
  r.ports.map(0x70, 2, &r.bus, "claimed");  // any handler: just occupy 0x70-0x71
  r.cfg_write(3, 0, 0x10, 4, 0x70);
  r.cfg_write(3, 0, 0x04, 2, pci::kCommandIo);
  CHECK(r.fn.bar_address(0) == kPciBarUnmapped);
}

TEST_CASE("multi-function devices set header type bit 7 on function 0") {
  PciRig r;
  CHECK(r.cfg_read(3, 0, 0x0E, 1) == 0x00);
  PlainFunction f2;
  r.bus.add(f2, 3, 2);
  CHECK(r.cfg_read(3, 0, 0x0E, 1) == 0x80);
  CHECK(r.cfg_read(3, 0, 0x0C, 4) == 0x00800000);
  CHECK(r.cfg_read(3, 2, 0x00, 4) == 0x11118086);
  CHECK_THROWS(r.bus.add(f2, 3, 2));
}

TEST_CASE("INTx# drives the swizzled PIRQ and honours Interrupt Disable") {
  PciRig r;
  r.fn.set_irq_level(true);
  // Device 3, INTA#: PIRQ (3 + 1 - 2) mod 4 = C -> irq 16 + 2.
  REQUIRE(r.pirqs.events.size() == 1);
  CHECK(r.pirqs.events[0] == std::pair<unsigned, bool>{18, true});
  CHECK((r.cfg_read(3, 0, 0x06, 2) & pci::kStatusInterrupt) != 0);
  r.cfg_write(3, 0, 0x04, 2, pci::kCommandIntxDisable);
  CHECK(r.pirqs.events.back() == std::pair<unsigned, bool>{18, false});
  r.cfg_write(3, 0, 0x04, 2, 0);
  CHECK(r.pirqs.events.back() == std::pair<unsigned, bool>{18, true});
  r.fn.set_irq_level(false);
  CHECK(r.pirqs.events.back() == std::pair<unsigned, bool>{18, false});
  CHECK((r.cfg_read(3, 0, 0x06, 2) & pci::kStatusInterrupt) == 0);
}

TEST_CASE("PCI function state round-trips and BARs are mapped again") {
  PciRig a;
  a.cfg_write(3, 0, 0x14, 4, 0xE0000000);
  a.cfg_write(3, 0, 0x04, 2, pci::kCommandMemory);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.fn.serialize_config(save);
  PciRig b;
  StateSerializer load(blob.data(), blob.size());
  b.fn.serialize_config(load);
  CHECK(load.at_end());
  CHECK(b.fn.bar_address(1) == 0xE0000000);
  CHECK(b.mem.read(0xE0000004, 4) == 0x1004);
}
