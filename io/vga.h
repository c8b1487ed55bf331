// The IBM VGA: miscellaneous output, sequencer, CRT controller, graphics
// controller, attribute controller and DAC at ports 0x3B0-0x3DF, and the
// 256 KiB of planar display memory behind the 0xA0000-0xBFFFF window.
//
// Display memory lives at the start of a larger VRAM buffer that the Bochs VBE
// extension (io/bochs_vbe.h) shares, as QEMU's std-vga does. The four planes
// are interleaved: byte `p` of plane address `a` is vram[a * 4 + p], so one
// 32-bit load fetches all four latches.
//
// Plane addressing follows the hardware (not a shortcut): chain-4 writes CPU
// address A to plane A&3 at plane address A&~3, odd/even writes A to plane A&1
// at plane address A&~1, and the CRT controller's byte/word/doubleword
// address modes undo this when scanning out (io/vga_render.cpp).
//
// Register names follow the IBM VGA Technical Reference / FreeVGA:
// SR = sequencer, CR = CRT controller, GR = graphics controller,
// AR = attribute controller.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "io/clock.h"
#include "io/device.h"
#include "io/port_bus.h"
#include "mem/physical_memory.h"

namespace pc64 {

namespace vga {
// Register indices (only the ones the code names; the others are plain storage).
constexpr uint8_t kSrReset = 0x00, kSrClockingMode = 0x01, kSrMapMask = 0x02, kSrCharMapSelect = 0x03,
                  kSrMemoryMode = 0x04;
constexpr uint8_t kCrHTotal = 0x00, kCrHDisplayEnd = 0x01, kCrHBlankStart = 0x02, kCrHBlankEnd = 0x03,
                  kCrHRetraceStart = 0x04, kCrHRetraceEnd = 0x05, kCrVTotal = 0x06, kCrOverflow = 0x07,
                  kCrPresetRowScan = 0x08, kCrMaxScanLine = 0x09, kCrCursorStart = 0x0A, kCrCursorEnd = 0x0B,
                  kCrStartHigh = 0x0C, kCrStartLow = 0x0D, kCrCursorHigh = 0x0E, kCrCursorLow = 0x0F,
                  kCrVRetraceStart = 0x10, kCrVRetraceEnd = 0x11, kCrVDisplayEnd = 0x12, kCrOffset = 0x13,
                  kCrUnderline = 0x14, kCrVBlankStart = 0x15, kCrVBlankEnd = 0x16, kCrModeControl = 0x17,
                  kCrLineCompare = 0x18;
constexpr uint8_t kGrSetReset = 0x00, kGrEnableSetReset = 0x01, kGrColorCompare = 0x02, kGrDataRotate = 0x03,
                  kGrReadMapSelect = 0x04, kGrMode = 0x05, kGrMisc = 0x06, kGrColorDontCare = 0x07,
                  kGrBitMask = 0x08;
constexpr uint8_t kArModeControl = 0x10, kArOverscan = 0x11, kArColorPlaneEnable = 0x12,
                  kArHPelPanning = 0x13, kArColorSelect = 0x14;
constexpr unsigned kNumSr = 5, kNumCr = 0x19, kNumGr = 9, kNumAr = 0x15;
constexpr uint32_t kPlaneSize = 64 * 1024;         // bytes per plane
constexpr uint32_t kPlanarBytes = 4 * kPlaneSize;  // 256 KiB of classic VGA memory
constexpr uint64_t kWindowBase = 0xA0000, kWindowSize = 0x20000;
constexpr uint32_t kDirtyPageShift = 12;           // dirty tracking granularity: 4 KiB of VRAM
}  // namespace vga

class Vga final : public Device, public PortHandler, public MmioHandler {
 public:
  static constexpr uint32_t kDefaultVramBytes = 16u << 20;

  // Claims ports 0x3B0-0x3DF and maps the 0xA0000-0xBFFFF window.
  // `vram_bytes` is rounded up to a multiple of 64 KiB and to at least 256 KiB.
  Vga(PortBus& ports, PhysicalMemory& memory, const VirtualClock& clock,
      uint32_t vram_bytes = kDefaultVramBytes);
  ~Vga() override;
  Vga(const Vga&) = delete;
  Vga& operator=(const Vga&) = delete;

