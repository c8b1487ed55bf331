#include <doctest/doctest.h>

#include <cstring>

#include "bios/multiboot.h"

using namespace pc64;

namespace {
void w32(std::vector<uint8_t>& v, size_t off, uint32_t x) { std::memcpy(&v[off], &x, 4); }
void w16(std::vector<uint8_t>& v, size_t off, uint16_t x) { std::memcpy(&v[off], &x, 2); }

std::vector<uint8_t> aout_kernel() {
  std::vector<uint8_t> f(0x1000, 0xCC);
  const uint32_t flags = (1u << 16) | 3;
  w32(f, 0x40, 0x1BADB002);
  w32(f, 0x44, flags);
  w32(f, 0x48, static_cast<uint32_t>(-(0x1BADB002 + flags)));
  w32(f, 0x4C, 0x100040);  // header_addr
  w32(f, 0x50, 0x100000);  // load_addr
  w32(f, 0x54, 0);         // load_end_addr: whole file
  w32(f, 0x58, 0x103000);  // bss_end_addr
  w32(f, 0x5C, 0x100080);  // entry
  return f;
}

std::vector<uint8_t> elf_kernel() {
  std::vector<uint8_t> f(0x2000, 0);
  std::memcpy(f.data(), "\x7F" "ELF\x01\x01\x01", 7);
  w16(f, 16, 2);         // ET_EXEC
  w16(f, 18, 3);         // EM_386
  w32(f, 24, 0x200010);  // entry
  w32(f, 28, 52);        // phoff
  w16(f, 42, 32);
  w16(f, 44, 1);
  // PT_LOAD: file 0x1000..0x1100 -> paddr 0x200000, memsz 0x800
  w32(f, 52, 1);
  w32(f, 56, 0x1000);
  w32(f, 64, 0x200000);
  w32(f, 68, 0x100);
  w32(f, 72, 0x800);
  w32(f, 0x100, 0x1BADB002);
  w32(f, 0x104, 2);
  w32(f, 0x108, static_cast<uint32_t>(-(0x1BADB002 + 2)));
  for (int i = 0; i < 0x100; ++i) f[0x1000 + i] = static_cast<uint8_t>(i);
  return f;
}
}  // namespace

TEST_CASE("multiboot header search needs magic and checksum in the first 8 KiB") {
  auto f = aout_kernel();
  auto h = find_multiboot_header(f);
  REQUIRE(h);
  CHECK(h->offset == 0x40);
  CHECK(h->entry_addr == 0x100080);
  w32(f, 0x48, 0);  // bad checksum
  CHECK_FALSE(find_multiboot_header(f));
  std::vector<uint8_t> late(0x3000, 0);
  w32(late, 0x2000, 0x1BADB002);
  w32(late, 0x2008, static_cast<uint32_t>(-0x1BADB002));
  CHECK_FALSE(find_multiboot_header(late));
}

TEST_CASE("multiboot a.out kludge: load, bss, modules, info structure, entry state") {
  PhysicalMemory mem(32 << 20);
  auto e820 = direct_boot_e820(mem.ram_below_4g(), 0, 0);
  std::vector<MultibootModule> mods{{std::vector<uint8_t>(5000, 0xAB), "mod1 arg"}, {{1, 2, 3}, "mod2"}};
  auto r = load_multiboot(mem, aout_kernel(), "k", "kernel opt=1", mods, e820);
  CHECK(r.cpu.mode == BootCpuState::Mode::Protected32);
  CHECK(r.cpu.rax == 0x2BADB002);
  CHECK(r.cpu.rbx == kMultibootInfoAddr);
  CHECK(r.cpu.rip == 0x100080);
  CHECK(mem.read(0x100040, 4) == 0x1BADB002);  // file byte 0x40 landed at load_addr + 0x40
  CHECK(mem.read(0x100FFF, 1) == 0xCC);
  CHECK(mem.read(0x102FFF, 1) == 0);  // bss
  REQUIRE(r.modules.size() == 2);
  CHECK(r.modules[0].first == 0x103000);  // page-aligned after bss
  CHECK(r.modules[1].first == 0x105000);
  const uint64_t mbi = r.info_addr;
  uint32_t flags = static_cast<uint32_t>(mem.read(mbi, 4));
  CHECK((flags & 0x24D) == 0x24D);  // mem, cmdline, mods, mmap, loader name
  CHECK(mem.read(mbi + 4, 4) == 0x9FC00 / 1024);
  CHECK(mem.read(mbi + 8, 4) == ((32u << 20) - 0x100000) / 1024);
  auto str = [&](uint64_t a) {
    std::string s;
    for (char c; (c = static_cast<char>(mem.read(a++, 1)));) s += c;
    return s;
  };
  CHECK(str(mem.read(mbi + 16, 4)) == "kernel opt=1");
  CHECK(mem.read(mbi + 20, 4) == 2);
  uint64_t list = mem.read(mbi + 24, 4);
  CHECK(mem.read(list, 4) == 0x103000);
  CHECK(mem.read(list + 4, 4) == 0x103000 + 5000);
  CHECK(str(mem.read(list + 8, 4)) == "mod1 arg");
  CHECK(str(mem.read(list + 16 + 8, 4)) == "mod2");
  CHECK(mem.read(0x105002, 1) == 3);
  CHECK(mem.read(mbi + 44, 4) == e820.size() * 24);
  uint64_t mm = mem.read(mbi + 48, 4);
  CHECK(mem.read(mm, 4) == 20);
  CHECK(mem.read(mm + 4 + 8, 8) == e820[0].size);
  CHECK(str(mem.read(mbi + 64, 4)) == "pc64");
}

TEST_CASE("multiboot ELF32 loading by physical address") {
  PhysicalMemory mem(8 << 20);
  auto r = load_multiboot(mem, elf_kernel(), "k", "", {}, direct_boot_e820(mem.ram_below_4g(), 0, 0));
  CHECK(r.cpu.rip == 0x200010);
  CHECK(mem.read(0x200000 + 0x42, 1) == 0x42);
  CHECK(mem.read(0x200100, 1) == 0);  // memsz beyond filesz is zeroed
  CHECK(r.kernel_end == 0x200800);
}

TEST_CASE("multiboot errors name the file and the cause") {
  PhysicalMemory mem(8 << 20);
  auto e820 = direct_boot_e820(mem.ram_below_4g(), 0, 0);
  std::vector<uint8_t> none(4096, 0);
  CHECK_THROWS_WITH_AS(load_multiboot(mem, none, "x.elf", "", {}, e820), doctest::Contains("'x.elf': no multiboot header"), BootError);
  auto f = aout_kernel();
  w32(f, 0x58, 0x7F000000);  // bss far beyond RAM
  CHECK_THROWS_WITH_AS(load_multiboot(mem, f, "k", "", {}, e820), doctest::Contains("outside guest RAM"), BootError);
  auto e = elf_kernel();
  w32(e, 0x104, 2 | (1u << 5));  // an unknown required feature
  w32(e, 0x108, static_cast<uint32_t>(-(0x1BADB002 + (2 | (1u << 5)))));
  CHECK_THROWS_WITH_AS(load_multiboot(mem, e, "k", "", {}, e820), doctest::Contains("unsupported multiboot features"), BootError);
}
