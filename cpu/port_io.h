// The I/O port space as the CPU sees it (IN/OUT/INS/OUTS). Implemented by the
// machine's port bus in io/; the CPU knows nothing of the devices behind it.
#pragma once
#include <cstdint>

namespace pc64 {

class PortIo {
 public:
  virtual ~PortIo() = default;
  // size is 1, 2 or 4; the result is zero-extended from `size` bytes.
  virtual uint32_t port_read(uint16_t port, unsigned size) = 0;
  virtual void port_write(uint16_t port, unsigned size, uint32_t value) = 0;
};

}  // namespace pc64
