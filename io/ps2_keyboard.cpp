#include "io/ps2_keyboard.h"

namespace pc64 {

namespace {
constexpr size_t kScanCodeLimit = 64;  // key data queued beyond this is an overrun

// The i8042 translation table for set-2 bytes 0x00-0x7F (IBM PS/2 Technical
// Reference, "Keyboard Controller"; the same table every AT-compatible uses).
constexpr uint8_t kSet2ToSet1[128] = {
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,
};

// Set 3 codes of the keys whose set-3 code differs from their set-2 code
// (the main block's letters, digits and punctuation are the same).
struct Set3Map {
  uint16_t set2;
  uint8_t set3;
};
constexpr Set3Map kSet3[] = {
    {0x76, 0x08}, {0x05, 0x07}, {0x06, 0x0F}, {0x04, 0x17}, {0x0C, 0x1F}, {0x03, 0x27}, {0x0B, 0x2F},
    {0x83, 0x37}, {0x0A, 0x3F}, {0x01, 0x47}, {0x09, 0x4F}, {0x78, 0x56}, {0x07, 0x5E}, {0x7E, 0x5F},
    {0x14, 0x11}, {0x11, 0x19}, {0x58, 0x14}, {0x5D, 0x5C}, {0x77, 0x76}, {0x7C, 0x7E}, {0x7B, 0x84},
    {0x79, 0x7C},
    // E0-prefixed keys in set 2.
    {0xE014, 0x58}, {0xE011, 0x39}, {0xE04A, 0x77}, {0xE05A, 0x79}, {0xE070, 0x67}, {0xE071, 0x64},
    {0xE06C, 0x6E}, {0xE069, 0x65}, {0xE07D, 0x6F}, {0xE07A, 0x6D}, {0xE075, 0x63}, {0xE072, 0x60},
    {0xE06B, 0x61}, {0xE074, 0x6A}, {0xE01F, 0x8B}, {0xE027, 0x8C}, {0xE02F, 0x8D},
    {Ps2Keyboard::kPrintScreen, 0x57}, {Ps2Keyboard::kPause, 0x62},
};

uint8_t set3_code(uint16_t code) {
  for (const auto& m : kSet3)
    if (m.set2 == code) return m.set3;
  return code < 0x100 ? static_cast<uint8_t>(code) : 0;  // other E0 keys have no set-3 code
}
}  // namespace

uint8_t Ps2Keyboard::set2_to_set1(uint8_t v) {
  if (v < 0x80) return kSet2ToSet1[v];
  if (v == 0x83) return 0x41;  // F7
  if (v == 0x84) return 0x54;  // Alt+SysRq
  return v;
}

void Ps2Keyboard::set_defaults() {
  stop_repeat();  // reset, F5, F6
  typematic_ = kDefaultTypematic;
  scan_set_ = 2;
}

void Ps2Keyboard::reset() {
  clear_queue();
  set_defaults();
  scanning_ = true;
  leds_ = 0;
  pending_cmd_ = 0;
}

void Ps2Keyboard::send_set2_sequence(const uint8_t* seq, size_t n) {
  uint8_t out[8];
  size_t m = 0;
  if (scan_set_ == 1) {
    // Set 1 is what the i8042 translation of set 2 produces.
    bool brk = false;
    for (size_t i = 0; i < n; ++i) {
      if (seq[i] == 0xF0) {
        brk = true;
        continue;
      }
      bool prefix = seq[i] == 0xE0 || seq[i] == 0xE1;
      out[m++] = prefix ? seq[i] : static_cast<uint8_t>(set2_to_set1(seq[i]) | (brk ? 0x80 : 0));
      brk = false;
    }
  } else {
    for (size_t i = 0; i < n; ++i) out[m++] = seq[i];
  }
  if (room(kScanCodeLimit) < m) {
    // Buffer overrun: one overrun code (set 1: FF, sets 2/3: 00), key lost.
    if (room(kScanCodeLimit + 1)) push(scan_set_ == 1 ? 0xFF : 0x00);
    return;
  }
  for (size_t i = 0; i < m; ++i) push(out[i]);
}

void Ps2Keyboard::key(uint16_t code, bool down) {
  if (!scanning_) return;
  if (clock_ && code != kPause) {
    if (down) {
      if (code == repeat_code_) return;  // the host's own auto-repeat: we repeat ourselves
      repeat_code_ = code;               // the last key pressed is the one that repeats
      clock_->schedule_in(repeat_timer_, typematic_delay_ns(typematic_));
    } else if (code == repeat_code_) {
      stop_repeat();
    }
  }
  emit(code, down);
}

void Ps2Keyboard::stop_repeat() {
  repeat_code_ = 0;
  if (clock_) clock_->cancel(repeat_timer_);
}

void Ps2Keyboard::on_repeat(void* self) {
  auto* k = static_cast<Ps2Keyboard*>(self);
  if (!k->repeat_code_ || !k->scanning_) return;
  k->emit(k->repeat_code_, true);
  k->clock_->schedule_in(k->repeat_timer_, typematic_period_ns(k->typematic_));
}

void Ps2Keyboard::emit(uint16_t code, bool down) {
  if (scan_set_ == 3) {
    uint8_t c = set3_code(code);
    if (!c || (code == kPause && !down)) return;
    uint8_t seq[2] = {0xF0, c};
    send_set2_sequence(down ? seq + 1 : seq, down ? 1 : 2);
    return;
  }
  uint8_t seq[8];
  size_t n = 0;
  if (code == kPause) {
    if (!down) return;  // Pause has no break code
    static constexpr uint8_t kSeq[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
    for (uint8_t b : kSeq) seq[n++] = b;
  } else if (code == kPrintScreen) {
    static constexpr uint8_t kMake[] = {0xE0, 0x12, 0xE0, 0x7C};
    static constexpr uint8_t kBreak[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
    if (down)
      for (uint8_t b : kMake) seq[n++] = b;
    else
      for (uint8_t b : kBreak) seq[n++] = b;
  } else if ((code >> 8) == 0xE0) {
    seq[n++] = 0xE0;
    if (!down) seq[n++] = 0xF0;
    seq[n++] = static_cast<uint8_t>(code);
  } else if (code < 0x100 && code != 0) {
    if (!down) seq[n++] = 0xF0;
    seq[n++] = static_cast<uint8_t>(code);
  } else {
    return;  // not a key
  }
  send_set2_sequence(seq, n);
}

void Ps2Keyboard::write(uint8_t v) {
  if (pending_cmd_) {
    uint8_t cmd = pending_cmd_;
    pending_cmd_ = 0;
    switch (cmd) {
      case 0xED:  // set LEDs
        leds_ = v & 7;
        push(kAck);
        return;
      case 0xF0:  // get (0) or select (1-3) the scan code set
        if (v == 0) {
          push(kAck);
          push(scan_set_);
        } else if (v <= 3) {
          scan_set_ = v;
          push(kAck);
        } else {
          push(kResend);
        }
        return;
      case 0xF3:  // typematic rate (bits 4-0) and delay (bits 6-5)
        typematic_ = v & 0x7F;
        push(kAck);
        return;
      default:  // FB/FC/FD: the set-3 key the type applies to
        push(kAck);
        return;
    }
  }
  switch (v) {
    case 0xED:
    case 0xF0:
    case 0xF3:
    case 0xFB:
    case 0xFC:
    case 0xFD:
      push(kAck);
      pending_cmd_ = v;
      break;
    case 0xEE:  // echo
      push(0xEE);
      break;
    case 0xF2:  // identify: MF2 keyboard
      push(kAck);
      push(0xAB);
      push(0x83);
      break;
    case 0xF4:  // enable scanning; the output buffer is cleared
      clear_queue();
      scanning_ = true;
      push(kAck);
      break;
    case 0xF5:  // default disable
      clear_queue();
      set_defaults();
      scanning_ = false;
      push(kAck);
      break;
    case 0xF6:  // set default
      clear_queue();
      set_defaults();
      scanning_ = true;
      push(kAck);
      break;
    case 0xF7:
    case 0xF8:
    case 0xF9:
    case 0xFA:  // set-3 "all keys" types: accepted, every key stays make/break
      push(kAck);
      break;
    case 0xFE:  // resend
      push(last_sent_);
      break;
    case 0xFF:  // reset: ACK, then the basic assurance test passes
      clear_queue();
      set_defaults();
      scanning_ = true;
      leds_ = 0;
      push(kAck);
      push(kBatOk);
      break;
    default:
      push(kResend);
      break;
  }
}

void Ps2Keyboard::serialize(StateSerializer& s) {
  s.tag(0x4B424433);  // "KBD3"
  serialize_queue(s);
  s(scan_set_);
  s(scanning_);
  s(leds_);
  s(typematic_);
  s(pending_cmd_);
  s(repeat_code_);
  uint64_t next_repeat = clock_ && repeat_timer_.pending() ? repeat_timer_.deadline() : 0;
  s(next_repeat);
  if (s.loading()) {
    if (scan_set_ < 1 || scan_set_ > 3) scan_set_ = 2;
    if (clock_) clock_->cancel(repeat_timer_);
    if (clock_ && repeat_code_ && next_repeat) clock_->schedule(repeat_timer_, next_repeat);
  }
}

}  // namespace pc64
