#include "io/serial_input_pump.h"

namespace pc64 {

SerialInputPump::SerialInputPump(VirtualClock& clock, CharBackend& from, Uart16550& to)
    : clock_(clock), from_(from), to_(to) {
  if (from_.has_input()) clock_.schedule_in(timer_, kPollNs);
}

void SerialInputPump::poll() {
  if (pending_.empty()) {
    uint8_t buf[256];
    size_t n = from_.read(buf, sizeof buf);
    pending_.assign(buf, buf + n);
  }
  size_t used = 0;
  while (used < pending_.size() && to_.can_receive()) to_.receive(pending_[used++]);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(used));
}

void SerialInputPump::on_timer(void* self) {
  auto* p = static_cast<SerialInputPump*>(self);
  p->poll();
  if (!p->pending_.empty() || p->from_.has_input()) p->clock_.schedule_in(p->timer_, kPollNs);
}

}  // namespace pc64
