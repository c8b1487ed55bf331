// Direct Linux boot without a BIOS (pc64 --kernel bzImage --initrd --append):
// validates the bzImage setup header, loads the protected-mode kernel at
// 1 MiB, builds boot_params (the "zero page") with the e820 map, command
// line, initrd and an 80x25 VGA screen_info, and describes the CPU state the
// kernel's entry point expects (Linux Documentation/arch/x86/boot.rst).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bios/e820.h"
#include "mem/physical_memory.h"

namespace pc64 {

class BootError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The CPU state at a kernel's entry: flat 4 GiB segments from a GDT that the
// loader wrote to RAM, interrupts off. Long64: 64-bit mode with paging on
// through identity page tables at cr3. Protected32: 32-bit protected mode,
// paging off.
struct BootCpuState {
  enum class Mode { Protected32, Long64 } mode = Mode::Protected32;
  uint64_t rip = 0;
  uint64_t rsi = 0, rax = 0, rbx = 0;
  uint64_t gdt_base = 0;
  uint16_t gdt_limit = 0;
  uint16_t cs = 0, ds = 0;  // DS, ES, SS (and FS, GS) get `ds`
  uint64_t cr3 = 0;          // Long64 only
};

struct LinuxImage {
  uint16_t protocol = 0;       // boot protocol version, e.g. 0x020F
  unsigned setup_sects = 0;
  bool entry64 = false;        // XLF_KERNEL_64: has the 64-bit entry point
  uint32_t init_size = 0;
  uint32_t initrd_addr_max = 0;
  uint32_t cmdline_size = 0;
  size_t kernel_offset = 0;    // where the protected-mode code starts in the file
};

// Parses and validates a bzImage; throws BootError naming `path` otherwise.
LinuxImage parse_bzimage(const std::vector<uint8_t>& file, const std::string& path);

struct LinuxBootResult {
  BootCpuState cpu;
  uint64_t kernel_addr = 0, initrd_addr = 0, initrd_size = 0, cmdline_addr = 0, boot_params_addr = 0;
};

// Fixed low-memory layout used by the loader.
constexpr uint64_t kBootGdt = 0x1000;
constexpr uint64_t kBootPml4 = 0x2000;       // + PDPT at 0x3000, 4 page directories at 0x4000..0x7FFF
constexpr uint64_t kBootParams = 0x10000;
constexpr uint64_t kBootCmdline = 0x20000;
constexpr uint64_t kKernelLoadAddr = 0x100000;

// Loads kernel (+ initrd) into `mem`. `top_of_low_ram` is the first byte the
// initrd must stay below (the ACPI tables sit above it); `rsdp` may be 0.
LinuxBootResult load_linux(PhysicalMemory& mem, const std::vector<uint8_t>& kernel, const std::string& kernel_path,
                           const std::vector<uint8_t>* initrd, const std::string& cmdline,
                           const std::vector<E820Entry>& e820, uint64_t top_of_low_ram, uint64_t rsdp);

}  // namespace pc64
