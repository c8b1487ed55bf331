// Host keys to PS/2 scan code set 2, the set a keyboard sends on the wire
// (the i8042 translates to set 1 for the guest when asked). Host keys are
// named by their USB HID usage ID (keyboard page 0x07), which is also what
// SDL_Scancode values are, so this file needs no SDL.
// Codes: 0x00xx = one-byte code, 0xE0xx = extended (E0 prefix); two keys
// have sequences of their own (IBM PS/2 Keyboard Technical Reference):
//   Print Screen  make E0 12 E0 7C, break E0 F0 7C E0 F0 12
//   Pause/Break   make E1 14 77 E1 F0 14 F0 77, no break code
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace pc64 {

constexpr uint16_t kSet2PrintScreen = 0xE07C;
constexpr uint16_t kSet2Pause = 0xE114;

// Set-2 code of HID usage `usage`, or 0 for keys a PC keyboard does not have.
uint16_t hid_usage_to_set2(unsigned usage);

// The bytes a keyboard sends for `code` going down or up.
std::vector<uint8_t> set2_bytes(uint16_t code, bool down);

// Set-2 code of a key name as used by --keys scripts: "a", "1", "enter",
// "esc", "f1", "up", "ctrl", "alt", "shift", "space", "tab", ... (lower case),
// or 0 if unknown. Printable characters that need Shift are not keys: the
// caller presses "shift" itself.
uint16_t key_name_to_set2(std::string_view name);

}  // namespace pc64
