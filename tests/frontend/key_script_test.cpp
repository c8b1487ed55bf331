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

TEST_CASE("live keys: a burst from the window is spread out on the virtual clock, in order") {
  VirtualClock clock;
  std::vector<std::pair<uint64_t, uint16_t>> seen;
  KeyPlayer p(clock, {}, [&](uint16_t code, bool) { seen.push_back({clock.now(), code}); });
  clock.advance_to(1000);
  for (uint16_t c = 1; c <= 20; ++c) p.push(c, true, kLiveKeySpacingNs);  // 20 events at once
  clock.advance_to(1000 + 5 * kLiveKeySpacingNs);
  REQUIRE(seen.size() == 6);
  for (size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].second == i + 1);
    CHECK(seen[i].first == 1000 + i * kLiveKeySpacingNs);
  }
  clock.advance_to(1'000'000'000);
  CHECK(seen.size() == 20);
  // Later input: at once if the last event is long past, else after the gap.
  p.push(99, true, kLiveKeySpacingNs);
  clock.advance_to(clock.now());
  CHECK(seen.back() == std::make_pair(uint64_t(1'000'000'000), uint16_t(99)));
  p.push(100, true, kLiveKeySpacingNs);
  clock.advance_to(1'000'000'000 + kLiveKeySpacingNs - 1);
  CHECK(seen.back().second == 99);
  clock.advance_to(1'000'000'000 + kLiveKeySpacingNs);
  CHECK(seen.back().second == 100);
}
