// What the keyboard and the mouse share: a device on a PS/2 port of the
// i8042, taking bytes from the controller and queueing bytes for it. The
// controller pulls one byte at a time into its output buffer.
#pragma once
#include <array>
#include <cstdint>
#include <functional>

#include "mem/state.h"

namespace pc64 {

class Ps2Device {
 public:
  static constexpr uint8_t kAck = 0xFA, kResend = 0xFE, kBatOk = 0xAA;

  virtual ~Ps2Device() = default;
  // A byte the host sent to the device.
  virtual void write(uint8_t v) = 0;
  // Power-on state (queue emptied, defaults restored).
  virtual void reset() = 0;
  virtual void serialize(StateSerializer& s) = 0;
  // The controller took a byte: devices that hold back data may send more.
  virtual void drained() {}

  bool has_data() const { return count_ != 0; }
  uint8_t read() {
    uint8_t v = queue_[head_];
    head_ = static_cast<uint8_t>(head_ + 1);
    --count_;
    return v;
  }
  size_t queued() const { return count_; }
  // Called whenever bytes are queued (the controller refills its buffer).
  void set_notify(std::function<void()> notify) { notify_ = std::move(notify); }

 protected:
  static constexpr size_t kQueueSize = 256;  // uint8_t indices wrap for free

  // Responses to commands are always queued (the queue holds far more than
  // any command produces); input data checks room() first.
  void push(uint8_t v) {
    if (count_ >= kQueueSize) return;
    queue_[static_cast<uint8_t>(head_ + count_)] = v;
    ++count_;
    last_sent_ = v;
    if (notify_) notify_();
  }
  size_t room(size_t limit) const { return count_ >= limit ? 0 : limit - count_; }
  void clear_queue() { head_ = 0, count_ = 0; }
  void serialize_queue(StateSerializer& s) {
    s(queue_);
    s(head_);
    s(count_);
    s(last_sent_);
    if (s.loading() && count_ > kQueueSize) count_ = kQueueSize;
  }
  uint8_t last_sent_ = 0;  // for the resend command

 private:
  std::array<uint8_t, kQueueSize> queue_{};
  uint8_t head_ = 0;
  uint16_t count_ = 0;
  std::function<void()> notify_;
};

}  // namespace pc64
