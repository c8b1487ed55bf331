// The built-in monitor (issue 10): parses and executes one command line
// against a Machine, writing its answer to a stream. No terminal handling
// here; `--monitor stdio` / tcp feed lines in and print what comes out.
// Every command reads guest state without side effects (no A/D bits set, no
// MMIO reads); only `set`, `s` and `c` change the guest, as asked.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/machine.h"
#include "frontend/symbols.h"

namespace pc64 {

class LineInput;

class Monitor {
 public:
  explicit Monitor(Machine& machine) : m_(machine) {}

  // Runs one command line. Output (including one-line errors) goes to `out`.
  void execute(std::string_view line, std::ostream& out);
  std::string execute(std::string_view line);

  // `quit` was entered.
  bool quit_requested() const { return quit_; }

  // Asked between run slices while the guest runs (`c`, `next`, `until`);
  // true pauses it. The terminal/tcp front end checks for Ctrl-C or `p`.
  void set_interrupt_check(std::function<bool()> f) { interrupt_ = std::move(f); }

 private:
  using Args = std::vector<std::string>;
  void cmd_help(std::ostream& out);
  void cmd_registers(std::ostream& out);
  void cmd_registers_fpu(std::ostream& out);
  void cmd_registers_sse(std::ostream& out);
  void cmd_reset(std::ostream& out);
  void cmd_syntax(const Args& args, std::ostream& out);
  void cmd_set(std::string_view rest, std::ostream& out);
  void cmd_examine(std::string_view spec, bool physical, const Args& args, std::ostream& out);
  void cmd_disassemble(const Args& args, std::ostream& out);
  void cmd_step(const Args& args, std::ostream& out);
  void cmd_continue(const Args& args, std::ostream& out);
  void cmd_page(const Args& args, std::ostream& out);
  void cmd_gdt(std::ostream& out);
  void cmd_idt(std::ostream& out);
  void cmd_info(const Args& args, std::ostream& out);
  void cmd_count(std::ostream& out);
  // monitor_break.cpp: breakpoints, watchpoints, run control.
  void cmd_break(const Args& args, bool temporary, std::ostream& out);
  void cmd_watch(const Args& args, WatchKind kind, std::ostream& out);
  void cmd_delete(const Args& args, std::ostream& out);
  void cmd_info_break(std::ostream& out);
  void cmd_next(std::ostream& out);
  void cmd_until(const Args& args, std::ostream& out);
  void run_and_report(uint64_t max, std::ostream& out);
  // "ADDR", "SEG:OFF" (segment register or selector), all expressions.
  std::optional<uint64_t> eval_address(std::string_view text, std::ostream& out);

  std::optional<uint64_t> eval(std::string_view text, std::ostream& out);
  // Side-effect-free reads: RAM/ROM only (never an MMIO handler); false if
  // any byte is not backed by RAM or ROM.
  bool read_physical(uint64_t paddr, uint8_t* dst, size_t n);
  // Linear -> physical through the current paging, A/D bits untouched.
  bool translate(uint64_t linear, uint64_t& paddr, std::string& error);
  bool read_linear(uint64_t linear, uint8_t* dst, size_t n, std::string& error);
  // Disassembles one instruction at `linear`; returns its length (0 on failure).
  unsigned disassemble_one(uint64_t linear, std::ostream& out);
  void report_stop(ExitReason r, uint64_t before, std::ostream& out);

  // monitor_extra.cpp: symbols, trace, memory search/dump/write, tables, media.
  void cmd_sym(const Args& args, std::ostream& out);
  void cmd_trace(const Args& args, std::ostream& out);
  void cmd_find(const Args& args, std::ostream& out);
  void cmd_dump(const Args& args, std::ostream& out);
  void cmd_write(const Args& args, std::ostream& out);
  void cmd_ldt(std::ostream& out);
  void cmd_tss(std::ostream& out);
  void cmd_tlb(std::ostream& out);
  void cmd_screendump(const Args& args, std::ostream& out);
  void cmd_media(const std::string& cmd, const Args& args, std::ostream& out);
  // Steps one instruction at a time, writing a trace line for each.
  ExitReason run_traced(uint64_t max, std::ostream& out);

  Machine& m_;
  bool quit_ = false;
  bool att_syntax_ = false;  // `syntax att`: u and trace in AT&T syntax
  std::function<bool()> interrupt_;
  SymbolTable symbols_;
  bool trace_ = false;
  std::string trace_file_;
  double last_run_seconds_ = 0;
  uint64_t last_run_instructions_ = 0;
};

// The monitor's prompt loop on `input` (--monitor, the window's monitor
// chord): reads and runs lines until `quit` (returns true) or the end of
// input (false). With `leave_on_continue`, `c` ends the loop (false) instead
// of running the guest from the monitor: the caller (the window) runs it.
// `at_prompt(true)` is called while waiting for a line, `at_prompt(false)`
// while a command runs (main's Ctrl-C handling).
bool monitor_session(Monitor& mon, LineInput& input, bool leave_on_continue,
                     const std::function<void(bool)>& at_prompt = {});

}  // namespace pc64
