// QEMU's "std-vga" as a PCI function (vendor 1234, device 1111, class 0300):
// the VGA and its Bochs VBE extension, with
//   BAR0  the linear framebuffer (all of VRAM, prefetchable), mapped as tracked
//         RAM: guest loads/stores are host memory accesses, writes set the
//         VGA's dirty bits (PhysicalMemory::map_tracked_ram),
//   BAR2  4 KiB of MMIO registers: 0x400-0x41F = VGA ports 0x3C0-0x3DF,
//         0x500-0x515 = the DISPI registers (16 bits each), 0x600 = QEMU
//         extended registers (size, framebuffer byte order) that bochs-drm reads,
//   ROM   the VGA BIOS (vgabios-stdvga.bin), which SeaBIOS copies to 0xC0000.
// Layout as QEMU docs/specs/standard-vga.rst describes it.
#pragma once
#include <cstdint>
#include <vector>

#include "io/bochs_vbe.h"
#include "io/clock.h"
#include "io/device.h"
#include "io/pci_bus.h"
#include "io/vga.h"

namespace pc64 {

class StdVgaPci final : public Device, public PciFunction {
 public:
  static constexpr int kLfbBar = 0, kMmioBar = 2;
  static constexpr uint32_t kMmioSize = 0x1000;
  static constexpr uint32_t kMmioVgaPorts = 0x400, kMmioDispi = 0x500, kMmioQext = 0x600;

  // Creates the VGA (ports 0x3B0-0x3DF, the 0xA0000 window) and the VBE
  // (0x1CE-0x1D0) and registers the function at `device`.0 of `bus`.
  // `rom` may be empty (no expansion ROM).
  StdVgaPci(PciBus& bus, const VirtualClock& clock, std::vector<uint8_t> rom,
            uint32_t vram_bytes = Vga::kDefaultVramBytes, uint8_t device = 2);
  ~StdVgaPci() override;

  Vga& vga() { return vga_; }
  BochsVbe& vbe() { return vbe_; }

  const char* name() const override { return "std-vga"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

 private:
  uint64_t bar_read(int index, uint64_t offset, unsigned size) override;
  void bar_write(int index, uint64_t offset, unsigned size, uint64_t value) override;
  // BAR0 is VRAM itself: stores from the CPU go straight into it (tracked RAM).
  HostBacking bar_host_backing(int index) override;

  Vga vga_;
  BochsVbe vbe_;
};

}  // namespace pc64
