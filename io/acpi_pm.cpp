#include "io/acpi_pm.h"

#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

namespace {
constexpr uint64_t kTimerBits = 24;
// TMR_STS is set every time bit 23 of the counter changes (ACPI 6.4 §4.8.3.3).
constexpr uint64_t kOverflowTicks = 1ULL << (kTimerBits - 1);
constexpr uint16_t kPm1StsMask = AcpiPm::kTmrSts | AcpiPm::kBmSts | AcpiPm::kGblSts | AcpiPm::kPwrBtnSts |
                                 AcpiPm::kRtcSts | AcpiPm::kPrBtnOrSts | AcpiPm::kWakSts;
constexpr uint16_t kPm1EnMask = AcpiPm::kTmrSts | AcpiPm::kGblSts | AcpiPm::kPwrBtnSts | AcpiPm::kRtcSts;
constexpr uint16_t kPm1CntMask = AcpiPm::kSciEn | AcpiPm::kBmRld | (7u << AcpiPm::kSlpTypShift);
// SMBus host registers (PIIX4 data sheet §4.8).
constexpr uint16_t kSmbHstSts = 0x00;
constexpr uint16_t kSmbHstCnt = 0x02;
constexpr uint8_t kSmbHstStsDevErr = 1 << 2;
constexpr uint8_t kSmbHstCntStart = 1 << 6;
}  // namespace

AcpiPm::AcpiPm(PciBus& bus, PortBus& ports, VirtualClock& clock, IrqLine sci, std::function<void()> power_off)
    : PciFunction(0x8086, 0x7113, 0x03, 0x068000),
      ports_(ports),
      clock_(clock),
      sci_(sci),
      power_off_(std::move(power_off)) {
  set_interrupt_pin(1);
  // Function-specific registers are storage (as QEMU keeps them) except the
  // base address registers, whose bit 0 reads 1 (I/O space indicator).
  set_wmask(0x40, 0xC0, 0xFF);
  set_default32(kPmba, 1);
  set_wmask(kPmba, 4, 0);
  set_wmask(kPmba, 1, 0xC0);
  set_wmask(kPmba + 1, 1, 0xFF);
  set_default32(kSmbba, 1);
  set_wmask(kSmbba, 4, 0);
  set_wmask(kSmbba, 1, 0xF0);
  set_wmask(kSmbba + 1, 1, 0xFF);
  // DEVACTB bit 25 (APMC_EN) already set: this is how QEMU without SMM tells
  // SeaBIOS that SMM set-up is done, so it never issues the relocation SMI
  // and waits for a handler that does not exist (SeaBIOS fw/smm.c).
  set_default8(kDevactb + 3, 0x02);
  ports_.map(kApmControlPort, 2, &apm_window_, "apm control");
  bus.add(*this, 1, 3);
  arm_overflow_timer();
}

void AcpiPm::reset() {
  reset_config();
  pm1_sts_ = pm1_en_ = pm1_cnt_ = 0;
  gpe0_sts_ = gpe0_en_ = 0;
  pm_misc_.fill(0);
  smbus_.fill(0);
  apmc_ = apms_ = 0;
  update_io_windows();
  update_sci();
  arm_overflow_timer();
}

uint64_t AcpiPm::ticks_now() const {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(clock_.now()) * kPmTimerHz /
                               VirtualClock::kNsPerSecond);
}

uint32_t AcpiPm::pm_timer() const { return static_cast<uint32_t>(ticks_now() & ((1u << kTimerBits) - 1)); }

void AcpiPm::arm_overflow_timer() {
  uint64_t next = (ticks_now() / kOverflowTicks + 1) * kOverflowTicks;
  // First nanosecond at which the counter has reached `next` (round up).
  unsigned __int128 ns = (static_cast<unsigned __int128>(next) * VirtualClock::kNsPerSecond + kPmTimerHz - 1) /
                         kPmTimerHz;
  clock_.schedule(overflow_timer_, static_cast<uint64_t>(ns));
}

void AcpiPm::on_overflow(void* self) {
  auto* pm = static_cast<AcpiPm*>(self);
  pm->pm1_sts_ |= kTmrSts;
  pm->update_sci();
  pm->arm_overflow_timer();
}

