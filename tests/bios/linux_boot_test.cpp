#include <doctest/doctest.h>

#include <cstring>
#include <fstream>

#include "bios/linux_boot.h"

using namespace pc64;

namespace {
// A minimal bzImage: setup header of protocol `ver`, 4 setup sectors, then
// `pm` bytes of "kernel".
std::vector<uint8_t> fake_bzimage(uint16_t ver, bool k64, size_t pm = 8192) {
  std::vector<uint8_t> f(5 * 512 + pm, 0);
  f[0x1F1] = 4;
  f[0x1FE] = 0x55;
  f[0x1FF] = 0xAA;
  f[0x200] = 0xEB;
  f[0x201] = 0x6A;  // header runs to 0x26C
  std::memcpy(&f[0x202], "HdrS", 4);
  std::memcpy(&f[0x206], &ver, 2);
  f[0x211] = 0x01;  // LOADED_HIGH
  uint32_t max = 0x7FFFFFFF, cmdsz = 2048, init = 0x200000;
  std::memcpy(&f[0x22C], &max, 4);
  std::memcpy(&f[0x238], &cmdsz, 4);
  std::memcpy(&f[0x260], &init, 4);
  uint16_t xlf = k64 ? 1 : 0;
  std::memcpy(&f[0x236], &xlf, 2);
  for (size_t i = 0; i < pm; ++i) f[5 * 512 + i] = static_cast<uint8_t>(i * 7);
  return f;
}
}  // namespace

TEST_CASE("bzImage validation gives clear errors") {
  std::vector<uint8_t> junk(4096, 0x90);
  CHECK_THROWS_WITH_AS(parse_bzimage(junk, "x.bin"),
                       doctest::Contains("kernel 'x.bin': not a Linux bzImage"), BootError);
  CHECK_THROWS_WITH_AS(parse_bzimage(fake_bzimage(0x0204, false), "old"), doctest::Contains("2.4 is too old"),
                       BootError);
  auto ok = parse_bzimage(fake_bzimage(0x020F, true), "k");
  CHECK(ok.entry64);
  CHECK(ok.kernel_offset == 5 * 512);
  CHECK_FALSE(parse_bzimage(fake_bzimage(0x020F, false), "k").entry64);
}

TEST_CASE("direct Linux boot lays out kernel, boot_params, initrd and page tables") {
  PhysicalMemory mem(64 << 20);
  auto k = fake_bzimage(0x020F, true);
  std::vector<uint8_t> initrd(10000, 0x5A);
  auto e820 = direct_boot_e820(mem.ram_below_4g(), 0, 128 << 10);
  uint64_t top = mem.ram_below_4g() - (128 << 10);
  auto r = load_linux(mem, k, "k", &initrd, "console=ttyS0", e820, top, 0xF5A50);

  CHECK(mem.read(0x100000 + 3, 1) == static_cast<uint8_t>(3 * 7));
  CHECK(r.cpu.mode == BootCpuState::Mode::Long64);
  CHECK(r.cpu.rip == 0x100200);
  CHECK(r.cpu.rsi == kBootParams);
  // boot_params: header copied, loader type, command line, initrd, e820, RSDP.
  CHECK(mem.read(kBootParams + 0x202, 4) == 0x53726448);  // "HdrS"
  CHECK(mem.read(kBootParams + 0x210, 1) == 0xFF);
  CHECK(mem.read(kBootParams + 0x228, 4) == kBootCmdline);
  char cmd[14] = {};
  mem.read_bytes(kBootCmdline, cmd, 14);
  CHECK(std::string(cmd) == "console=ttyS0");
  CHECK(r.initrd_addr % 4096 == 0);
  CHECK(r.initrd_addr + initrd.size() <= top);
  CHECK(mem.read(kBootParams + 0x218, 4) == r.initrd_addr);
  CHECK(mem.read(kBootParams + 0x21C, 4) == initrd.size());
  CHECK(mem.read(r.initrd_addr + 9999, 1) == 0x5A);
  CHECK(mem.read(kBootParams + 0x1E8, 1) == e820.size());
  CHECK(mem.read(kBootParams + 0x2D0 + 20 * 3 + 8, 8) == e820[3].size);
  CHECK(mem.read(kBootParams + 0x70, 8) == 0xF5A50);
  CHECK(mem.read(kBootParams + 0x07, 1) == 80);
  // Identity map: PML4[0] -> PDPT, PDPT[3] -> 4th PD, PD entry for 0xC0000000 is a 2 MiB page.
  CHECK(mem.read(kBootPml4, 8) == ((kBootPml4 + 0x1000) | 3));
  CHECK(mem.read(kBootPml4 + 0x1000 + 3 * 8, 8) == ((kBootPml4 + 0x5000) | 3));
  CHECK(mem.read(kBootPml4 + 0x5000 + 8, 8) == (0xC0200000ULL | 0x83));
  // GDT: 64-bit code at 0x10, flat data at 0x18.
  CHECK(mem.read(kBootGdt + 0x10, 8) == 0x00AF9A000000FFFFULL);
  CHECK(mem.read(kBootGdt + 0x18, 8) == 0x00CF92000000FFFFULL);
}

TEST_CASE("direct boot refuses what does not fit") {
  PhysicalMemory mem(4 << 20);
  auto k = fake_bzimage(0x020F, true);
  std::vector<uint8_t> big(8 << 20, 1);
  auto e820 = direct_boot_e820(mem.ram_below_4g(), 0, 128 << 10);
  CHECK_THROWS_WITH_AS(load_linux(mem, k, "k", &big, "", e820, mem.ram_below_4g() - (128 << 10), 0),
                       doctest::Contains("does not fit"), BootError);
  CHECK_THROWS_WITH_AS(load_linux(mem, k, "k", nullptr, std::string(3000, 'x'), e820, 3 << 20, 0),
                       doctest::Contains("accepts at most 2048"), BootError);
}

TEST_CASE("e820 maps for firmware and direct boot") {
  auto fw = firmware_e820(0xC0000000, 1ULL << 30);
  REQUIRE(fw.size() == 2);
  CHECK(fw[1].addr == 0x100000000ULL);
  auto enc = encode_fw_cfg_e820(fw);
  CHECK(enc.size() == 40);
  uint32_t t;
  std::memcpy(&t, &enc[36], 4);
  CHECK(t == 1);
  auto d = direct_boot_e820(512 << 20, 0, 128 << 10);
  uint64_t ram = 0;
  for (auto& e : d)
    if (e.type == E820Type::Ram) ram += e.size;
  CHECK(ram == 0x9FC00 + (512 << 20) - (128 << 10) - 0x100000);
}
