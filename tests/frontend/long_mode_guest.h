// A bare machine (no PC board) in flat 64-bit long mode running a small nasm
// program at 0x200000 under the monitor: the rig of the monitor and debug
// engine tests.
#pragma once
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cpu/cpu_test_util.h"
#include "frontend/machine.h"
#include "frontend/monitor.h"

namespace pc64::test {

struct LongModeGuest {
  static constexpr uint64_t kOrg = 0x200000;
  static constexpr uint64_t kTables = 0x10000;  // enter_long_mode_identity: GDT, PML4, PDPT, then the PD
  pc64::Machine m{[] {
    MachineConfig c;
    c.pc_board = false;
    c.ram_bytes = 16 << 20;
    return c;
  }()};
  Monitor mon{m};
  std::vector<uint8_t> code;
  explicit LongModeGuest(const std::string& source) : code(assemble(source)) {
    m.cpu().enter_long_mode_identity(kTables, 16 << 20);
    m.memory().write_bytes(kOrg, code.data(), code.size());
    CpuState& s = m.cpu().state();
    s.rip = kOrg;
    s.gpr[RSP] = 0x300000;
    m.cpu().state_changed();
  }
  // Address of the first instruction whose disassembly contains `text`.
  uint64_t find(const std::string& text) {
    std::string out = mon.execute("u 0x200000 40");
    size_t p = out.find(text);
    REQUIRE(p != std::string::npos);
    size_t line = out.rfind('\n', p);
    line = line == std::string::npos ? 0 : line + 1;
    return std::stoull(out.substr(line, 16), nullptr, 16);
  }
  uint64_t rip() { return m.cpu().state().rip; }
  uint64_t reg(unsigned r) { return m.cpu().state().gpr[r]; }
};

}  // namespace pc64::test
