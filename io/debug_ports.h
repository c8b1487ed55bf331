// The diagnostic ports of a PC: the POST code port 0x80 (the last code the
// firmware wrote, for the monitor), and the Bochs/QEMU debug console at 0xE9
// and 0x402 (SeaBIOS's CONFIG_DEBUG_IO log) whose bytes go to a CharBackend
// ("--debugcon FILE"). Reading either debug console port returns 0xE9, which
// is how software detects that the console exists.
#pragma once
#include <cstdint>

#include "io/char_backend.h"
#include "io/device.h"
#include "io/port_bus.h"

namespace pc64 {

class DebugPorts final : public Device, public PortHandler {
 public:
  static constexpr uint16_t kPostPort = 0x80;
  static constexpr uint16_t kBochsPort = 0xE9;
  static constexpr uint16_t kSeaBiosPort = 0x402;

  // `debugcon` may be null: the console's bytes are then dropped.
  DebugPorts(PortBus& ports, CharBackend* debugcon);

  const char* name() const override { return "debug-ports"; }
  void reset() override {}  // the last POST code stays visible across a reset, as on a POST card
  void serialize(StateSerializer& s) override;

  uint8_t post_code() const { return post_code_; }
  uint64_t post_writes() const { return post_writes_; }

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  CharBackend* debugcon_;
  uint8_t post_code_ = 0;
  uint64_t post_writes_ = 0;
};

}  // namespace pc64
