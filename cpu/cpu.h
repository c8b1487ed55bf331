// The x86-64 CPU as the machine sees it. This is the public face the
// frontend and tests use; the decoder, block cache, interpreter and state live
// behind it in cpu/ (Core, cpu/core.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "cpu/cpu_state.h"
#include "cpu/debug_trap.h"
#include "cpu/interrupt_source.h"
#include "cpu/port_io.h"
#include "mem/physical_memory.h"
#include "mem/state.h"

namespace pc64 {

class Core;

class Cpu {
 public:
  Cpu(PhysicalMemory& mem, PortIo& io);
  ~Cpu();
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  void set_interrupt_source(InterruptSource* src);

  // Power-on (RESET) state: real mode, CS.selector F000 with base FFFF0000,
  // IP FFF0 (SDM 9.1.4).
  void reset();

  // Runs at most `budget` instructions and returns how many retired. Returns
  // early when the CPU halts, shuts down (triple fault) or request_stop() is
  // called (also from a device callback during the run).
  uint64_t run(uint64_t budget);

  // HLT with nothing to wake it: the machine skips time to the next event.
  bool halted() const;
  // Triple fault: the CPU is in shutdown until reset.
  bool shutdown() const;
  const std::string& shutdown_reason() const;
  void request_stop();

  // Virtual time source for RDTSC, set by the machine (nanoseconds of guest
  // time at the start of the current run()). The TSC runs at 1 GHz: one
  // retired instruction = 1 ns = 1 TSC tick.
  void set_time_base(uint64_t ns);

  void serialize(StateSerializer& s);

  // ---- inspection and test/monitor access ----
  CpuState& state();
  const CpuState& state() const;
  // Call after editing state() directly (segments, CR0/EFER, CPL): recomputes
  // the derived mode and segment checks and drops cached translations.
  void state_changed();
  // Test harness: switch straight to flat 64-bit long mode at CPL 0 (CS.L=1,
  // flat data segments), with 4-level identity paging of the first
  // `map_bytes` (2 MiB pages, user-accessible). A small GDT (0x08 code64,
  // 0x10 data, 0x18/0x20/0x28 ring-3 code32/data/code64) and the page tables
  // are written at physical `tables_paddr` (3 pages + one page per GiB).
  void enter_long_mode_identity(uint64_t tables_paddr, uint64_t map_bytes);
  // RFLAGS with the lazily kept arithmetic flags folded in (the monitor,
  // gdb): changes the representation only, not the value.
  uint64_t rflags();
  // #UD raised for undecodable/unimplemented instructions so far.
  uint64_t undefined_opcode_count() const;
  Core& core() { return *core_; }
  // For the monitor's `count`.
  struct Stats {
    uint64_t blocks = 0;     // decoded blocks cached now
    uint64_t tlb_fills = 0;  // soft-TLB fills since power-on
  };
  Stats stats() const;
  // Breakpoints, watchpoints and event breaks (monitor, gdb stub).
  DebugTraps& debug();

 private:
  std::unique_ptr<Core> core_;
};

}  // namespace pc64
