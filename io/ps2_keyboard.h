// An IBM MF2 keyboard on the i8042's first PS/2 port: the command set of the
// IBM PS/2 Technical Reference (reset/BAT, echo, identify AB 83, LEDs,
// typematic rate/delay, scan code sets 1/2/3, enable/disable, defaults,
// resend) and make/break codes in the selected set. Keys come from the
// frontend as set-2 make codes, 0xE0xx for extended keys.
//
// Typematic repeat: with a clock attached (attach_clock; the PC board does),
// the keyboard itself repeats the make code of the last key pressed while it
// is held, after the delay and at the rate the guest set with F3 (IBM PS/2
// Technical Reference). Key-downs of the held key from the host (its own
// auto-repeat) are then ignored, so guest-set rates rule. Without a clock
// (detach_clock: the SDL window), nothing repeats except what the host sends.
#pragma once
#include <cstdint>

#include "io/clock.h"
#include "io/ps2_device.h"

namespace pc64 {

class Ps2Keyboard final : public Ps2Device {
 public:
  // Keys whose codes are not a plain make code.
  static constexpr uint16_t kPrintScreen = 0xE07C;  // E0 12 E0 7C in set 2
  static constexpr uint16_t kPause = 0xE114;        // E1 14 77 E1 F0 14 F0 77, make only
  static constexpr uint8_t kDefaultTypematic = 0x2B;  // 10.9 characters/s after 500 ms

  Ps2Keyboard() { reset(); }

  // Enables typematic repeat on `clock` (the machine's virtual clock).
  void attach_clock(VirtualClock& clock) { clock_ = &clock; }
  // Back to host-driven repeat only (an interactive window: while the guest
  // idles, HLT skips make virtual time race ahead of the host's, so a short
  // host key press would look long and repeat; the host's auto-repeat is
  // forwarded instead).
  void detach_clock() {
    stop_repeat();
    clock_ = nullptr;
  }
  // F3 parameter -> delay before the first repeat: 250 ms * (1 + bits 6-5).
  static uint64_t typematic_delay_ns(uint8_t t) { return (((t >> 5) & 3) + 1) * 250'000'000ULL; }
  // F3 parameter -> repeat period: (8 + A) * 2^B * 4.17 ms, A = bits 2-0,
  // B = bits 4-3 (30 characters/s for 00h down to 2/s for 1Fh).
  static uint64_t typematic_period_ns(uint8_t t) { return (8 + (t & 7)) * (1ULL << ((t >> 3) & 3)) * 4'170'000ULL; }
  uint16_t repeating_key() const { return repeat_code_; }  // 0: none

  void write(uint8_t v) override;
  void reset() override;
  void serialize(StateSerializer& s) override;

  // A key went down (or up). `code` is its set-2 make code, 0xE0xx for the
  // E0-prefixed keys, or kPrintScreen / kPause.
  void key(uint16_t code, bool down);

  unsigned scan_code_set() const { return scan_set_; }
  bool scanning() const { return scanning_; }
  uint8_t leds() const { return leds_; }  // bit 0 Scroll, 1 Num, 2 Caps Lock
  uint8_t typematic() const { return typematic_; }

  // The i8042's translation of one set-2 byte to set 1 (break prefix F0 is
  // handled by the caller: the next byte gets bit 7). Bytes 0x80 and above
  // pass through, except the two codes above 0x7F that are keys.
  static uint8_t set2_to_set1(uint8_t v);

 private:
  void set_defaults();
  void send_set2_sequence(const uint8_t* seq, size_t n);
  void emit(uint16_t code, bool down);  // the key's make or break bytes in the current set
  void stop_repeat();
  static void on_repeat(void* self);

  uint8_t scan_set_ = 2;
  bool scanning_ = true;
  uint8_t leds_ = 0;
  uint8_t typematic_ = kDefaultTypematic;
  uint8_t pending_cmd_ = 0;  // a command waiting for its parameter byte
  uint16_t repeat_code_ = 0;  // the held key that repeats, 0 = none
  VirtualClock* clock_ = nullptr;
  Timer repeat_timer_{&Ps2Keyboard::on_repeat, this, "ps2-typematic"};
};

}  // namespace pc64
