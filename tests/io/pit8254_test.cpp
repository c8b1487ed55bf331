#include <doctest/doctest.h>

#include <utility>
#include <vector>

#include "io/pit8254.h"

using namespace pc64;

namespace {
struct EdgeRecorder final : IrqSink {
  VirtualClock* clock = nullptr;
  std::vector<std::pair<uint64_t, bool>> changes;  // (ns, level)
  void set_irq(unsigned, bool level) override { changes.push_back({clock->now(), level}); }
  std::vector<uint64_t> rises() const {
    std::vector<uint64_t> r;
    for (auto& c : changes)
      if (c.second) r.push_back(c.first);
    return r;
  }
};

struct PitRig {
  PortBus ports;
  VirtualClock clock;
  EdgeRecorder irq;
  Pit8254 pit{ports, clock, IrqLine(&irq, 0)};
  PitRig() { irq.clock = &clock; }
  void out(uint16_t p, uint8_t v) { ports.port_write(p, 1, v); }
  uint8_t in(uint16_t p) { return static_cast<uint8_t>(ports.port_read(p, 1)); }
  void at_tick(uint64_t k) { clock.advance_to(Pit8254::ns_of_tick(k)); }
  // Control word then LSB, MSB.
  void program(unsigned ch, unsigned mode, uint16_t count, bool bcd = false) {
    out(0x43, static_cast<uint8_t>((ch << 6) | 0x30 | (mode << 1) | (bcd ? 1 : 0)));
    out(static_cast<uint16_t>(0x40 + ch), static_cast<uint8_t>(count));
    out(static_cast<uint16_t>(0x40 + ch), static_cast<uint8_t>(count >> 8));
  }
  uint16_t read_count(unsigned ch) {  // counter latch, then LSB, MSB
    out(0x43, static_cast<uint8_t>(ch << 6));
    uint16_t lo = in(static_cast<uint16_t>(0x40 + ch));
    return static_cast<uint16_t>(lo | (in(static_cast<uint16_t>(0x40 + ch)) << 8));
  }
  uint8_t status(unsigned ch) {  // read-back, status only
    out(0x43, static_cast<uint8_t>(0xE0 | (2u << ch)));
    return in(static_cast<uint16_t>(0x40 + ch));
  }
  bool out_pin(unsigned ch) { return status(ch) & 0x80; }
};
}  // namespace

TEST_CASE("8254: tick arithmetic is exact at 1.193182 MHz") {
  CHECK(Pit8254::ticks_at(1000000000) == 1193182);
  CHECK(Pit8254::ticks_at(Pit8254::ns_of_tick(12345)) == 12345);
  CHECK(Pit8254::ticks_at(Pit8254::ns_of_tick(12345) - 1) == 12344);
}

TEST_CASE("8254 mode 0: count loads on the next clock, OUT rises at terminal count (IRQ0)") {
  PitRig r;
  r.at_tick(10);
  r.program(0, 0, 100);
  CHECK_FALSE(r.pit.out(0));
  CHECK((r.status(0) & 0x40) != 0);  // null count until the load clock
  r.at_tick(11);
  CHECK((r.status(0) & 0x40) == 0);
  CHECK(r.read_count(0) == 100);
  r.at_tick(61);
  CHECK(r.read_count(0) == 50);
  r.at_tick(110);
  CHECK(r.read_count(0) == 1);
  CHECK(r.irq.rises().empty());
  r.at_tick(111);
  CHECK(r.read_count(0) == 0);
  REQUIRE(r.irq.rises().size() == 1);
  CHECK(r.irq.rises()[0] == Pit8254::ns_of_tick(111));  // exactly at the TC clock
  r.at_tick(112);
  CHECK(r.read_count(0) == 0xFFFF);  // keeps counting, wrapping
  CHECK(r.pit.out(0));
  r.at_tick(70000);
  CHECK(r.irq.rises().size() == 1);  // OUT stays high: one interrupt
  // Writing the first byte of a new count drops OUT at once.
  r.out(0x40, 5);
  CHECK_FALSE(r.pit.out(0));
  CHECK(r.irq.changes.back().second == false);
  r.out(0x40, 0);
  r.at_tick(70006);
  CHECK(r.pit.out(0));
}

TEST_CASE("8254 mode 2 rate generator: one low clock per period, IRQ0 at the period rate") {
  PitRig r;
  r.program(0, 2, 4);  // loads at tick 1
  CHECK(r.pit.out(0));
  // The control word itself raised OUT (mode 0's low power-on state -> mode 2's high).
  REQUIRE(r.irq.rises().size() == 1);
  r.irq.changes.clear();
  r.at_tick(1);
  CHECK(r.read_count(0) == 4);
  r.at_tick(3);
  CHECK(r.read_count(0) == 2);
  r.at_tick(4);
  CHECK(r.read_count(0) == 1);
  CHECK_FALSE(r.pit.out(0));
  r.at_tick(5);
  CHECK(r.read_count(0) == 4);
  CHECK(r.pit.out(0));
  r.at_tick(20);
  auto rises = r.irq.rises();
  REQUIRE(rises.size() == 4);
  CHECK(rises[0] == Pit8254::ns_of_tick(5));
  CHECK(rises[3] == Pit8254::ns_of_tick(17));

  // The classic 100 Hz tick: 11932 clocks.
  PitRig h;
  h.program(0, 2, 11932);
  h.irq.changes.clear();
  h.clock.advance_to(1000000000);
  CHECK(h.irq.rises().size() == 99);  // 1193182 / 11932 = 99.999
  h.clock.advance_to(1000100000);
  CHECK(h.irq.rises().size() == 100);
}

