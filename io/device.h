// The small interface every emulated device implements. Port and MMIO ranges
// are registered on the buses by the device itself; timers live on the
// machine's VirtualClock.
#pragma once
#include "mem/state.h"

namespace pc64 {

class Device {
 public:
  virtual ~Device() = default;
  virtual const char* name() const = 0;
  // Power-on / hardware reset state.
  virtual void reset() = 0;
  // Save and restore the whole device state (one function used both ways).
  // Pending timers are part of the state: a device re-arms them on restore.
  virtual void serialize(StateSerializer& s) = 0;
};

}  // namespace pc64
