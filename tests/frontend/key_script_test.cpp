#include <doctest/doctest.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "frontend/key_script.h"
#include "frontend/ps2_keymap.h"

using namespace pc64;

TEST_CASE("--keys: text becomes press/release pairs from the given time, Shift for capitals and symbols") {
  std::vector<KeyEvent> ev = parse_key_script("1.5:aB$\\n");
  // a: down, up; B: shift down, b down, b up, shift up; $: shift, 4; Enter.
  const uint16_t a = key_name_to_set2("a"), b = key_name_to_set2("b"), four = key_name_to_set2("4");
  const uint16_t shift = key_name_to_set2("shift"), enter = key_name_to_set2("enter");
  std::vector<std::pair<uint16_t, bool>> want = {{a, true},      {a, false},     {shift, true},  {b, true},
                                                 {b, false},     {shift, false}, {shift, true},  {four, true},
                                                 {four, false},  {shift, false}, {enter, true},  {enter, false}};
  REQUIRE(ev.size() == want.size());
  for (size_t i = 0; i < ev.size(); ++i) {
    CHECK(ev[i].set2 == want[i].first);
    CHECK(ev[i].down == want[i].second);
    CHECK(ev[i].at_ns == 1'500'000'000ULL + i * kKeyEventSpacingNs);
  }
}

TEST_CASE("--keys: named keys, escapes and errors") {
  std::vector<KeyEvent> ev = parse_key_script("0:<f12>\\<");
  REQUIRE(ev.size() == 6);
  CHECK(ev[0].set2 == 0x07);  // F12
  CHECK(ev[2].set2 == key_name_to_set2("shift"));
  CHECK(ev[3].set2 == key_name_to_set2(","));  // '<' is Shift+comma
  CHECK_THROWS_AS(parse_key_script("no colon"), std::invalid_argument);
  CHECK_THROWS_AS(parse_key_script("x:abc"), std::invalid_argument);
  CHECK_THROWS_AS(parse_key_script("1:<nosuchkey>"), std::invalid_argument);
  CHECK_THROWS_AS(parse_key_script("1:<f1"), std::invalid_argument);
  CHECK_THROWS_AS(parse_key_script("1:\\q"), std::invalid_argument);
  CHECK_THROWS_AS(parse_key_script("1:\xc3\xa9"), std::invalid_argument);  // no US key for é
}

TEST_CASE("--keys: the player delivers each event at its virtual time") {
  VirtualClock clock;
  std::vector<std::pair<uint64_t, uint16_t>> seen;
  KeyPlayer p(clock, parse_key_script("0.001:ab"), [&](uint16_t code, bool down) {
    if (down) seen.push_back({clock.now(), code});
  });
  CHECK(p.remaining() == 4);
  clock.advance_to(999'999);
  CHECK(seen.empty());
  clock.advance_to(1'000'000);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].second == key_name_to_set2("a"));
  clock.advance_to(1'000'000'000);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].first == 1'000'000 + 2 * kKeyEventSpacingNs);
  CHECK(p.remaining() == 0);
}