TEST_CASE("8254 mode 2: a new count takes effect at the end of the period") {
  PitRig r;
  r.program(0, 2, 10);  // periods start at ticks 1, 11, 21...
  r.irq.changes.clear();
  r.at_tick(5);
  r.out(0x40, 3);
  r.out(0x40, 0);
  CHECK(r.read_count(0) == 6);  // the running period continues
  r.at_tick(11);
  CHECK(r.read_count(0) == 3);
  r.at_tick(13);
  CHECK(r.read_count(0) == 1);
  r.at_tick(30);
  auto rises = r.irq.rises();
  REQUIRE(rises.size() >= 3);
  CHECK(rises[0] == Pit8254::ns_of_tick(11));
  CHECK(rises[1] == Pit8254::ns_of_tick(14));
  CHECK(rises[2] == Pit8254::ns_of_tick(17));
}

TEST_CASE("8254 mode 3 square wave: high ceil(N/2), low floor(N/2)") {
  PitRig r;
  r.program(0, 3, 5);  // load at 1
  std::vector<bool> seen;
  for (uint64_t k = 1; k <= 10; ++k) {
    r.at_tick(k);
    seen.push_back(r.out_pin(0));
  }
  CHECK(seen == std::vector<bool>{true, true, true, false, false, true, true, true, false, false});
  PitRig e;
  e.program(0, 3, 6);
  e.at_tick(1);
  CHECK(e.read_count(0) == 6);
  e.at_tick(2);
  CHECK(e.read_count(0) == 4);  // counts by two
  e.at_tick(3);
  CHECK(e.read_count(0) == 2);
  CHECK(e.out_pin(0));
  e.at_tick(4);
  CHECK_FALSE(e.out_pin(0));
  CHECK(e.read_count(0) == 6);
  // 1 second of 18.2 Hz: OUT rises 18 times.
  PitRig b;
  b.program(0, 3, 0);  // 65536
  b.irq.changes.clear();
  b.clock.advance_to(1000000000);
  CHECK(b.irq.rises().size() == 18);
}

TEST_CASE("8254 mode 1 one-shot and mode 5 strobe, triggered by channel 2's gate (port 0x61)") {
  PitRig r;
  r.program(2, 1, 3);
  CHECK((r.in(0x61) & 0x20) != 0);  // OUT2 high, waiting for a trigger
  r.at_tick(10);
  CHECK((r.in(0x61) & 0x20) != 0);
  r.out(0x61, 0x01);  // gate rises: trigger
  CHECK((r.in(0x61) & 0x01) == 0x01);
  r.at_tick(11);
  CHECK((r.in(0x61) & 0x20) == 0);  // low from the clock after the trigger
  CHECK(r.read_count(2) == 3);
  r.at_tick(13);
  CHECK((r.in(0x61) & 0x20) == 0);
  r.at_tick(14);
  CHECK((r.in(0x61) & 0x20) != 0);  // terminal count
  // Retrigger: gate low then high restarts the full count.
  r.out(0x61, 0x00);
  r.at_tick(20);
  r.out(0x61, 0x01);
  r.at_tick(22);
  CHECK((r.in(0x61) & 0x20) == 0);
  CHECK(r.read_count(2) == 2);
  r.at_tick(24);
  CHECK((r.in(0x61) & 0x20) != 0);

  PitRig s;
  s.program(2, 5, 2);
  s.at_tick(5);
  s.out(0x61, 0x01);  // trigger: load at 6, strobe at count 0 (tick 8)
  s.at_tick(7);
  CHECK(s.out_pin(2));
  s.at_tick(8);
  CHECK_FALSE(s.out_pin(2));
  s.at_tick(9);
  CHECK(s.out_pin(2));
}

TEST_CASE("8254 mode 4 software strobe and gate suspending modes 0/2") {
  PitRig r;
  r.program(1, 4, 3);  // load at 1, strobe at 4
  r.at_tick(3);
  CHECK(r.out_pin(1));
  r.at_tick(4);
  CHECK_FALSE(r.out_pin(1));
  r.at_tick(5);
  CHECK(r.out_pin(1));
  r.at_tick(100);
  CHECK(r.out_pin(1));  // strobes once per count written

  // Mode 0 on channel 2: gate low holds the count.
  PitRig g;
  g.out(0x61, 0x01);
  g.program(2, 0, 10);  // load at 1
  g.at_tick(4);
  CHECK(g.read_count(2) == 7);
  g.out(0x61, 0x00);
  g.at_tick(50);
  CHECK(g.read_count(2) == 7);
  CHECK((g.in(0x61) & 0x20) == 0);
  g.out(0x61, 0x01);
  g.at_tick(57);
  CHECK(g.read_count(2) == 0);
  CHECK((g.in(0x61) & 0x20) != 0);
  // Mode 2: gate low forces OUT high and a rising gate reloads.
  g.program(2, 2, 5);  // gate high: load at 58
  g.at_tick(60);
  CHECK(g.read_count(2) == 3);
  g.out(0x61, 0x00);
  g.at_tick(70);
  CHECK(g.read_count(2) == 3);
  CHECK((g.in(0x61) & 0x20) != 0);
  g.out(0x61, 0x01);
  g.at_tick(71);
  CHECK(g.read_count(2) == 5);
}

