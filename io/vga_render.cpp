#include "io/vga_render.h"

#include <algorithm>
#include <cstring>

namespace pc64 {

using namespace vga;

namespace {
constexpr uint32_t rgb(unsigned r, unsigned g, unsigned b) { return (r & 0xFF) << 16 | (g & 0xFF) << 8 | (b & 0xFF); }
// A 6-bit DAC component drives the full output range: 0x3F -> 0xFF.
constexpr unsigned dac6_to_8(unsigned c) { return (c & 0x3F) << 2 | (c & 0x3F) >> 4; }
constexpr unsigned c5_to_8(unsigned c) { return (c & 0x1F) << 3 | (c & 0x1F) >> 2; }
constexpr unsigned c6_to_8(unsigned c) { return (c & 0x3F) << 2 | (c & 0x3F) >> 4; }
}  // namespace

VgaRenderer::VgaRenderer(Vga& vga, const BochsVbe* vbe) : vga_(vga), vbe_(vbe) {}

VgaRenderer::Geometry VgaRenderer::geometry() const {
  Geometry g;
  if (vbe_ && vbe_->enabled()) {
    g.kind = Geometry::Vbe;
    g.width = vbe_->xres();
    g.height = vbe_->yres();
    return g;
  }
  const Vga& v = vga_;
  const unsigned hdisp = v.cr(kCrHDisplayEnd) + 1u;
  const unsigned vde = v.vertical_display_end();
  const unsigned msl = v.cr(kCrMaxScanLine) & 0x1F;
  const bool dbl = v.cr(kCrMaxScanLine) & 0x80;
  if (!(v.gr(kGrMisc) & 0x01)) {
    g.kind = Geometry::Text;
    g.width = hdisp * ((v.sr(kSrClockingMode) & 0x01) ? 8 : 9);
    g.height = vde / (dbl ? 2 : 1);
  } else {
    const uint8_t gr5 = v.gr(kGrMode);
    g.kind = (gr5 & 0x40) ? Geometry::Color256 : (gr5 & 0x20) ? Geometry::Cga4 : Geometry::Planar;
    g.width = hdisp * (g.kind == Geometry::Color256 ? 4 : 8);
    // Repeated scan lines collapse into one picture row: double scan always,
    // and the max-scan-line repeat unless CGA/Hercules banking makes every
    // row scan fetch different memory.
    unsigned div = dbl ? 2 : 1;
    if ((v.cr(kCrModeControl) & 3) == 3) div *= msl + 1;
    g.height = vde / div;
  }
  if (g.width < 16 || g.height < 16) {  // CRTC not programmed (yet): a black 640x480
    g.kind = Geometry::Blank;
    g.width = 640;
    g.height = 480;
  }
  // AR index bit 5 clear (palette being loaded) or SR01 screen off: the
  // monitor shows black.
  if (!(v.ar_index() & 0x20) || (v.sr(kSrClockingMode) & 0x20)) g.kind = Geometry::Blank;
  return g;
}

void VgaRenderer::snapshot_state(uint64_t now_ns, const Geometry& g, std::vector<uint8_t>& out) const {
  const Vga& v = vga_;
  out.clear();
  auto put32 = [&](uint32_t x) { for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(x >> (8 * i))); };
  out.push_back(static_cast<uint8_t>(g.kind));
  put32(g.width);
  put32(g.height);
  if (g.kind == Geometry::Blank) return;
  if (g.kind == Geometry::Vbe) {
    put32(vbe_->bpp());
    put32(vbe_->line_bytes());
    put32(vbe_->start_offset());
  } else {
    out.push_back(v.sr(kSrClockingMode));
    out.push_back(v.sr(kSrCharMapSelect));
    for (unsigned i = 0; i < kNumCr; ++i) out.push_back(v.cr(i));
    for (unsigned i = 0; i < kNumAr; ++i) out.push_back(v.ar(i));
    if (g.kind == Geometry::Text) {
      // Blink phases (IBM VGA TR: cursor every 16 frames, characters every 32).
      const uint64_t frame = now_ns / v.frame_ns();
      out.push_back(static_cast<uint8_t>((frame >> 3) & 1));
      out.push_back(static_cast<uint8_t>((frame >> 4) & 1));
    }
  }
  if (g.kind != Geometry::Vbe || vbe_->bpp() == 8) {
    out.insert(out.end(), v.dac_entry(0), v.dac_entry(0) + 256 * 3);
    out.push_back(v.pel_mask());
    out.push_back(v.dac_8bit());
  }
}

