#include "io/debug_ports.h"

namespace pc64 {

DebugPorts::DebugPorts(PortBus& ports, CharBackend* debugcon) : debugcon_(debugcon) {
  ports.map(kPostPort, 1, this, "post code");
  ports.map(kBochsPort, 1, this, "debug console (0xe9)");
  ports.map(kSeaBiosPort, 1, this, "debug console (0x402)");
}

uint32_t DebugPorts::io_read(uint16_t port, unsigned size) {
  uint32_t v = port == kPostPort ? post_code_ : kBochsPort;
  // Wider reads only reach us when all bytes are ours, i.e. never; be safe.
  for (unsigned i = 1; i < size; ++i) v |= 0xFFu << (8 * i);
  return v;
}

void DebugPorts::io_write(uint16_t port, unsigned, uint32_t value) {
  uint8_t b = static_cast<uint8_t>(value);
  if (port == kPostPort) {
    post_code_ = b;
    ++post_writes_;
  } else if (debugcon_) {
    debugcon_->write(b);
  }
}

void DebugPorts::serialize(StateSerializer& s) {
  s.tag(0x44424750);  // "DBGP"
  s(post_code_);
  s(post_writes_);
}

}  // namespace pc64
