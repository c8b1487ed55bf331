#include <doctest/doctest.h>

#include <vector>

#include "frontend/ps2_keymap.h"

using namespace pc64;
using Bytes = std::vector<uint8_t>;

TEST_CASE("HID usages map to PS/2 set 2 codes") {
  CHECK(hid_usage_to_set2(0x04) == 0x1C);    // A
  CHECK(hid_usage_to_set2(0x1D) == 0x1A);    // Z
  CHECK(hid_usage_to_set2(0x27) == 0x45);    // 0
  CHECK(hid_usage_to_set2(0x28) == 0x5A);    // Enter
  CHECK(hid_usage_to_set2(0x40) == 0x83);    // F7, the one code above 0x7F
  CHECK(hid_usage_to_set2(0x45) == 0x07);    // F12
  CHECK(hid_usage_to_set2(0x52) == 0xE075);  // Up
  CHECK(hid_usage_to_set2(0x58) == 0xE05A);  // keypad Enter
  CHECK(hid_usage_to_set2(0x62) == 0x70);    // keypad 0
  CHECK(hid_usage_to_set2(0x64) == 0x61);    // the ISO key left of Z
  CHECK(hid_usage_to_set2(0xE4) == 0xE014);  // right Ctrl
  CHECK(hid_usage_to_set2(0xE6) == 0xE011);  // AltGr
  CHECK(hid_usage_to_set2(0x46) == kSet2PrintScreen);
  CHECK(hid_usage_to_set2(0x48) == kSet2Pause);
  CHECK(hid_usage_to_set2(0x00) == 0);
  CHECK(hid_usage_to_set2(0x1000) == 0);
  // No two keys share a code (except non-US # and backslash, one physical key).
  std::vector<int> seen(0x10000, 0);
  for (unsigned u = 0; u < 0x100; ++u)
    if (uint16_t c = hid_usage_to_set2(u); c && u != 0x32) CHECK(seen[c]++ == 0);
}

TEST_CASE("set 2 byte sequences: make, break, extended, Print Screen, Pause") {
  CHECK(set2_bytes(0x1C, true) == Bytes{0x1C});
  CHECK(set2_bytes(0x1C, false) == Bytes{0xF0, 0x1C});
  CHECK(set2_bytes(0xE075, true) == Bytes{0xE0, 0x75});
  CHECK(set2_bytes(0xE075, false) == Bytes{0xE0, 0xF0, 0x75});
  CHECK(set2_bytes(kSet2PrintScreen, true) == Bytes{0xE0, 0x12, 0xE0, 0x7C});
  CHECK(set2_bytes(kSet2PrintScreen, false) == Bytes{0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12});
  CHECK(set2_bytes(kSet2Pause, true) == Bytes{0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77});
  CHECK(set2_bytes(kSet2Pause, false).empty());
  CHECK(set2_bytes(0, true).empty());
}

TEST_CASE("key names for --keys scripts") {
  CHECK(key_name_to_set2("a") == 0x1C);
  CHECK(key_name_to_set2("9") == 0x46);
  CHECK(key_name_to_set2("enter") == 0x5A);
  CHECK(key_name_to_set2("down") == 0xE072);
  CHECK(key_name_to_set2("f10") == 0x09);
  CHECK(key_name_to_set2("nonsense") == 0);
  CHECK(key_name_to_set2("") == 0);
}