void VgaRenderer::build_palettes() {
  const Vga& v = vga_;
  for (unsigned i = 0; i < 256; ++i) {
    const uint8_t* e = v.dac_entry(i & v.pel_mask());
    dac_rgb_[i] = v.dac_8bit() ? rgb(e[0], e[1], e[2]) : rgb(dac6_to_8(e[0]), dac6_to_8(e[1]), dac6_to_8(e[2]));
  }
  // Attribute controller path (IBM VGA TR, Attribute Controller registers):
  // colour plane enable masks the 4-bit colour, the palette register gives 6
  // bits, the colour select register supplies bits 7:6 and, when AR10 bit 7
  // is set, bits 5:4.
  const uint8_t mode = v.ar(kArModeControl), sel = v.ar(kArColorSelect);
  for (unsigned i = 0; i < 16; ++i) {
    unsigned p = v.ar(i & v.ar(kArColorPlaneEnable) & 0x0F);
    if (mode & 0x80) p = (p & 0x0F) | (sel & 0x03) << 4;
    p |= (sel & 0x0C) << 4;
    attr_rgb_[i] = dac_rgb_[p & 0xFF];
  }
}

bool VgaRenderer::update(uint64_t now_ns) {
  const Geometry g = geometry();
  snapshot_state(now_ns, g, state_);
  vga_.take_dirty(dirty_);
  bool full = force_full_ || state_ != last_state_ || fb_.width != g.width || fb_.height != g.height;
  force_full_ = false;
  rows_drawn_ = 0;
  if (full) {
    last_state_.swap(state_);
    fb_.width = g.width;
    fb_.height = g.height;
    fb_.pixels.assign(size_t(g.width) * g.height, 0);
    fb_.aspect_4_3 = g.kind != Geometry::Vbe;
    build_palettes();
  }
  switch (g.kind) {
    case Geometry::Blank:
      if (full) rows_drawn_ = g.height;  // already black
      break;
    case Geometry::Vbe:
      draw_vbe(full);
      break;
    default:
      draw_vga(g, full, now_ns);
      break;
  }
  return full || rows_drawn_ > 0;
}

// ---------------------------------------------------------------------------
// VGA modes: walk the CRTC's scan lines as the hardware does.

void VgaRenderer::draw_vga(const Geometry& g, bool full, uint64_t now_ns) {
  const Vga& v = vga_;
  const unsigned hdisp = v.cr(kCrHDisplayEnd) + 1u;
  const unsigned vde = v.vertical_display_end();
  const unsigned msl = v.cr(kCrMaxScanLine) & 0x1F;
  const bool dbl = v.cr(kCrMaxScanLine) & 0x80;
  const unsigned lc = v.line_compare();
  const uint32_t row_offset = v.cr(kCrOffset) * 2u;  // address counter units per character row
  const bool text = g.kind == Geometry::Text;
  const unsigned cw = text ? ((v.sr(kSrClockingMode) & 0x01) ? 8 : 9) : 8;
  unsigned div = dbl ? 2 : 1;
  if (!text && (v.cr(kCrModeControl) & 3) == 3) div *= msl + 1;

  // Horizontal pel panning (AR13) in pixels: 9-dot text counts 8,0..7 as
  // 0..8; 256-colour modes move in whole pixels of two dots.
  const unsigned pan = v.ar(kArHPelPanning) & 0x0F;
  unsigned shift = pan & 7;
  if (text && cw == 9) shift = pan >= 8 ? 0 : pan + 1;
  if (g.kind == Geometry::Color256) shift = (pan >> 1) & 3;
  const bool split_pan_reset = v.ar(kArModeControl) & 0x20;

  // Text reads planes 0-2 anywhere (characters, attributes, fonts): any
  // write to classic VGA memory redraws the whole (cheap) text screen.
  if (text && !full)
    for (uint32_t b = 0; b < kPlanarBytes && !full; b += 1u << kDirtyPageShift) full = page_dirty(b);

  const unsigned px_per_char = text ? cw : (g.kind == Geometry::Color256 ? 4 : 8);
  line_.assign((hdisp + 1) * px_per_char, 0);

  // CR08: preset row scan (bits 4:0) and byte panning (bits 6:5, whole characters).
  uint32_t addr_row = v.start_address() + ((v.cr(kCrPresetRowScan) >> 5) & 3);
  unsigned row_scan = v.cr(kCrPresetRowScan) & 0x1F;
  bool dbl_second = false, after_split = false;
  for (unsigned sl = 0; sl < vde; ++sl) {
    if (sl % div == 0 && sl / div < g.height) {
      bool draw = full;
      if (!draw && !text)
        for (unsigned col = 0; col <= hdisp && !draw; ++col)
          draw = page_dirty(uint32_t(v.crtc_memory_address(addr_row + col, row_scan)) << 2);
      if (draw) {
        const unsigned s = after_split && split_pan_reset ? 0 : shift;
        if (text) draw_text_row(line_.data(), addr_row, row_scan, now_ns);
        else draw_graphics_row(g, line_.data(), addr_row, row_scan);
        std::memcpy(&fb_.pixels[size_t(sl / div) * fb_.width], line_.data() + s, fb_.width * 4);
        ++rows_drawn_;
      }
    }
    // Advance the row scan counter (every other line when double scanning)
    // and, after the last scan of a character row, the address counter.
    if (dbl && !dbl_second) {
      dbl_second = true;
    } else {
      dbl_second = false;
      if (row_scan == msl) {
        row_scan = 0;
        addr_row += row_offset;
      } else {
        row_scan = (row_scan + 1) & 0x1F;
      }
    }
    // Line compare: the scan lines after it start again at address 0
    // (split screen; the status bar of many games).
    if (sl == lc) {
      addr_row = 0;
      row_scan = 0;
      dbl_second = false;
      after_split = true;
    }
  }
}

