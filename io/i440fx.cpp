#include "io/i440fx.h"

namespace pc64 {

I440fx::I440fx(PciBus& bus, PhysicalMemory& memory)
    : PciFunction(0x8086, 0x1237, 0x02, 0x060000), memory_(memory) {
  // The chipset registers at 0x50-0xFF are plain read/write storage here
  // (DRAM timing, row boundaries, error command...), as QEMU's model keeps
  // them; PAM and SMRAM also act on the memory map.
  set_wmask(0x50, 0xB0, 0xFF);
  // SMRAM: D_OPEN, D_CLS, D_LCK, G_SMRAME; the lock rule is applied after the write.
  set_wmask(kSmram, 1, kSmramDOpen | kSmramDCls | kSmramDLck | kSmramGSmrame);
  set_default8(kSmram, kSmramCBaseSeg);
  bus.add(*this, 0, 0);
  apply_pam();
}

void I440fx::reset() {
  reset_config();
  smram_prev_ = kSmramCBaseSeg;
  apply_pam();  // all PAMs 0: reads and writes of 0xC0000-0xFFFFF go to ROM/PCI
}

void I440fx::apply_pam() {
  // PAM0 bits 5:4 cover 0xF0000-0xFFFFF; PAM1-6 cover 16 KiB each with the low
  // nibble (bits 1:0) and the next 16 KiB with the high nibble (bits 5:4).
  // In each pair, bit 0 (RE) sends reads to DRAM, bit 1 (WE) sends writes
  // to DRAM; a clear bit sends the access to PCI (i.e. the ROM).
  uint8_t pam0 = read8(kPam0) >> 4;
  memory_.set_legacy_routing(0xF0000, 0x10000, pam0 & 1, pam0 & 2);
  for (unsigned i = 1; i <= 6; ++i) {
    uint8_t v = read8(kPam0 + i);
    uint64_t base = 0xC0000 + (i - 1) * 0x8000;
    memory_.set_legacy_routing(base, 0x4000, v & 1, v & 2);
    memory_.set_legacy_routing(base + 0x4000, 0x4000, v & 0x10, v & 0x20);
  }
}

void I440fx::apply_smram(uint8_t value) {
  uint8_t old = smram_prev_;
  uint8_t next;
  if (old & kSmramDLck) {
    // Locked: only D_CLS may change until reset (§3.2.27).
    next = static_cast<uint8_t>((old & ~kSmramDCls) | (value & kSmramDCls));
  } else {
    next = static_cast<uint8_t>((value & (kSmramDOpen | kSmramDCls | kSmramDLck | kSmramGSmrame)) | kSmramCBaseSeg);
  }
  // Setting D_LCK clears D_OPEN.
  if (next & kSmramDLck) next &= ~kSmramDOpen;
  write8(kSmram, next);
  smram_prev_ = next;
  // SMM is not emulated: the 0xA0000-0xBFFFF window stays with VGA whatever
  // D_OPEN says. SeaBIOS never opens it because the PIIX4 PM function reports
  // its SMM set-up as done (see acpi_pm.cpp).
}

void I440fx::config_written(uint8_t offset, unsigned size) {
  unsigned end = offset + size;
  if (offset <= kSmram && end > kSmram) apply_smram(read8(kSmram));
  if (offset < kPam0 + 7 && end > kPam0) apply_pam();
}

void I440fx::serialize(StateSerializer& s) {
  s.tag(0x49343430);  // "I440"
  serialize_config(s);
  s(smram_prev_);
  if (s.loading()) apply_pam();
}

}  // namespace pc64
