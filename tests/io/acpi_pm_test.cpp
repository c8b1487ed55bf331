#include <doctest/doctest.h>

#include <vector>

#include "io/acpi_pm.h"

using namespace pc64;

namespace {
struct LevelRecorder final : IrqSink {
  bool level[16] = {};
  int changes = 0;
  void set_irq(unsigned irq, bool l) override {
    if (irq < 16) level[irq] = l;
    ++changes;
  }
};

struct PmRig {
  PhysicalMemory mem{1 << 20};
  PortBus ports;
  VirtualClock clock;
  PciBus bus{ports, mem};
  LevelRecorder irqs;
  int power_offs = 0;
  AcpiPm pm{bus, ports, clock, IrqLine(&irqs, AcpiPm::kSciIrq), [this] { ++power_offs; }};
  static constexpr uint16_t kBase = 0x600;

  PmRig() {
    // What SeaBIOS's piix4_pm_setup does.
    bus.config_write(1, 3, AcpiPm::kPmba, 4, kBase | 1);
    bus.config_write(1, 3, AcpiPm::kPmregmisc, 1, 0x01);
  }
  uint32_t in(uint16_t off, unsigned size) { return ports.port_read(kBase + off, size); }
  void out(uint16_t off, unsigned size, uint32_t v) { ports.port_write(kBase + off, size, v); }
};
}  // namespace

TEST_CASE("PIIX4 PM identity, PMBA decoding, and SMM reported as set up") {
  PmRig r;
  CHECK(r.bus.config_read(1, 3, 0x00, 4) == 0x71138086);
  CHECK(r.bus.config_read(1, 3, 0x08, 4) == 0x06800003);
  CHECK(r.bus.config_read(1, 3, AcpiPm::kPmba, 4) == 0x601);
  CHECK(r.pm.pm_io_base() == 0x600);
  // DEVACTB.APMC_EN already set: SeaBIOS's piix4_apmc_smm_setup returns at once.
  CHECK((r.bus.config_read(1, 3, AcpiPm::kDevactb, 4) & (1u << 25)) != 0);
  // Turning PMIOSE off unmaps the window; moving PMBA moves it.
  r.bus.config_write(1, 3, AcpiPm::kPmregmisc, 1, 0);
  CHECK(r.ports.port_read(0x608, 4) == 0xFFFFFFFF);
  r.bus.config_write(1, 3, AcpiPm::kPmba, 4, 0xB001);
  r.bus.config_write(1, 3, AcpiPm::kPmregmisc, 1, 1);
  CHECK(r.pm.pm_io_base() == 0xB000);
  r.clock.advance_to(1000000);
  CHECK(r.ports.port_read(0xB008, 4) == 3579);
}

TEST_CASE("ACPI PM timer runs at 3.579545 MHz of virtual time, 24 bits") {
  PmRig r;
  CHECK(r.in(AcpiPm::kPmTmr, 4) == 0);
  r.clock.advance_to(1000000);  // 1 ms
  CHECK(r.in(AcpiPm::kPmTmr, 4) == 3579);
  r.clock.advance_to(VirtualClock::kNsPerSecond);  // 1 s
  CHECK(r.in(AcpiPm::kPmTmr, 4) == 3579545);
  CHECK(r.in(AcpiPm::kPmTmr, 2) == (3579545 & 0xFFFF));
  CHECK(r.in(AcpiPm::kPmTmr + 2, 1) == (3579545 >> 16));
  r.clock.advance_to(10 * VirtualClock::kNsPerSecond);  // 35795450 ticks: wrapped once
  CHECK(r.in(AcpiPm::kPmTmr, 4) == (35795450u & 0xFFFFFF));
  r.out(AcpiPm::kPmTmr, 4, 0);  // read-only
  CHECK(r.in(AcpiPm::kPmTmr, 4) == (35795450u & 0xFFFFFF));
}

TEST_CASE("TMR_STS is set when bit 23 toggles and raises SCI when enabled") {
  PmRig r;
  // 2^23 ticks = 2343484.9... us.
  uint64_t toggle_ns = (uint64_t{1} << 23) * VirtualClock::kNsPerSecond / AcpiPm::kPmTimerHz;
  r.clock.advance_to(toggle_ns - 1000);
  CHECK((r.in(AcpiPm::kPm1Sts, 2) & AcpiPm::kTmrSts) == 0);
  r.clock.advance_to(toggle_ns + 1000);
  CHECK((r.in(AcpiPm::kPm1Sts, 2) & AcpiPm::kTmrSts) != 0);
  CHECK((r.in(AcpiPm::kPmTmr, 4) & 0x800000) != 0);
  CHECK_FALSE(r.irqs.level[9]);  // TMR_EN and SCI_EN are off
  r.out(AcpiPm::kPm1Sts, 2, AcpiPm::kTmrSts);  // write one to clear
  CHECK((r.in(AcpiPm::kPm1Sts, 2) & AcpiPm::kTmrSts) == 0);

  r.ports.port_write(AcpiPm::kApmControlPort, 1, AcpiPm::kAcpiEnable);
  r.out(AcpiPm::kPm1En, 2, AcpiPm::kTmrSts);
  CHECK(r.in(AcpiPm::kPm1En, 2) == AcpiPm::kTmrSts);
  r.clock.advance_to(2 * toggle_ns + 1000);  // bit 23 falls: another event
  CHECK(r.irqs.level[9]);
  CHECK(r.pm.sci_level());
  r.out(AcpiPm::kPm1Sts, 2, AcpiPm::kTmrSts);
  CHECK_FALSE(r.irqs.level[9]);
}

