// Run control shared by the monitor and the gdb stub: resuming from a
// breakpoint, running in slices so the user can interrupt, and naming what
// stopped the guest.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "frontend/machine.h"

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

// One line: "breakpoint 1 at 0x...", "watchpoint 2: write of 0x...", ...
std::string describe_stop(const DebugStopInfo& s);

}  // namespace pc64
