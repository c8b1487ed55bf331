// Booting a kernel without running the BIOS (--kernel/--initrd/--append):
// the files are read and validated once, at start-up (so a bad file is an
// error before the guest runs), then loaded into RAM and the CPU put in the
// kernel's entry state at every machine reset, so a guest reboot boots the
// kernel again.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bios/linux_boot.h"
#include "bios/multiboot.h"
#include "cpu/cpu.h"

namespace pc64 {

class DirectBoot {
 public:
  // `initrd` may list several files separated by commas (multiboot modules;
  // text after a file name, separated by a space, is the module's string).
  // Throws BootError / FirmwareError naming the file and the problem.
  DirectBoot(const std::string& kernel_path, const std::string& initrd, const std::string& cmdline);

  bool multiboot() const { return multiboot_; }

  // Loads the kernel into `mem` and returns the entry state. `acpi_size`
  // bytes at the top of low RAM hold the ACPI tables (RSDP at `rsdp`, 0 if none).
  BootCpuState load(PhysicalMemory& mem, uint64_t acpi_size, uint64_t rsdp) const;

 private:
  std::string kernel_path_;
  std::vector<uint8_t> kernel_;
  std::vector<MultibootModule> modules_;  // the initrd is modules_[0] for Linux
  std::string cmdline_;
  bool multiboot_ = false;
};

// Puts the CPU into `b`'s state: flat segments from b's GDT, CR0/CR3/CR4/
// EFER for the mode, RIP/RSI/RAX/RBX, interrupts off, CPL 0.
void apply_boot_state(Cpu& cpu, const BootCpuState& b);

}  // namespace pc64
