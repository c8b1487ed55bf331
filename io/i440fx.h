// Intel 82441FX PCI and Memory Controller (PMC), the i440FX host bridge at
// 00:00.0 (8086:1237). What matters to software: the PAM registers that route
// 0xC0000-0xFFFFF between shadow RAM and ROM (SeaBIOS copies itself into RAM
// and write-protects it this way) and the SMRAM control register.
// Reference: Intel 440FX PCIset 82441FX/82442FX data sheet, §3.2.
#pragma once
#include "io/device.h"
#include "io/pci_bus.h"

namespace pc64 {

class I440fx final : public Device, public PciFunction {
 public:
  static constexpr uint8_t kPam0 = 0x59;   // PAM0..PAM6 at 0x59..0x5F
  static constexpr uint8_t kSmram = 0x72;  // System Management RAM Control
  // SMRAM bits (data sheet §3.2.27).
  static constexpr uint8_t kSmramDOpen = 1 << 6;
  static constexpr uint8_t kSmramDCls = 1 << 5;
  static constexpr uint8_t kSmramDLck = 1 << 4;
  static constexpr uint8_t kSmramGSmrame = 1 << 3;
  static constexpr uint8_t kSmramCBaseSeg = 0x02;  // fixed: SMRAM at 0xA0000

  // Registers itself at 00:00.0 of `bus`.
  I440fx(PciBus& bus, PhysicalMemory& memory);

  const char* name() const override { return "i440fx"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

 private:
  void config_written(uint8_t offset, unsigned size) override;
  void apply_pam();
  // Applies the D_LCK rules to a value the guest just wrote.
  void apply_smram(uint8_t value);

  PhysicalMemory& memory_;
  uint8_t smram_prev_ = kSmramCBaseSeg;
};

}  // namespace pc64
