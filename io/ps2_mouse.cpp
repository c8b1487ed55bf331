#include "io/ps2_mouse.h"

#include <algorithm>

namespace pc64 {

namespace {
constexpr size_t kStreamLimit = 64;  // bytes of motion data queued at most

int clamp(int v, int lo, int hi) { return std::min(std::max(v, lo), hi); }

// 2:1 scaling (IBM PS/2 mouse technical reference): 1->1, 2->1, 3->3,
// 4->6, 5->9, otherwise doubled.
int scale21(int v) {
  static constexpr int kSmall[6] = {0, 1, 1, 3, 6, 9};
  int a = v < 0 ? -v : v;
  int r = a <= 5 ? kSmall[a] : 2 * a;
  return v < 0 ? -r : r;
}
}  // namespace

void Ps2Mouse::set_defaults() {
  rate_ = 100;
  resolution_ = 2;  // 4 counts/mm
  scaling21_ = false;
  enabled_ = false;
  remote_ = false;
}

void Ps2Mouse::reset() {
  clear_queue();
  set_defaults();
  id_ = 0;
  wrap_ = false;
  rate_history_[0] = rate_history_[1] = rate_history_[2] = 0;
  buttons_ = buttons_sent_ = 0;
  dx_ = dy_ = dz_ = 0;
  pending_cmd_ = 0;
}

void Ps2Mouse::push_packet() {
  int dx = clamp(dx_, -256, 255), dy = clamp(dy_, -256, 255);
  int dz = id_ == 4 ? clamp(dz_, -8, 7) : clamp(dz_, -127, 127);
  if (!id_) dz = 0;
  dx_ -= dx;
  dy_ -= dy;
  dz_ -= dz;
  buttons_sent_ = buttons_;
  // Pushing lets the controller take bytes at once, which calls drained():
  // no new packet may start in the middle of this one.
  building_ = true;
  if (scaling21_ && !remote_) {
    dx = clamp(scale21(dx), -256, 255);
    dy = clamp(scale21(dy), -256, 255);
  }
  // Byte 0: buttons, bit 3 always set, X and Y sign (bit 8 of the deltas).
  push(static_cast<uint8_t>((buttons_ & 7) | 0x08 | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0)));
  push(static_cast<uint8_t>(dx));
  push(static_cast<uint8_t>(dy));
  if (id_ == 3) push(static_cast<uint8_t>(dz));
  if (id_ == 4) push(static_cast<uint8_t>((dz & 0x0F) | ((buttons_ & kButton4) ? 0x10 : 0) | ((buttons_ & kButton5) ? 0x20 : 0)));
  building_ = false;
}

void Ps2Mouse::send_packets() {
  if (!enabled_ || remote_ || wrap_ || building_) return;
  while ((dx_ || dy_ || (id_ && dz_) || buttons_ != buttons_sent_) && room(kStreamLimit) >= packet_size())
    push_packet();
}

void Ps2Mouse::event(int dx, int dy, int dz, unsigned buttons) {
  // Saturate the accumulators so a flood of host motion cannot overflow them.
  dx_ = clamp(dx_ + clamp(dx, -65536, 65536), -65536, 65536);
  dy_ = clamp(dy_ - clamp(dy, -65536, 65536), -65536, 65536);
  dz_ = clamp(dz_ + clamp(dz, -1024, 1024), -1024, 1024);
  buttons_ = static_cast<uint8_t>(buttons & 0x1F);
  send_packets();
}

void Ps2Mouse::write(uint8_t v) {
  if (wrap_ && v != 0xEC && v != 0xFF) {
    push(v);  // wrap (echo) mode
    return;
  }
  if (pending_cmd_) {
    uint8_t cmd = pending_cmd_;
    pending_cmd_ = 0;
    if (cmd == 0xE8) {  // resolution 0-3
      resolution_ = v & 3;
    } else {  // 0xF3 sample rate, and the IntelliMouse knock sequences
      rate_ = v;
      rate_history_[0] = rate_history_[1];
      rate_history_[1] = rate_history_[2];
      rate_history_[2] = v;
      const uint8_t* h = rate_history_;
      if (id_ == 0 && h[0] == 200 && h[1] == 100 && h[2] == 80) id_ = 3;
      else if (id_ == 3 && h[0] == 200 && h[1] == 200 && h[2] == 80) id_ = 4;
    }
    push(kAck);
    return;
  }
  switch (v) {
    case 0xE6: scaling21_ = false; push(kAck); break;
    case 0xE7: scaling21_ = true; push(kAck); break;
    case 0xE8:
    case 0xF3:
      push(kAck);
      pending_cmd_ = v;
      break;
    case 0xE9:  // status request
      push(kAck);
      push(static_cast<uint8_t>((remote_ ? 0x40 : 0) | (enabled_ ? 0x20 : 0) | (scaling21_ ? 0x10 : 0) |
                                ((buttons_ & kLeft) ? 0x04 : 0) | ((buttons_ & kMiddle) ? 0x02 : 0) |
                                ((buttons_ & kRight) ? 0x01 : 0)));
      push(resolution_);
      push(rate_);
      break;
    case 0xEA:  // stream mode
      remote_ = false;
      dx_ = dy_ = dz_ = 0;
      push(kAck);
      break;
    case 0xEB:  // read data (a packet even without motion)
      push(kAck);
      push_packet();
      break;
    case 0xEC: wrap_ = false; push(kAck); break;
    case 0xEE: wrap_ = true; push(kAck); break;
    case 0xF0:  // remote mode
      remote_ = true;
      push(kAck);
      break;
    case 0xF2:  // get device ID
      push(kAck);
      push(id_);
      break;
    case 0xF4:
      enabled_ = true;
      push(kAck);
      break;
    case 0xF5:
      enabled_ = false;
      push(kAck);
      break;
    case 0xF6:
      set_defaults();
      push(kAck);
      break;
    case 0xFE: push(last_sent_); break;
    case 0xFF:  // reset: ACK, BAT passed, ID 0 (a plain mouse again)
      reset();
      push(kAck);
      push(kBatOk);
      push(0x00);
      break;
    default: push(kResend); break;
  }
}

void Ps2Mouse::serialize(StateSerializer& s) {
  s.tag(0x4D4F5553);  // "MOUS"
  serialize_queue(s);
  s(id_); s(enabled_); s(remote_); s(wrap_); s(scaling21_);
  s(resolution_); s(rate_); s(rate_history_); s(buttons_); s(buttons_sent_);
  s(dx_); s(dy_); s(dz_); s(pending_cmd_);
  if (s.loading()) {
    if (id_ != 0 && id_ != 3 && id_ != 4) id_ = 0;
    dx_ = clamp(dx_, -65536, 65536);
    dy_ = clamp(dy_, -65536, 65536);
    dz_ = clamp(dz_, -1024, 1024);
  }
}

}  // namespace pc64
