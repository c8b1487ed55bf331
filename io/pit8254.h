// The Intel 8254 programmable interval timer of a PC (ports 0x40-0x43) and
// the PIIX3 "NMI status and control" port 0x61 that owns channel 2's gate,
// the speaker enable, and reads back channel 2's OUT and the refresh toggle.
// Reference: Intel 82C54 data sheet (231244), "Modes" and "Read-Back
// Command"; 82371SB PIIX3 data sheet §4.7.1 (port 0x61, NMISC).
//
// Counters are not ticked: each channel remembers when its counting element
// was loaded (in 1.193182 MHz clock ticks of virtual time) and computes its
// count and OUT on demand. Only OUT changes of channel 0 are scheduled on the
// VirtualClock, because they drive IRQ0 (held at OUT's level).
#pragma once
#include <array>
#include <cstdint>

#include "io/clock.h"
#include "io/device.h"
#include "io/irq.h"
#include "io/port_bus.h"

namespace pc64 {

class Pit8254 final : public Device, public PortHandler {
 public:
  static constexpr uint64_t kClockHz = 1193182;
  // The DRAM refresh request toggle (port 0x61 bit 4) flips every 15.085 us.
  static constexpr uint64_t kRefreshPeriodNs = 15085;

  Pit8254(PortBus& ports, VirtualClock& clock, IrqLine irq0);

  const char* name() const override { return "pit8254"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // Observation for the monitor, the speaker and tests (channel 0-2).
  uint16_t count(unsigned channel);  // current count as the guest would read it (live)
  bool out(unsigned channel);
  uint8_t mode(unsigned channel) const { return channels_[channel % 3].mode; }
  bool gate(unsigned channel) const { return channels_[channel % 3].gate; }
  void set_gate(unsigned channel, bool level);
  bool speaker_enabled() const { return port61_ & 0x02; }
  // Clock ticks since power-on at virtual time `ns`, and the first ns of tick `k`.
  static uint64_t ticks_at(uint64_t ns);
  static uint64_t ns_of_tick(uint64_t k);

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  struct Channel {
    uint8_t mode = 0;          // effective mode 0-5
    uint8_t mode_bits = 0;     // M2-M0 as programmed (status byte)
    uint8_t rw = 3;            // RW1-RW0: 1 LSB, 2 MSB, 3 LSB then MSB
    bool bcd = false;
    bool gate = true;
    bool write_msb_next = false, read_msb_next = false;
    uint16_t cr = 0;           // count register as written (raw, BCD or binary)
    bool cr_valid = false;     // a full count was written since the control word
    bool null_count = true;    // CR written but not yet moved into the counting element
    bool count_latched = false, latch_msb_next = false;
    uint16_t latch = 0;
    bool status_latched = false;
    uint8_t status = 0;
    // The counting element.
    bool armed = false;        // counting since load_tick
    uint32_t start = 0;        // value at load_tick (1..modulus; modulus reads as 0)
    uint32_t reload = 0;       // modes 2/3 period
    uint64_t load_tick = 0;
    bool tc_done = false;      // modes 0/1/4/5: terminal count already reached
    uint32_t frozen = 0;       // value while not counting
    bool out_idle = false;     // OUT while not counting (and before load_tick)
    bool reload_pending = false;  // modes 2/3: new count takes effect at period end
    uint32_t pending_reload = 0;
    uint64_t pending_tick = 0;
  };

  uint8_t read8(uint16_t port);
  void write8(uint16_t port, uint8_t v);
  void write_control(uint8_t v, uint64_t t);
  void write_counter(Channel& c, uint8_t v, uint64_t t);
  void load_count(Channel& c, uint64_t t);
  uint8_t read_counter(Channel& c, uint64_t t);
  void latch_count(Channel& c, uint64_t t);
  void latch_status(Channel& c, uint64_t t);
  void sync(Channel& c, uint64_t t);
  uint32_t modulus(const Channel& c) const { return c.bcd ? 10000 : 65536; }
  uint32_t value_at(const Channel& c, uint64_t t) const;  // binary, 0..modulus-1
  bool out_at(const Channel& c, uint64_t t) const;
  uint64_t next_change(const Channel& c, uint64_t t) const;  // first tick > t where OUT or state changes
  uint64_t now_tick() const { return ticks_at(clock_.now()); }
  void update_irq0();
  static void on_timer(void* self);

  VirtualClock& clock_;
  IrqLine irq0_;
  Timer timer_{&Pit8254::on_timer, this, "pit-ch0"};

  // ---- state ----
  std::array<Channel, 3> channels_;
  uint8_t port61_ = 0;  // bits 0-3 as written (gate 2, speaker data, SERR#/IOCHK# enables)
  bool irq_level_ = false;
};

}  // namespace pc64
