#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "io/rtc_cmos.h"

using namespace pc64;

namespace {
constexpr int64_t kStart = 1709164798;  // 2024-02-28 23:59:58 UTC, a Wednesday
constexpr uint64_t kMs = 1000000;

struct LevelSink final : IrqSink {
  bool level = false;
  int rises = 0;
  void set_irq(unsigned, bool l) override {
    if (l && !level) ++rises;
    level = l;
  }
};

struct RtcRig {
  PortBus ports;
  VirtualClock clock;
  LevelSink irq;
  RtcCmos rtc{ports, clock, IrqLine(&irq, 8), kStart};
  uint8_t rd(uint8_t index) {
    ports.port_write(0x70, 1, index);
    return static_cast<uint8_t>(ports.port_read(0x71, 1));
  }
  void wr(uint8_t index, uint8_t v) {
    ports.port_write(0x70, 1, index);
    ports.port_write(0x71, 1, v);
  }
};
}  // namespace

TEST_CASE("RTC: start time in BCD 24-hour, updates once a second across a leap day") {
  RtcRig r;
  CHECK(r.rd(0x0A) == 0x26);
  CHECK(r.rd(0x0B) == 0x02);
  CHECK(r.rd(0x0D) == 0x80);
  CHECK(r.rd(0x00) == 0x58);
  CHECK(r.rd(0x02) == 0x59);
  CHECK(r.rd(0x04) == 0x23);
  CHECK(r.rd(0x06) == 4);
  CHECK(r.rd(0x07) == 0x28);
  CHECK(r.rd(0x08) == 0x02);
  CHECK(r.rd(0x09) == 0x24);
  CHECK(r.rd(0x32) == 0x20);
  // First update 500 ms after the divider starts, then every second.
  r.clock.advance_to(500 * kMs - 1);
  CHECK(r.rd(0x00) == 0x58);
  r.clock.advance_to(500 * kMs);
  CHECK(r.rd(0x00) == 0x59);
  r.clock.advance_to(1500 * kMs);
  CHECK(r.rd(0x00) == 0x00);
  CHECK(r.rd(0x02) == 0x00);
  CHECK(r.rd(0x04) == 0x00);
  CHECK(r.rd(0x06) == 5);
  CHECK(r.rd(0x07) == 0x29);  // 2024 is a leap year
  CHECK(r.rd(0x08) == 0x02);
  CHECK(r.rtc.unix_time() == kStart + 2);
}

TEST_CASE("RTC: UIP is high for 244 us + the update cycle before each update") {
  RtcRig r;
  uint64_t update = 500 * kMs;
  r.clock.advance_to(update - RtcCmos::kUipNs - 1);
  CHECK((r.rd(0x0A) & 0x80) == 0);
  r.clock.advance_to(update - RtcCmos::kUipNs);
  CHECK((r.rd(0x0A) & 0x80) != 0);
  CHECK(r.rd(0x00) == 0x58);  // registers are stable while UIP is set
  r.clock.advance_to(update);
  CHECK((r.rd(0x0A) & 0x80) == 0);
  CHECK(r.rd(0x00) == 0x59);
  // SET stops updates and clears UIP.
  r.wr(0x0B, 0x82);
  r.clock.advance_to(update + 1000 * kMs - 1000);
  CHECK((r.rd(0x0A) & 0x80) == 0);
  r.clock.advance_to(update + 3000 * kMs);
  CHECK(r.rd(0x00) == 0x59);
  // Setting the time while SET is on, then releasing it.
  r.wr(0x00, 0x30);
  r.wr(0x04, 0x07);
  r.wr(0x0B, 0x02);
  r.clock.advance_to(update + 4000 * kMs);
  CHECK(r.rd(0x00) == 0x31);
  CHECK(r.rd(0x04) == 0x07);
}

TEST_CASE("RTC: binary and 12-hour formats") {
  RtcRig r;
  r.wr(0x0B, 0x06);  // binary, 24 h
  CHECK(r.rd(0x00) == 58);
  CHECK(r.rd(0x04) == 23);
  CHECK(r.rd(0x09) == 24);
  r.wr(0x0B, 0x04);  // binary, 12 h
  CHECK(r.rd(0x04) == (0x80 | 11));  // 11 PM
  r.wr(0x0B, 0x00);  // BCD, 12 h
  CHECK(r.rd(0x04) == 0x91);  // PM | BCD 11
  r.wr(0x04, 0x12);  // 12 AM = midnight
  r.wr(0x0B, 0x02);
  CHECK(r.rd(0x04) == 0x00);
  r.wr(0x0B, 0x00);
  r.wr(0x04, 0x92);  // 12 PM = noon
  r.wr(0x0B, 0x02);
  CHECK(r.rd(0x04) == 0x12);
}