  const char* name() const override { return "vga"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // ---- ports 0x3B0-0x3DF (16/32-bit accesses are split into bytes) ----
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;
  uint8_t port_read8(uint16_t port);
  void port_write8(uint16_t port, uint8_t value);

  // ---- the 0xA0000-0xBFFFF window (offset from 0xA0000) ----
  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  uint8_t window_read8(uint32_t offset);
  void window_write8(uint32_t offset, uint8_t value);

  // ---- register state, for the renderer, the text dump and tests ----
  uint8_t misc_output() const { return misc_; }
  uint8_t sr(unsigned i) const { return i < vga::kNumSr ? sr_[i] : 0; }
  uint8_t cr(unsigned i) const { return i < vga::kNumCr ? cr_[i] : 0; }
  uint8_t gr(unsigned i) const { return i < vga::kNumGr ? gr_[i] : 0; }
  uint8_t ar(unsigned i) const { return i < vga::kNumAr ? ar_[i] : 0; }
  uint8_t ar_index() const { return ar_index_; }  // bit 5 = palette address source (display on)
  bool color_addressing() const { return misc_ & 1; }  // CRTC at 0x3D4 (else 0x3B4)
  // DAC entry components as stored (6 bits, or 8 with the VBE 8-bit DAC).
  const uint8_t* dac_entry(unsigned i) const { return &dac_[(i & 0xFF) * 3]; }
  uint8_t pel_mask() const { return pel_mask_; }
  uint8_t dac_write_index() const { return dac_write_index_; }
  bool dac_8bit() const { return dac_8bit_; }
  uint32_t latch() const { return latch_; }  // plane p in bits 8p..8p+7

  // CRTC values assembled from their overflow bits (IBM VGA TR, CRTC registers).
  unsigned vertical_total() const;           // scan lines per frame
  unsigned vertical_display_end() const;     // displayed scan lines
  unsigned vertical_retrace_start() const;
  unsigned line_compare() const;
  uint16_t start_address() const { return static_cast<uint16_t>(cr_[vga::kCrStartHigh] << 8 | cr_[vga::kCrStartLow]); }
  uint16_t cursor_address() const { return static_cast<uint16_t>(cr_[vga::kCrCursorHigh] << 8 | cr_[vga::kCrCursorLow]); }
  // The plane address the CRTC fetches for memory address counter `counter`
  // on row scan line `row_scan`: the byte, word (CR17 bit 6 clear) or
  // doubleword (CR14 bit 6) address rotation, then the CGA/Hercules bank
  // substitution of output bits 13/14 (CR17 bits 0/1).
  uint16_t crtc_memory_address(uint32_t counter, unsigned row_scan) const;
  // Frame and scan line durations from the CRTC timing and the dot clock
  // (misc output bits 3:2), in virtual nanoseconds; never zero.
  uint64_t frame_ns() const;
  uint64_t line_ns() const;

  // ---- display memory ----
  uint8_t* vram() { return vram_.data(); }
  const uint8_t* vram() const { return vram_.data(); }
  uint32_t vram_size() const { return static_cast<uint32_t>(vram_.size()); }
  uint8_t plane_byte(unsigned plane, uint32_t addr) const { return vram_[((addr & 0xFFFF) << 2) | (plane & 3)]; }
  void set_plane_byte(unsigned plane, uint32_t addr, uint8_t v);

  // Dirty tracking: every write to VRAM (window, LFB, loaders) marks its 4 KiB
  // page; the renderer takes and clears the set. The LFB is tracked RAM
  // (PhysicalMemory::map_tracked_ram over this same bitmap): the memory map
  // sets a page's bit on its first CPU store, and take_dirty() revokes the
  // direct write pointers so that the next store is seen again.
  void mark_dirty(uint32_t offset, uint32_t len);
  // Copies the dirty bitmap (one bit per 4 KiB page) into `out` and clears it.
  void take_dirty(std::vector<uint64_t>& out);
  std::vector<uint64_t>& dirty_bitmap() { return dirty_; }

  // ---- hooks for the Bochs VBE extension ----
  // While enabled, 0xA0000-0xAFFFF is a linear window onto VRAM at `bank_base`
  // and 0xB0000-0xBFFFF is not decoded (Bochs VBE banked mode).
  void set_vbe_window(bool enabled, uint32_t bank_base);
  bool vbe_window_enabled() const { return vbe_window_; }
  void set_dac_8bit(bool on) { dac_8bit_ = on; }
  // Input status 1 (0x3DA) as the guest sees it at the current virtual time.
  uint8_t input_status1() const;

 private:
  bool crtc_port(uint16_t port) const;  // is `port` the CRTC/status port of the selected set?
  void write_planes(uint32_t addr, uint8_t plane_mask, uint8_t cpu_data);
  uint8_t read_planes(uint32_t addr, unsigned plane);
  // Maps a window offset to an offset inside the selected memory map, or -1.
  int32_t map_window(uint32_t offset) const;

  PortBus& ports_;
  PhysicalMemory& memory_;
  const VirtualClock& clock_;

  std::vector<uint8_t> vram_;
  std::vector<uint64_t> dirty_;

  uint8_t misc_ = 0, feature_ = 0;
  uint8_t sr_index_ = 0, cr_index_ = 0, gr_index_ = 0, ar_index_ = 0;
  bool ar_flipflop_ = false;  // false: next 0x3C0 write is an index
  std::array<uint8_t, vga::kNumSr> sr_{};
  std::array<uint8_t, vga::kNumCr> cr_{};
  std::array<uint8_t, vga::kNumGr> gr_{};
  std::array<uint8_t, vga::kNumAr> ar_{};
  std::array<uint8_t, 256 * 3> dac_{};
  uint8_t pel_mask_ = 0xFF;
  uint8_t dac_read_index_ = 0, dac_write_index_ = 0, dac_component_ = 0;
  uint8_t dac_state_ = 0;           // value read back at 0x3C7: 0 = write mode, 3 = read mode
  std::array<uint8_t, 3> dac_cache_{};  // components of the entry being written
  uint32_t latch_ = 0;
  bool vbe_window_ = false;
  uint32_t vbe_bank_base_ = 0;
  bool dac_8bit_ = false;
};

}  // namespace pc64
