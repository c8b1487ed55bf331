#include "bios/multiboot.h"

#include <algorithm>
#include <cstring>

namespace pc64 {

namespace {

constexpr uint32_t kHeaderMagic = 0x1BADB002;
constexpr uint32_t kFlagPageAlign = 1u << 0, kFlagMemInfo = 1u << 1, kFlagVideo = 1u << 2,
                   kFlagAoutKludge = 1u << 16;
// Info flags (spec 3.3).
constexpr uint32_t kInfoMem = 1u << 0, kInfoCmdline = 1u << 2, kInfoMods = 1u << 3, kInfoMmap = 1u << 6,
                   kInfoLoaderName = 1u << 9;

uint32_t rd32(const std::vector<uint8_t>& v, size_t off) {
  uint32_t x;
  std::memcpy(&x, v.data() + off, 4);
  return x;
}
uint16_t rd16(const std::vector<uint8_t>& v, size_t off) {
  uint16_t x;
  std::memcpy(&x, v.data() + off, 2);
  return x;
}

// A bump allocator for the info area, so strings and tables never overlap.
struct InfoArea {
  PhysicalMemory& mem;
  uint64_t next, end;
  uint64_t put(const void* p, size_t n, const std::string& path) {
    if (next + n > end) throw BootError("multiboot kernel '" + path + "': command line and module strings are too long");
    uint64_t at = next;
    mem.write_bytes(at, p, n);
    next = (next + n + 3) & ~3ULL;
    return at;
  }
  uint64_t put_str(const std::string& s, const std::string& path) { return put(s.c_str(), s.size() + 1, path); }
};

}  // namespace

std::optional<MultibootHeader> find_multiboot_header(const std::vector<uint8_t>& f) {
  size_t limit = std::min<size_t>(f.size(), 8192);
  for (size_t off = 0; off + 12 <= limit; off += 4) {
    if (rd32(f, off) != kHeaderMagic) continue;
    uint32_t flags = rd32(f, off + 4), sum = rd32(f, off + 8);
    if (static_cast<uint32_t>(kHeaderMagic + flags + sum) != 0) continue;
    MultibootHeader h;
    h.offset = static_cast<uint32_t>(off);
    h.flags = flags;
    if ((flags & kFlagAoutKludge) && off + 32 <= f.size()) {
      h.header_addr = rd32(f, off + 12);
      h.load_addr = rd32(f, off + 16);
      h.load_end_addr = rd32(f, off + 20);
      h.bss_end_addr = rd32(f, off + 24);
      h.entry_addr = rd32(f, off + 28);
    }
    return h;
  }
  return std::nullopt;
}

MultibootResult load_multiboot(PhysicalMemory& mem, const std::vector<uint8_t>& f, const std::string& path,
                               const std::string& cmdline, const std::vector<MultibootModule>& modules,
                               const std::vector<E820Entry>& e820) {
  auto fail = [&](const std::string& why) { return BootError("multiboot kernel '" + path + "': " + why); };
  auto h = find_multiboot_header(f);
  if (!h) throw fail("no multiboot header in the first 8 KiB");
  // Bits 0-15 are requirements: refuse any we do not know (spec 3.1.2).
  if (h->flags & 0xFFFF & ~(kFlagPageAlign | kFlagMemInfo | kFlagVideo))
    throw fail("requires unsupported multiboot features (flags " + std::to_string(h->flags) + ")");

  uint64_t ram_top = mem.ram_below_4g();
  auto check_range = [&](uint64_t a, uint64_t n) {
    if (a < 0x100000 || a + n > ram_top || a + n < a)
      throw fail("wants memory at " + std::to_string(a) + "+" + std::to_string(n) +
                 ", outside guest RAM above 1 MiB; give the guest more memory (-m)");
  };

  MultibootResult r;
  if (h->flags & kFlagAoutKludge) {
    if (h->load_addr > h->header_addr || h->offset < h->header_addr - h->load_addr)
      throw fail("inconsistent a.out kludge addresses");
    uint64_t file_off = h->offset - (h->header_addr - h->load_addr);
    uint64_t len = h->load_end_addr ? uint64_t{h->load_end_addr} - h->load_addr : f.size() - file_off;
    if (h->load_end_addr && h->load_end_addr < h->load_addr) throw fail("load_end_addr below load_addr");
    if (file_off + len > f.size()) throw fail("truncated: the image is shorter than its load range");
    uint64_t end = h->bss_end_addr ? std::max<uint64_t>(h->bss_end_addr, h->load_addr + len) : h->load_addr + len;
    check_range(h->load_addr, end - h->load_addr);
    mem.write_bytes(h->load_addr, f.data() + file_off, len);
    std::vector<uint8_t> zeros(end - (h->load_addr + len), 0);
    if (!zeros.empty()) mem.write_bytes(h->load_addr + len, zeros.data(), zeros.size());
    r.kernel_start = h->load_addr;
    r.kernel_end = end;
    r.cpu.rip = h->entry_addr;
  } else {
    // ELF32, little-endian, i386, loaded by physical address.
    if (f.size() < 52 || std::memcmp(f.data(), "\x7F" "ELF", 4) != 0 || f[4] != 1 || f[5] != 1 || rd16(f, 18) != 3)
      throw fail("not an ELF32 i386 image and no a.out kludge in the multiboot header");
    uint32_t phoff = rd32(f, 28);
    uint16_t phentsize = rd16(f, 42), phnum = rd16(f, 44);
    if (phentsize < 32 || phoff + uint64_t{phnum} * phentsize > f.size()) throw fail("truncated ELF program headers");
    r.kernel_start = ~0ULL;
    for (unsigned i = 0; i < phnum; ++i) {
      size_t ph = phoff + i * phentsize;
      if (rd32(f, ph) != 1) continue;  // PT_LOAD
      uint32_t off = rd32(f, ph + 4), paddr = rd32(f, ph + 12), filesz = rd32(f, ph + 16), memsz = rd32(f, ph + 20);
      if (uint64_t{off} + filesz > f.size() || filesz > memsz) throw fail("ELF segment runs past the end of the file");
      check_range(paddr, memsz);
      mem.write_bytes(paddr, f.data() + off, filesz);
      std::vector<uint8_t> zeros(memsz - filesz, 0);
      if (!zeros.empty()) mem.write_bytes(paddr + filesz, zeros.data(), zeros.size());
      r.kernel_start = std::min<uint64_t>(r.kernel_start, paddr);
      r.kernel_end = std::max<uint64_t>(r.kernel_end, uint64_t{paddr} + memsz);
    }
    if (r.kernel_start == ~0ULL) throw fail("ELF image has no loadable segment");
    r.cpu.rip = rd32(f, 24);
  }

  // Modules go after the kernel, page-aligned (always: it costs nothing).
  uint64_t next = (r.kernel_end + 0xFFF) & ~0xFFFULL;
  for (const auto& m : modules) {
    check_range(next, m.data.size());
    mem.write_bytes(next, m.data.data(), m.data.size());
    r.modules.emplace_back(next, next + m.data.size());
    next = (next + m.data.size() + 0xFFF) & ~0xFFFULL;
  }

  // The information structure and what it points to.
  InfoArea area{mem, kMultibootInfoAddr + 0x100, 0xA0000};
  uint32_t info[22] = {};
  info[0] = kInfoMem | kInfoCmdline | kInfoMmap | kInfoLoaderName;
  uint64_t lower = 0, upper = 0;
  for (const auto& e : e820) {
    if (e.type != E820Type::Ram) continue;
    if (e.addr == 0) lower = std::min<uint64_t>(e.size, 0xA0000) / 1024;
    if (e.addr <= 0x100000 && e.addr + e.size > 0x100000) upper = (e.addr + e.size - 0x100000) / 1024;
  }
  info[1] = static_cast<uint32_t>(lower);
  info[2] = static_cast<uint32_t>(upper);
  info[4] = static_cast<uint32_t>(area.put_str(cmdline, path));
  if (!modules.empty()) {
    std::vector<uint32_t> list;
    for (size_t i = 0; i < modules.size(); ++i) {
      list.push_back(static_cast<uint32_t>(r.modules[i].first));
      list.push_back(static_cast<uint32_t>(r.modules[i].second));
      list.push_back(static_cast<uint32_t>(area.put_str(modules[i].cmdline, path)));
      list.push_back(0);
    }
    info[0] |= kInfoMods;
    info[5] = static_cast<uint32_t>(modules.size());
    info[6] = static_cast<uint32_t>(area.put(list.data(), list.size() * 4, path));
  }
  std::vector<uint8_t> mmap;
  for (const auto& e : e820) {
    uint32_t size = 20, type = static_cast<uint32_t>(e.type);
    const uint8_t* p;
    p = reinterpret_cast<const uint8_t*>(&size);
    mmap.insert(mmap.end(), p, p + 4);
    p = reinterpret_cast<const uint8_t*>(&e.addr);
    mmap.insert(mmap.end(), p, p + 8);
    p = reinterpret_cast<const uint8_t*>(&e.size);
    mmap.insert(mmap.end(), p, p + 8);
    p = reinterpret_cast<const uint8_t*>(&type);
    mmap.insert(mmap.end(), p, p + 4);
  }
  info[11] = static_cast<uint32_t>(mmap.size());
  info[12] = static_cast<uint32_t>(area.put(mmap.data(), mmap.size(), path));
  info[16] = static_cast<uint32_t>(area.put_str("pc64", path));
  mem.write_bytes(kMultibootInfoAddr, info, sizeof info);
  r.info_addr = kMultibootInfoAddr;

  // Entry state: flat 32-bit protected mode from a GDT the loader writes.
  const uint64_t gdt[4] = {0, 0, 0x00CF9A000000FFFFULL, 0x00CF92000000FFFFULL};
  mem.write_bytes(kBootGdt, gdt, sizeof gdt);
  r.cpu.mode = BootCpuState::Mode::Protected32;
  r.cpu.gdt_base = kBootGdt;
  r.cpu.gdt_limit = sizeof gdt - 1;
  r.cpu.cs = 0x10;
  r.cpu.ds = 0x18;
  r.cpu.rax = kMultibootBootloaderMagic;
  r.cpu.rbx = kMultibootInfoAddr;
  return r;
}

}  // namespace pc64