void VgaRenderer::draw_text_row(uint32_t* out, uint32_t addr_row, unsigned row_scan, uint64_t now_ns) {
  const Vga& v = vga_;
  const unsigned hdisp = v.cr(kCrHDisplayEnd) + 1u;
  const unsigned cw = (v.sr(kSrClockingMode) & 0x01) ? 8 : 9;
  const uint8_t mode = v.ar(kArModeControl);
  const uint8_t cmap = v.sr(kSrCharMapSelect);
  // Character map select (SR03): map A (attribute bit 3 set) = bits 5,3,2,
  // map B = bits 4,1,0; map n starts at plane 2 offset 16K*(n&3) + 8K*(n>>2).
  const unsigned map_a = ((cmap >> 2) & 3) | ((cmap >> 3) & 4);
  const unsigned map_b = (cmap & 3) | ((cmap >> 2) & 4);
  auto map_base = [](unsigned m) { return (m & 3) * 0x4000u + (m >> 2) * 0x2000u; };
  const uint32_t base_a = map_base(map_a), base_b = map_base(map_b);

  const uint64_t frame = now_ns / v.frame_ns();
  const bool cursor_phase = ((frame >> 3) & 1) == 0;
  const bool blink_phase = ((frame >> 4) & 1) == 0;
  const unsigned cs = v.cr(kCrCursorStart) & 0x1F, ce = v.cr(kCrCursorEnd) & 0x1F;
  const bool cursor_row = !(v.cr(kCrCursorStart) & 0x20) && cursor_phase && cs <= ce && row_scan >= cs && row_scan <= ce;
  const uint16_t cursor = v.cursor_address();
  const bool underline_row = row_scan == (v.cr(kCrUnderline) & 0x1F);

  for (unsigned col = 0; col <= hdisp; ++col) {
    const uint32_t counter = addr_row + col;
    const uint16_t a = v.crtc_memory_address(counter, row_scan);
    const uint8_t ch = v.plane_byte(0, a), at = v.plane_byte(1, a);
    unsigned glyph = v.plane_byte(2, ((at & 0x08) ? base_a : base_b) + ch * 32u + row_scan);
    unsigned fg = at & 0x0F, bg = at >> 4;
    // Ninth column: a copy of the eighth for the line-drawing characters
    // C0-DF when AR10 bit 2 is set, else background.
    unsigned ninth = (cw == 9 && (mode & 0x04) && ch >= 0xC0 && ch <= 0xDF) ? (glyph & 1) : 0;
    if (mode & 0x08) {  // blink enable: attribute bit 7 blinks instead of brightening
      bg &= 7;
      if ((at & 0x80) && !blink_phase) glyph = ninth = 0;
    }
    if (underline_row && (at & 0x77) == 0x01) glyph = 0xFF, ninth = 1;
    if (cursor_row && (counter & 0xFFFF) == cursor) glyph = 0xFF, ninth = 1;
    const uint32_t f = attr_rgb_[fg], b = attr_rgb_[bg];
    uint32_t* o = out + col * cw;
    for (unsigned i = 0; i < 8; ++i) o[i] = (glyph & (0x80 >> i)) ? f : b;
    if (cw == 9) o[8] = ninth ? f : b;
  }
}

