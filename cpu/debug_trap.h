// The debugger's breakpoint and watchpoint engine, one per Core, shared by
// the monitor and the gdb stub (issue 10).
//
// None of it costs anything on the hot path while nothing is set:
//  - Execution breakpoints are baked into decoded blocks. decode_block()
//    gives the instruction at a breakpoint address the handler
//    h_breakpoint, which checks the breakpoint (and its condition) when that
//    instruction is about to run and either stops the CPU before it
//    (DebugStop, caught by Core::run) or runs the real handler, re-decoded
//    from the same bytes. Changing the breakpoint list bumps generation();
//    Core::run then drops every decoded block so the change takes effect.
//  - Watchpoints keep watched pages out of the soft TLB (Core::translate
//    asks watched_page()), so accesses to them take the slow path, where
//    read_slow/write_slow call on_access() with the exact range.
//  - Event breaks (interrupt/exception vector, I/O port, CR3 write, mode
//    switch) are one `if (dbg.events())` at the place the event happens.
// A hit records a DebugStopInfo and asks the CPU to stop after the current
// instruction (watchpoints and events: the access has happened, as gdb
// expects) or before it (execution breakpoints). Machine::run reports it as
// ExitReason::Breakpoint.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pc64 {

class Core;
struct Insn;

// Thrown by h_breakpoint: stop before the instruction, which has not run.
struct DebugStop {};

enum class WatchKind : uint8_t { Write = 1, Read = 2, Access = 3 };

struct DebugStopInfo {
  enum class Kind : uint8_t { None, Breakpoint, Watchpoint, Vector, Port, Cr3, Mode };
  Kind kind = Kind::None;
  int id = 0;             // breakpoint / watchpoint number
  uint64_t address = 0;   // breakpoint: linear RIP; watchpoint: first byte accessed
  bool write = false;     // watchpoint: the access was a write
  uint64_t value = 0;     // vector, port, new CR3, or new mode (see mode_name)
};

class DebugTraps {
 public:
  struct Breakpoint {
    int id = 0;
    uint64_t addr = 0;       // linear, or physical when `physical`
    bool physical = false;
    bool temporary = false;  // the frontend deletes it after the first hit
    bool internal = false;   // set by the frontend for next/until; not listed
    std::string condition_text;
    std::function<bool()> condition;  // empty: unconditional
    uint64_t hits = 0;
  };
  struct Watchpoint {
    int id = 0;
    uint64_t addr = 0, len = 1;
    bool physical = false;
    WatchKind kind = WatchKind::Write;
    uint64_t hits = 0;
  };

  // ---- configuration (between runs: the monitor, the gdb stub) ----
  int add_breakpoint(uint64_t addr, bool physical, bool temporary = false, bool internal = false);
  Breakpoint* breakpoint(int id);
  bool remove_breakpoint(int id);
  int add_watchpoint(uint64_t addr, uint64_t len, bool physical, WatchKind kind);
  bool remove_watchpoint(int id);
  void remove_all();
  const std::vector<Breakpoint>& breakpoints() const { return bps_; }
  const std::vector<Watchpoint>& watchpoints() const { return wps_; }
  // Event breaks. Vectors 0-255; ports by exact number (any access width
  // touching it); mode: real / protected 16/32 / v86 / long 64 / compat.
  void set_vector_break(unsigned vector, bool on);
  bool vector_break(unsigned vector) const { return vectors_[vector]; }
  void set_port_break(uint16_t port, bool on);
  const std::vector<uint16_t>& port_breaks() const { return ports_; }
  void set_cr3_break(bool on) { cr3_break_ = on; update(); }
  bool cr3_break() const { return cr3_break_; }
  void set_mode_break(bool on) { mode_break_ = on; update(); }
  bool mode_break() const { return mode_break_; }
  // The next instruction at linear `lin` runs even if a breakpoint is there
  // (resuming from a breakpoint). Cleared by the frontend after one step.
  void skip_once(uint64_t lin) { skip_lin_ = lin; skip_armed_ = true; }
  void clear_skip() { skip_armed_ = false; }

  // ---- results ----
  // True once after a hit; take_stop() returns and clears it.
  bool stop_pending() const { return stop_pending_; }
  DebugStopInfo take_stop() {
    stop_pending_ = false;
    return stop_;
  }
  // Bumped whenever the configuration changes (Core::run drops decoded
  // blocks and TLB entries on a change).
  uint64_t generation() const { return generation_; }