void AcpiPm::update_sci() {
  // With SCI_EN clear these events would go to SMI, which is not emulated.
  bool level = (pm1_cnt_ & kSciEn) && ((pm1_sts_ & pm1_en_ & kPm1EnMask) || (gpe0_sts_ & gpe0_en_));
  if (level == sci_level_) return;
  sci_level_ = level;
  sci_.set(level);
}

void AcpiPm::press_power_button() {
  pm1_sts_ |= kPwrBtnSts;
  update_sci();
}

void AcpiPm::raise_gpe(unsigned bit) {
  if (bit >= 16) return;
  gpe0_sts_ |= static_cast<uint16_t>(1u << bit);
  update_sci();
}

void AcpiPm::config_written(uint8_t offset, unsigned size) {
  unsigned end = offset + size;
  auto touches = [&](unsigned a, unsigned n) { return offset < a + n && end > a; };
  if (touches(kPmba, 4) || touches(kPmregmisc, 1) || touches(kSmbba, 4) || touches(kSmbhstcfg, 1))
    update_io_windows();
}

void AcpiPm::update_io_windows() {
  uint16_t pm = (read8(kPmregmisc) & 1) ? static_cast<uint16_t>(read32(kPmba) & 0xFFC0) : 0;
  if (pm != pm_base_) {
    if (pm_base_) ports_.unmap(&pm_window_);
    pm_base_ = 0;
    if (pm) {
      try {
        ports_.map(pm, kPmIoSize, &pm_window_, "acpi pm");
        pm_base_ = pm;
      } catch (const std::invalid_argument& e) {
        PC64_LOG(LogLevel::Warn, "acpi", "PM I/O at %#x not mapped: %s", pm, e.what());
      }
    }
  }
  uint16_t smb = (read8(kSmbhstcfg) & 1) ? static_cast<uint16_t>(read32(kSmbba) & 0xFFF0) : 0;
  if (smb != smbus_base_) {
    if (smbus_base_) ports_.unmap(&smbus_window_);
    smbus_base_ = 0;
    if (smb) {
      try {
        ports_.map(smb, kSmbusIoSize, &smbus_window_, "smbus");
        smbus_base_ = smb;
      } catch (const std::invalid_argument& e) {
        PC64_LOG(LogLevel::Warn, "acpi", "SMBus I/O at %#x not mapped: %s", smb, e.what());
      }
    }
  }
}

uint8_t AcpiPm::pm_read8(uint16_t off) const {
  auto byte = [&](uint32_t v, unsigned i) { return static_cast<uint8_t>(v >> (8 * i)); };
  switch (off) {
    case kPm1Sts: case kPm1Sts + 1: return byte(pm1_sts_, off - kPm1Sts);
    case kPm1En: case kPm1En + 1: return byte(pm1_en_, off - kPm1En);
    case kPm1Cnt: case kPm1Cnt + 1: return byte(pm1_cnt_, off - kPm1Cnt);
    case kPmTmr: case kPmTmr + 1: case kPmTmr + 2: case kPmTmr + 3: return byte(pm_timer(), off - kPmTmr);
    case kGpe0Sts: case kGpe0Sts + 1: return byte(gpe0_sts_, off - kGpe0Sts);
    case kGpe0En: case kGpe0En + 1: return byte(gpe0_en_, off - kGpe0En);
    default: break;
  }
  if (off >= 0x10 && off < kPmIoSize) return pm_misc_[off - 0x10];
  return 0;
}