TEST_CASE("8254 latch and read-back commands, access modes, BCD") {
  PitRig r;
  r.program(0, 2, 1000);  // load at 1
  r.at_tick(101);
  r.out(0x43, 0x00);  // latch channel 0
  r.at_tick(201);
  r.out(0x43, 0x00);  // ignored: the first latch is still unread
  CHECK(r.in(0x40) == (900 & 0xFF));
  CHECK(r.in(0x40) == (900 >> 8));
  // Unlatched reads follow the counter, still LSB then MSB.
  CHECK(r.in(0x40) == (800 & 0xFF));
  r.at_tick(202);
  CHECK(r.in(0x40) == (799 >> 8));

  // Read-back of count and status of channels 0 and 1: status comes first.
  r.program(1, 3, 0x100);  // RW=3, mode 3
  r.at_tick(300);
  r.out(0x43, 0xC6);  // read-back: COUNT and STATUS of channels 0 and 1
  uint8_t st0 = r.in(0x40);
  CHECK((st0 & 0x3F) == 0x34);  // RW=3, mode 2, binary
  CHECK((st0 & 0x80) != 0);     // OUT high
  CHECK((st0 & 0x40) == 0);     // count loaded
  uint16_t c0 = r.in(0x40);
  c0 |= r.in(0x40) << 8;
  CHECK(c0 == 1000 - (299 % 1000));
  uint8_t st1 = r.in(0x41);
  CHECK((st1 & 0x3F) == 0x36);

  // LSB-only and MSB-only access.
  r.out(0x43, 0x54);  // channel 1, LSB only, mode 2
  r.out(0x41, 0x80);  // count 0x0080
  r.at_tick(301);
  CHECK(r.in(0x41) == 0x80);
  CHECK(r.in(0x41) == 0x80);  // no MSB phase
  r.out(0x43, 0x64);  // channel 1, MSB only, mode 2
  r.out(0x41, 0x02);  // count 0x0200
  r.at_tick(302 + 0x100);
  CHECK(r.in(0x41) == 0x01);

  // BCD: count 100 (0x0100) reads back in BCD digits.
  r.program(0, 2, 0x0100, true);
  r.at_tick(r.pit.ticks_at(r.clock.now()) + 12);
  CHECK(r.read_count(0) == 0x0089);
  r.program(0, 0, 0x0000, true);  // BCD 0 = 10000
  r.at_tick(r.pit.ticks_at(r.clock.now()) + 2);
  CHECK(r.read_count(0) == 0x9999);
}

TEST_CASE("port 0x61: gate, speaker enable, refresh toggle") {
  PitRig r;
  r.out(0x61, 0x0F);
  CHECK((r.in(0x61) & 0x0F) == 0x0F);
  CHECK(r.pit.speaker_enabled());
  CHECK(r.pit.gate(2));
  uint8_t a = r.in(0x61) & 0x10;
  r.clock.advance_to(r.clock.now() + Pit8254::kRefreshPeriodNs);
  uint8_t b = r.in(0x61) & 0x10;
  CHECK(a != b);
  r.out(0x61, 0xF0);
  CHECK((r.in(0x61) & 0x0F) == 0);  // upper bits are read-only
}

TEST_CASE("8254 state restores with its IRQ0 timer re-armed") {
  PitRig r;
  r.program(0, 2, 100);
  r.program(2, 3, 50);
  r.at_tick(150);
  std::vector<uint8_t> blob;
  StateSerializer w(blob);
  r.pit.serialize(w);

  PitRig b;
  b.clock.set_now(r.clock.now());
  StateSerializer rd(blob.data(), blob.size());
  b.pit.serialize(rd);
  CHECK(rd.at_end());
  CHECK(b.read_count(0) == r.read_count(0));
  CHECK(b.read_count(2) == r.read_count(2));
  r.irq.changes.clear();
  r.at_tick(1000);
  b.at_tick(1000);
  CHECK(b.irq.rises() == r.irq.rises());
  CHECK(b.irq.rises().size() == 8);  // ticks 201, 301, ... 901
}

#include "port_fuzz.h"

TEST_CASE("8254: random port traffic never breaks it") {
  PitRig r;
  pc64::test::fuzz_ports(r.ports, &r.clock, {{0x40, 4}, {0x61, 1}}, 20000, 11);
  r.clock.advance_to(r.clock.now() + 1000000000);
}
