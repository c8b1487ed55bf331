// Host input for a UART: every kPollNs of virtual time, the bytes that
// arrived at the CharBackend (stdin, a TCP client) go into the UART's
// receive FIFO, as many as it takes; the rest wait for the next poll, so
// nothing is lost to an overrun. Host input is the one non-deterministic
// thing here, so the pump exists only when the backend has input.
#pragma once
#include <cstdint>
#include <vector>

#include "io/char_backend.h"
#include "io/clock.h"
#include "io/uart16550.h"

namespace pc64 {

class SerialInputPump {
 public:
  // 1 ms of guest time: at 115200 baud a 16-byte FIFO fills in ~1.4 ms.
  static constexpr uint64_t kPollNs = 1'000'000;

  SerialInputPump(VirtualClock& clock, CharBackend& from, Uart16550& to);
  SerialInputPump(const SerialInputPump&) = delete;
  SerialInputPump& operator=(const SerialInputPump&) = delete;

  // One poll now (tests; the timer does this every kPollNs).
  void poll();

 private:
  static void on_timer(void* self);

  VirtualClock& clock_;
  CharBackend& from_;
  Uart16550& to_;
  std::vector<uint8_t> pending_;  // read from the host, not yet taken by the UART
  Timer timer_{&SerialInputPump::on_timer, this, "serial-input"};
};

}  // namespace pc64
