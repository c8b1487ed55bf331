#include "io/vga.h"

#include <algorithm>
#include <cstring>

#include "mem/log.h"

namespace pc64 {

using namespace vga;

namespace {
// Writable bits of each register (IBM VGA Technical Reference; reserved bits read 0).
constexpr uint8_t kSrMask[kNumSr] = {0x03, 0x3D, 0x0F, 0x3F, 0x0E};
constexpr uint8_t kGrMask[kNumGr] = {0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF};

// Each bit p of `nibble` becomes 0xFF in byte p (one byte per plane).
constexpr uint32_t expand_planes(unsigned nibble) {
  return ((nibble & 1) ? 0x000000FFu : 0) | ((nibble & 2) ? 0x0000FF00u : 0) |
         ((nibble & 4) ? 0x00FF0000u : 0) | ((nibble & 8) ? 0xFF000000u : 0);
}

constexpr uint8_t rotate_right(uint8_t v, unsigned n) {
  n &= 7;
  return static_cast<uint8_t>((v >> n) | (v << ((8 - n) & 7)));
}

constexpr uint32_t kVgaDotClockHz[2] = {25175000, 28322000};  // misc output clock select 0/1
}  // namespace

Vga::Vga(PortBus& ports, PhysicalMemory& memory, const VirtualClock& clock, uint32_t vram_bytes)
    : ports_(ports), memory_(memory), clock_(clock) {
  uint32_t size = std::max<uint32_t>(vram_bytes, kPlanarBytes);
  size = (size + 0xFFFF) & ~0xFFFFu;
  vram_.assign(size, 0);
  dirty_.assign(((size >> kDirtyPageShift) + 63) / 64, 0);
  ports_.map(0x3B0, 0x30, this, "vga");
  memory_.map_mmio(kWindowBase, kWindowSize, this, "vga window");
  reset();
}

Vga::~Vga() {
  ports_.unmap(this);
  memory_.unmap_mmio(this);
}

void Vga::reset() {
  // Power-on register contents are undefined on real boards; the VGA BIOS
  // programs every register during its mode set. Zero is what QEMU uses too.
  misc_ = feature_ = 0;
  sr_index_ = cr_index_ = gr_index_ = ar_index_ = 0;
  ar_flipflop_ = false;
  sr_.fill(0);
  cr_.fill(0);
  gr_.fill(0);
  ar_.fill(0);
  dac_.fill(0);
  pel_mask_ = 0xFF;
  dac_read_index_ = dac_write_index_ = dac_component_ = dac_state_ = 0;
  dac_cache_.fill(0);
  latch_ = 0;
  vbe_window_ = false;
  vbe_bank_base_ = 0;
  dac_8bit_ = false;
  mark_dirty(0, vram_size());
}

// ---------------------------------------------------------------------------
// CRTC-derived values

unsigned Vga::vertical_total() const {
  const uint8_t ov = cr_[kCrOverflow];
  return (cr_[kCrVTotal] | (ov & 0x01) << 8 | (ov & 0x20) << 4) + 2;
}

unsigned Vga::vertical_display_end() const {
  const uint8_t ov = cr_[kCrOverflow];
  return (cr_[kCrVDisplayEnd] | (ov & 0x02) << 7 | (ov & 0x40) << 3) + 1;
}

unsigned Vga::vertical_retrace_start() const {
  const uint8_t ov = cr_[kCrOverflow];
  return cr_[kCrVRetraceStart] | (ov & 0x04) << 6 | (ov & 0x80) << 2;
}

unsigned Vga::line_compare() const {
  return cr_[kCrLineCompare] | (cr_[kCrOverflow] & 0x10) << 4 | (cr_[kCrMaxScanLine] & 0x40) << 3;
}

uint16_t Vga::crtc_memory_address(uint32_t counter, unsigned row_scan) const {
  const uint32_t ma = counter & 0xFFFF;
  const uint8_t mode = cr_[kCrModeControl];
  uint32_t a;
  if (cr_[kCrUnderline] & 0x40) a = ma << 2 | ma >> 14;                         // doubleword mode
  else if (!(mode & 0x40)) a = ma << 1 | ((ma >> ((mode & 0x20) ? 15 : 13)) & 1);  // word mode
  else a = ma;                                                                  // byte mode
  // CGA / Hercules compatibility replaces bits 13 / 14 of the multiplexer's
  // output with row scan bits 0 / 1 (FreeVGA, CRTC Mode Control register).
  if (!(mode & 0x01)) a = (a & ~0x2000u) | (row_scan & 1) << 13;
  if (!(mode & 0x02)) a = (a & ~0x4000u) | (row_scan & 2) << 13;
  return static_cast<uint16_t>(a);
}

uint64_t Vga::line_ns() const {
  const uint64_t chars = cr_[kCrHTotal] + 5u;
  const uint64_t dots = (sr_[kSrClockingMode] & 0x01) ? 8 : 9;
  const uint64_t div = (sr_[kSrClockingMode] & 0x08) ? 2 : 1;
  const uint64_t hz = kVgaDotClockHz[(misc_ >> 2) & 1];
  return std::max<uint64_t>(1, chars * dots * div * VirtualClock::kNsPerSecond / hz);
}

uint64_t Vga::frame_ns() const { return line_ns() * vertical_total(); }

uint8_t Vga::input_status1() const {
  // Bit 3: vertical retrace in progress. Bit 0: display disabled (the beam is
  // in a horizontal or vertical blanking interval). Both are computed from the
  // virtual time, so a guest polling them sees them change as it runs.
  const uint64_t line = line_ns();
  const unsigned vtotal = vertical_total();
  const uint64_t in_frame = clock_.now() % (line * vtotal);
  const unsigned l = static_cast<unsigned>(in_frame / line);
  const uint64_t in_line = in_frame % line;

  // Retrace ends when the low 4 bits of the line counter match CR11 bits 3:0.
  unsigned vrs = vertical_retrace_start();
  unsigned len = ((cr_[kCrVRetraceEnd] & 0x0F) - (vrs & 0x0F)) & 0x0F;
  if (len == 0) len = 16;
  // Nonsense timings (e.g. before the BIOS programs the CRTC) must still let
  // a guest see retrace both begin and end.
  if (len >= vtotal) len = std::max(1u, vtotal / 2);
  if (vrs + len > vtotal) vrs = vtotal - len;
  const bool vretrace = l >= vrs && l < vrs + len;

  const uint64_t hdisp = line * (cr_[kCrHDisplayEnd] + 1u) / (cr_[kCrHTotal] + 5u);
  const bool blank = l >= vertical_display_end() || in_line >= hdisp;
  return static_cast<uint8_t>((vretrace ? 0x08 : 0) | (blank ? 0x01 : 0));
}

// ---------------------------------------------------------------------------
// Ports

bool Vga::crtc_port(uint16_t port) const {
  // Misc output bit 0 (I/O address select) moves the CRTC and input status 1
  // between 0x3Bx (monochrome) and 0x3Dx (colour); the other set is not decoded.
  return color_addressing() ? (port >= 0x3D0) : (port < 0x3C0);
}

uint32_t Vga::io_read(uint16_t port, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= static_cast<uint32_t>(port_read8(static_cast<uint16_t>(port + i))) << (8 * i);
  return v;
}

void Vga::io_write(uint16_t port, unsigned size, uint32_t value) {
  // OUT DX, AX to 0x3C4/0x3CE/0x3D4 writes index then data, as the ISA bus
  // splits a 16-bit cycle into two byte cycles for an 8-bit device.
  for (unsigned i = 0; i < size; ++i) port_write8(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t Vga::port_read8(uint16_t port) {
  switch (port) {
    case 0x3B4: case 0x3D4:
      return crtc_port(port) ? cr_index_ : 0xFF;
    case 0x3B5: case 0x3D5:
      if (!crtc_port(port)) return 0xFF;
      return cr_index_ < kNumCr ? cr_[cr_index_] : 0;
    case 0x3BA: case 0x3DA:
      if (!crtc_port(port)) return 0xFF;
      ar_flipflop_ = false;  // reading input status 1 resets the attribute flip-flop
      return input_status1();
    case 0x3C0:
      return ar_index_;
    case 0x3C1: {
      unsigned i = ar_index_ & 0x1F;
      return i < kNumAr ? ar_[i] : 0;
    }
    case 0x3C2:
      return 0;  // input status 0: no switch sense, no CRT interrupt
    case 0x3C4:
      return sr_index_;
    case 0x3C5:
      return sr_index_ < kNumSr ? sr_[sr_index_] : 0;
    case 0x3C6:
      return pel_mask_;
    case 0x3C7:
      return dac_state_;
    case 0x3C8:
      return dac_write_index_;
    case 0x3C9: {
      uint8_t v = dac_[dac_read_index_ * 3 + dac_component_];
      if (++dac_component_ == 3) {
        dac_component_ = 0;
        ++dac_read_index_;
      }
      return v;
    }
    case 0x3CA:
      return feature_;
    case 0x3CC:
      return misc_;
    case 0x3CE:
      return gr_index_;
    case 0x3CF:
      return gr_index_ < kNumGr ? gr_[gr_index_] : 0;
    default:
      return 0xFF;
  }
}

void Vga::port_write8(uint16_t port, uint8_t v) {
  switch (port) {
    case 0x3B4: case 0x3D4:
      if (crtc_port(port)) cr_index_ = v;
      return;
    case 0x3B5: case 0x3D5: {
      if (!crtc_port(port) || cr_index_ >= kNumCr) return;
      // CR11 bit 7 (protect) locks CR00-CR07, except the line compare bit 8
      // in the overflow register (IBM VGA TR, Vertical Retrace End register).
      if ((cr_[kCrVRetraceEnd] & 0x80) && cr_index_ <= kCrOverflow) {
        if (cr_index_ == kCrOverflow) cr_[kCrOverflow] = static_cast<uint8_t>((cr_[kCrOverflow] & ~0x10) | (v & 0x10));
        return;
      }
      cr_[cr_index_] = v;
      return;
    }
    case 0x3BA: case 0x3DA:
      if (crtc_port(port)) feature_ = v & 0x03;
      return;
    case 0x3C0:
      if (!ar_flipflop_) {
        ar_index_ = v & 0x3F;
      } else {
        unsigned i = ar_index_ & 0x1F;
        if (i < 0x10) ar_[i] = v & 0x3F;
        else if (i == kArModeControl || i == kArOverscan) ar_[i] = v;
        else if (i == kArColorPlaneEnable) ar_[i] = v & 0x3F;
        else if (i == kArHPelPanning || i == kArColorSelect) ar_[i] = v & 0x0F;
      }
      ar_flipflop_ = !ar_flipflop_;
      return;
    case 0x3C2:
      misc_ = v;
      return;
    case 0x3C4:
      sr_index_ = v & 0x07;
      return;
    case 0x3C5:
      if (sr_index_ < kNumSr) sr_[sr_index_] = v & kSrMask[sr_index_];
      return;
    case 0x3C6:
      pel_mask_ = v;
      return;
    case 0x3C7:
      dac_read_index_ = v;
      dac_component_ = 0;
      dac_state_ = 3;
      return;
    case 0x3C8:
      dac_write_index_ = v;
      dac_component_ = 0;
      dac_state_ = 0;
      return;
    case 0x3C9:
      // The DAC latches a whole entry after its third component.
      dac_cache_[dac_component_] = dac_8bit_ ? v : (v & 0x3F);
      if (++dac_component_ == 3) {
        std::memcpy(&dac_[dac_write_index_ * 3], dac_cache_.data(), 3);
        dac_component_ = 0;
        ++dac_write_index_;
      }
      return;
    case 0x3CE:
      gr_index_ = v & 0x0F;
      return;
    case 0x3CF:
      if (gr_index_ < kNumGr) gr_[gr_index_] = v & kGrMask[gr_index_];
      return;
    default:
      return;  // 0x3C3 (video subsystem enable) and the rest: ignored
  }
}

// ---------------------------------------------------------------------------
// Display memory

void Vga::mark_dirty(uint32_t offset, uint32_t len) {
  if (len == 0 || offset >= vram_.size()) return;
  uint32_t last = std::min<uint64_t>(uint64_t(offset) + len, vram_.size()) - 1;
  for (uint32_t p = offset >> kDirtyPageShift; p <= last >> kDirtyPageShift; ++p) dirty_[p >> 6] |= 1ULL << (p & 63);
}

void Vga::take_dirty(std::vector<uint64_t>& out) {
  out = dirty_;
  std::fill(dirty_.begin(), dirty_.end(), 0);
  memory_.revoke_tracked_writes();  // clean pages of a mapped LFB must see their next store
}

void Vga::set_plane_byte(unsigned plane, uint32_t addr, uint8_t v) {
  uint32_t i = ((addr & 0xFFFF) << 2) | (plane & 3);
  vram_[i] = v;
  dirty_[(i >> kDirtyPageShift) >> 6] |= 1ULL << ((i >> kDirtyPageShift) & 63);
}

void Vga::set_vbe_window(bool enabled, uint32_t bank_base) {
  vbe_window_ = enabled;
  vbe_bank_base_ = bank_base;
}

int32_t Vga::map_window(uint32_t offset) const {
  switch ((gr_[kGrMisc] >> 2) & 3) {  // GR06 bits 3:2, memory map select
    case 0: return static_cast<int32_t>(offset);                                   // A0000-BFFFF
    case 1: return offset < 0x10000 ? static_cast<int32_t>(offset) : -1;           // A0000-AFFFF
    case 2: return offset >= 0x10000 && offset < 0x18000 ? int32_t(offset - 0x10000) : -1;  // B0000-B7FFF
    default: return offset >= 0x18000 ? int32_t(offset - 0x18000) : -1;           // B8000-BFFFF
  }
}

void Vga::write_planes(uint32_t addr, uint8_t plane_mask, uint8_t cpu) {
  // The graphics controller's write path (IBM VGA TR, Graphics Mode register):
  // write modes 0-3 form a 32-bit value (one byte per plane), the ALU combines
  // it with the latches, the bit mask picks per bit between result and latch.
  const unsigned mode = gr_[kGrMode] & 3;
  const unsigned rot = gr_[kGrDataRotate] & 7;
  const unsigned fn = (gr_[kGrDataRotate] >> 3) & 3;
  uint32_t bitmask = gr_[kGrBitMask] * 0x01010101u;
  uint32_t val;
  switch (mode) {
    case 0: {
      val = rotate_right(cpu, rot) * 0x01010101u;
      const uint32_t sr_planes = expand_planes(gr_[kGrEnableSetReset]);
      val = (val & ~sr_planes) | (expand_planes(gr_[kGrSetReset]) & sr_planes);
      break;
    }
    case 1:
      val = latch_;  // latches go straight to memory
      break;
    case 2:
      val = expand_planes(cpu);
      break;
    default:  // 3: rotated data ANDed with the bit mask selects bits of set/reset
      bitmask &= rotate_right(cpu, rot) * 0x01010101u;
      val = expand_planes(gr_[kGrSetReset]);
      break;
  }
  if (mode != 1) {
    switch (fn) {
      case 1: val &= latch_; break;
      case 2: val |= latch_; break;
      case 3: val ^= latch_; break;
      default: break;
    }
    val = (val & bitmask) | (latch_ & ~bitmask);
  }
  const uint32_t base = (addr & 0xFFFF) << 2;
  for (unsigned p = 0; p < 4; ++p)
    if (plane_mask & (1u << p)) vram_[base + p] = static_cast<uint8_t>(val >> (8 * p));
  if (plane_mask) dirty_[(base >> kDirtyPageShift) >> 6] |= 1ULL << ((base >> kDirtyPageShift) & 63);
}

uint8_t Vga::read_planes(uint32_t addr, unsigned plane) {
  const uint32_t base = (addr & 0xFFFF) << 2;
  std::memcpy(&latch_, &vram_[base], 4);  // every read loads all four latches
  if (gr_[kGrMode] & 0x08) {
    // Read mode 1, colour compare: a bit reads 1 where every plane enabled in
    // colour don't care (GR07) matches the colour compare register (GR02).
    const uint32_t care = expand_planes(gr_[kGrColorDontCare]);
    uint32_t diff = (latch_ ^ expand_planes(gr_[kGrColorCompare])) & care;
    diff |= diff >> 16;
    diff |= diff >> 8;
    return static_cast<uint8_t>(~diff);
  }
  return static_cast<uint8_t>(latch_ >> (8 * (plane & 3)));
}

uint8_t Vga::window_read8(uint32_t offset) {
  if (vbe_window_) {
    uint64_t i = uint64_t(vbe_bank_base_) + offset;
    return offset < 0x10000 && i < vram_.size() ? vram_[i] : 0xFF;
  }
  if (!(misc_ & 0x02)) return 0xFF;  // misc output RAM enable off: the CPU cannot reach VRAM
  int32_t o = map_window(offset);
  if (o < 0) return 0xFF;
  const uint32_t a = static_cast<uint32_t>(o);
  if (sr_[kSrMemoryMode] & 0x08) return read_planes(a & ~3u, a & 3);  // chain-4
  if (gr_[kGrMode] & 0x10) return read_planes(a & ~1u, (gr_[kGrReadMapSelect] & 2) | (a & 1));  // odd/even
  return read_planes(a, gr_[kGrReadMapSelect] & 3);
}

void Vga::window_write8(uint32_t offset, uint8_t v) {
  if (vbe_window_) {
    uint64_t i = uint64_t(vbe_bank_base_) + offset;
    if (offset < 0x10000 && i < vram_.size()) {
      vram_[i] = v;
      dirty_[(i >> kDirtyPageShift) >> 6] |= 1ULL << ((i >> kDirtyPageShift) & 63);
    }
    return;
  }
  if (!(misc_ & 0x02)) return;
  int32_t o = map_window(offset);
  if (o < 0) return;
  const uint32_t a = static_cast<uint32_t>(o);
  uint8_t mask = sr_[kSrMapMask] & 0x0F;
  if (sr_[kSrMemoryMode] & 0x08) {
    // Chain-4: address bits 1:0 pick the plane (SR04 bit 3).
    write_planes(a & ~3u, mask & (1u << (a & 3)), v);
  } else if (!(sr_[kSrMemoryMode] & 0x04)) {
    // Odd/even (SR04 bit 2 clear): even addresses reach planes 0/2, odd 1/3.
    write_planes(a & ~1u, mask & ((a & 1) ? 0x0A : 0x05), v);
  } else {
    write_planes(a, mask, v);
  }
}

uint64_t Vga::mmio_read(uint64_t offset, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint64_t(window_read8(static_cast<uint32_t>(offset + i))) << (8 * i);
  return v;
}

void Vga::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  for (unsigned i = 0; i < size; ++i) window_write8(static_cast<uint32_t>(offset + i), static_cast<uint8_t>(value >> (8 * i)));
}

// ---------------------------------------------------------------------------

void Vga::serialize(StateSerializer& s) {
  s.tag(0x56474131);  // "VGA1"
  s(misc_);
  s(feature_);
  s(sr_index_);
  s(cr_index_);
  s(gr_index_);
  s(ar_index_);
  s(ar_flipflop_);
  s(sr_);
  s(cr_);
  s(gr_);
  s(ar_);
  s(dac_);
  s(pel_mask_);
  s(dac_read_index_);
  s(dac_write_index_);
  s(dac_component_);
  s(dac_state_);
  s(dac_cache_);
  s(latch_);
  s(vbe_window_);
  s(vbe_bank_base_);
  s(dac_8bit_);
  uint32_t size = vram_size();
  s(size);
  if (s.loading() && size != vram_size()) throw StateError("vga: saved VRAM size differs from this machine's");
  s.bytes(vram_.data(), vram_.size());
  if (s.loading()) {
    dac_component_ %= 3;  // a corrupt snapshot must not index past the DAC
    mark_dirty(0, vram_size());
  }
}

}  // namespace pc64
