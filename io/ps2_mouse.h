// A PS/2 mouse on the i8042's auxiliary port: the IBM PS/2 mouse command set
// (reset, stream and remote modes, wrap mode, sample rate, resolution,
// scaling, status request, read data) and the Microsoft IntelliMouse
// extensions detected by sample-rate knocks: 200,100,80 gives ID 3 (wheel,
// 4-byte packets); then 200,200,80 gives ID 4 (wheel + buttons 4 and 5).
//
// Motion from the host accumulates; packets are built while the queue has
// room, each delta clamped to the 9-bit range, so fast movement is split
// into several packets rather than lost.
#pragma once
#include <cstdint>

#include "io/ps2_device.h"

namespace pc64 {

class Ps2Mouse final : public Ps2Device {
 public:
  // Buttons for event(): bit 0 left, 1 right, 2 middle, 3 fourth, 4 fifth.
  static constexpr unsigned kLeft = 1, kRight = 2, kMiddle = 4, kButton4 = 8, kButton5 = 16;

  Ps2Mouse() { reset(); }

  void write(uint8_t v) override;
  void reset() override;
  void serialize(StateSerializer& s) override;
  void drained() override { send_packets(); }

  // Host input: dx right, dy DOWN (screen convention; PS/2 reports up as
  // positive, the mouse converts), dz positive = wheel towards the user.
  void event(int dx, int dy, int dz, unsigned buttons);

  uint8_t device_id() const { return id_; }
  bool reporting() const { return enabled_; }
  bool remote_mode() const { return remote_; }
  uint8_t sample_rate() const { return rate_; }
  uint8_t resolution() const { return resolution_; }

 private:
  void set_defaults();
  void send_packets();
  void push_packet();
  size_t packet_size() const { return id_ ? 4 : 3; }

  uint8_t id_ = 0;
  bool enabled_ = false, remote_ = false, wrap_ = false, scaling21_ = false;
  uint8_t resolution_ = 2, rate_ = 100;
  uint8_t rate_history_[3] = {0, 0, 0};
  uint8_t buttons_ = 0, buttons_sent_ = 0;
  int32_t dx_ = 0, dy_ = 0, dz_ = 0;  // accumulated, PS/2 orientation (y up)
  uint8_t pending_cmd_ = 0;
  bool building_ = false;  // inside push_packet (not state: never true between calls)
};

}  // namespace pc64
