#include "frontend/ps2_keymap.h"

#include <array>

namespace pc64 {

namespace {
// USB HID keyboard page usages 0x00-0x8B -> set 2 (IBM PS/2 set 2 table,
// cross-checked with Microsoft's "Keyboard Scan Code Specification" annex).
constexpr std::array<uint16_t, 0x8C> make_table() {
  std::array<uint16_t, 0x8C> t{};
  const uint16_t letters[26] = {0x1C, 0x32, 0x21, 0x23, 0x24, 0x2B, 0x34, 0x33, 0x43, 0x3B, 0x42, 0x4B, 0x3A,
                                0x31, 0x44, 0x4D, 0x15, 0x2D, 0x1B, 0x2C, 0x3C, 0x2A, 0x1D, 0x22, 0x35, 0x1A};
  for (int i = 0; i < 26; ++i) t[0x04 + i] = letters[i];
  const uint16_t digits[10] = {0x16, 0x1E, 0x26, 0x25, 0x2E, 0x36, 0x3D, 0x3E, 0x46, 0x45};  // 1..9, 0
  for (int i = 0; i < 10; ++i) t[0x1E + i] = digits[i];
  const uint16_t row[] = {
      0x5A, 0x76, 0x66, 0x0D, 0x29, 0x4E, 0x55, 0x54, 0x5B, 0x5D,  // 0x28 Enter .. 0x31 backslash
      0x5D, 0x4C, 0x52, 0x0E, 0x41, 0x49, 0x4A, 0x58,              // 0x32 non-US # .. 0x39 Caps Lock
      0x05, 0x06, 0x04, 0x0C, 0x03, 0x0B, 0x83, 0x0A, 0x01, 0x09, 0x78, 0x07,  // 0x3A F1 .. 0x45 F12
      kSet2PrintScreen, 0x7E, kSet2Pause,                          // 0x46 PrtSc, Scroll Lock, Pause
      0xE070, 0xE06C, 0xE07D, 0xE071, 0xE069, 0xE07A,              // 0x49 Insert Home PgUp Delete End PgDn
      0xE074, 0xE06B, 0xE072, 0xE075,                              // 0x4F Right Left Down Up
      0x77, 0xE04A, 0x7C, 0x7B, 0x79, 0xE05A,                      // 0x53 Num Lock, KP / * - + Enter
      0x69, 0x72, 0x7A, 0x6B, 0x73, 0x74, 0x6C, 0x75, 0x7D, 0x70, 0x71,  // 0x59 KP1..KP9, KP0, KP.
      0x61, 0xE02F, 0xE037, 0x0F,                                  // 0x64 non-US \, Application, Power, KP =
  };
  for (unsigned i = 0; i < sizeof row / sizeof row[0]; ++i) t[0x28 + i] = row[i];
  t[0x87] = 0x51;  // International1 (Ro)
  t[0x88] = 0x13;  // International2 (Katakana/Hiragana)
  t[0x89] = 0x6A;  // International3 (Yen)
  t[0x8A] = 0x64;  // International4 (Henkan)
  t[0x8B] = 0x67;  // International5 (Muhenkan)
  return t;
}
constexpr auto kHidToSet2 = make_table();

struct Named {
  std::string_view name;
  uint16_t code;
};
constexpr Named kNames[] = {
    {"enter", 0x5A}, {"esc", 0x76}, {"escape", 0x76}, {"backspace", 0x66}, {"tab", 0x0D}, {"space", 0x29},
    {"-", 0x4E}, {"=", 0x55}, {"[", 0x54}, {"]", 0x5B}, {"\\", 0x5D}, {";", 0x4C}, {"'", 0x52}, {"`", 0x0E},
    {",", 0x41}, {".", 0x49}, {"/", 0x4A}, {"capslock", 0x58}, {"f1", 0x05}, {"f2", 0x06}, {"f3", 0x04},
    {"f4", 0x0C}, {"f5", 0x03}, {"f6", 0x0B}, {"f7", 0x83}, {"f8", 0x0A}, {"f9", 0x01}, {"f10", 0x09},
    {"f11", 0x78}, {"f12", 0x07}, {"printscreen", kSet2PrintScreen}, {"scrolllock", 0x7E}, {"pause", kSet2Pause},
    {"insert", 0xE070}, {"home", 0xE06C}, {"pageup", 0xE07D}, {"delete", 0xE071}, {"end", 0xE069},
    {"pagedown", 0xE07A}, {"right", 0xE074}, {"left", 0xE06B}, {"down", 0xE072}, {"up", 0xE075},
    {"numlock", 0x77}, {"ctrl", 0x14}, {"shift", 0x12}, {"alt", 0x11}, {"rctrl", 0xE014}, {"rshift", 0x59},
    {"ralt", 0xE011}, {"meta", 0xE01F}, {"menu", 0xE02F},
};
}  // namespace

uint16_t hid_usage_to_set2(unsigned usage) {
  if (usage < kHidToSet2.size()) return kHidToSet2[usage];
  switch (usage) {
    case 0xE0: return 0x14;    // Left Ctrl
    case 0xE1: return 0x12;    // Left Shift
    case 0xE2: return 0x11;    // Left Alt
    case 0xE3: return 0xE01F;  // Left GUI
    case 0xE4: return 0xE014;  // Right Ctrl
    case 0xE5: return 0x59;    // Right Shift
    case 0xE6: return 0xE011;  // Right Alt (AltGr)
    case 0xE7: return 0xE027;  // Right GUI
    default: return 0;
  }
}

std::vector<uint8_t> set2_bytes(uint16_t code, bool down) {
  if (code == kSet2Pause) {
    if (!down) return {};
    return {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
  }
  if (code == kSet2PrintScreen)
    return down ? std::vector<uint8_t>{0xE0, 0x12, 0xE0, 0x7C} : std::vector<uint8_t>{0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
  std::vector<uint8_t> out;
  if (code == 0) return out;
  if ((code >> 8) == 0xE0) out.push_back(0xE0);
  if (!down) out.push_back(0xF0);
  out.push_back(static_cast<uint8_t>(code));
  return out;
}

uint16_t key_name_to_set2(std::string_view name) {
  if (name.size() == 1) {
    const char c = name[0];
    if (c >= 'a' && c <= 'z') return kHidToSet2[0x04 + (c - 'a')];
    if (c >= '1' && c <= '9') return kHidToSet2[0x1E + (c - '1')];
    if (c == '0') return kHidToSet2[0x27];
  }
  for (const Named& n : kNames)
    if (n.name == name) return n.code;
  return 0;
}

}  // namespace pc64
