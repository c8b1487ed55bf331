#include <doctest/doctest.h>

#include "ps2_rig.h"

using namespace pc64;
using namespace pc64::test;

namespace {
// A rig with translation off so the keyboard's own bytes are visible.
struct RawKbd : Ps2Rig {
  RawKbd() { set_command_byte(0x03); }
  Bytes send(std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes) data(b);
    return drain();
  }
  Bytes press(uint16_t code) {
    kbc.key(code, true);
    kbc.key(code, false);
    return drain();
  }
};
}  // namespace

TEST_CASE("PS/2 keyboard: reset, echo, identify, LEDs, typematic, resend, bad command") {
  RawKbd k;
  CHECK(k.send({0xFF}) == Bytes{0xFA, 0xAA});
  CHECK(k.send({0xEE}) == Bytes{0xEE});
  CHECK(k.send({0xF2}) == Bytes{0xFA, 0xAB, 0x83});
  CHECK(k.send({0xED, 0x05}) == Bytes{0xFA, 0xFA});
  CHECK(k.kbc.keyboard().leds() == 0x05);
  CHECK(k.kbc.keyboard().typematic() == 0x2B);
  CHECK(k.send({0xF3, 0x20}) == Bytes{0xFA, 0xFA});
  CHECK(k.kbc.keyboard().typematic() == 0x20);
  CHECK(k.send({0xFE}) == Bytes{0xFA});  // resend the last byte
  CHECK(k.send({0x12}) == Bytes{0xFE});  // not a command
  CHECK(k.send({0xF6}) == Bytes{0xFA});  // defaults
  CHECK(k.kbc.keyboard().typematic() == 0x2B);
  CHECK(k.send({0xFF}) == Bytes{0xFA, 0xAA});
  CHECK(k.kbc.keyboard().leds() == 0);
}

TEST_CASE("PS/2 keyboard: enable/disable scanning") {
  RawKbd k;
  CHECK(k.send({0xF5}) == Bytes{0xFA});
  CHECK(k.press(0x1C).empty());
  CHECK(k.send({0xF4}) == Bytes{0xFA});
  CHECK(k.press(0x1C) == Bytes{0x1C, 0xF0, 0x1C});
}

TEST_CASE("PS/2 keyboard: scan code sets 1, 2 and 3") {
  RawKbd k;
  CHECK(k.send({0xF0, 0x00}) == Bytes{0xFA, 0xFA, 0x02});
  // Set 2.
  CHECK(k.press(0x1C) == Bytes{0x1C, 0xF0, 0x1C});                    // A
  CHECK(k.press(0xE014) == Bytes{0xE0, 0x14, 0xE0, 0xF0, 0x14});      // right Ctrl
  CHECK(k.press(Ps2Keyboard::kPrintScreen) == Bytes{0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12});
  CHECK(k.press(Ps2Keyboard::kPause) == Bytes{0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77});
  // Set 1.
  CHECK(k.send({0xF0, 0x01}) == Bytes{0xFA, 0xFA});
  CHECK(k.send({0xF0, 0x00}) == Bytes{0xFA, 0xFA, 0x01});
  CHECK(k.press(0x1C) == Bytes{0x1E, 0x9E});
  CHECK(k.press(0x76) == Bytes{0x01, 0x81});                          // Esc
  CHECK(k.press(0x83) == Bytes{0x41, 0xC1});                          // F7
  CHECK(k.press(0xE075) == Bytes{0xE0, 0x48, 0xE0, 0xC8});            // Up
  CHECK(k.press(Ps2Keyboard::kPause) == Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5});
  // Set 3: one code per key, F0 break, no E0.
  CHECK(k.send({0xF0, 0x03}) == Bytes{0xFA, 0xFA});
  CHECK(k.press(0x1C) == Bytes{0x1C, 0xF0, 0x1C});
  CHECK(k.press(0x05) == Bytes{0x07, 0xF0, 0x07});                    // F1
  CHECK(k.press(0xE014) == Bytes{0x58, 0xF0, 0x58});                  // right Ctrl
  CHECK(k.press(0xE075) == Bytes{0x63, 0xF0, 0x63});                  // Up
  CHECK(k.send({0xF0, 0x04}) == Bytes{0xFA, 0xFE});                   // no set 4
  CHECK(k.send({0xFF}) == Bytes{0xFA, 0xAA});
  CHECK(k.kbc.keyboard().scan_code_set() == 2);
}

