#include "io/bochs_vbe.h"

#include <algorithm>
#include <cstring>

namespace pc64 {

using namespace vbe;

BochsVbe::BochsVbe(PortBus& ports, Vga& vga) : ports_(ports), vga_(vga), lfb_(vga) {
  // 0x1D0 is a second data port on x86 (QEMU decodes it too), which also lets
  // a 16-bit access at 0x1CF arrive here whole.
  ports_.map(kPortIndex, 3, this, "bochs-vbe");
  reset();
}

BochsVbe::~BochsVbe() { ports_.unmap(this); }

void BochsVbe::reset() {
  index_ = 0;
  regs_.fill(0);
  regs_[kIndexId] = kId5;
  line_bytes_ = 0;
  start_offset_ = 0;
  update_vga();
}

uint32_t BochsVbe::io_read(uint16_t port, unsigned /*size*/) {
  return port == kPortIndex ? index_ : read_register(index_);
}

void BochsVbe::io_write(uint16_t port, unsigned /*size*/, uint32_t value) {
  if (port == kPortIndex) index_ = static_cast<uint16_t>(value);
  else write_register(index_, static_cast<uint16_t>(value));
}

uint16_t BochsVbe::read_register(unsigned index) const {
  if (index >= kNumRegs) return 0;
  if (regs_[kIndexEnable] & kGetCaps) {
    // GETCAPS turns XRES/YRES/BPP reads into the maxima (SeaVGABIOS probes these).
    if (index == kIndexXres) return kMaxXres;
    if (index == kIndexYres) return kMaxYres;
    if (index == kIndexBpp) return kMaxBpp;
  }
  if (index == kIndexVideoMemory64K) return static_cast<uint16_t>(vga_.vram_size() >> 16);
  return regs_[index];
}

void BochsVbe::write_register(unsigned index, uint16_t v) {
  switch (index) {
    case kIndexId:
      if (v >= kId0 && v <= kId5) regs_[kIndexId] = v;
      return;
    case kIndexXres:
    case kIndexYres:
    case kIndexBpp:
    case kIndexVirtWidth:
    case kIndexVirtHeight:
    case kIndexXOffset:
    case kIndexYOffset:
      regs_[index] = v;
      fixup();
      return;
    case kIndexBank: {
      // Banks are 64 KiB; the bank number wraps at the VRAM size.
      const uint16_t banks = static_cast<uint16_t>(vga_.vram_size() >> 16);
      regs_[kIndexBank] = static_cast<uint16_t>(v % banks);
      update_vga();
      return;
    }
    case kIndexEnable: {
      const bool was = enabled();
      regs_[kIndexEnable] = v;
      if ((v & kEnabled) && !was) {
        // A fresh enable starts with the virtual screen equal to the visible one.
        regs_[kIndexVirtWidth] = regs_[kIndexXres];
        regs_[kIndexVirtHeight] = regs_[kIndexYres];
        regs_[kIndexXOffset] = regs_[kIndexYOffset] = 0;
        regs_[kIndexBank] = 0;
        fixup();
        if (!(v & kNoClearMem)) {
          const uint32_t n = std::min<uint64_t>(uint64_t(yres()) * line_bytes_, vga_.vram_size());
          std::memset(vga_.vram(), 0, n);
          vga_.mark_dirty(0, n);
        }
      } else if (!(v & kEnabled)) {
        regs_[kIndexBank] = 0;
      }
      update_vga();
      return;
    }
    default:
      return;  // VIDEO_MEMORY_64K and unknown indices are read-only
  }
}

void BochsVbe::fixup() {
  // The same clamping QEMU applies (hw/display/vga.c vbe_fixup_regs), so a
  // guest can never describe a screen that runs past VRAM.
  if (!enabled()) return;
  auto& r = regs_;
  unsigned bits;
  switch (r[kIndexBpp]) {
    case 8: case 16: case 24: case 32: bits = r[kIndexBpp]; break;
    case 15: bits = 16; break;
    default: bits = r[kIndexBpp] = 8; break;  // includes 4 bpp planar, not modelled
  }
  r[kIndexXres] &= ~7u;
  if (r[kIndexXres] == 0) r[kIndexXres] = 8;
  r[kIndexXres] = std::min<uint16_t>(r[kIndexXres], kMaxXres);
  r[kIndexVirtWidth] &= ~7u;
  r[kIndexVirtWidth] = std::min<uint16_t>(r[kIndexVirtWidth], kMaxXres);
  r[kIndexVirtWidth] = std::max(r[kIndexVirtWidth], r[kIndexXres]);

  const uint32_t line = r[kIndexVirtWidth] * bits / 8;
  const uint32_t maxy = std::min<uint32_t>(vga_.vram_size() / line, 0xFFFF);
  if (r[kIndexYres] == 0) r[kIndexYres] = 1;
  r[kIndexYres] = static_cast<uint16_t>(std::min<uint32_t>({r[kIndexYres], kMaxYres, maxy}));

  r[kIndexXOffset] = std::min<uint16_t>(r[kIndexXOffset], kMaxXres);
  r[kIndexYOffset] = std::min<uint16_t>(r[kIndexYOffset], kMaxYres);
  uint64_t offset = uint64_t(r[kIndexXOffset]) * bits / 8 + uint64_t(r[kIndexYOffset]) * line;
  const uint64_t visible = uint64_t(r[kIndexYres]) * line;
  if (offset + visible > vga_.vram_size()) {
    r[kIndexYOffset] = 0;
    offset = uint64_t(r[kIndexXOffset]) * bits / 8;
    if (offset + visible > vga_.vram_size()) {
      r[kIndexXOffset] = 0;
      offset = 0;
    }
  }
  r[kIndexVirtHeight] = static_cast<uint16_t>(maxy);
  line_bytes_ = line;
  start_offset_ = static_cast<uint32_t>(offset);
}

void BochsVbe::update_vga() {
  vga_.set_vbe_window(enabled(), uint32_t(regs_[kIndexBank]) << 16);
  vga_.set_dac_8bit(enabled() && (regs_[kIndexEnable] & k8BitDac));
}

uint64_t BochsVbe::Lfb::mmio_read(uint64_t offset, unsigned size) {
  if (offset + size > vga_.vram_size()) return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
  uint64_t v = 0;
  std::memcpy(&v, vga_.vram() + offset, size);  // little-endian host
  return v;
}

void BochsVbe::Lfb::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset + size > vga_.vram_size()) return;
  std::memcpy(vga_.vram() + offset, &value, size);
  vga_.mark_dirty(static_cast<uint32_t>(offset), size);
}

void BochsVbe::serialize(StateSerializer& s) {
  s.tag(0x56424531);  // "VBE1"
  s(index_);
  s(regs_);
  if (s.loading()) {
    const uint16_t banks = static_cast<uint16_t>(vga_.vram_size() >> 16);
    regs_[kIndexBank] %= banks;
    line_bytes_ = 0;
    start_offset_ = 0;
    fixup();
    update_vga();
  }
}

}  // namespace pc64
