// A keyboard controller on a port bus, driven as a guest drives it.
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "io/i8042.h"

namespace pc64::test {

struct LevelSink final : IrqSink {
  bool level[16] = {};
  int rises[16] = {};
  void set_irq(unsigned irq, bool l) override {
    if (irq >= 16) return;
    if (l && !level[irq]) ++rises[irq];
    level[irq] = l;
  }
};

struct Ps2Rig {
  PortBus ports;
  LevelSink irq;
  std::vector<bool> a20_changes;
  int resets = 0;
  I8042 kbc{ports, IrqLine(&irq, 1), IrqLine(&irq, 12), [this](bool on) { a20_changes.push_back(on); },
            [this] { ++resets; }};

  void cmd(uint8_t v) { ports.port_write(0x64, 1, v); }
  void data(uint8_t v) { ports.port_write(0x60, 1, v); }
  uint8_t status() { return static_cast<uint8_t>(ports.port_read(0x64, 1)); }
  uint8_t read() { return static_cast<uint8_t>(ports.port_read(0x60, 1)); }
  // Everything waiting in the output buffer (a polling driver's loop).
  std::vector<uint8_t> drain(std::vector<bool>* aux = nullptr) {
    std::vector<uint8_t> out;
    for (int guard = 0; guard < 1024 && (status() & I8042::kObf); ++guard) {
      if (aux) aux->push_back(status() & I8042::kAuxb);
      out.push_back(read());
    }
    return out;
  }
  void to_mouse(uint8_t v) {
    cmd(0xD4);
    data(v);
  }
  void set_command_byte(uint8_t v) {
    cmd(0x60);
    data(v);
  }
};

using Bytes = std::vector<uint8_t>;

}  // namespace pc64::test

namespace doctest {
template <>
struct StringMaker<std::vector<uint8_t>> {
  static String convert(const std::vector<uint8_t>& v) {
    std::string s = "{";
    char buf[8];
    for (size_t i = 0; i < v.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%s%02X", i ? " " : "", v[i]);
      s += buf;
    }
    return String((s + "}").c_str());
  }
};
}  // namespace doctest