TEST_CASE("RTC: periodic interrupt at every rate select") {
  for (unsigned rs = 1; rs <= 15; ++rs) {
    CAPTURE(rs);
    RtcRig r;
    r.wr(0x0A, static_cast<uint8_t>(0x20 | rs));
    r.wr(0x0B, 0x42);  // PIE
    unsigned effective = rs < 3 ? rs + 7 : rs;
    uint64_t hz = 65536 >> effective;  // 32768 / 2^(rs-1)
    uint64_t end = 1000 * kMs;
    unsigned interrupts = 0;
    while (r.clock.next_deadline() <= end) {
      r.clock.advance_to(r.clock.next_deadline());
      if (r.irq.level) {
        ++interrupts;
        uint8_t c = r.rd(0x0C);
        CHECK((c & 0xC0) == 0xC0);  // IRQF and PF
        CHECK_FALSE(r.irq.level);
      }
    }
    CHECK(interrupts == hz);
  }
}

TEST_CASE("RTC: PF is set without PIE (and without interrupts)") {
  RtcRig r;
  r.wr(0x0A, 0x2F);  // 2 Hz
  r.rd(0x0C);
  r.clock.advance_to(400 * kMs);
  CHECK(r.rd(0x0C) == 0x00);
  r.clock.advance_to(600 * kMs);
  CHECK(r.rd(0x0C) == 0x50);  // PF (and UF from the 500 ms update), no IRQF
  CHECK(r.rd(0x0C) == 0x00);
  CHECK(r.irq.rises == 0);
}

TEST_CASE("RTC: alarm and update-ended interrupts") {
  RtcRig r;
  r.wr(0x01, 0x01);  // alarm at 00:00:01
  r.wr(0x03, 0x00);
  r.wr(0x05, 0x00);
  r.wr(0x0B, 0x22);  // AIE
  r.clock.advance_to(2000 * kMs);  // 00:00:00
  CHECK_FALSE(r.irq.level);
  r.clock.advance_to(2500 * kMs);  // 00:00:01
  CHECK(r.irq.level);
  CHECK((r.rd(0x0C) & 0xB0) == 0xB0);  // IRQF, AF, UF (PF runs at the default 1024 Hz)
  CHECK_FALSE(r.irq.level);
  // Don't-care hours and minutes: every minute at :30.
  r.wr(0x01, 0x30);
  r.wr(0x03, 0xC0);
  r.wr(0x05, 0xFF);
  r.clock.advance_to(30500 * kMs);
  CHECK_FALSE(r.irq.level);
  r.clock.advance_to(31500 * kMs);
  CHECK(r.irq.level);
  CHECK(r.rd(0x00) == 0x30);
  r.rd(0x0C);
  // Update-ended interrupt every second.
  r.wr(0x0B, 0x12);
  r.clock.advance_to(32500 * kMs);
  CHECK(r.irq.level);
  CHECK((r.rd(0x0C) & 0x90) == 0x90);
  r.wr(0x0B, 0x92);  // SET clears UIE
  CHECK(r.rd(0x0B) == 0x82);
}

TEST_CASE("RTC: divider reset holds time; the first update is 500 ms after release") {
  RtcRig r;
  r.wr(0x0A, 0x76);  // DV = 111: divider reset
  r.clock.advance_to(5000 * kMs);
  CHECK(r.rd(0x00) == 0x58);
  CHECK((r.rd(0x0A) & 0x80) == 0);
  r.wr(0x0A, 0x26);
  r.clock.advance_to(5499 * kMs);
  CHECK(r.rd(0x00) == 0x58);
  r.clock.advance_to(5500 * kMs);
  CHECK(r.rd(0x00) == 0x59);
}

