// The x86-64 CPU as the machine sees it. This is the public face the
// frontend and tests use; the decoder, block cache, interpreter and state live
// behind it in cpu/.
#pragma once
#include <cstdint>
#include <string>

#include "cpu/interrupt_source.h"
#include "cpu/port_io.h"
#include "mem/physical_memory.h"
#include "mem/state.h"

namespace pc64 {

class Cpu {
 public:
  Cpu(PhysicalMemory& mem, PortIo& io);
  ~Cpu();
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  void set_interrupt_source(InterruptSource* src) { intr_ = src; }

  // Power-on (RESET) state: real mode, CS.selector F000 with base FFFF0000,
  // IP FFF0 (SDM 9.1.4).
  void reset();

  // Runs at most `budget` instructions and returns how many retired. Returns
  // early when the CPU halts, shuts down (triple fault) or request_stop() is
  // called (also from a device callback during the run).
  uint64_t run(uint64_t budget);

  // HLT with nothing to wake it: the machine skips time to the next event.
  bool halted() const { return halted_; }
  // Triple fault: the CPU is in shutdown until reset.
  bool shutdown() const { return shutdown_; }
  const std::string& shutdown_reason() const { return shutdown_reason_; }
  void request_stop() { stop_requested_ = true; }

  // Virtual time source for RDTSC, set by the machine (nanoseconds of guest
  // time at the start of the current run()).
  void set_time_base(uint64_t ns) { time_base_ns_ = ns; }

  void serialize(StateSerializer& s);

 private:
  PhysicalMemory& mem_;
  PortIo& io_;
  InterruptSource* intr_ = nullptr;
  bool halted_ = false;
  bool shutdown_ = false;
  bool stop_requested_ = false;
  std::string shutdown_reason_;
  uint64_t time_base_ns_ = 0;
};

}  // namespace pc64
