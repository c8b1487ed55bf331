#include "frontend/key_script.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "frontend/ps2_keymap.h"

namespace pc64 {

namespace {

constexpr uint16_t kShift = 0x12;  // left Shift, set 2

// US layout: the unshifted key that gives `c` with Shift, or 0.
char unshifted(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  constexpr std::string_view shifted = "!@#$%^&*()_+{}|:\"<>?~";
  constexpr std::string_view plain = "1234567890-=[]\\;',./`";
  size_t i = shifted.find(c);
  return i == std::string_view::npos ? 0 : plain[i];
}

}  // namespace

std::vector<KeyEvent> parse_key_script(const std::string& script) {
  size_t colon = script.find(':');
  if (colon == std::string::npos || colon == 0)
    throw std::invalid_argument("'" + script + "' is not SECONDS:TEXT");
  std::string secs = script.substr(0, colon);
  char* end = nullptr;
  errno = 0;
  double t = std::strtod(secs.c_str(), &end);
  if (*end || errno == ERANGE || !(t >= 0) || t > 1e6)
    throw std::invalid_argument("'" + secs + "' is not a time in seconds");
  uint64_t at = static_cast<uint64_t>(t * 1e9);
  std::vector<KeyEvent> out;
  auto tap = [&](uint16_t code, bool shift) {
    if (shift) out.push_back({at, kShift, true}), at += kKeyEventSpacingNs;
    out.push_back({at, code, true});
    at += kKeyEventSpacingNs;
    out.push_back({at, code, false});
    at += kKeyEventSpacingNs;
    if (shift) out.push_back({at, kShift, false}), at += kKeyEventSpacingNs;
  };
  const std::string text = script.substr(colon + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (++i == text.size()) throw std::invalid_argument("a lone '\\' at the end of '" + text + "'");
      switch (text[i]) {
        case 'n': tap(key_name_to_set2("enter"), false); break;
        case 't': tap(key_name_to_set2("tab"), false); break;
        case 'e': tap(key_name_to_set2("esc"), false); break;
        case 'b': tap(key_name_to_set2("backspace"), false); break;
        case '\\': tap(key_name_to_set2("\\"), false); break;
        case '<': tap(key_name_to_set2(","), true); break;
        default: throw std::invalid_argument(std::string("unknown escape '\\") + text[i] + "'");
      }
    } else if (c == '<') {
      size_t close = text.find('>', i);
      if (close == std::string::npos) throw std::invalid_argument("'<' without '>' (type \\< for the character)");
      std::string name = text.substr(i + 1, close - i - 1);
      uint16_t code = key_name_to_set2(name);
      if (!code) throw std::invalid_argument("unknown key <" + name + ">");
      tap(code, false);
      i = close;
    } else if (c == ' ') {
      tap(key_name_to_set2("space"), false);
    } else if (uint16_t code = key_name_to_set2(std::string_view(&c, 1))) {
      tap(code, false);
    } else if (char base = unshifted(c)) {
      tap(key_name_to_set2(std::string_view(&base, 1)), true);
    } else {
      throw std::invalid_argument(std::string("no US key types '") + c + "'");
    }
  }
  return out;
}

KeyPlayer::KeyPlayer(VirtualClock& clock, std::vector<KeyEvent> events, std::function<void(uint16_t, bool)> sink)
    : clock_(clock), events_(std::move(events)), sink_(std::move(sink)), timer_(&KeyPlayer::fire, this, "keys") {
  // Several scripts may overlap; stable order keeps each one's own sequence.
  std::stable_sort(events_.begin(), events_.end(),
                   [](const KeyEvent& a, const KeyEvent& b) { return a.at_ns < b.at_ns; });
  arm();
}

void KeyPlayer::push(uint16_t set2, bool down, uint64_t gap_ns) {
  uint64_t at = clock_.now();
  if (!events_.empty()) at = std::max(at, events_.back().at_ns + gap_ns);
  if (next_ == events_.size()) {  // all played: drop them (the gap is already in `at`)
    events_.clear();
    next_ = 0;
  }
  events_.push_back({at, set2, down});
  if (!timer_.pending()) arm();
}

void KeyPlayer::arm() {
  if (next_ < events_.size()) clock_.schedule(timer_, events_[next_].at_ns);
}

void KeyPlayer::fire(void* self) {
  auto* p = static_cast<KeyPlayer*>(self);
  uint64_t now = p->clock_.now();
  while (p->next_ < p->events_.size() && p->events_[p->next_].at_ns <= now) {
    const KeyEvent& e = p->events_[p->next_++];
    p->sink_(e.set2, e.down);
  }
  p->arm();
}

}  // namespace pc64
