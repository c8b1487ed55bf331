// Placeholder until the interpreter lands: the CPU executes nothing and
// reports itself halted, so the machine's clock and devices can be tested.
#include "cpu/cpu.h"

namespace pc64 {

Cpu::Cpu(PhysicalMemory& mem, PortIo& io) : mem_(mem), io_(io) { reset(); }
Cpu::~Cpu() = default;

void Cpu::reset() {
  halted_ = false;
  shutdown_ = false;
  stop_requested_ = false;
}

uint64_t Cpu::run(uint64_t) {
  stop_requested_ = false;
  halted_ = true;
  return 0;
}

void Cpu::serialize(StateSerializer& s) {
  s.tag(0x43505530);
  s(halted_);
  s(shutdown_);
}

}  // namespace pc64
