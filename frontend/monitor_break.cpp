// Monitor: breakpoints, watchpoints, event breaks and run control, on the
// CPU's DebugTraps engine (cpu/debug_trap.h), which the gdb stub shares.
#include <Zydis/Zydis.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "frontend/debug_control.h"
#include "frontend/expression.h"
#include "frontend/monitor.h"

namespace pc64 {

namespace {

std::string join(const std::vector<std::string>& a, size_t from, size_t to) {
  std::string r;
  for (size_t i = from; i < to && i < a.size(); ++i) r += a[i] + " ";
  return r;
}

}  // namespace

std::optional<uint64_t> Monitor::eval_address(std::string_view text, std::ostream& out) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return eval(text, out);
  // SEG:OFF. A segment register uses its cached base; a number is a
  // selector, shifted in real/V86 mode or looked up in the GDT/LDT.
  auto off = eval(text.substr(colon + 1), out);
  if (!off) return std::nullopt;
  std::string seg(text.substr(0, colon));
  while (!seg.empty() && seg.back() == ' ') seg.pop_back();
  const CpuState& s = m_.cpu().state();
  if (auto r = find_register(seg); r && r->kind == RegisterRef::Kind::SegSelector)
    return s.seg[r->index].base + *off;
  auto sel = eval(seg, out);
  if (!sel) return std::nullopt;
  if (*sel > 0xFFFF) {
    out << "error: selector " << hex0x(*sel) << " is wider than 16 bits\n";
    return std::nullopt;
  }
  if (!(s.cr0 & CR0_PE) || (s.rflags & VM)) return (*sel << 4) + (*off & 0xFFFF);
  uint64_t table = s.gdtr.base, limit = s.gdtr.limit;
  if (*sel & 4) {
    table = s.ldtr.base;
    limit = s.ldtr.limit;
  }
  uint64_t idx = *sel & ~7ULL;
  uint8_t d[8];
  std::string err;
  if (idx + 7 > limit || !read_linear(table + idx, d, 8, err)) {
    out << "error: selector " << hex0x(*sel) << " is outside its descriptor table" << (err.empty() ? "" : ": " + err) << "\n";
    return std::nullopt;
  }
  uint64_t base = d[2] | d[3] << 8 | d[4] << 16 | static_cast<uint64_t>(d[7]) << 24;
  return base + *off;
}

void Monitor::cmd_break(const Args& args, bool temporary, std::ostream& out) {
  DebugTraps& dbg = m_.cpu().debug();
  if (args.empty()) {
    out << "error: usage: b [p] ADDR [if COND] | b int N | b io PORT | b cr3 | b mode\n";
    return;
  }
  const std::string& what = args[0];
  if ((what == "int" || what == "io") && !temporary) {
    if (args.size() < 2) {
      out << "error: usage: b " << what << " N\n";
      return;
    }
    auto v = eval(join(args, 1, args.size()), out);
    if (!v) return;
    if (what == "int") {
      if (*v > 255) {
        out << "error: vector must be 0..255\n";
        return;
      }
      dbg.set_vector_break(static_cast<unsigned>(*v), true);
      out << "break on vector " << hex0x(*v) << "\n";
    } else {
      if (*v > 0xFFFF) {
        out << "error: port must be 0..0xffff\n";
        return;
      }
      dbg.set_port_break(static_cast<uint16_t>(*v), true);
      out << "break on I/O port " << hex0x(*v) << "\n";
    }
    return;
  }
  if (what == "cr3" && args.size() == 1 && !temporary) {
    dbg.set_cr3_break(true);
    out << "break on CR3 writes\n";
    return;
  }
  if (what == "mode" && args.size() == 1 && !temporary) {
    dbg.set_mode_break(true);
    out << "break on mode switches\n";
    return;
  }
  size_t first = 0;
  bool physical = false;
  if (what == "p" || what == "phys") {
    physical = true;
    first = 1;
  }
  size_t cond_at = args.size();
  for (size_t i = first; i < args.size(); ++i)
    if (args[i] == "if") {
      cond_at = i;
      break;
    }
  if (cond_at == first) {
    out << "error: breakpoint needs an address\n";
    return;
  }
  auto addr = eval_address(join(args, first, cond_at), out);
  if (!addr) return;
  std::string cond;
  if (cond_at < args.size()) {
    cond = join(args, cond_at + 1, args.size());
    if (cond.empty()) {
      out << "error: 'if' needs a condition\n";
      return;
    }
    std::string err;
    if (!evaluate_expression(cond, m_.cpu(), err, &symbols_)) {  // checked now, so a typo is caught here
      out << "error: condition: " << err << "\n";
      return;
    }
  }
  int id = dbg.add_breakpoint(*addr, physical, temporary);
  if (!cond.empty()) {
    DebugTraps::Breakpoint* b = dbg.breakpoint(id);
    b->condition_text = cond;
    Cpu& cpu = m_.cpu();
    // An expression that stops evaluating (it cannot, after the check above)
    // counts as true: better to stop than to run past.
    const SymbolTable* syms = &symbols_;
    b->condition = [&cpu, cond, syms] {
      std::string err;
      auto v = evaluate_expression(cond, cpu, err, syms);
      return !v || *v != 0;
    };
  }
  out << (temporary ? "temporary breakpoint " : "breakpoint ") << id << " at " << (physical ? "physical " : "")
      << hex0x(*addr) << (cond.empty() ? "" : " if " + cond) << "\n";
}

