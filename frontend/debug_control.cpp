#include "frontend/debug_control.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "mem/paging.h"

namespace pc64 {

namespace {
std::string describe_address(uint64_t a) {
  char b[24];
  std::snprintf(b, sizeof b, "%" PRIx64, a);
  return b;
}
}  // namespace

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

bool debugger_read_physical(Machine& m, uint64_t paddr, uint8_t* dst, size_t n) {
  PhysicalMemory& mem = m.memory();
  for (size_t i = 0; i < n; ++i) {
    uint64_t a = (paddr + i) & mem.a20_mask();
    // page() hands out host pointers for RAM and ROM only, so an MMIO
    // register (with read side effects) is never touched from here.
    PhysicalMemory::Page p = mem.page(a & PhysicalMemory::kPageMask);
    if (!p.read) return false;
    dst[i] = p.read[a & (PhysicalMemory::kPageSize - 1)];
  }
  return true;
}

PagingControl debugger_paging_control(const CpuState& s) {
  PagingControl pc;
  pc.cr0 = s.cr0;
  pc.cr3 = s.cr3;
  pc.cr4 = s.cr4;
  pc.efer = s.efer;
  pc.ac = false;
  return pc;  // pae_pdptes null: PDPTEs read from memory (see mem/paging.h)
}

bool debugger_translate(Machine& m, uint64_t linear, uint64_t& paddr, std::string& error) {
  const CpuState& s = m.cpu().state();
  PagingControl pc = debugger_paging_control(s);
  if ((s.efer & EFER_LMA) && !is_canonical48(linear)) {
    error = "address " + describe_address(linear) + " is not canonical";
    return false;
  }
  // Supervisor read with set_ad=false: what the kernel could see, and the
  // guest's accessed/dirty bits stay exactly as they were.
  WalkResult w = walk_page_tables(m.memory(), pc, linear, AccessKind::Read, false, false);
  if (!w.ok) {
    char b[96];
    std::snprintf(b, sizeof b, "linear address %" PRIx64 " is not mapped (#PF error %x)", linear, w.error_code);
    error = b;
    return false;
  }
  paddr = w.paddr;
  return true;
}

template <class F>
static bool for_each_page(Machine& m, uint64_t linear, size_t n, std::string& error, const char* what, F f) {
  for (size_t i = 0; i < n;) {
    uint64_t a = linear + i, pa;
    if (!debugger_translate(m, a, pa, error)) return false;
    size_t chunk = std::min<size_t>(n - i, PhysicalMemory::kPageSize - (a & (PhysicalMemory::kPageSize - 1)));
    if (!f(pa, i, chunk)) {
      error = "physical address " + describe_address(pa) + " is not " + what;
      return false;
    }
    i += chunk;
  }
  return true;
}

bool debugger_read_linear(Machine& m, uint64_t linear, uint8_t* dst, size_t n, std::string& error) {
  return for_each_page(m, linear, n, error, "RAM or ROM",
                       [&](uint64_t pa, size_t i, size_t chunk) { return debugger_read_physical(m, pa, dst + i, chunk); });
}

bool debugger_write_linear(Machine& m, uint64_t linear, const uint8_t* src, size_t n, std::string& error) {
  // Translate everything first so a failure writes nothing.
  if (!for_each_page(m, linear, n, error, "RAM", [&](uint64_t pa, size_t, size_t chunk) {
        for (size_t k = 0; k < chunk; ++k)
          if (!m.memory().ram_pointer(pa + k)) return false;
        return true;
      }))
    return false;
  // dma_write: RAM only, and it drops decoded blocks of the pages it changes.
  return for_each_page(m, linear, n, error, "RAM",
                       [&](uint64_t pa, size_t i, size_t chunk) { return m.memory().dma_write(pa, src + i, chunk); });
}

std::string hex0x(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%#" PRIx64, v);
  return b;
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
