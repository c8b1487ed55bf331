// The Motorola MC146818A real-time clock with its battery-backed CMOS RAM, as
// the PIIX3 integrates it: index/data at 0x70/0x71 (bit 7 of the index write
// is the chipset's NMI mask), the upper 128 bytes at 0x72/0x73, IRQ8.
// Reference: MC146818A data sheet (register A-D, "Update Cycle", "Interrupts");
// the CMOS layout after the clock registers is the IBM PC/AT convention that
// SeaBIOS (src/hw/rtc.h, src/fw/paravirt.c) and older OSes read.
//
// Time runs on the virtual clock from a start time given by the machine (a
// fixed one for deterministic runs, or the host's clock). The clock
// registers are kept in binary 24-hour form and converted to the format
// register B selects on every access. One timer fires at each update cycle
// (1 Hz) while the divider runs; the periodic interrupt arms a second timer
// only while PIE is set (PF alone is computed when register C is read).
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "io/clock.h"
#include "io/device.h"
#include "io/irq.h"
#include "io/port_bus.h"

namespace pc64 {

class RtcCmos final : public Device, public PortHandler {
 public:
  // Clock registers.
  static constexpr uint8_t kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03,
                           kHours = 0x04, kHoursAlarm = 0x05, kDayOfWeek = 0x06, kDayOfMonth = 0x07,
                           kMonth = 0x08, kYear = 0x09, kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D;
  // Register A.
  static constexpr uint8_t kUip = 0x80;
  static constexpr uint8_t kDvMask = 0x70, kDvNormal = 0x20;  // 32.768 kHz time base, divider running
  static constexpr uint8_t kRsMask = 0x0F;
  // Register B.
  static constexpr uint8_t kSet = 0x80, kPie = 0x40, kAie = 0x20, kUie = 0x10, kSqwe = 0x08, kDm = 0x04,
                           k24h = 0x02, kDse = 0x01;
  // Register C.
  static constexpr uint8_t kIrqf = 0x80, kPf = 0x40, kAf = 0x20, kUf = 0x10;
  // Register D.
  static constexpr uint8_t kVrt = 0x80;
  // PC/AT CMOS bytes.
  static constexpr uint8_t kShutdownStatus = 0x0F, kFloppyTypes = 0x10, kEquipment = 0x14, kBaseMemLow = 0x15,
                           kBaseMemHigh = 0x16, kExtMemLow = 0x17, kExtMemHigh = 0x18, kChecksumHigh = 0x2E,
                           kChecksumLow = 0x2F, kExtMem2Low = 0x30, kExtMem2High = 0x31, kCentury = 0x32,
                           kMemAbove16MLow = 0x34, kMemAbove16MHigh = 0x35, kBootFlag1 = 0x38,
                           kBootFlag2 = 0x3D, kMemAbove4G = 0x5B /* 3 bytes */, kCpuCount = 0x5F;
  // UIP is high for this long before each update completes: the 244 us
  // warning plus the 1984 us update cycle (data sheet, Figure 16).
  static constexpr uint64_t kUipNs = 244000 + 1984000;

  // `start_time`: seconds since 1970-01-01 00:00 UTC shown at power-on.
  RtcCmos(PortBus& ports, VirtualClock& clock, IrqLine irq8, int64_t start_time);

  const char* name() const override { return "rtc-cmos"; }
  // The RESET pin: clears PIE, AIE, UIE, SQWE and the flags. Time and RAM are
  // battery-backed and survive.
  void reset() override;
  void serialize(StateSerializer& s) override;

  bool nmi_masked() const { return nmi_masked_; }
  bool irq_level() const { return irq_level_; }
  // The current time as seconds since the epoch (century from CMOS 0x32).
  int64_t unix_time() const;
  void set_unix_time(int64_t t);

  // Raw CMOS access for the machine (no side effects; 0x00-0x0D are the
  // clock registers in the current data format).
  uint8_t cmos(unsigned index) const;
  void set_cmos(unsigned index, uint8_t value);
  // Fills the memory size bytes (0x15-0x18, 0x30/0x31, 0x34/0x35, 0x5B-0x5D)
  // from RAM below and above 4 GiB, and the checksum.
  void set_memory_sizes(uint64_t below_4g, uint64_t above_4g);
  // Equipment byte 0x14 and floppy types 0x10 (0 floppies: none).
  void set_equipment(unsigned floppies, bool fpu = true, bool ps2_mouse = true);
  // Boot order as QEMU's -boot spells it: up to three of 'a' (floppy),
  // 'c' (hard disk), 'd' (CD-ROM), 'n' (network), into 0x3D and 0x38.
  // Throws std::invalid_argument naming a bad letter.
  void set_boot_order(const std::string& order, bool check_floppy_signature = false);
  void set_cpu_count(unsigned cpus);
  // Sum of 0x10-0x2D into 0x2E (high) / 0x2F (low).
  void update_checksum();

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  struct Time {
    uint8_t sec = 0, min = 0, hour = 0, wday = 1, mday = 1, month = 1, year = 0;  // binary, 24 h
  };

  uint8_t read_register(uint8_t index);
  void write_register(uint8_t index, uint8_t v);
  uint8_t encode(uint8_t v) const;  // binary -> current data mode
  uint8_t decode(uint8_t v) const;
  uint8_t encode_hour(uint8_t h) const;
  uint8_t decode_hour(uint8_t v) const;
  uint8_t clock_register(uint8_t index) const;
  bool running() const { return (reg_a_ & kDvMask) == kDvNormal; }
  bool uip() const;
  void tick_second();
  void check_alarm();
  void update_irq();
  uint64_t period_ticks() const;  // periodic interrupt period in 32.768 kHz ticks, 0 = off
  uint64_t divider_ticks(uint64_t ns) const;
  uint64_t ns_of_divider_tick(uint64_t k) const;
  void update_pf();
  void arm_periodic();
  void arm_update();
  void restart_divider();
  static void on_update(void* self);
  static void on_periodic(void* self);

  VirtualClock& clock_;
  IrqLine irq_;
  Timer update_timer_{&RtcCmos::on_update, this, "rtc-update"};
  Timer periodic_timer_{&RtcCmos::on_periodic, this, "rtc-periodic"};

  // ---- state ----
  Time time_;
  uint8_t alarm_[3] = {0, 0, 0};  // seconds, minutes, hours alarm as written (register format)
  uint8_t reg_a_ = kDvNormal | 0x06, reg_b_ = k24h, reg_c_ = 0;
  std::array<uint8_t, 256> ram_{};  // 0x0E-0xFF (0x00-0x0D unused: clock above)
  uint8_t index_ = 0, index_high_ = 0x80;
  bool nmi_masked_ = false;
  bool irq_level_ = false;
  uint64_t divider_origin_ns_ = 0;  // when the divider chain last left reset
  uint64_t next_update_ns_ = 0;     // end of the next update cycle
  uint64_t pf_index_ = 0;           // periodic boundaries already reflected in PF
};

}  // namespace pc64