  // ---- hooks (cpu/) ----
  bool has_exec() const { return !bps_.empty() || guest_exec_mask_; }
  bool events() const { return events_; }
  // decode_block: does the instruction at linear `lin`, whose first byte is
  // at host address `host`, need h_breakpoint? (For linear breakpoints: any
  // instruction at the same page offset, since the block may also run
  // through another linear alias of its page; check_exec decides.)
  bool exec_at(Core& c, uint64_t lin, const uint8_t* host) const;
  // Core::translate: false keeps the page out of the TLB (some watch on it).
  bool watched_page(uint64_t lin, uint64_t paddr) const { return any_watch_ && watched_page_slow(lin, paddr); }
  void on_access(Core& c, uint64_t lin, uint64_t paddr, unsigned size, bool write) {
    if (any_watch_) on_access_slow(c, lin, paddr, size, write);
  }

  // ---- the guest's own debug registers (SDM Vol. 3B 18.2) ----
  // Data (R/W 01, 11) and I/O (R/W 10 with CR4.DE) breakpoints of DR0-DR3
  // ride on the same watch/port hooks. Execution breakpoints (R/W 00) are
  // baked into blocks like the debugger's: exec_at() matches every
  // instruction at the breakpoint's page offset (blocks are keyed by host
  // address, so one block may run under several linear mappings) and
  // h_breakpoint compares the real linear address. Rebuilt after MOV to
  // DR0-3/DR7, task switches and at run() entry (state loads, reset); a
  // change of the execution set drops every block.
  void sync_guest(Core& c);
  // Data or I/O breakpoints armed: Core::run takes the one-instruction
  // path (run_one_debug delivers their traps). Execution breakpoints alone
  // cost nothing on instructions elsewhere.
  bool guest_step() const { return (guest_data_mask_ | guest_io_mask_) != 0; }
  // h_breakpoint: an armed execution breakpoint at linear `lin` raises the
  // #DB fault before the instruction, with its DR6 B0-B3 bits.
  void check_guest_exec(Core& c, uint64_t lin);
  // Core::run_one_debug: RF was set when the instruction started, so its
  // execution breakpoints do not fire (RF itself is already cleared then;
  // SDM Vol. 3B 18.3.1.1). For the duration of one instruction.
  struct RfScope {
    DebugTraps& d;
    RfScope(DebugTraps& t, bool rf) : d(t) { d.rf_suppress_ = rf; }
    ~RfScope() { d.rf_suppress_ = false; }
  };
  // A guest data/I/O breakpoint matched during the last instruction (DR6
  // B0-B3 already set): Core::run_one_debug delivers the #DB trap.
  bool take_guest_trap() {
    bool p = guest_trap_;
    guest_trap_ = false;
    return p;
  }
  void on_vector(Core& c, uint8_t vector);
  void on_port(Core& c, uint16_t port, unsigned size);
  void on_cr3(Core& c, uint64_t value);
  void on_mode(Core& c);
  // h_breakpoint: stop here (throws DebugStop) or return to run the insn.
  void check_exec(Core& c);
  // Core::run, at entry: applies configuration changes (drops decoded
  // blocks and TLB entries) and takes the mode baseline for mode breaks.
  void on_run(Core& c);

  static const char* mode_name(uint64_t mode);
  static uint64_t mode_of(const Core& c);

 private:
  bool watched_page_slow(uint64_t lin, uint64_t paddr) const;
  void on_access_slow(Core& c, uint64_t lin, uint64_t paddr, unsigned size, bool write);
  void hit(Core& c, const DebugStopInfo& info);
  void update();

  void update_watch_flags() { any_watch_ = !wps_.empty() || guest_data_mask_; }
  bool guest_hit(uint64_t a, uint64_t size, unsigned rw_mask, uint64_t& bits) const;

  struct GuestBp {
    uint64_t addr = 0, len = 1;
    unsigned rw = 0;  // DR7 R/W field: 1 write, 2 I/O, 3 read/write
  } guest_[4];
  unsigned guest_data_mask_ = 0, guest_io_mask_ = 0;  // bit n: DRn armed as data / I/O breakpoint
  unsigned guest_exec_mask_ = 0;                      // bit n: DRn armed as execution breakpoint
  bool rf_suppress_ = false;
  bool guest_trap_ = false;
  bool any_watch_ = false;
  std::vector<Breakpoint> bps_;
  std::vector<Watchpoint> wps_;
  bool vectors_[256] = {};
  unsigned vector_count_ = 0;
  std::vector<uint16_t> ports_;
  bool cr3_break_ = false, mode_break_ = false;
  bool events_ = false;
  uint64_t last_mode_ = ~0ull;
  uint64_t skip_lin_ = 0;
  bool skip_armed_ = false;
  int next_id_ = 1;
  uint64_t generation_ = 0, applied_generation_ = 0;
  bool stop_pending_ = false;
  DebugStopInfo stop_;
};

// The handler decode_block puts on an instruction at a breakpoint address.
void h_breakpoint(Core& c, const Insn& i);

}  // namespace pc64
