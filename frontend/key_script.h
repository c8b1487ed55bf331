// --keys: keystrokes typed into the guest's PS/2 keyboard at given virtual
// times, so headless tests can drive boot menus and shells deterministically.
//
// A script is "SECONDS:TEXT": at SECONDS of virtual time (decimal, e.g. 7.5)
// TEXT is typed one key at a time, US layout, Shift pressed for capitals and
// shifted symbols. In TEXT, \n is Enter, \t Tab, \e Esc, \b Backspace, \\ a
// backslash, \< a '<', and <name> presses and releases a named key
// (<f12>, <esc>, <up>, ... as key_name_to_set2 knows them).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/clock.h"

namespace pc64 {

struct KeyEvent {
  uint64_t at_ns;     // virtual time
  uint16_t set2;      // PS/2 set-2 code (frontend/ps2_keymap.h)
  bool down;
};

// Virtual time between two key events of one script: slower than any
// typist, and well above what Linux's atkbd and the i8042 need.
constexpr uint64_t kKeyEventSpacingNs = 5'000'000;
// The same for live keys from the window: 1 ms of guest time.
constexpr uint64_t kLiveKeySpacingNs = 1'000'000;

// Parses one script into events (press/release pairs, spaced
// kKeyEventSpacingNs apart from SECONDS on). Throws std::invalid_argument
// with a message naming the problem (unknown key name, unmappable char, ...).
std::vector<KeyEvent> parse_key_script(const std::string& script);

// Plays events on the machine's clock: one Timer, armed for the next event.
class KeyPlayer {
 public:
  KeyPlayer(VirtualClock& clock, std::vector<KeyEvent> events, std::function<void(uint16_t, bool)> sink);
  KeyPlayer(const KeyPlayer&) = delete;
  KeyPlayer& operator=(const KeyPlayer&) = delete;
  size_t remaining() const { return events_.size() - next_; }
  // Live input (the window): queues a key event at least `gap_ns` after the
  // previous one, so a burst of host events between two slices of guest time
  // reaches the PS/2 keyboard at a pace the guest drains, instead of all at
  // once into the keyboard's 16-byte buffer (which would drop keys).
  void push(uint16_t set2, bool down, uint64_t gap_ns);

 private:
  static void fire(void* self);
  void arm();

  VirtualClock& clock_;
  std::vector<KeyEvent> events_;  // sorted by time
  std::function<void(uint16_t, bool)> sink_;
  size_t next_ = 0;
  Timer timer_;
};

}  // namespace pc64