void Monitor::cmd_watch(const Args& args, WatchKind kind, std::ostream& out) {
  size_t first = 0;
  bool physical = false;
  if (!args.empty() && (args[0] == "p" || args[0] == "phys")) {
    physical = true;
    first = 1;
  }
  if (args.size() <= first || args.size() > first + 2) {
    out << "error: usage: watch|rwatch|awatch [p] ADDR [LEN]\n";
    return;
  }
  auto addr = eval_address(args[first], out);
  if (!addr) return;
  uint64_t len = 1;
  if (args.size() == first + 2) {
    auto l = eval(args[first + 1], out);
    if (!l) return;
    if (*l == 0 || *l > (1u << 20)) {
      out << "error: length must be 1..1048576\n";
      return;
    }
    len = *l;
  }
  int id = m_.cpu().debug().add_watchpoint(*addr, len, physical, kind);
  static constexpr const char* kNames[4] = {"", "write", "read", "access"};
  out << kNames[static_cast<unsigned>(kind)] << " watchpoint " << id << " at " << (physical ? "physical " : "")
      << hex0x(*addr) << " length " << len << "\n";
}

void Monitor::cmd_delete(const Args& args, std::ostream& out) {
  DebugTraps& dbg = m_.cpu().debug();
  if (args.empty()) {
    dbg.remove_all();
    out << "all breakpoints, watchpoints and event breaks deleted\n";
    return;
  }
  const std::string& what = args[0];
  if (what == "int" || what == "io") {
    auto v = args.size() > 1 ? eval(join(args, 1, args.size()), out) : std::nullopt;
    if (!v) {
      if (args.size() < 2) out << "error: usage: delete " << what << " N\n";
      return;
    }
    bool had = what == "int" ? (*v < 256 && dbg.vector_break(static_cast<unsigned>(*v)))
                             : std::find(dbg.port_breaks().begin(), dbg.port_breaks().end(), *v) != dbg.port_breaks().end();
    if (!had) {
      out << "error: no break on " << what << " " << hex0x(*v) << "\n";
      return;
    }
    if (what == "int") dbg.set_vector_break(static_cast<unsigned>(*v), false);
    else dbg.set_port_break(static_cast<uint16_t>(*v), false);
    out << "deleted\n";
    return;
  }
  if (what == "cr3") {
    dbg.set_cr3_break(false);
    out << "deleted\n";
    return;
  }
  if (what == "mode") {
    dbg.set_mode_break(false);
    out << "deleted\n";
    return;
  }
  for (const std::string& a : args) {
    auto id = eval(a, out);
    if (!id) return;
    if (!dbg.remove_breakpoint(static_cast<int>(*id)) && !dbg.remove_watchpoint(static_cast<int>(*id))) {
      out << "error: no breakpoint or watchpoint " << *id << "\n";
      return;
    }
    out << "deleted " << *id << "\n";
  }
}

