// Multiboot v1 (the GNU Multiboot Specification 0.6.96): loads a kernel that
// carries a multiboot header in its first 8 KiB, either as ELF32 or with the
// a.out kludge (header flag 16), places modules, builds the multiboot
// information structure and describes the entry state (EAX = 0x2BADB002,
// EBX = info, flat 32-bit protected mode, paging off, IF = 0).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bios/e820.h"
#include "bios/linux_boot.h"
#include "mem/physical_memory.h"

namespace pc64 {

struct MultibootHeader {
  uint32_t offset = 0;  // where the header starts in the file
  uint32_t flags = 0;
  uint32_t header_addr = 0, load_addr = 0, load_end_addr = 0, bss_end_addr = 0, entry_addr = 0;
};

// The multiboot header of `file`, if it has a valid one (magic + checksum).
std::optional<MultibootHeader> find_multiboot_header(const std::vector<uint8_t>& file);

struct MultibootModule {
  std::vector<uint8_t> data;
  std::string cmdline;  // the module's string (its path and arguments)
};

struct MultibootResult {
  BootCpuState cpu;
  uint64_t info_addr = 0;
  uint64_t kernel_start = 0, kernel_end = 0;
  std::vector<std::pair<uint64_t, uint64_t>> modules;  // [start, end)
};

constexpr uint32_t kMultibootBootloaderMagic = 0x2BADB002;
constexpr uint64_t kMultibootInfoAddr = 0x9000;  // info, strings, mmap, module list: 0x9000-0x9FFFF

// Throws BootError naming `path` for an unusable image or when it does not fit.
MultibootResult load_multiboot(PhysicalMemory& mem, const std::vector<uint8_t>& kernel, const std::string& path,
                               const std::string& cmdline, const std::vector<MultibootModule>& modules,
                               const std::vector<E820Entry>& e820);

}  // namespace pc64
