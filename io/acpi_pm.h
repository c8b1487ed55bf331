// Intel 82371AB PIIX4 function 3, power management (8086:7113) at 00:01.3,
// as QEMU's "pc" machine presents it with SMM disabled: the ACPI fixed
// hardware (PM1 event/control blocks, the 24-bit ACPI PM timer at 3.579545 MHz,
// a GPE0 block) behind the PMBA I/O window, the SCI on ISA IRQ 9, the APM
// control port 0xB2/0xB3 through which the OS switches ACPI mode (0xF1 sets
// SCI_EN, 0xF0 clears it), an SMBus host controller with no devices, and
// S5 power-off. Reference: 82371AB PIIX4 data sheet §3.4 (function 3
// configuration) and §4.7 (power management I/O); ACPI 6.4 §4.8.
//
// PM I/O layout at PMBA (what the FADT built from these constants must say):
//   +0x00 PM1a_EVT_BLK (PM1_STS, PM1_EN), 4 bytes
//   +0x04 PM1a_CNT_BLK (PM1_CNT), 2 bytes
//   +0x08 PM_TMR_BLK, 4 bytes, 24-bit counter (TMR_VAL_EXT = 0)
//   +0x0C GPE0_BLK (GPE0_STS, GPE0_EN), 4 bytes
// S5 is SLP_TYP 0 (PIIX4 "soft off"), so the DSDT says Name(_S5, Package{0, 0}).
#pragma once
#include <array>
#include <functional>

#include "io/clock.h"
#include "io/device.h"
#include "io/irq.h"
#include "io/pci_bus.h"

namespace pc64 {

class AcpiPm final : public Device, public PciFunction {
 public:
  static constexpr uint64_t kPmTimerHz = 3579545;
  static constexpr uint16_t kPmIoSize = 64;
  static constexpr uint16_t kSmbusIoSize = 16;
  static constexpr uint16_t kApmControlPort = 0xB2;  // FADT SMI_CMD
  static constexpr uint8_t kAcpiEnable = 0xF1;       // FADT ACPI_ENABLE
  static constexpr uint8_t kAcpiDisable = 0xF0;      // FADT ACPI_DISABLE
  static constexpr uint8_t kSciIrq = 9;

  // Offsets in the PM I/O window.
  static constexpr uint16_t kPm1Sts = 0x00;
  static constexpr uint16_t kPm1En = 0x02;
  static constexpr uint16_t kPm1Cnt = 0x04;
  static constexpr uint16_t kPmTmr = 0x08;
  static constexpr uint16_t kGpe0Sts = 0x0C;
  static constexpr uint16_t kGpe0En = 0x0E;
  static constexpr uint16_t kGpe0BlkLen = 4;

  // PM1_STS / PM1_EN bits (ACPI 6.4 Tables 4.16, 4.17).
  static constexpr uint16_t kTmrSts = 1 << 0;
  static constexpr uint16_t kBmSts = 1 << 4;
  static constexpr uint16_t kGblSts = 1 << 5;
  static constexpr uint16_t kPwrBtnSts = 1 << 8;
  static constexpr uint16_t kRtcSts = 1 << 10;
  static constexpr uint16_t kPrBtnOrSts = 1 << 11;
  static constexpr uint16_t kWakSts = 1 << 15;
  // PM1_CNT bits (ACPI 6.4 Table 4.18).
  static constexpr uint16_t kSciEn = 1 << 0;
  static constexpr uint16_t kBmRld = 1 << 1;
  static constexpr uint16_t kGblRls = 1 << 2;
  static constexpr uint16_t kSlpTypShift = 10;
  static constexpr uint16_t kSlpEn = 1 << 13;

  // Configuration registers of function 3.
  static constexpr uint8_t kPmba = 0x40;       // PM base address (bits 15:6)
  static constexpr uint8_t kDevactb = 0x58;    // device activity B; bit 25 = APMC_EN
  static constexpr uint8_t kPmregmisc = 0x80;  // bit 0 = PM I/O space enable
  static constexpr uint8_t kSmbba = 0x90;      // SMBus base address (bits 15:4)
  static constexpr uint8_t kSmbhstcfg = 0xD2;  // bit 0 = SMBus host enable

  // Registers at 00:01.3 of `bus`; claims 0xB2/0xB3 on `ports`.
  // `power_off` runs when the guest enters S5.
  AcpiPm(PciBus& bus, PortBus& ports, VirtualClock& clock, IrqLine sci, std::function<void()> power_off);

  const char* name() const override { return "piix4-pm"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // The 24-bit PM timer value now.
  uint32_t pm_timer() const;
  // Current PMBA decode, or 0 if the PM I/O window is disabled.
  uint16_t pm_io_base() const { return pm_base_; }
  bool sci_level() const { return sci_level_; }
  // A press of the ACPI fixed power button (the frontend's "graceful off").
  void press_power_button();
  // Sets a GPE0 status bit (0-15), e.g. for future hot-plug events.
  void raise_gpe(unsigned bit);

 private:
  struct IoWindow final : PortHandler {
    enum Kind { Pm, Smbus, Apm } kind;
    AcpiPm* pm;
    IoWindow(Kind k, AcpiPm* p) : kind(k), pm(p) {}
    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;
  };

  void config_written(uint8_t offset, unsigned size) override;
  void update_io_windows();
  uint8_t pm_read8(uint16_t off) const;
  void pm_write8(uint16_t off, uint8_t v);
  uint8_t smbus_read8(uint16_t off) const;
  void smbus_write8(uint16_t off, uint8_t v);
  void update_sci();
  void arm_overflow_timer();
  static void on_overflow(void* self);
  uint64_t ticks_now() const;

  PortBus& ports_;
  VirtualClock& clock_;
  IrqLine sci_;
  std::function<void()> power_off_;
  IoWindow pm_window_{IoWindow::Pm, this};
  IoWindow smbus_window_{IoWindow::Smbus, this};
  IoWindow apm_window_{IoWindow::Apm, this};
  Timer overflow_timer_{&AcpiPm::on_overflow, this, "acpi-pm-timer"};

  // ---- state ----
  uint16_t pm1_sts_ = 0, pm1_en_ = 0, pm1_cnt_ = 0;
  uint16_t gpe0_sts_ = 0, gpe0_en_ = 0;
  std::array<uint8_t, kPmIoSize - 0x10> pm_misc_{};  // 0x10-0x3F: PCNTRL, GLBSTS, ... (storage)
  std::array<uint8_t, kSmbusIoSize> smbus_{};
  uint8_t apmc_ = 0, apms_ = 0;
  bool sci_level_ = false;
  uint16_t pm_base_ = 0, smbus_base_ = 0;  // current decode (0 = off); derived from config
};

}  // namespace pc64
