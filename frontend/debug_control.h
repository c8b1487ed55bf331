// Run control shared by the monitor and the gdb stub: resuming from a
// breakpoint, running in slices so the user can interrupt, and naming what
// stopped the guest.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "frontend/machine.h"
#include "mem/paging.h"

namespace pc64 {

// Linear address of CS:RIP (what breakpoints match).
uint64_t pc_linear(const CpuState& s);

struct RunOutcome {
  ExitReason reason = ExitReason::None;  // None: the instruction budget ran out
  DebugStopInfo stop;                    // when reason == Breakpoint
  uint64_t retired = 0;
};

// Runs up to `max` instructions (0 = until something stops the guest). A
// breakpoint at the current RIP does not stop it again (the first
// instruction runs past it). `interrupt`, if given, is asked between slices
// of about 1 ms; returning true pauses (Ctrl-C, the `p` command, gdb's 0x03).
// Temporary breakpoints that hit are deleted.
RunOutcome run_guest(Machine& m, uint64_t max, const std::function<bool()>& interrupt = {});

// Debugger memory access, never with guest-visible side effects: physical
// reads see RAM/ROM only (never an MMIO register), linear addresses are
// translated through the current page tables without setting A/D bits,
// writes go to RAM only (and drop decoded code they overwrite).
PagingControl debugger_paging_control(const CpuState& s);
bool debugger_read_physical(Machine& m, uint64_t paddr, uint8_t* dst, size_t n);
bool debugger_translate(Machine& m, uint64_t linear, uint64_t& paddr, std::string& error);
bool debugger_read_linear(Machine& m, uint64_t linear, uint8_t* dst, size_t n, std::string& error);
bool debugger_write_linear(Machine& m, uint64_t linear, const uint8_t* src, size_t n, std::string& error);

// "0x1f" (the monitor's way of printing an address or value).
std::string hex0x(uint64_t v);

// One line: "breakpoint 1 at 0x...", "watchpoint 2: write of 0x...", ...
std::string describe_stop(const DebugStopInfo& s);

}  // namespace pc64
