#include "frontend/debug_control.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace pc64 {

uint64_t pc_linear(const CpuState& s) {
  uint64_t lin = s.seg[CS].base + s.rip;
  bool mode64 = (s.efer & EFER_LMA) && (s.cr0 & CR0_PE) && !(s.rflags & VM) && s.seg[CS].l();
  return mode64 ? lin : (lin & 0xFFFFFFFF);
}

RunOutcome run_guest(Machine& m, uint64_t max, const std::function<bool()>& interrupt) {
  // Slices bound how long a pause request waits (~1 ms of guest code).
  constexpr uint64_t kSlice = 200000;
  DebugTraps& dbg = m.cpu().debug();
  RunOutcome out;
  const uint64_t start = m.instructions_retired();
  auto done = [&] { return m.instructions_retired() - start; };
  // Step off a breakpoint at the current instruction first.
  dbg.skip_once(pc_linear(m.cpu().state()));
  out.reason = m.run(1);
  dbg.clear_skip();
  while (out.reason == ExitReason::None && (max == 0 || done() < max)) {
    if (interrupt && interrupt()) {
      out.reason = ExitReason::Paused;
      break;
    }
    uint64_t slice = max ? std::min(kSlice, max - done()) : kSlice;
    out.reason = m.run(slice);
  }
  out.retired = done();
  if (out.reason == ExitReason::Breakpoint) {
    out.stop = dbg.take_stop();
    if (out.stop.kind == DebugStopInfo::Kind::Breakpoint) {
      if (auto* b = dbg.breakpoint(out.stop.id); b && b->temporary) dbg.remove_breakpoint(out.stop.id);
    }
  }
  return out;
}

std::string describe_stop(const DebugStopInfo& s) {
  char b[160];
  using K = DebugStopInfo::Kind;
  switch (s.kind) {
    case K::Breakpoint:
      std::snprintf(b, sizeof b, "breakpoint %d at %#" PRIx64, s.id, s.address);
      break;
    case K::Watchpoint:
      std::snprintf(b, sizeof b, "watchpoint %d: %s at %#" PRIx64, s.id, s.write ? "write" : "read", s.address);
      break;
    case K::Vector:
      std::snprintf(b, sizeof b, "interrupt/exception vector %#" PRIx64 " delivered", s.value);
      break;
    case K::Port:
      std::snprintf(b, sizeof b, "I/O port %#" PRIx64 " accessed", s.value);
      break;
    case K::Cr3:
      std::snprintf(b, sizeof b, "CR3 written: %#" PRIx64, s.value);
      break;
    case K::Mode:
      std::snprintf(b, sizeof b, "mode switch to %s", DebugTraps::mode_name(s.value));
      break;
    default:
      std::snprintf(b, sizeof b, "stopped");
  }
  return b;
}

}  // namespace pc64
