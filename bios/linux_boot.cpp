#include "bios/linux_boot.h"

#include <algorithm>
#include <cstring>

namespace pc64 {

namespace {

template <class T>
T get(const std::vector<uint8_t>& v, size_t off) {
  T x;
  std::memcpy(&x, v.data() + off, sizeof x);
  return x;
}
template <class T>
void put(std::vector<uint8_t>& v, size_t off, T x) {
  std::memcpy(v.data() + off, &x, sizeof x);
}

// Setup header offsets (boot.rst, "The real-mode kernel header").
constexpr size_t kSetupSects = 0x1F1, kBootFlag = 0x1FE, kJump = 0x200, kHeader = 0x202, kVersion = 0x206,
                 kTypeOfLoader = 0x210, kLoadFlags = 0x211, kRamdiskImage = 0x218, kRamdiskSize = 0x21C,
                 kHeapEndPtr = 0x224, kCmdLinePtr = 0x228, kInitrdAddrMax = 0x22C, kXLoadFlags = 0x236,
                 kCmdlineSize = 0x238, kInitSize = 0x260;
// boot_params offsets.
constexpr size_t kBpOrigVideoMode = 0x06, kBpOrigVideoCols = 0x07, kBpOrigVideoLines = 0x0E,
                 kBpOrigVideoIsVga = 0x0F, kBpOrigVideoPoints = 0x10, kBpAcpiRsdp = 0x070,
                 kBpExtRamdiskImage = 0x0C0, kBpExtRamdiskSize = 0x0C4, kBpExtCmdLinePtr = 0x0C8,
                 kBpE820Entries = 0x1E8, kBpE820Table = 0x2D0;
constexpr unsigned kE820Max = 128;
constexpr uint8_t kLoadedHigh = 0x01, kCanUseHeap = 0x80;
constexpr uint16_t kXlfKernel64 = 0x01;

}  // namespace

LinuxImage parse_bzimage(const std::vector<uint8_t>& f, const std::string& path) {
  auto fail = [&](const std::string& why) { return BootError("kernel '" + path + "': " + why); };
  if (f.size() < 0x400 || get<uint16_t>(f, kBootFlag) != 0xAA55 || std::memcmp(f.data() + kHeader, "HdrS", 4) != 0)
    throw fail("not a Linux bzImage (no 'HdrS' setup header) and not a multiboot image");
  LinuxImage img;
  img.protocol = get<uint16_t>(f, kVersion);
  if (img.protocol < 0x0206)
    throw fail("boot protocol " + std::to_string(img.protocol >> 8) + "." + std::to_string(img.protocol & 0xFF) +
               " is too old (pc64 needs 2.06 or later)");
  if (!(f[kLoadFlags] & kLoadedHigh)) throw fail("a zImage (loaded low) is not supported; use a bzImage");
  img.setup_sects = f[kSetupSects] ? f[kSetupSects] : 4;
  img.kernel_offset = (img.setup_sects + 1) * 512;
  if (img.kernel_offset >= f.size()) throw fail("truncated: the setup code runs past the end of the file");
  img.entry64 = img.protocol >= 0x020C && (get<uint16_t>(f, kXLoadFlags) & kXlfKernel64);
  img.initrd_addr_max = get<uint32_t>(f, kInitrdAddrMax);
  img.cmdline_size = get<uint32_t>(f, kCmdlineSize);
  img.init_size = img.protocol >= 0x020A ? get<uint32_t>(f, kInitSize) : 0;
  return img;
}

LinuxBootResult load_linux(PhysicalMemory& mem, const std::vector<uint8_t>& kernel, const std::string& kernel_path,
                           const std::vector<uint8_t>* initrd, const std::string& cmdline,
                           const std::vector<E820Entry>& e820, uint64_t top_of_low_ram, uint64_t rsdp) {
  LinuxImage img = parse_bzimage(kernel, kernel_path);
  LinuxBootResult r;

  // The protected-mode kernel at 1 MiB; it needs init_size bytes there.
  size_t pm_size = kernel.size() - img.kernel_offset;
  uint64_t kernel_end = kKernelLoadAddr + std::max<uint64_t>(pm_size, img.init_size);
  if (kernel_end > top_of_low_ram)
    throw BootError("kernel '" + kernel_path + "' needs " + std::to_string(kernel_end >> 20) +
                    " MiB of RAM below the ACPI tables; give the guest more memory (-m)");
  mem.write_bytes(kKernelLoadAddr, kernel.data() + img.kernel_offset, pm_size);
  r.kernel_addr = kKernelLoadAddr;

  // boot_params: zeroed, with the setup header copied in at its own offset.
  std::vector<uint8_t> bp(4096, 0);
  size_t hdr_end = std::min<size_t>(kJump + 2 + kernel[kJump + 1], 0x290);  // jump's 8-bit offset gives the header's end
  std::memcpy(bp.data() + kSetupSects, kernel.data() + kSetupSects, hdr_end - kSetupSects);
  bp[kTypeOfLoader] = 0xFF;  // "undefined" boot loader
  bp[kLoadFlags] = static_cast<uint8_t>((bp[kLoadFlags] | kCanUseHeap) & ~0x20 /* not QUIET */);
  put<uint16_t>(bp, kHeapEndPtr, 0xFE00);

  // Command line.
  uint32_t max_cmd = img.cmdline_size ? img.cmdline_size : 255;
  if (cmdline.size() > max_cmd)
    throw BootError("kernel command line is " + std::to_string(cmdline.size()) + " bytes; '" + kernel_path +
                    "' accepts at most " + std::to_string(max_cmd));
  mem.write_bytes(kBootCmdline, cmdline.c_str(), cmdline.size() + 1);
  put<uint32_t>(bp, kCmdLinePtr, static_cast<uint32_t>(kBootCmdline));
  put<uint32_t>(bp, kBpExtCmdLinePtr, 0);
  r.cmdline_addr = kBootCmdline;

  // Initrd: as high as allowed, page-aligned, below the ACPI tables.
  if (initrd && !initrd->empty()) {
    uint64_t limit = std::min<uint64_t>(top_of_low_ram, uint64_t{img.initrd_addr_max ? img.initrd_addr_max : 0x37FFFFFF} + 1);
    if (initrd->size() > limit || ((limit - initrd->size()) & ~0xFFFULL) < kernel_end)
      throw BootError("initrd of " + std::to_string(initrd->size() >> 10) + " KiB does not fit in guest RAM between the kernel and " +
                      std::to_string(limit >> 20) + " MiB; give the guest more memory (-m)");
    uint64_t at = (limit - initrd->size()) & ~0xFFFULL;
    mem.write_bytes(at, initrd->data(), initrd->size());
    put<uint32_t>(bp, kRamdiskImage, static_cast<uint32_t>(at));
    put<uint32_t>(bp, kRamdiskSize, static_cast<uint32_t>(initrd->size()));
    put<uint32_t>(bp, kBpExtRamdiskImage, static_cast<uint32_t>(at >> 32));
    put<uint32_t>(bp, kBpExtRamdiskSize, static_cast<uint32_t>(uint64_t{initrd->size()} >> 32));
    r.initrd_addr = at;
    r.initrd_size = initrd->size();
  }

  // screen_info: an 80x25 colour VGA text console.
  bp[kBpOrigVideoMode] = 3;
  bp[kBpOrigVideoCols] = 80;
  bp[kBpOrigVideoLines] = 25;
  bp[kBpOrigVideoIsVga] = 1;
  put<uint16_t>(bp, kBpOrigVideoPoints, 16);
  put<uint64_t>(bp, kBpAcpiRsdp, rsdp);

  unsigned n = std::min<unsigned>(static_cast<unsigned>(e820.size()), kE820Max);
  bp[kBpE820Entries] = static_cast<uint8_t>(n);
  for (unsigned i = 0; i < n; ++i) {
    put<uint64_t>(bp, kBpE820Table + i * 20, e820[i].addr);
    put<uint64_t>(bp, kBpE820Table + i * 20 + 8, e820[i].size);
    put<uint32_t>(bp, kBpE820Table + i * 20 + 16, static_cast<uint32_t>(e820[i].type));
  }
  mem.write_bytes(kBootParams, bp.data(), bp.size());
  r.boot_params_addr = kBootParams;

  // GDT: null, null, __BOOT_CS (0x10), __BOOT_DS (0x18). The code descriptor
  // is 64-bit (L=1) for the 64-bit entry and 32-bit (D=1) otherwise.
  const uint64_t code = img.entry64 ? 0x00AF9A000000FFFFULL : 0x00CF9A000000FFFFULL;
  const uint64_t data = 0x00CF92000000FFFFULL;
  uint64_t gdt[4] = {0, 0, code, data};
  mem.write_bytes(kBootGdt, gdt, sizeof gdt);
  r.cpu.gdt_base = kBootGdt;
  r.cpu.gdt_limit = sizeof gdt - 1;
  r.cpu.cs = 0x10;
  r.cpu.ds = 0x18;
  r.cpu.rsi = kBootParams;

  if (img.entry64) {
    // Identity-map the first 4 GiB with 2 MiB pages: PML4 -> PDPT -> 4 PDs.
    const uint64_t pdpt = kBootPml4 + 0x1000, pd = kBootPml4 + 0x2000;
    uint64_t e = pdpt | 0x3;  // present, writable
    mem.write_bytes(kBootPml4, &e, 8);
    for (uint64_t g = 0; g < 4; ++g) {
      e = (pd + g * 0x1000) | 0x3;
      mem.write_bytes(pdpt + g * 8, &e, 8);
      for (uint64_t i = 0; i < 512; ++i) {
        e = ((g << 30) + (i << 21)) | 0x83;  // present, writable, PS
        mem.write_bytes(pd + g * 0x1000 + i * 8, &e, 8);
      }
    }
    r.cpu.mode = BootCpuState::Mode::Long64;
    r.cpu.cr3 = kBootPml4;
    r.cpu.rip = kKernelLoadAddr + 0x200;  // startup_64
  } else {
    r.cpu.mode = BootCpuState::Mode::Protected32;
    r.cpu.rip = kKernelLoadAddr;  // code32_start
  }
  return r;
}

}  // namespace pc64
