// System Control Port A (port 0x92, "fast A20 and reset", PIIX/PS2 style):
// bit 1 drives the A20 gate, a 0->1 write of bit 0 resets the CPU.
#pragma once
#include <functional>

#include "io/device.h"
#include "io/port_bus.h"

namespace pc64 {

class Port92 final : public Device, public PortHandler {
 public:
  Port92(PortBus& ports, std::function<void(bool)> set_a20, std::function<void()> reset_cpu);

  const char* name() const override { return "port92"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  std::function<void(bool)> set_a20_;
  std::function<void()> reset_cpu_;
  uint8_t value_ = 0;
};

}  // namespace pc64
