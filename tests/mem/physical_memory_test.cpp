// The physical map: RAM, ROM, MMIO dispatch, legacy PAM routing, A20, DMA,
// code-page tracking, lazy allocation of large RAM.
#include "mem/physical_memory.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <vector>

using namespace pc64;

namespace {

struct Access {
  bool write;
  uint64_t offset;
  unsigned size;
  uint64_t value;
};

// Records every access; reads return a pattern derived from offset and size.
struct TestDevice : MmioHandler {
  std::vector<Access> log;
  static uint64_t pattern(uint64_t offset, unsigned size) {
    uint64_t v = 0x1122334455667788ULL ^ (offset * 0x0101010101010101ULL);
    return size == 8 ? v : v & ((1ULL << (size * 8)) - 1);
  }
  uint64_t mmio_read(uint64_t offset, unsigned size) override {
    log.push_back({false, offset, size, 0});
    return pattern(offset, size);
  }
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override {
    log.push_back({true, offset, size, value});
  }
};

struct Listener : CodeWriteListener {
  std::vector<uint64_t> pages;
  void code_page_written(uint64_t p) override { pages.push_back(p); }
};

uint64_t ones(unsigned size) { return size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1; }

// Resident set size of this process in bytes (Linux).
uint64_t rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  if (std::fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("RAM: 1/2/4/8-byte accesses, little-endian, ram_pointer agrees") {
  PhysicalMemory m(16ULL << 20);
  CHECK(m.ram_size() == (16ULL << 20));
  CHECK(m.ram_below_4g() == (16ULL << 20));
  CHECK(m.ram_above_4g() == 0);
  m.write(0x1000, 8, 0x0102030405060708ULL);
  CHECK(m.read(0x1000, 1) == 0x08);
  CHECK(m.read(0x1000, 2) == 0x0708);
  CHECK(m.read(0x1002, 4) == 0x03040506);
  CHECK(m.read(0x1000, 8) == 0x0102030405060708ULL);
  CHECK(m.ram_pointer(0x1000)[7] == 0x01);
  // Page-crossing access within RAM.
  m.write(0x1FFE, 4, 0xAABBCCDD);
  CHECK(m.read(0x1FFE, 4) == 0xAABBCCDD);
  CHECK(m.read(0x2000, 1) == 0xBB);
}

TEST_CASE("beyond configured RAM: reads all-ones, writes dropped") {
  PhysicalMemory m(2ULL << 20);
  for (unsigned size : {1u, 2u, 4u, 8u}) {
    CAPTURE(size);
    CHECK(m.read(0x30'0000, size) == ones(size));
    m.write(0x30'0000, size, 0);
    CHECK(m.read(0x30'0000, size) == ones(size));
  }
  CHECK(m.ram_pointer(0x20'0000) == nullptr);
  CHECK(m.ram_pointer(0x1F'FFFF) != nullptr);
  // Straddling the end of RAM: the RAM byte, then all-ones.
  m.write(0x1F'FFFF, 1, 0x5A);
  CHECK(m.read(0x1F'FFFF, 2) == 0xFF5A);
  auto p = m.page(0x20'0000);
  CHECK(p.read == nullptr);
  CHECK(p.write == nullptr);
  CHECK(m.read(0xFFFF'FFFF'FFFF'FFF8ULL, 8) == ~0ULL);
}

TEST_CASE("RAM above 3 GiB moves to 4 GiB; the PCI hole is unassigned") {
  PhysicalMemory m(4ULL << 30);
  CHECK(m.ram_below_4g() == 0xC000'0000ULL);
  CHECK(m.ram_above_4g() == (1ULL << 30));
  m.write(0xBFFF'FFFCULL, 4, 0x11223344);
  m.write(0x1'0000'0000ULL, 4, 0x55667788);
  m.write(0x1'3FFF'FFFCULL, 4, 0x99AABBCC);
  CHECK(m.read(0xBFFF'FFFCULL, 4) == 0x11223344);
  CHECK(m.read(0x1'0000'0000ULL, 4) == 0x55667788);
  CHECK(m.read(0x1'3FFF'FFFCULL, 4) == 0x99AABBCC);
  CHECK(m.ram_pointer(0x1'0000'0000ULL) == m.ram_pointer(0xBFFF'FFFFULL) + 1);  // contiguous on the host
  CHECK(m.read(0xC000'0000ULL, 4) == 0xFFFF'FFFF);
  CHECK(m.read(0x1'4000'0000ULL, 4) == 0xFFFF'FFFF);
  CHECK(m.page(0xC000'0000ULL).read == nullptr);
  CHECK(m.page(0x1'0000'0000ULL).write == m.ram_pointer(0x1'0000'0000ULL));
}

TEST_CASE("16 GiB of RAM is reserved, not committed") {
  uint64_t before = rss_bytes();
  PhysicalMemory m(16ULL << 30);
  CHECK(m.ram_size() == (16ULL << 30));
  CHECK(m.ram_above_4g() == (13ULL << 30));
  const uint64_t top = 0x1'0000'0000ULL + m.ram_above_4g() - 8;
  m.write(top, 8, 0xDEADBEEFCAFEF00DULL);
  CHECK(m.read(top, 8) == 0xDEADBEEFCAFEF00DULL);
  CHECK(m.read(top + 8, 1) == 0xFF);
  // Touching two pages (plus per-page bookkeeping) must not commit gigabytes.
  CHECK(rss_bytes() - before < (64ULL << 20));
}

TEST_CASE("MMIO: 1/2/4/8-byte reads and writes reach the device with size and offset") {
  PhysicalMemory m(16ULL << 20);
  TestDevice dev;
  m.map_mmio(0xFEE0'0000ULL, 0x1000, &dev, "lapic");
  for (unsigned size : {1u, 2u, 4u, 8u}) {
    CAPTURE(size);
    dev.log.clear();
    CHECK(m.read(0xFEE0'0020ULL + size, size) == TestDevice::pattern(0x20 + size, size));
    m.write(0xFEE0'0300ULL + size, size, 0x0123456789ABCDEFULL & ones(size));
    REQUIRE(dev.log.size() == 2);
    CHECK_FALSE(dev.log[0].write);
    CHECK(dev.log[0].offset == 0x20 + size);
    CHECK(dev.log[0].size == size);
    CHECK(dev.log[1].write);
    CHECK(dev.log[1].offset == 0x300 + size);
    CHECK(dev.log[1].size == size);
    CHECK(dev.log[1].value == (0x0123456789ABCDEFULL & ones(size)));
  }
  CHECK(m.page(0xFEE0'0000ULL).read == nullptr);
  CHECK(m.page(0xFEE0'0000ULL).write == nullptr);
  // After unmapping, the range is unassigned again.
  m.unmap_mmio(&dev);
  dev.log.clear();
  CHECK(m.read(0xFEE0'0020ULL, 4) == 0xFFFF'FFFF);
  CHECK(dev.log.empty());
}

TEST_CASE("accesses straddling two regions are split and each part goes to its owner") {
  PhysicalMemory m(16ULL << 20);
  TestDevice vga, dev2;
  m.map_mmio(0xA0000, 0x20000, &vga, "vga");
  // RAM then the VGA window: two bytes each.
  m.write(0x9FFFE, 4, 0xA1B2C3D4);
  CHECK(m.read(0x9FFFE, 2) == 0xC3D4);
  REQUIRE(vga.log.size() == 2);
  CHECK(vga.log[0].offset == 0);
  CHECK(vga.log[0].value == 0xB2);
  CHECK(vga.log[1].offset == 1);
  CHECK(vga.log[1].value == 0xA1);
  CHECK(*m.ram_pointer(0xA0000) == 0);  // the RAM hidden under the window is untouched
  vga.log.clear();
  CHECK(m.read(0x9FFFF, 2) == ((TestDevice::pattern(0, 1) << 8) | 0xC3));
  // The last RAM page below the window still gets a host pointer; the window none.
  CHECK(m.page(0x9F000).read == m.ram_pointer(0x9F000));
  CHECK(m.page(0xA0000).read == nullptr);

  // A device mapped over part of a RAM page: RAM bytes then device bytes,
  // and that RAM page loses its direct pointers.
  m.map_mmio(0x50'0800, 0x100, &dev2, "small");
  m.write(0x50'07FE, 4, 0x11223344);
  CHECK(m.read(0x50'07FE, 2) == 0x3344);
  REQUIRE(dev2.log.size() == 2);
  CHECK(dev2.log[0].offset == 0);
  CHECK(dev2.log[1].offset == 1);
  CHECK(m.page(0x50'0000).read == nullptr);
  // Device end into unassigned: device bytes then all-ones.
  PhysicalMemory n(1ULL << 20);
  TestDevice d3;
  n.map_mmio(0xF000'0000ULL, 0x10, &d3, "tiny");
  CHECK(n.read(0xF000'000EULL, 4) == (0xFFFF0000ULL | (TestDevice::pattern(0xF, 1) << 8) | TestDevice::pattern(0xE, 1)));
}

TEST_CASE("ROM: readable, writes dropped, direct read pointer only") {
  PhysicalMemory m(16ULL << 20);
  std::vector<uint8_t> rom(0x20000);
  for (size_t i = 0; i < rom.size(); ++i) rom[i] = static_cast<uint8_t>(i * 7);
  m.map_rom(0xFFFE'0000ULL, rom, "bios");
  CHECK(m.read(0xFFFF'FFF0ULL, 1) == rom[0x1FFF0]);
  m.write(0xFFFF'FFF0ULL, 4, 0);
  CHECK(m.read(0xFFFF'FFF0ULL, 1) == rom[0x1FFF0]);
  auto p = m.page(0xFFFF'F000ULL);
  REQUIRE(p.read != nullptr);
  CHECK(p.read[0xFF0] == rom[0x1FFF0]);
  CHECK(p.write == nullptr);
  CHECK_THROWS(m.map_rom(0xFFFF'0000ULL, std::vector<uint8_t>(16), "overlap"));
}

TEST_CASE("PAM: legacy area reads/writes go to ROM/bus or shadow RAM as routed") {
  PhysicalMemory m(16ULL << 20);
  m.map_rom(0xF0000, std::vector<uint8_t>(0x10000, 0xEA), "bios-low");
  // Reset: both to the bus: ROM read, write dropped.
  CHECK(m.read(0xF0000, 1) == 0xEA);
  m.write(0xF0000, 1, 0x11);
  CHECK(m.read(0xF0000, 1) == 0xEA);
  CHECK(*m.ram_pointer(0xF0000) == 0);
  CHECK(m.read(0xC0000, 4) == 0xFFFF'FFFF);  // no option ROM: unassigned
  CHECK(m.page(0xF0000).write == nullptr);

  // Copy-to-shadow setup: read ROM, write RAM.
  m.set_legacy_routing(0xF0000, 0x10000, false, true);
  m.write(0xF0010, 4, 0xCAFEBABE);
  CHECK(m.read(0xF0010, 4) == 0xEAEAEAEA);
  CHECK(*reinterpret_cast<uint32_t*>(m.ram_pointer(0xF0010)) == 0xCAFEBABE);
  CHECK(m.page(0xF0000).write == m.ram_pointer(0xF0000));

  // Shadowed, write-protected: read RAM, writes dropped.
  uint64_t g = m.generation();
  m.set_legacy_routing(0xF0000, 0x10000, true, false);
  CHECK(m.generation() != g);
  CHECK(m.read(0xF0010, 4) == 0xCAFEBABE);
  m.write(0xF0010, 4, 0);
  CHECK(m.read(0xF0010, 4) == 0xCAFEBABE);
  CHECK(m.page(0xF0000).read == m.ram_pointer(0xF0000));
  CHECK(m.page(0xF0000).write == nullptr);
  // Another 4 KiB step keeps its own routing.
  CHECK(m.read(0xE0000, 1) == 0xFF);
  // Read-write shadow.
  m.set_legacy_routing(0xC0000, 0x1000, true, true);
  m.write(0xC0004, 2, 0x55AA);
  CHECK(m.read(0xC0004, 2) == 0x55AA);
  CHECK(m.read(0xC1004, 2) == 0xFFFF);
}

TEST_CASE("PAM routing to RAM with less than 1 MiB of RAM is unassigned, not a crash") {
  PhysicalMemory m(512ULL << 10);
  m.set_legacy_routing(0xC0000, 0x40000, true, true);
  m.write(0xF0000, 4, 0x12345678);
  CHECK(m.read(0xF0000, 4) == 0xFFFF'FFFF);
  CHECK(m.page(0xF0000).read == nullptr);
  CHECK(m.page(0xF0000).write == nullptr);
}

TEST_CASE("A20 gate mask and generation") {
  PhysicalMemory m(4ULL << 20);
  CHECK(m.a20_enabled());
  CHECK(m.a20_mask() == ~0ULL);
  uint64_t g = m.generation();
  m.set_a20(false);
  CHECK_FALSE(m.a20_enabled());
  CHECK(m.a20_mask() == ~(1ULL << 20));
  CHECK(m.generation() != g);
  // Real-mode wrap: FFFF:0010 = 0x100000 -> 0x0 when the caller applies the mask.
  m.write(0x0, 1, 0x77);
  CHECK(m.read(0x10'0000 & m.a20_mask(), 1) == 0x77);
  g = m.generation();
  m.set_a20(false);  // no change, no new generation
  CHECK(m.generation() == g);
  m.set_a20(true);
  CHECK(m.read(0x10'0000 & m.a20_mask(), 1) == 0);
}

TEST_CASE("DMA: RAM only, all or nothing") {
  PhysicalMemory m(4ULL << 30);
  std::vector<uint8_t> buf(0x2000, 0xAB), back(0x2000);
  CHECK(m.dma_write(0x10'0000, buf.data(), buf.size()));
  CHECK(m.dma_read(0x10'0000, back.data(), back.size()));
  CHECK(back == buf);
  CHECK(m.read(0x10'1FFF, 1) == 0xAB);

  // Straddling the end of low RAM into the PCI hole: refused, nothing written.
  CHECK_FALSE(m.dma_write(0xBFFF'F000ULL, buf.data(), buf.size()));
  CHECK(m.read(0xBFFF'F000ULL, 8) == 0);
  CHECK_FALSE(m.dma_read(0xBFFF'F000ULL, back.data(), back.size()));
  // Beyond all RAM, and wrapping the address space.
  CHECK_FALSE(m.dma_write(0x1'4000'0000ULL, buf.data(), 1));
  CHECK_FALSE(m.dma_write(0x1'3FFF'FFFFULL, buf.data(), 2));
  CHECK(m.read(0x1'3FFF'FFFFULL, 1) == 0);
  CHECK_FALSE(m.dma_write(~0ULL - 4, buf.data(), 16));
  CHECK(m.dma_write(0x1'3FFF'F000ULL, buf.data(), 0x1000));  // last page above 4 GiB is RAM

  // The VGA window and non-shadowed PAM pages are not RAM for a device.
  CHECK_FALSE(m.dma_write(0xA0000, buf.data(), 16));
  CHECK_FALSE(m.dma_write(0x9FFF0, buf.data(), 32));
  CHECK(*m.ram_pointer(0x9FFF0) == 0);
  CHECK_FALSE(m.dma_write(0xF0000, buf.data(), 16));
  m.set_legacy_routing(0xF0000, 0x10000, false, true);
  CHECK(m.dma_write(0xF0000, buf.data(), 16));
  CHECK_FALSE(m.dma_read(0xF0000, back.data(), 16));  // reads still go to the bus
  // Empty transfers succeed trivially.
  CHECK(m.dma_read(0xFFFF'FFFF'0000ULL, back.data(), 0));
}

TEST_CASE("code pages: no direct write pointer; CPU and DMA writes notify the listener") {
  PhysicalMemory m(4ULL << 20);
  Listener l;
  m.set_code_write_listener(&l);
  m.mark_code_page(0x5123);
  CHECK(m.is_code_page(0x5000));
  CHECK_FALSE(m.is_code_page(0x4000));
  CHECK(m.page(0x5000).read == m.ram_pointer(0x5000));
  CHECK(m.page(0x5000).write == nullptr);
  m.write(0x4000, 4, 1);
  CHECK(l.pages.empty());
  m.write(0x5010, 4, 1);
  REQUIRE(l.pages.size() == 1);
  CHECK(l.pages[0] == 0x5000);
  m.write(0x4FFE, 4, 0xFFFFFFFF);  // starts on a plain page, ends on the code page
  REQUIRE(l.pages.size() == 2);
  CHECK(l.pages[1] == 0x5000);
  uint8_t b[16] = {};
  CHECK(m.dma_write(0x5FF8, b, 16));  // covers 0x5000 and 0x6000
  REQUIRE(l.pages.size() == 3);
  CHECK(l.pages[2] == 0x5000);
  m.clear_code_page(0x5000);
  CHECK(m.page(0x5000).write == m.ram_pointer(0x5000));
  m.write(0x5010, 4, 1);
  CHECK(l.pages.size() == 3);
}

TEST_CASE("read_bytes / write_bytes follow the map") {
  PhysicalMemory m(1ULL << 20);
  TestDevice dev;
  m.map_mmio(0xA0000, 0x20000, &dev, "vga");
  const char msg[] = "hello";
  m.write_bytes(0x9FFFD, msg, 6);
  char out[6] = {};
  m.read_bytes(0x9FFFD, out, 3);
  CHECK(std::memcmp(out, "hel", 3) == 0);
  REQUIRE(dev.log.size() == 3);  // "lo\0" went to the device, byte by byte
  CHECK(dev.log[0].offset == 0);
  CHECK(dev.log[0].value == 'l');
}

TEST_CASE("write_bytes copies RAM a page at a time and reports every code page it touches") {
  PhysicalMemory m(1ULL << 20);
  Listener l;
  m.set_code_write_listener(&l);
  m.mark_code_page(0x3000);
  m.mark_code_page(0x5000);
  std::vector<uint8_t> data(3 * 4096 + 100);
  for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<uint8_t>(k * 7 + 1);
  m.write_bytes(0x2F80, data.data(), data.size());  // 0x2F80 .. 0x5FE3: pages 2, 3, 4, 5
  std::vector<uint8_t> back(data.size());
  m.read_bytes(0x2F80, back.data(), back.size());
  CHECK(back == data);
  CHECK(l.pages == std::vector<uint64_t>{0x3000, 0x5000});
  m.set_code_write_listener(nullptr);
}

TEST_CASE("serialize round-trips RAM, PAM routing and A20") {
  PhysicalMemory a(2ULL << 20);
  a.write(0x1234, 8, 0x0123456789ABCDEFULL);
  a.write(0x1F'FFF0, 4, 0xFEEDFACE);
  a.set_legacy_routing(0xE0000, 0x10000, true, false);
  a.set_a20(false);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.serialize(save);

  PhysicalMemory b(2ULL << 20);
  b.write(0x8000, 4, 0x11111111);  // must be cleared by the restore
  StateSerializer load(blob.data(), blob.size());
  b.serialize(load);
  CHECK(load.at_end());
  CHECK(b.read(0x1234, 8) == 0x0123456789ABCDEFULL);
  CHECK(b.read(0x1F'FFF0, 4) == 0xFEEDFACE);
  CHECK(b.read(0x8000, 4) == 0);
  CHECK_FALSE(b.a20_enabled());
  CHECK(b.page(0xE0000).read == b.ram_pointer(0xE0000));

  PhysicalMemory c(4ULL << 20);
  StateSerializer load2(blob.data(), blob.size());
  CHECK_THROWS_AS(c.serialize(load2), StateError);
  PhysicalMemory d(2ULL << 20);
  StateSerializer truncated(blob.data(), blob.size() - 3);
  CHECK_THROWS_AS(d.serialize(truncated), StateError);
}

TEST_CASE("RAM below 640 KiB stops at the VGA window even with no VGA device") {
  PhysicalMemory m(16ULL << 20);
  m.write(0x9FFFE, 4, 0xA1B2C3D4);
  CHECK(m.read(0x9FFFE, 4) == 0xFFFFC3D4);
  CHECK(*m.ram_pointer(0xA0000) == 0);
}

TEST_CASE("legacy area: an option ROM starting inside a 4 KiB page") {
  PhysicalMemory m(16ULL << 20);
  m.map_rom(0xC0800, std::vector<uint8_t>(0x800, 0x55), "oprom");
  CHECK(m.read(0xC07FE, 4) == 0x5555FFFF);
  CHECK(m.page(0xC0000).read == nullptr);  // the page is not all ROM
}

TEST_CASE("direct_ram: plain RAM only, never the legacy area or under a ROM/MMIO range") {
  PhysicalMemory mem(64ull << 20);
  uint8_t* ram0 = mem.ram_pointer(0);
  CHECK(mem.direct_ram(0) == ram0);
  CHECK(mem.direct_ram(0x9FFFF) == ram0 + 0x9FFFF);
  CHECK(mem.direct_ram(0xA0000) == nullptr);  // VGA window
  CHECK(mem.direct_ram(0xFFFFF) == nullptr);  // PAM area
  CHECK(mem.direct_ram(0x100000) == ram0 + 0x100000);
  CHECK(mem.direct_ram((64ull << 20) - 1) == ram0 + (64ull << 20) - 1);
  CHECK(mem.direct_ram(64ull << 20) == nullptr);  // past RAM
  // A device mapped over RAM at 32 MiB ends the direct range there, and a
  // region below 640 KiB ends the low one.
  TestDevice dev;
  mem.map_mmio(32ull << 20, 0x1000, &dev, "dev");
  CHECK(mem.direct_ram((32ull << 20) - 1) != nullptr);
  CHECK(mem.direct_ram(32ull << 20) == nullptr);
  CHECK(mem.direct_ram(48ull << 20) == nullptr);
  mem.map_mmio(0x80000, 0x1000, &dev, "low");
  CHECK(mem.direct_ram(0x7FFFF) != nullptr);
  CHECK(mem.direct_ram(0x80000) == nullptr);
  // page() agrees: the page under the device has no host pointers.
  CHECK(mem.page(32ull << 20).read == nullptr);
  CHECK(mem.page(0x100000).write == ram0 + 0x100000);
  mem.unmap_mmio(&dev);
  CHECK(mem.direct_ram(48ull << 20) == ram0 + (48ull << 20));
  CHECK(mem.direct_ram(0x80000) == ram0 + 0x80000);
  // Stores that must be reported (code pages) get no direct pointer.
  mem.mark_code_page(0x200000);
  CHECK(mem.direct_ram_for_write(0x200008) == nullptr);
  CHECK(mem.direct_ram_for_write(0x201008) == ram0 + 0x201008);
  CHECK(mem.page(0x200000).write == nullptr);
  CHECK(mem.page(0x200000).read == ram0 + 0x200000);
}
