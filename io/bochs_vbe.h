// The Bochs VBE extension ("DISPI") that QEMU's std-vga, SeaVGABIOS's
// bochsvga driver and Linux's bochs-drm program: index/data ports 0x1CE/0x1CF
// select a resolution and depth, a 64 KiB bank of VRAM appears at 0xA0000,
// and the whole VRAM is the linear framebuffer (BAR0 of PCI 1234:1111).
// Register numbers and bits: Bochs iodev/vga.h (VBE_DISPI_*), QEMU vga_int.h.
#pragma once
#include <array>
#include <cstdint>

#include "io/device.h"
#include "io/port_bus.h"
#include "io/vga.h"
#include "mem/physical_memory.h"

namespace pc64 {

namespace vbe {
constexpr uint16_t kPortIndex = 0x1CE, kPortData = 0x1CF;
enum Index : uint16_t {
  kIndexId = 0x0,
  kIndexXres = 0x1,
  kIndexYres = 0x2,
  kIndexBpp = 0x3,
  kIndexEnable = 0x4,
  kIndexBank = 0x5,
  kIndexVirtWidth = 0x6,
  kIndexVirtHeight = 0x7,
  kIndexXOffset = 0x8,
  kIndexYOffset = 0x9,
  kIndexVideoMemory64K = 0xA,
  kNumRegs = 0xB,
};
constexpr uint16_t kId0 = 0xB0C0, kId5 = 0xB0C5;
// ENABLE register bits.
constexpr uint16_t kEnabled = 0x01, kGetCaps = 0x02, k8BitDac = 0x20, kLfbEnabled = 0x40, kNoClearMem = 0x80;
// Limits reported with GETCAPS (QEMU's values; VRAM size limits further).
constexpr uint16_t kMaxXres = 16000, kMaxYres = 12000, kMaxBpp = 32;
}  // namespace vbe

class BochsVbe final : public Device, public PortHandler {
 public:
  // Claims ports 0x1CE-0x1D0. Shares `vga`'s VRAM; the LFB is not mapped
  // here: the PCI function maps lfb() at its BAR0.
  BochsVbe(PortBus& ports, Vga& vga);
  ~BochsVbe() override;
  BochsVbe(const BochsVbe&) = delete;
  BochsVbe& operator=(const BochsVbe&) = delete;

  const char* name() const override { return "bochs-vbe"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  // Register access by index (ports and the std-vga MMIO BAR both use these).
  uint16_t read_register(unsigned index) const;
  void write_register(unsigned index, uint16_t value);

  // ---- effective mode, after the same sanitising QEMU applies ----
  bool enabled() const { return regs_[vbe::kIndexEnable] & vbe::kEnabled; }
  unsigned xres() const { return regs_[vbe::kIndexXres]; }
  unsigned yres() const { return regs_[vbe::kIndexYres]; }
  unsigned bpp() const { return regs_[vbe::kIndexBpp]; }
  unsigned bytes_per_pixel() const { return (bpp() + 7) / 8; }  // 15 -> 2
  uint32_t line_bytes() const { return line_bytes_; }            // bytes per virtual line
  uint32_t start_offset() const { return start_offset_; }        // VRAM byte of the top-left pixel
  Vga& vga() { return vga_; }
  const Vga& vga() const { return vga_; }

  // The linear framebuffer: offset = byte of VRAM. Reads past VRAM are all-ones.
  // VRAM itself is a plain host buffer (vga().vram()), so a later RAM-like
  // mapping can hand its pointer to the TLB and report writes via mark_dirty().
  MmioHandler& lfb() { return lfb_; }

 private:
  class Lfb final : public MmioHandler {
   public:
    explicit Lfb(Vga& vga) : vga_(vga) {}
    uint64_t mmio_read(uint64_t offset, unsigned size) override;
    void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;

   private:
    Vga& vga_;
  };
  void fixup();          // clamp the mode to what VRAM and the limits allow
  void update_vga();     // banked window and DAC width follow ENABLE/BANK

  PortBus& ports_;
  Vga& vga_;
  Lfb lfb_;
  uint16_t index_ = 0;
  std::array<uint16_t, vbe::kNumRegs> regs_{};
  uint32_t line_bytes_ = 0;
  uint32_t start_offset_ = 0;
};

}  // namespace pc64
