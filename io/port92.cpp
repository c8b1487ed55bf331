#include "io/port92.h"

namespace pc64 {

namespace {
constexpr uint8_t kFastReset = 0x01, kA20 = 0x02;
}

Port92::Port92(PortBus& ports, std::function<void(bool)> set_a20, std::function<void()> reset_cpu)
    : set_a20_(std::move(set_a20)), reset_cpu_(std::move(reset_cpu)) {
  ports.map(0x92, 1, this, "port92");
}

// A hardware reset leaves A20 as the keyboard controller drives it; the
// register itself reads back 0 (SeaBIOS enables A20 through it early on).
void Port92::reset() { value_ = 0; }

uint32_t Port92::io_read(uint16_t, unsigned) { return value_; }

void Port92::io_write(uint16_t, unsigned, uint32_t v) {
  uint8_t old = value_;
  value_ = static_cast<uint8_t>(v & (kA20 | kFastReset));
  if ((old ^ value_) & kA20) set_a20_((value_ & kA20) != 0);
  if (!(old & kFastReset) && (value_ & kFastReset)) reset_cpu_();
}

void Port92::serialize(StateSerializer& s) {
  s.tag(0x50393230);  // "P920"
  s(value_);
}

}  // namespace pc64