TEST_CASE("writing 0xF1 / 0xF0 to port 0xB2 toggles SCI_EN") {
  PmRig r;
  CHECK((r.in(AcpiPm::kPm1Cnt, 2) & AcpiPm::kSciEn) == 0);
  r.ports.port_write(0xB2, 1, 0xF1);
  CHECK((r.in(AcpiPm::kPm1Cnt, 2) & AcpiPm::kSciEn) != 0);
  CHECK(r.ports.port_read(0xB2, 1) == 0xF1);
  r.ports.port_write(0xB2, 1, 0xF0);
  CHECK((r.in(AcpiPm::kPm1Cnt, 2) & AcpiPm::kSciEn) == 0);
  r.ports.port_write(0xB3, 1, 0x5A);
  CHECK(r.ports.port_read(0xB3, 1) == 0x5A);
}

TEST_CASE("SLP_TYP 0 with SLP_EN powers off (S5); other types wake at once") {
  PmRig r;
  r.out(AcpiPm::kPm1Cnt, 2, AcpiPm::kSciEn | (1u << AcpiPm::kSlpTypShift));  // no SLP_EN: nothing
  CHECK(r.power_offs == 0);
  r.out(AcpiPm::kPm1Cnt, 2, AcpiPm::kSciEn | (1u << AcpiPm::kSlpTypShift) | AcpiPm::kSlpEn);
  CHECK(r.power_offs == 0);
  CHECK((r.in(AcpiPm::kPm1Sts, 2) & AcpiPm::kWakSts) != 0);
  CHECK((r.in(AcpiPm::kPm1Cnt, 2) & AcpiPm::kSlpEn) == 0);  // SLP_EN reads 0
  r.out(AcpiPm::kPm1Cnt, 2, AcpiPm::kSciEn | AcpiPm::kSlpEn);  // Linux's S5: SLP_TYPa = 0
  CHECK(r.power_offs == 1);
}

TEST_CASE("power button and GPE0 raise the SCI") {
  PmRig r;
  r.ports.port_write(0xB2, 1, 0xF1);
  r.pm.press_power_button();
  CHECK_FALSE(r.irqs.level[9]);  // PWRBTN_EN clear
  r.out(AcpiPm::kPm1En, 2, AcpiPm::kPwrBtnSts);
  CHECK(r.irqs.level[9]);
  r.out(AcpiPm::kPm1Sts, 2, AcpiPm::kPwrBtnSts);
  CHECK_FALSE(r.irqs.level[9]);
  r.out(AcpiPm::kGpe0En, 1, 0x02);
  r.pm.raise_gpe(1);
  CHECK(r.irqs.level[9]);
  CHECK(r.in(AcpiPm::kGpe0Sts, 1) == 0x02);
  r.out(AcpiPm::kGpe0Sts, 1, 0x02);
  CHECK_FALSE(r.irqs.level[9]);
}

TEST_CASE("SMBus host: no device answers") {
  PmRig r;
  r.bus.config_write(1, 3, AcpiPm::kSmbba, 4, 0x701);
  r.bus.config_write(1, 3, AcpiPm::kSmbhstcfg, 1, 0x09);
  CHECK(r.bus.config_read(1, 3, AcpiPm::kSmbba, 4) == 0x701);
  CHECK(r.ports.port_read(0x700, 1) == 0);  // idle
  r.ports.port_write(0x704, 1, 0xA1);       // address: SPD EEPROM, read
  r.ports.port_write(0x702, 1, 0x48);       // start, byte data
  CHECK((r.ports.port_read(0x700, 1) & 0x04) != 0);  // DEV_ERR
  r.ports.port_write(0x700, 1, 0xFF);
  CHECK(r.ports.port_read(0x700, 1) == 0);
}

TEST_CASE("ACPI PM state round-trips and the timer keeps its phase") {
  PmRig a;
  a.ports.port_write(0xB2, 1, 0xF1);
  a.out(AcpiPm::kPm1En, 2, AcpiPm::kTmrSts);
  a.clock.advance_to(1000000000);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.pm.serialize(save);

  PmRig b;
  b.clock.set_now(a.clock.now());
  StateSerializer load(blob.data(), blob.size());
  b.pm.serialize(load);
  CHECK(load.at_end());
  CHECK(b.in(AcpiPm::kPmTmr, 4) == a.in(AcpiPm::kPmTmr, 4));
  CHECK(b.in(AcpiPm::kPm1Cnt, 2) == AcpiPm::kSciEn);
  b.clock.advance_to(2400000000ULL);  // past the first bit-23 toggle
  CHECK(b.irqs.level[9]);
}
