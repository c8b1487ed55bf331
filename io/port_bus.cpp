#include "io/port_bus.h"

#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

PortBus::PortBus() : handlers_(1), slots_(0x10000, 0), warned_(0x10000, 0) {
  handlers_[0].name = "unclaimed";
}

void PortBus::map(uint16_t base, uint32_t count, PortHandler* handler, std::string name) {
  if (count == 0 || base + count > 0x10000u) throw std::invalid_argument("port range out of bounds: " + name);
  for (uint32_t p = base; p < base + count; ++p)
    if (slots_[p] != 0)
      throw std::invalid_argument("port " + std::to_string(p) + " of " + name + " is already claimed by " +
                                  handlers_[slots_[p]].name);
  uint16_t idx = 0;
  for (size_t i = 1; i < handlers_.size(); ++i)
    if (handlers_[i].handler == handler) idx = static_cast<uint16_t>(i);
  if (!idx) {
    idx = static_cast<uint16_t>(handlers_.size());
    handlers_.push_back({handler, std::move(name)});
  }
  for (uint32_t p = base; p < base + count; ++p) slots_[p] = idx;
}

void PortBus::unmap(PortHandler* handler) {
  for (auto& s : slots_)
    if (handlers_[s].handler == handler) s = 0;
}

void PortBus::note_unclaimed(uint16_t port, bool write) {
  if (warned_[port]) return;
  warned_[port] = 1;
  PC64_LOG(LogLevel::Debug, "ports", "%s of unclaimed port %#x (reported once)", write ? "write" : "read", port);
}

uint32_t PortBus::port_read(uint16_t port, unsigned size) {
  uint16_t s = slots_[port];
  if (s) {
    // A wide access whose upper bytes belong to another device is split.
    bool same = true;
    for (unsigned i = 1; i < size; ++i) same &= slots_[static_cast<uint16_t>(port + i)] == s;
    if (same) return handlers_[s].handler->io_read(port, size);
  } else if (size == 1) {
    note_unclaimed(port, false);
    return 0xFF;
  }
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= port_read(static_cast<uint16_t>(port + i), 1) << (8 * i);
  return v;
}

void PortBus::port_write(uint16_t port, unsigned size, uint32_t value) {
  uint16_t s = slots_[port];
  if (s) {
    bool same = true;
    for (unsigned i = 1; i < size; ++i) same &= slots_[static_cast<uint16_t>(port + i)] == s;
    if (same) return handlers_[s].handler->io_write(port, size, value);
  } else if (size == 1) {
    note_unclaimed(port, true);
    return;
  }
  for (unsigned i = 0; i < size; ++i) port_write(static_cast<uint16_t>(port + i), 1, value >> (8 * i));
}

}  // namespace pc64