void Monitor::cmd_info_break(std::ostream& out) {
  DebugTraps& dbg = m_.cpu().debug();
  bool any = false;
  for (const auto& b : dbg.breakpoints()) {
    if (b.internal) continue;
    any = true;
    out << b.id << ": " << (b.temporary ? "tbreak " : "break ") << (b.physical ? "physical " : "") << hex0x(b.addr)
        << (b.condition_text.empty() ? "" : " if " + b.condition_text) << "  hits " << b.hits << "\n";
  }
  static constexpr const char* kNames[4] = {"", "watch", "rwatch", "awatch"};
  for (const auto& w : dbg.watchpoints()) {
    any = true;
    out << w.id << ": " << kNames[static_cast<unsigned>(w.kind)] << " " << (w.physical ? "physical " : "")
        << hex0x(w.addr) << " length " << w.len << "  hits " << w.hits << "\n";
  }
  for (unsigned v = 0; v < 256; ++v)
    if (dbg.vector_break(v)) {
      any = true;
      out << "break on vector " << hex0x(v) << "\n";
    }
  for (uint16_t p : dbg.port_breaks()) {
    any = true;
    out << "break on I/O port " << hex0x(p) << "\n";
  }
  if (dbg.cr3_break()) out << "break on CR3 writes\n";
  if (dbg.mode_break()) out << "break on mode switches\n";
  if (!any && !dbg.cr3_break() && !dbg.mode_break()) out << "no breakpoints or watchpoints\n";
}

void Monitor::run_and_report(uint64_t max, std::ostream& out) {
  uint64_t before = m_.instructions_retired();
  auto t0 = std::chrono::steady_clock::now();
  ExitReason reason;
  if (trace_) {
    reason = run_traced(max, out);
  } else {
    RunOutcome r = run_guest(m_, max, interrupt_);
    if (r.reason == ExitReason::Breakpoint) out << describe_stop(r.stop) << "\n";
    reason = r.reason;
  }
  last_run_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  last_run_instructions_ = m_.instructions_retired() - before;
  report_stop(reason, before, out);
}

void Monitor::cmd_next(std::ostream& out) {
  // Step over CALL (and INT n): run to the instruction after it.
  const CpuState& s = m_.cpu().state();
  uint64_t pc = pc_linear(s);
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
  size_t n = 0;
  std::string err;
  for (; n < sizeof bytes; ++n)
    if (!read_linear(pc + n, bytes + n, 1, err)) break;
  ZydisDecoder dec;
  bool lma = (s.efer & EFER_LMA) && (s.cr0 & CR0_PE) && s.seg[CS].l();
  bool d32 = (s.cr0 & CR0_PE) && !(s.rflags & VM) && s.seg[CS].db();
  if (lma) ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  else if (d32) ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
  else ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
  ZydisDecodedInstruction insn;
  bool over = n && ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, nullptr, bytes, n, &insn)) &&
              (insn.mnemonic == ZYDIS_MNEMONIC_CALL || insn.mnemonic == ZYDIS_MNEMONIC_INT);
  if (!over) return run_and_report(1, out);
  DebugTraps& dbg = m_.cpu().debug();
  int id = dbg.add_breakpoint(pc + insn.length, false, false, true);
  run_and_report(0, out);
  dbg.remove_breakpoint(id);
}

void Monitor::cmd_until(const Args& args, std::ostream& out) {
  if (args.empty()) {
    out << "error: usage: until ADDR\n";
    return;
  }
  auto addr = eval_address(join(args, 0, args.size()), out);
  if (!addr) return;
  DebugTraps& dbg = m_.cpu().debug();
  int id = dbg.add_breakpoint(*addr, false, false, true);
  run_and_report(0, out);
  dbg.remove_breakpoint(id);
}

}  // namespace pc64
