// Turns VGA / Bochs VBE state into a 32-bit XRGB picture. Everything comes
// from the registers (CRTC geometry, graphics controller shift mode, attribute
// controller, DAC, VBE mode), never from a BIOS mode number, so register-level
// tricks (mode X, split screen, panning, odd text geometries) show as they
// would on a monitor.
//
// Only what changed is redrawn: when no display register, DAC entry or blink
// phase changed, rows whose VRAM pages were not written are skipped, and an
// unchanged screen costs one register comparison.
#pragma once
#include <cstdint>
#include <vector>

#include "io/bochs_vbe.h"
#include "io/vga.h"

namespace pc64 {

struct Framebuffer {
  unsigned width = 0, height = 0;
  std::vector<uint32_t> pixels;  // 0x00RRGGBB, row-major, `width` pixels per row
  // True for classic VGA modes, which a monitor stretches to 4:3 whatever
  // their pixel count (320x200, 720x400); false for VBE modes (square pixels).
  bool aspect_4_3 = true;
  uint32_t at(unsigned x, unsigned y) const { return pixels[size_t(y) * width + x]; }
};

class VgaRenderer {
 public:
  // `vbe` may be null for a plain ISA VGA.
  explicit VgaRenderer(Vga& vga, const BochsVbe* vbe = nullptr);

  // Brings the picture up to date with the device state at virtual time
  // `now_ns` (which sets the cursor and character blink phases). Returns true
  // if any pixel or the size changed. Consumes the VGA's dirty page set.
  bool update(uint64_t now_ns);
  const Framebuffer& framebuffer() const { return fb_; }
  // Forces the next update() to redraw everything.
  void invalidate() { force_full_ = true; }
  // Rows (of the framebuffer) redrawn by the last update(): for tests and stats.
  unsigned rows_drawn() const { return rows_drawn_; }

 private:
  struct Geometry {
    enum Kind { Blank, Text, Planar, Cga4, Color256, Vbe } kind = Blank;
    unsigned width = 0, height = 0;
  };
  Geometry geometry() const;
  void snapshot_state(uint64_t now_ns, const Geometry& g, std::vector<uint8_t>& out) const;
  void build_palettes();
  bool page_dirty(uint32_t vram_byte) const {
    uint32_t p = vram_byte >> vga::kDirtyPageShift;
    return (p >> 6) < dirty_.size() && (dirty_[p >> 6] >> (p & 63)) & 1;
  }
  void draw_vga(const Geometry& g, bool full, uint64_t now_ns);
  void draw_text_row(uint32_t* out, uint32_t addr_row, unsigned row_scan, uint64_t now_ns);
  void draw_graphics_row(const Geometry& g, uint32_t* out, uint32_t addr_row, unsigned row_scan);
  void draw_vbe(bool full);

  Vga& vga_;
  const BochsVbe* vbe_;
  Framebuffer fb_;
  std::vector<uint8_t> last_state_, state_;
  std::vector<uint64_t> dirty_;
  std::vector<uint32_t> line_;     // one scan line with room for panning
  uint32_t dac_rgb_[256] = {};     // DAC index -> XRGB (PEL mask applied)
  uint32_t attr_rgb_[16] = {};     // 4-bit attribute colour -> XRGB
  bool force_full_ = true;
  unsigned rows_drawn_ = 0;
};

}  // namespace pc64