void AcpiPm::pm_write8(uint16_t off, uint8_t v) {
  auto set_byte = [](uint16_t& reg, unsigned i, uint8_t b) {
    reg = static_cast<uint16_t>((reg & ~(0xFF << (8 * i))) | (b << (8 * i)));
  };
  switch (off) {
    case kPm1Sts: case kPm1Sts + 1:  // write one to clear
      pm1_sts_ &= static_cast<uint16_t>(~((v << (8 * (off - kPm1Sts))) & kPm1StsMask));
      break;
    case kPm1En: case kPm1En + 1:
      set_byte(pm1_en_, off - kPm1En, v);
      pm1_en_ &= kPm1EnMask;
      break;
    case kPm1Cnt: case kPm1Cnt + 1: {
      set_byte(pm1_cnt_, off - kPm1Cnt, v);
      bool sleep = off == kPm1Cnt + 1 && (v & (kSlpEn >> 8));
      pm1_cnt_ &= kPm1CntMask;  // SLP_EN and GBL_RLS act, they are not stored
      if (sleep) {
        unsigned type = (pm1_cnt_ >> kSlpTypShift) & 7;
        if (type == 0) {
          PC64_LOG(LogLevel::Info, "acpi", "guest entered S5 (soft off)");
          if (power_off_) power_off_();
        } else {
          // Sleeping states other than soft-off are not emulated: wake at once.
          PC64_LOG(LogLevel::Info, "acpi", "sleep type %u not supported; waking immediately", type);
          pm1_sts_ |= kWakSts;
        }
      }
      break;
    }
    case kGpe0Sts: case kGpe0Sts + 1:
      gpe0_sts_ &= static_cast<uint16_t>(~(v << (8 * (off - kGpe0Sts))));
      break;
    case kGpe0En: case kGpe0En + 1:
      set_byte(gpe0_en_, off - kGpe0En, v);
      break;
    default:
      if (off >= 0x10 && off < kPmIoSize) pm_misc_[off - 0x10] = v;
      break;
  }
}

uint8_t AcpiPm::smbus_read8(uint16_t off) const { return off < kSmbusIoSize ? smbus_[off] : 0xFF; }

void AcpiPm::smbus_write8(uint16_t off, uint8_t v) {
  if (off >= kSmbusIoSize) return;
  if (off == kSmbHstSts) {  // write one to clear
    smbus_[off] &= static_cast<uint8_t>(~v);
    return;
  }
  smbus_[off] = static_cast<uint8_t>(v & (off == kSmbHstCnt ? ~kSmbHstCntStart : 0xFF));
  // No device sits on this SMBus: every transaction ends at once with
  // DEV_ERR (no acknowledge), which drivers read as "nothing there".
  if (off == kSmbHstCnt && (v & kSmbHstCntStart)) smbus_[kSmbHstSts] |= kSmbHstStsDevErr;
}

uint32_t AcpiPm::IoWindow::io_read(uint16_t port, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint8_t b = 0xFF;
    switch (kind) {
      case Pm: b = pm->pm_read8(static_cast<uint16_t>(port + i - pm->pm_base_)); break;
      case Smbus: b = pm->smbus_read8(static_cast<uint16_t>(port + i - pm->smbus_base_)); break;
      case Apm: b = (port + i == kApmControlPort) ? pm->apmc_ : pm->apms_; break;
    }
    v |= static_cast<uint32_t>(b) << (8 * i);
  }
  return v;
}

void AcpiPm::IoWindow::io_write(uint16_t port, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    uint8_t b = static_cast<uint8_t>(value >> (8 * i));
    switch (kind) {
      case Pm: pm->pm_write8(static_cast<uint16_t>(port + i - pm->pm_base_), b); break;
      case Smbus: pm->smbus_write8(static_cast<uint16_t>(port + i - pm->smbus_base_), b); break;
      case Apm:
        if (port + i == kApmControlPort) {
          pm->apmc_ = b;
          // Without SMM the chipset does what the SMI handler would: switch
          // the fixed hardware between ACPI (SCI) and legacy mode.
          if (b == kAcpiEnable) pm->pm1_cnt_ |= kSciEn;
          if (b == kAcpiDisable) pm->pm1_cnt_ &= static_cast<uint16_t>(~kSciEn);
        } else {
          pm->apms_ = b;
        }
        break;
    }
  }
  pm->update_sci();
}

void AcpiPm::serialize(StateSerializer& s) {
  s.tag(0x41435049);  // "ACPI"
  serialize_config(s);
  s(pm1_sts_);
  s(pm1_en_);
  s(pm1_cnt_);
  s(gpe0_sts_);
  s(gpe0_en_);
  s(pm_misc_);
  s(smbus_);
  s(apmc_);
  s(apms_);
  s(sci_level_);
  if (s.loading()) {
    update_io_windows();
    arm_overflow_timer();  // the deadline follows from the restored clock
  }
}

}  // namespace pc64
