// The 64 KiB I/O port space. Devices claim port ranges; unclaimed ports read
// as all-ones and drop writes (logged once per port at debug level).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/port_io.h"

namespace pc64 {

class PortHandler {
 public:
  virtual ~PortHandler() = default;
  // `port` is the absolute port number; size is 1, 2 or 4.
  virtual uint32_t io_read(uint16_t port, unsigned size) = 0;
  virtual void io_write(uint16_t port, unsigned size, uint32_t value) = 0;
};

class PortBus final : public PortIo {
 public:
  PortBus();
  // Claims [base, base + count). Throws std::invalid_argument if any port is taken.
  void map(uint16_t base, uint32_t count, PortHandler* handler, std::string name);
  void unmap(PortHandler* handler);
  PortHandler* handler_at(uint16_t port) const { return handlers_[slots_[port]].handler; }
  const char* name_at(uint16_t port) const { return handlers_[slots_[port]].name.c_str(); }

  uint32_t port_read(uint16_t port, unsigned size) override;
  void port_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  struct Slot {
    PortHandler* handler = nullptr;
    std::string name;
  };
  void note_unclaimed(uint16_t port, bool write);
  std::vector<Slot> handlers_;    // [0] is "unclaimed"
  std::vector<uint16_t> slots_;   // port -> index into handlers_
  std::vector<uint8_t> warned_;   // unclaimed ports already logged
};

}  // namespace pc64