TEST_CASE("i8042 translation turns set 2 into set 1") {
  Ps2Rig r;
  r.set_command_byte(0x43);  // XLAT, both interrupts
  r.kbc.key(0x1C, true);
  r.kbc.key(0x1C, false);
  CHECK(r.drain() == Bytes{0x1E, 0x9E});
  r.kbc.key(0xE075, true);
  r.kbc.key(0xE075, false);
  CHECK(r.drain() == Bytes{0xE0, 0x48, 0xE0, 0xC8});
  r.kbc.key(Ps2Keyboard::kPrintScreen, true);
  CHECK(r.drain() == Bytes{0xE0, 0x2A, 0xE0, 0x37});
  r.kbc.key(Ps2Keyboard::kPause, true);
  CHECK(r.drain() == Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5});
  // Replies translate too: the well-known translated ID AB 41.
  r.data(0xF2);
  CHECK(r.drain() == Bytes{0xFA, 0xAB, 0x41});
  // Every key of the main block maps to its set-1 code.
  const std::pair<uint16_t, uint8_t> keys[] = {{0x76, 0x01}, {0x16, 0x02}, {0x45, 0x0B}, {0x66, 0x0E},
                                               {0x0D, 0x0F}, {0x15, 0x10}, {0x5A, 0x1C}, {0x14, 0x1D},
                                               {0x12, 0x2A}, {0x59, 0x36}, {0x11, 0x38}, {0x29, 0x39},
                                               {0x58, 0x3A}, {0x05, 0x3B}, {0x09, 0x44}, {0x77, 0x45},
                                               {0x7E, 0x46}, {0x70, 0x52}, {0x78, 0x57}, {0x07, 0x58}};
  for (auto [set2, set1] : keys) {
    CAPTURE(set2);
    r.kbc.key(set2, true);
    r.kbc.key(set2, false);
    CHECK(r.drain() == Bytes{set1, static_cast<uint8_t>(set1 | 0x80)});
  }
}

TEST_CASE("PS/2 keyboard: a full buffer reports one overrun and drops keys") {
  RawKbd k;
  for (int i = 0; i < 100; ++i) k.kbc.key(0x1C, true);
  // One byte in the controller's output buffer, 64 queued, one overrun code.
  Bytes got = k.drain();
  CHECK(got.size() == 1 + 64 + 1);
  CHECK(got.back() == 0x00);
}

TEST_CASE("PS/2 keyboard typematic: the held key repeats after the delay at the guest's rate") {
  VirtualClock clock;
  RawKbd r;
  r.kbc.attach_clock(clock);
  CHECK(Ps2Keyboard::typematic_delay_ns(Ps2Keyboard::kDefaultTypematic) == 500'000'000ULL);
  CHECK(Ps2Keyboard::typematic_period_ns(0x00) == 8 * 4'170'000ULL);       // 30 characters/s
  CHECK(Ps2Keyboard::typematic_period_ns(0x1F) == 15 * 8 * 4'170'000ULL);  // 2 characters/s
  const uint64_t period = Ps2Keyboard::typematic_period_ns(Ps2Keyboard::kDefaultTypematic);  // 10.9/s

  r.kbc.key(0x1C, true);  // A down
  CHECK(r.drain() == Bytes{0x1C});
  clock.advance_to(500'000'000ULL - 1);
  CHECK(r.drain().empty());
  clock.advance_to(500'000'000ULL);
  CHECK(r.drain() == Bytes{0x1C});
  r.kbc.key(0x1C, true);  // the host's own auto-repeat is ignored
  CHECK(r.drain().empty());
  clock.advance_to(500'000'000ULL + 3 * period);
  CHECK(r.drain() == (Bytes{0x1C, 0x1C, 0x1C}));
  // A second key takes over the repeat; an extended key repeats with its prefix.
  r.kbc.key(0xE075, true);  // Up
  CHECK(r.drain() == (Bytes{0xE0, 0x75}));
  clock.advance_to(clock.now() + 500'000'000ULL);
  CHECK(r.drain() == (Bytes{0xE0, 0x75}));
  r.kbc.key(0xE075, false);
  CHECK(r.drain() == (Bytes{0xE0, 0xF0, 0x75}));
  clock.advance_to(clock.now() + 2'000'000'000ULL);
  CHECK(r.drain().empty());  // nothing repeats once the repeating key is up (A is still down)
  r.kbc.key(0x1C, false);
  CHECK(r.drain() == (Bytes{0xF0, 0x1C}));

  // F3 00h: 250 ms delay, 30/s.
  CHECK(r.send({0xF3, 0x00}) == (Bytes{0xFA, 0xFA}));
  r.kbc.key(0x29, true);
  r.drain();
  clock.advance_to(clock.now() + 250'000'000ULL + 8 * 4'170'000ULL);
  CHECK(r.drain() == (Bytes{0x29, 0x29}));
  // Reset (FF) stops the repeat.
  r.send({0xFF});
  clock.advance_to(clock.now() + 1'000'000'000ULL);
  CHECK(r.drain().empty());
  CHECK(r.kbc.keyboard().repeating_key() == 0);
}

TEST_CASE("PS/2 keyboard typematic: detached from the clock, only host key-downs repeat") {
  VirtualClock clock;
  RawKbd r;
  r.kbc.attach_clock(clock);
  r.kbc.key(0x1C, true);
  r.kbc.keyboard().detach_clock();  // a pending repeat is dropped
  r.drain();
  clock.advance_to(2'000'000'000ULL);
  CHECK(r.drain().empty());
  r.kbc.key(0x1C, true);  // the host's auto-repeat is forwarded again
  CHECK(r.drain() == Bytes{0x1C});
}