void VgaRenderer::draw_graphics_row(const Geometry& g, uint32_t* out, uint32_t addr_row, unsigned row_scan) {
  const Vga& v = vga_;
  const unsigned hdisp = v.cr(kCrHDisplayEnd) + 1u;
  for (unsigned col = 0; col <= hdisp; ++col) {
    const uint16_t a = v.crtc_memory_address(addr_row + col, row_scan);
    const uint8_t p0 = v.plane_byte(0, a), p1 = v.plane_byte(1, a), p2 = v.plane_byte(2, a), p3 = v.plane_byte(3, a);
    switch (g.kind) {
      case Geometry::Color256: {
        // Each character clock shifts out the four planes' bytes as four
        // 8-bit pixels that go straight to the DAC.
        uint32_t* o = out + col * 4;
        o[0] = dac_rgb_[p0];
        o[1] = dac_rgb_[p1];
        o[2] = dac_rgb_[p2];
        o[3] = dac_rgb_[p3];
        break;
      }
      case Geometry::Cga4: {
        // Shift register interleave (GR05 bit 5): planes 0/1 give colour bits
        // 1:0 two at a time (CGA 320x200 byte layout), planes 2/3 bits 3:2.
        uint32_t* o = out + col * 8;
        for (unsigned k = 0; k < 4; ++k) {
          const unsigned s = 6 - 2 * k;
          o[k] = attr_rgb_[((p0 >> s) & 3) | ((p2 >> s) & 3) << 2];
          o[k + 4] = attr_rgb_[((p1 >> s) & 3) | ((p3 >> s) & 3) << 2];
        }
        break;
      }
      default: {
        // 16-colour planar: bit 7-i of plane p is bit p of pixel i.
        uint32_t* o = out + col * 8;
        for (unsigned i = 0; i < 8; ++i) {
          const unsigned b = 7 - i;
          o[i] = attr_rgb_[((p0 >> b) & 1) | ((p1 >> b) & 1) << 1 | ((p2 >> b) & 1) << 2 | ((p3 >> b) & 1) << 3];
        }
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// VBE linear modes

void VgaRenderer::draw_vbe(bool full) {
  const uint8_t* vram = vga_.vram();
  const unsigned w = fb_.width, bpp = vbe_->bpp(), bytes = vbe_->bytes_per_pixel();
  const uint32_t line = vbe_->line_bytes();
  for (unsigned y = 0; y < fb_.height; ++y) {
    const uint32_t src = vbe_->start_offset() + y * line;
    const uint32_t len = w * bytes;
    if (uint64_t(src) + len > vga_.vram_size()) break;  // fixup() prevents this; stay safe anyway
    if (!full) {
      bool d = false;
      for (uint32_t p = src >> kDirtyPageShift; p <= (src + len - 1) >> kDirtyPageShift && !d; ++p)
        d = page_dirty(p << kDirtyPageShift);
      if (!d) continue;
    }
    const uint8_t* s = vram + src;
    uint32_t* o = &fb_.pixels[size_t(y) * w];
    switch (bpp) {
      case 8:
        for (unsigned x = 0; x < w; ++x) o[x] = dac_rgb_[s[x]];
        break;
      case 15:
        for (unsigned x = 0; x < w; ++x) {
          const unsigned p = s[2 * x] | s[2 * x + 1] << 8;  // x RRRRR GGGGG BBBBB
          o[x] = rgb(c5_to_8(p >> 10), c5_to_8(p >> 5), c5_to_8(p));
        }
        break;
      case 16:
        for (unsigned x = 0; x < w; ++x) {
          const unsigned p = s[2 * x] | s[2 * x + 1] << 8;  // RRRRR GGGGGG BBBBB
          o[x] = rgb(c5_to_8(p >> 11), c6_to_8(p >> 5), c5_to_8(p));
        }
        break;
      case 24:
        for (unsigned x = 0; x < w; ++x) o[x] = rgb(s[3 * x + 2], s[3 * x + 1], s[3 * x]);
        break;
      default:  // 32: B, G, R, unused
        for (unsigned x = 0; x < w; ++x) o[x] = rgb(s[4 * x + 2], s[4 * x + 1], s[4 * x]);
        break;
    }
    ++rows_drawn_;
  }
}

}  // namespace pc64
