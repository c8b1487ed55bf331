// --triple-fault: a guest triple fault either stops the machine with a
// message naming it (exit code 4) or resets it and runs on.
#include <doctest/doctest.h>

#include <vector>

#include "frontend/machine.h"

using namespace pc64;

namespace {

// A machine whose reset vector loads an empty IDT and executes UD2: #UD
// cannot be delivered (#GP), nor can the #DF that follows -> triple fault.
Machine& with_triple_fault_rom(Machine& m) {
  std::vector<uint8_t> rom(0x10000, 0x90);
  const uint8_t code[] = {0x2E, 0x0F, 0x01, 0x1E, 0xE0, 0xFF,  // lidt [cs:0xFFE0]
                          0x0F, 0x0B};                         // ud2
  std::copy(std::begin(code), std::end(code), rom.begin() + 0xFFF0);
  // IDTR image at 0xFFE0: limit 0, base 0 (the bytes are already 0x90: clear them).
  std::fill(rom.begin() + 0xFFE0, rom.begin() + 0xFFE6, 0);
  m.memory().map_rom(0xFFFF0000, rom, "triple-fault rom");
  m.reset();
  return m;
}

MachineConfig bare(TripleFaultAction action) {
  MachineConfig c;
  c.ram_bytes = 4 << 20;
  c.pc_board = false;
  c.on_triple_fault = action;
  return c;
}

}  // namespace

TEST_CASE("triple fault with --triple-fault stop ends the run with a message") {
  Machine m(bare(TripleFaultAction::Stop));
  with_triple_fault_rom(m);
  CHECK(m.run(1000) == ExitReason::TripleFault);
  CHECK(exit_code_for(ExitReason::TripleFault) == 4);
  CHECK(m.exit_message().find("triple fault") != std::string::npos);
  CHECK(m.instructions_retired() == 1);  // the LIDT; UD2 never retires
}

TEST_CASE("triple fault with --triple-fault reset restarts at the reset vector and runs on") {
  Machine m(bare(TripleFaultAction::Reset));
  with_triple_fault_rom(m);
  // Every pass retires the LIDT and then triple-faults; the machine keeps
  // resetting instead of stopping.
  CHECK(m.run(50) == ExitReason::None);
  CHECK(m.instructions_retired() == 50);
  CHECK_FALSE(m.cpu().shutdown());
}