TEST_CASE("CMOS: NMI mask bit, both NVRAM banks, read-only C/D") {
  RtcRig r;
  r.ports.port_write(0x70, 1, 0x80 | 0x40);
  CHECK(r.rtc.nmi_masked());
  r.ports.port_write(0x71, 1, 0xA5);
  r.ports.port_write(0x70, 1, 0x40);
  CHECK_FALSE(r.rtc.nmi_masked());
  CHECK(r.ports.port_read(0x71, 1) == 0xA5);
  r.ports.port_write(0x72, 1, 0x40);  // byte 0xC0
  r.ports.port_write(0x73, 1, 0x5A);
  CHECK(r.ports.port_read(0x73, 1) == 0x5A);
  CHECK(r.rtc.cmos(0xC0) == 0x5A);
  CHECK(r.rd(0x40) == 0xA5);
  r.wr(0x0D, 0x00);
  CHECK(r.rd(0x0D) == 0x80);
}

TEST_CASE("CMOS: memory sizes, equipment, boot order, checksum") {
  RtcRig r;
  r.rtc.set_memory_sizes(512ULL << 20, 2ULL << 30);
  CHECK(r.rd(0x15) == 0x80);
  CHECK(r.rd(0x16) == 0x02);
  CHECK(r.rd(0x17) == 0xFF);
  CHECK(r.rd(0x18) == 0xFF);
  CHECK(r.rd(0x30) == 0xFF);
  CHECK(r.rd(0x31) == 0xFF);
  CHECK(r.rd(0x34) == 0x00);  // (512 - 16) MiB / 64 KiB = 0x1F00
  CHECK(r.rd(0x35) == 0x1F);
  CHECK(r.rtc.cmos(0x5B) == 0x00);  // 2 GiB / 64 KiB = 0x8000
  CHECK(r.rtc.cmos(0x5C) == 0x80);
  CHECK(r.rtc.cmos(0x5D) == 0x00);
  r.rtc.set_memory_sizes(8ULL << 20, 0);
  CHECK((r.rd(0x30) | r.rd(0x31) << 8) == 7 * 1024);
  CHECK(r.rd(0x34) == 0);
  r.rtc.set_equipment(0);
  CHECK(r.rd(0x14) == 0x06);
  CHECK(r.rd(0x10) == 0x00);
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2D; ++i) sum += r.rd(static_cast<uint8_t>(i));
  CHECK(r.rd(0x2E) == (sum >> 8));
  CHECK(r.rd(0x2F) == (sum & 0xFF));
  r.rtc.set_boot_order("dcn");
  CHECK(r.rd(0x3D) == 0x23);
  CHECK(r.rd(0x38) == 0x41);
  CHECK_THROWS_AS(r.rtc.set_boot_order("cx"), std::invalid_argument);
  r.rtc.set_cpu_count(1);
  CHECK(r.rd(0x5F) == 0);
}

TEST_CASE("RTC: state restores with its timers re-armed") {
  RtcRig r;
  r.wr(0x0A, 0x2A);  // 64 Hz
  r.wr(0x0B, 0x52);  // PIE, UIE
  r.clock.advance_to(250 * kMs + 12345);
  r.rd(0x0C);
  std::vector<uint8_t> blob;
  StateSerializer w(blob);
  r.rtc.serialize(w);

  RtcRig b;
  b.clock.set_now(r.clock.now());
  StateSerializer rd(blob.data(), blob.size());
  b.rtc.serialize(rd);
  CHECK(rd.at_end());
  CHECK(b.clock.next_deadline() == r.clock.next_deadline());
  r.clock.advance_to(600 * kMs);
  b.clock.advance_to(600 * kMs);
  CHECK(b.rd(0x0C) == r.rd(0x0C));
  CHECK(b.rd(0x00) == r.rd(0x00));
}

#include "port_fuzz.h"

TEST_CASE("RTC: random port traffic never breaks it") {
  RtcRig r;
  pc64::test::fuzz_ports(r.ports, &r.clock, {{0x70, 4}}, 20000, 13);
  r.clock.advance_to(r.clock.now() + 5000000000ULL);
  (void)r.rtc.unix_time();
}

TEST_CASE("RTC: an unserviced periodic interrupt costs no timer events") {
  RtcRig r;
  r.wr(0x0A, 0x23);  // 8192 Hz
  r.wr(0x0B, 0x42);
  r.clock.advance_to(1 * kMs);
  CHECK(r.irq.level);
  // Only the 1 Hz update timer remains armed.
  CHECK(r.clock.next_deadline() == 500 * kMs);
  CHECK((r.rd(0x0C) & 0xC0) == 0xC0);
  CHECK(r.clock.next_deadline() < 2 * kMs);  // re-armed by reading C
}
