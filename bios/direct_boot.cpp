#include "bios/direct_boot.h"

#include "bios/e820.h"
#include "bios/firmware.h"

namespace pc64 {

DirectBoot::DirectBoot(const std::string& kernel_path, const std::string& initrd, const std::string& cmdline)
    : kernel_path_(kernel_path), cmdline_(cmdline) {
  kernel_ = read_firmware_file(kernel_path, "kernel");
  multiboot_ = find_multiboot_header(kernel_).has_value();
  if (!multiboot_) parse_bzimage(kernel_, kernel_path);  // validates, throws BootError
  size_t start = 0;
  while (!initrd.empty() && start <= initrd.size()) {
    size_t comma = initrd.find(',', start);
    std::string item = initrd.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::string path = item.substr(0, item.find(' '));
    MultibootModule m;
    m.data = read_firmware_file(path, multiboot_ ? "multiboot module" : "initrd");
    m.cmdline = item;
    modules_.push_back(std::move(m));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!multiboot_ && modules_.size() > 1)
    throw BootError("--initrd: a Linux kernel takes one initrd, not " + std::to_string(modules_.size()));
}

BootCpuState DirectBoot::load(PhysicalMemory& mem, uint64_t acpi_size, uint64_t rsdp) const {
  auto e820 = direct_boot_e820(mem.ram_below_4g(), mem.ram_above_4g(), acpi_size);
  if (multiboot_) return load_multiboot(mem, kernel_, kernel_path_, cmdline_, modules_, e820).cpu;
  const std::vector<uint8_t>* initrd = modules_.empty() ? nullptr : &modules_[0].data;
  return load_linux(mem, kernel_, kernel_path_, initrd, cmdline_, e820, mem.ram_below_4g() - acpi_size, rsdp).cpu;
}

void apply_boot_state(Cpu& cpu, const BootCpuState& b) {
  CpuState& s = cpu.state();
  const bool long_mode = b.mode == BootCpuState::Mode::Long64;
  // Hidden parts as the GDT entries the loaders write describe them: flat,
  // 4 GiB, present, accessed; code 64-bit (L) or 32-bit (D), data 32-bit (B).
  Segment code;
  code.selector = b.cs;
  code.limit = 0xFFFFFFFF;
  code.attr = 0x9B | 0x8000 | (long_mode ? 0x2000 : 0x4000);
  Segment data;
  data.selector = b.ds;
  data.limit = 0xFFFFFFFF;
  data.attr = 0x93 | 0x4000 | 0x8000;
  s.seg[CS] = code;
  for (unsigned r : {ES, SS, DS, FS, GS}) s.seg[r] = data;
  s.gdtr = {b.gdt_base, b.gdt_limit};
  s.idtr = {0, 0x3FF};
  s.cr0 = CR0_PE | CR0_ET | (long_mode ? CR0_PG : 0);
  s.cr3 = long_mode ? b.cr3 : 0;
  s.cr4 = long_mode ? CR4_PAE : 0;
  s.efer = long_mode ? (EFER_LME | EFER_LMA) : 0;
  for (auto& r : s.gpr) r = 0;
  s.gpr[RAX] = b.rax;
  s.gpr[RBX] = b.rbx;
  s.gpr[RSI] = b.rsi;
  s.rip = b.rip;
  s.rflags = kFlagsFixed1;  // IF = 0
  s.lazy = LazyFlags{};
  s.cpl = 0;
  cpu.state_changed();
}

}  // namespace pc64
