#include "io/std_vga_pci.h"

namespace pc64 {

namespace {
constexpr uint32_t kQextSize = 8;                   // bytes of extended registers
constexpr uint32_t kQextLittleEndian = 0x1E1E1E1E;  // framebuffer byte order magic
uint64_t all_ones(unsigned size) { return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1; }
uint64_t pow2_at_least(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}
}  // namespace

StdVgaPci::StdVgaPci(PciBus& bus, const VirtualClock& clock, std::vector<uint8_t> rom, uint32_t vram_bytes,
                     uint8_t device)
    : PciFunction(0x1234, 0x1111, 2, 0x030000),  // revision 2: has the QEMU extended registers
      vga_(bus.ports(), bus.memory(), clock, vram_bytes),
      vbe_(bus.ports(), vga_) {
  set_subsystem(0x1AF4, 0x1100);  // what QEMU reports; some drivers match on it
  define_mem_bar(kLfbBar, pow2_at_least(vga_.vram_size()), false, true);
  define_mem_bar(kMmioBar, kMmioSize, false, false);
  if (!rom.empty()) define_rom(std::move(rom));
  bus.add(*this, device, 0);
  reset_config();
}

StdVgaPci::~StdVgaPci() = default;

void StdVgaPci::reset() {
  reset_config();
  vga_.reset();
  vbe_.reset();
}

PciFunction::HostBacking StdVgaPci::bar_host_backing(int index) {
  if (index != kLfbBar) return {};
  return {vga_.vram(), vga_.vram_size(), &vga_.dirty_bitmap()};
}

uint64_t StdVgaPci::bar_read(int index, uint64_t offset, unsigned size) {
  if (index == kLfbBar) return vbe_.lfb().mmio_read(offset, size);
  if (index != kMmioBar) return all_ones(size);
  uint64_t v = 0;
  if (offset >= kMmioVgaPorts && offset + size <= kMmioVgaPorts + 0x20) {
    for (unsigned i = 0; i < size; ++i)
      v |= uint64_t(vga_.port_read8(static_cast<uint16_t>(0x3C0 + offset - kMmioVgaPorts + i))) << (8 * i);
    return v;
  }
  if (offset >= kMmioDispi && offset + size <= kMmioDispi + 2 * vbe::kNumRegs) {
    for (unsigned i = 0; i < size; ++i) {
      const uint64_t o = offset - kMmioDispi + i;
      v |= uint64_t((vbe_.read_register(static_cast<unsigned>(o / 2)) >> (8 * (o & 1))) & 0xFF) << (8 * i);
    }
    return v;
  }
  if (offset >= kMmioQext && offset + size <= kMmioQext + kQextSize) {
    const uint64_t regs = uint64_t(kQextLittleEndian) << 32 | kQextSize;
    return (regs >> (8 * (offset - kMmioQext))) & all_ones(size);
  }
  return all_ones(size);
}

void StdVgaPci::bar_write(int index, uint64_t offset, unsigned size, uint64_t value) {
  if (index == kLfbBar) return vbe_.lfb().mmio_write(offset, size, value);
  if (index != kMmioBar) return;
  if (offset >= kMmioVgaPorts && offset + size <= kMmioVgaPorts + 0x20) {
    for (unsigned i = 0; i < size; ++i)
      vga_.port_write8(static_cast<uint16_t>(0x3C0 + offset - kMmioVgaPorts + i), static_cast<uint8_t>(value >> (8 * i)));
    return;
  }
  if (offset >= kMmioDispi && offset + size <= kMmioDispi + 2 * vbe::kNumRegs) {
    // The DISPI registers are 16 bits wide; a byte write merges into the current value.
    for (unsigned i = 0; i < size;) {
      const uint64_t o = offset - kMmioDispi + i;
      const unsigned reg = static_cast<unsigned>(o / 2);
      uint16_t cur = vbe_.read_register(reg);
      if ((o & 1) == 0 && size - i >= 2) {
        cur = static_cast<uint16_t>(value >> (8 * i));
        i += 2;
      } else {
        const unsigned sh = 8 * (o & 1);
        cur = static_cast<uint16_t>((cur & ~(0xFF << sh)) | ((value >> (8 * i)) & 0xFF) << sh);
        i += 1;
      }
      vbe_.write_register(reg, cur);
    }
  }
  // QEXT byte order: only little-endian framebuffers exist here; writes are ignored.
}

void StdVgaPci::serialize(StateSerializer& s) {
  s.tag(0x53564741);  // "SVGA"
  serialize_config(s);
  vga_.serialize(s);
  vbe_.serialize(s);
}

}  // namespace pc64
