// Monitor: symbols, instruction trace, memory search/dump/write, LDT/TSS,
// TLB, screen dumps and removable media.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "cpu/core.h"
#include "frontend/debug_control.h"
#include "frontend/monitor.h"
#include "frontend/screen.h"

namespace pc64 {

namespace {

uint64_t le(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned k = 0; k < n; ++k) v |= static_cast<uint64_t>(p[k]) << (8 * k);
  return v;
}

}  // namespace

void Monitor::cmd_sym(const Args& args, std::ostream& out) {
  if (args.empty()) {
    out << symbols_.size() << " symbols loaded (sym FILE adds an nm-style list, sym clear drops them)\n";
    return;
  }
  if (args[0] == "clear") {
    symbols_.clear();
    out << "symbols cleared\n";
    return;
  }
  std::string err;
  long n = symbols_.load(args[0], err);
  if (n < 0) out << "error: " << err << "\n";
  else out << n << " symbols loaded from " << args[0] << "\n";
}

// ---------------------------------------------------------------- trace

void Monitor::cmd_trace(const Args& args, std::ostream& out) {
  if (args.empty() || (args[0] != "on" && args[0] != "off") || args.size() > 2 || (args[0] == "off" && args.size() > 1)) {
    out << "error: usage: trace on [FILE] | trace off\n";
    return;
  }
  if (args[0] == "off") {
    trace_ = false;
    out << "trace off\n";
    return;
  }
  trace_file_ = args.size() > 1 ? args[1] : "";
  if (!trace_file_.empty()) {
    std::ofstream f(trace_file_, std::ios::trunc);
    if (!f) {
      out << "error: cannot write '" << trace_file_ << "'\n";
      return;
    }
  }
  trace_ = true;
  out << "trace on" << (trace_file_.empty() ? "" : " -> " + trace_file_) << " (s, c, next and until trace each instruction)\n";
}

ExitReason Monitor::run_traced(uint64_t max, std::ostream& out) {
  std::unique_ptr<std::ofstream> file;
  if (!trace_file_.empty()) file = std::make_unique<std::ofstream>(trace_file_, std::ios::app);
  std::ostream& t = file ? static_cast<std::ostream&>(*file) : out;
  static constexpr const char* kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                             "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  Cpu& cpu = m_.cpu();
  ExitReason r = ExitReason::None;
  for (uint64_t n = 0; max == 0 || n < max; ++n) {
    if (n % 1024 == 1023 && interrupt_ && interrupt_()) return ExitReason::Paused;
    CpuState before = cpu.state();
    uint64_t flags_before = cpu.rflags();
    uint64_t pc = pc_linear(before);
    std::string sym = symbols_.at(pc);
    if (!sym.empty()) t << sym << ":\n";
    disassemble_one(pc, t);
    // The first step may sit on a breakpoint it must run past; later ones stop at breakpoints.
    r = n == 0 ? run_guest(m_, 1).reason : m_.run(1);
    if (r == ExitReason::Breakpoint && n != 0) {
      out << describe_stop(cpu.debug().take_stop()) << "\n";
      return r;
    }
    const CpuState& after = cpu.state();
    std::string changes;
    for (unsigned k = 0; k < 16; ++k)
      if (after.gpr[k] != before.gpr[k]) changes += std::string(" ") + kNames[k] + "=" + hex0x(after.gpr[k]);
    if (uint64_t f = cpu.rflags(); f != flags_before) changes += " rflags=" + hex0x(f);
    for (unsigned k = 0; k < kSegCount; ++k)
      if (after.seg[k].selector != before.seg[k].selector) changes += " sreg" + std::to_string(k) + "=" + hex0x(after.seg[k].selector);
    if (!changes.empty()) t << "    " << changes << "\n";
    if (r != ExitReason::None) return r;
  }
  return r;
}

// ---------------------------------------------------------------- memory

// Parses "ADDR LEN" (both expressions without spaces) for find/dump.
void Monitor::cmd_find(const Args& args, std::ostream& out) {
  // find ADDR LEN BYTE... : linear range, byte values (0x.. or decimal) or "quoted text".
  if (args.size() < 3) {
    out << "error: usage: find ADDR LEN BYTE... | find ADDR LEN \"text\"\n";
    return;
  }
  auto addr = eval(args[0], out);
  if (!addr) return;
  auto len = eval(args[1], out);
  if (!len) return;
  if (*len == 0 || *len > (64u << 20)) {
    out << "error: length must be 1..64 MiB\n";
    return;
  }
  std::vector<uint8_t> pat;
  if (args[2].size() >= 2 && args[2].front() == '"') {
    std::string text;
    for (size_t i = 2; i < args.size(); ++i) text += (i > 2 ? " " : "") + args[i];
    if (text.size() < 2 || text.back() != '"') {
      out << "error: unterminated string\n";
      return;
    }
    pat.assign(text.begin() + 1, text.end() - 1);
  } else {
    for (size_t i = 2; i < args.size(); ++i) {
      auto v = eval(args[i], out);
      if (!v) return;
      if (*v > 255) {
        out << "error: " << args[i] << " is not a byte\n";
        return;
      }
      pat.push_back(static_cast<uint8_t>(*v));
    }
  }
  if (pat.empty() || pat.size() > *len) {
    out << "error: empty pattern or longer than the range\n";
    return;
  }
  // Page by page; unmapped pages are skipped (matches do not span them).
  unsigned found = 0;
  std::vector<uint8_t> buf;
  uint64_t a = *addr, end = *addr + *len;
  while (a < end && found < 100) {
    uint64_t chunk = std::min<uint64_t>(end - a, PhysicalMemory::kPageSize - (a & (PhysicalMemory::kPageSize - 1)));
    // Read this chunk plus the pattern's overhang into the next page when mapped.
    uint64_t want = std::min<uint64_t>(chunk + pat.size() - 1, end - a);
    buf.resize(want);
    std::string err;
    if (!debugger_read_linear(m_, a, buf.data(), want, err)) {
      want = chunk;
      if (!debugger_read_linear(m_, a, buf.data(), want, err)) {
        a += chunk;
        continue;
      }
    }
    for (uint64_t i = 0; i < chunk && i + pat.size() <= want; ++i)
      if (std::equal(pat.begin(), pat.end(), buf.begin() + static_cast<long>(i))) {
        out << "found at " << hex0x(a + i) << "\n";
        if (++found == 100) break;
      }
    a += chunk;
  }
  out << found << " match(es)" << (found == 100 ? " (stopped at 100)" : "") << "\n";
}

void Monitor::cmd_dump(const Args& args, std::ostream& out) {
  // dump [p] FILE ADDR LEN
  size_t f = 0;
  bool physical = !args.empty() && args[0] == "p";
  if (physical) f = 1;
  if (args.size() != f + 3) {
    out << "error: usage: dump [p] FILE ADDR LEN\n";
    return;
  }
  auto addr = eval(args[f + 1], out);
  if (!addr) return;
  auto len = eval(args[f + 2], out);
  if (!len) return;
  if (*len == 0 || *len > (256u << 20)) {
    out << "error: length must be 1..256 MiB\n";
    return;
  }
  std::vector<uint8_t> buf(*len);
  std::string err;
  if (physical ? !debugger_read_physical(m_, *addr, buf.data(), buf.size())
               : !debugger_read_linear(m_, *addr, buf.data(), buf.size(), err)) {
    out << "error: " << (err.empty() ? "range is not all RAM or ROM" : err) << "\n";
    return;
  }
  std::ofstream file(args[f], std::ios::binary | std::ios::trunc);
  if (!file.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()))) {
    out << "error: cannot write '" << args[f] << "'\n";
    return;
  }
  out << "wrote " << buf.size() << " bytes to " << args[f] << "\n";
}

void Monitor::cmd_write(const Args& args, std::ostream& out) {
  // write ADDR BYTE... (linear; RAM only)
  if (args.size() < 2) {
    out << "error: usage: write ADDR BYTE...\n";
    return;
  }
  auto addr = eval(args[0], out);
  if (!addr) return;
  std::vector<uint8_t> bytes;
  for (size_t i = 1; i < args.size(); ++i) {
    auto v = eval(args[i], out);
    if (!v) return;
    if (*v > 255) {
      out << "error: " << args[i] << " is not a byte\n";
      return;
    }
    bytes.push_back(static_cast<uint8_t>(*v));
  }
  std::string err;
  if (!debugger_write_linear(m_, *addr, bytes.data(), bytes.size(), err)) {
    out << "error: " << err << "\n";
    return;
  }
  out << "wrote " << bytes.size() << " byte(s) at " << hex0x(*addr) << "\n";
}

// ---------------------------------------------------------------- tables

void Monitor::cmd_ldt(std::ostream& out) {
  const CpuState& s = m_.cpu().state();
  if (!(s.cr0 & CR0_PE) || (s.ldtr.selector & ~3) == 0) {
    out << "no LDT loaded (ldtr=" << hex0x(s.ldtr.selector) << ")\n";
    return;
  }
  out << "LDT selector=" << hex0x(s.ldtr.selector) << " base=" << hex0x(s.ldtr.base) << " limit=" << hex0x(s.ldtr.limit)
      << "\n";
  for (uint64_t off = 0; off + 7 <= s.ldtr.limit && off < 0x10000; off += 8) {
    uint8_t d[8];
    std::string err;
    if (!debugger_read_linear(m_, s.ldtr.base + off, d, 8, err)) {
      out << "error: " << err << "\n";
      return;
    }
    uint64_t lo = le(d, 8);
    if (!lo) continue;
    uint64_t base = ((lo >> 16) & 0xFFFFFF) | ((lo >> 56) & 0xFF) << 24;
    uint64_t limit = (lo & 0xFFFF) | ((lo >> 48) & 0xF) << 16;
    if (lo >> 55 & 1) limit = (limit << 12) | 0xFFF;
    char b[128];
    std::snprintf(b, sizeof b, "%04x: %016" PRIx64 " base=%" PRIx64 " limit=%" PRIx64 " type=%x dpl=%u%s\n",
                  static_cast<unsigned>(off | 4), lo, base, limit, static_cast<unsigned>((lo >> 40) & 0x1F),
                  static_cast<unsigned>((lo >> 45) & 3), (lo >> 47 & 1) ? " P" : " not-present");
    out << b;
  }
}

void Monitor::cmd_tss(std::ostream& out) {
  const CpuState& s = m_.cpu().state();
  if (!(s.cr0 & CR0_PE) || (s.tr.selector & ~3) == 0) {
    out << "no task register loaded (tr=" << hex0x(s.tr.selector) << ")\n";
    return;
  }
  out << "TR selector=" << hex0x(s.tr.selector) << " base=" << hex0x(s.tr.base) << " limit=" << hex0x(s.tr.limit) << "\n";
  uint8_t t[104] = {};
  std::string err;
  size_t n = std::min<size_t>(sizeof t, s.tr.limit + 1);
  if (!debugger_read_linear(m_, s.tr.base, t, n, err)) {
    out << "error: " << err << "\n";
    return;
  }
  char b[200];
  if (s.efer & EFER_LMA) {
    // 64-bit TSS (SDM Vol. 3A figure 8-11): RSP0-2 at 4, IST1-7 at 0x24, I/O map base at 0x66.
    for (unsigned k = 0; k < 3; ++k) out << "rsp" << k << "=" << hex0x(le(t + 4 + 8 * k, 8)) << (k == 2 ? "\n" : "  ");
    for (unsigned k = 0; k < 7; ++k) out << "ist" << k + 1 << "=" << hex0x(le(t + 0x24 + 8 * k, 8)) << (k == 6 ? "\n" : "  ");
    out << "iomap base=" << hex0x(le(t + 0x66, 2)) << "\n";
    return;
  }
  if ((s.tr.attr & 0xF) == 0x9 || (s.tr.attr & 0xF) == 0xB) {
    // 32-bit TSS (SDM Vol. 3A figure 8-2).
    std::snprintf(b, sizeof b, "link=%04x esp0=%08x ss0=%04x esp1=%08x ss1=%04x esp2=%08x ss2=%04x cr3=%08x\n",
                  static_cast<unsigned>(le(t, 2)), static_cast<unsigned>(le(t + 4, 4)), static_cast<unsigned>(le(t + 8, 2)),
                  static_cast<unsigned>(le(t + 12, 4)), static_cast<unsigned>(le(t + 16, 2)),
                  static_cast<unsigned>(le(t + 20, 4)), static_cast<unsigned>(le(t + 24, 2)),
                  static_cast<unsigned>(le(t + 28, 4)));
    out << b;
    std::snprintf(b, sizeof b,
                  "eip=%08x eflags=%08x eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x edi=%08x\n",
                  static_cast<unsigned>(le(t + 32, 4)), static_cast<unsigned>(le(t + 36, 4)),
                  static_cast<unsigned>(le(t + 40, 4)), static_cast<unsigned>(le(t + 44, 4)),
                  static_cast<unsigned>(le(t + 48, 4)), static_cast<unsigned>(le(t + 52, 4)),
                  static_cast<unsigned>(le(t + 56, 4)), static_cast<unsigned>(le(t + 60, 4)),
                  static_cast<unsigned>(le(t + 64, 4)), static_cast<unsigned>(le(t + 68, 4)));
    out << b;
    std::snprintf(b, sizeof b, "es=%04x cs=%04x ss=%04x ds=%04x fs=%04x gs=%04x ldt=%04x T=%u iomap=%04x\n",
                  static_cast<unsigned>(le(t + 72, 2)), static_cast<unsigned>(le(t + 76, 2)),
                  static_cast<unsigned>(le(t + 80, 2)), static_cast<unsigned>(le(t + 84, 2)),
                  static_cast<unsigned>(le(t + 88, 2)), static_cast<unsigned>(le(t + 92, 2)),
                  static_cast<unsigned>(le(t + 96, 2)), static_cast<unsigned>(le(t + 100, 2) & 1),
                  static_cast<unsigned>(le(t + 102, 2)));
    out << b;
  } else {
    out << "16-bit TSS: sp0=" << hex0x(le(t + 2, 2)) << " ss0=" << hex0x(le(t + 4, 2)) << " ip=" << hex0x(le(t + 14, 2)) << "\n";
  }
}

void Monitor::cmd_tlb(std::ostream& out) {
  // The soft TLB's valid entries: linear page -> physical page, which
  // accesses may use the cached host pointer (r/w/x; '-': that access takes
  // the slow path, e.g. a code page's writes or an A/D bit still to set), the
  // size of the page the walk found, G for global. The soft TLB is a cache of
  // the guest's translations, flushed as the SDM allows a real TLB to be
  // (Vol. 3A 4.10): an address missing here is simply not cached.
  const SoftTlb& tlb = m_.cpu().core().tlb;
  uint64_t n = 0;
  char b[128];
  tlb.visit([&](bool user, const TlbEntry& e) {
    if (e.vpage == SoftTlb::kInvalidTag) return;
    const uint64_t size = ~e.vmask + 1;
    auto tag = [&](AccessKind k, char c) { return e.tag[static_cast<int>(k)] == e.vpage ? c : '-'; };
    std::snprintf(b, sizeof b, "%s %016" PRIx64 " -> %016" PRIx64 " %c%c%c %s%s\n", user ? "user" : "sup ", e.vpage,
                  e.paddr, tag(AccessKind::Read, 'r'), tag(AccessKind::Write, 'w'), tag(AccessKind::Execute, 'x'),
                  size >= (1ull << 30) ? "1G" : size >= (1ull << 21) ? (size == (1ull << 22) ? "4M" : "2M") : "4K",
                  e.global ? " G" : "");
    out << b;
    ++n;
  });
  out << n << " valid entries; soft TLB fills since power-on: " << m_.cpu().stats().tlb_fills << "\n";
}

// ---------------------------------------------------------------- screen and media

void Monitor::cmd_screendump(const Args& args, std::ostream& out) {
  if (args.size() != 1) {
    out << "error: usage: screendump FILE.png\n";
    return;
  }
  std::string err;
  if (!save_screenshot(m_, args[0], &err)) out << "error: " << err << "\n";
  else out << "screen written to " << args[0] << "\n";
}

void Monitor::cmd_media(const std::string& cmd, const Args& args_in, std::ostream& out) {
  // change cdrom FILE[,format=...] | eject [-f] cdrom  (as QEMU's HMP)
  bool change = cmd == "change";
  Args args = args_in;
  bool force = false;
  if (!change && !args.empty() && args[0] == "-f") {
    force = true;
    args.erase(args.begin());
  }
  if (args.empty() || args[0] != "cdrom" || args.size() != (change ? 2u : 1u)) {
    out << "error: usage: change cdrom FILE | eject [-f] cdrom\n";
    return;
  }
  if (!m_.board() || !m_.board()->cdrom) {
    out << "error: this machine has no CD-ROM drive\n";
    return;
  }
  try {
    if (change) {
      m_.board()->change_cdrom(args[1]);
      out << "cdrom: " << args[1] << " inserted (" << m_.board()->cdrom->sectors() << " sectors)\n";
    } else {
      m_.board()->eject_cdrom(force);
      out << "cdrom: ejected\n";
    }
  } catch (const std::exception& e) {
    // The old medium stays; the guest sees nothing.
    out << "error: " << e.what() << "\n";
  }
}

void Monitor::cmd_registers_fpu(std::ostream& out) {
  const FpuState& f = m_.cpu().state().fpu;
  char line[160];
  std::snprintf(line, sizeof line, "fcw=%04x fsw=%04x (top=%u) ftw=%02x fop=%03x fip=%04x:%016" PRIx64
                " fdp=%04x:%016" PRIx64 "\n", f.fcw, f.fsw, f.top(), f.ftw, f.fop, f.fcs, f.fip, f.fds, f.fdp);
  out << line;
  for (unsigned i = 0; i < 8; ++i) {
    const Float80& r = f.r[f.phys(i)];
    // The value as a host long double, computed from the fields so it does
    // not depend on the host's long double format.
    long double v = std::ldexp(static_cast<long double>(r.mant), static_cast<int>(r.exp()) - 16383 - 63);
    if (r.sign()) v = -v;
    std::snprintf(line, sizeof line, "st%u (r%u) %04x %016" PRIx64 "  %s%.18Lg\n", i, f.phys(i), r.se, r.mant,
                  f.st_empty(i) ? "empty " : "", v);
    out << line;
  }
}

void Monitor::cmd_registers_sse(std::ostream& out) {
  const FpuState& f = m_.cpu().state().fpu;
  char line[160];
  std::snprintf(line, sizeof line, "mxcsr=%08x xcr0=%016" PRIx64 "\n", f.mxcsr, f.xcr0);
  out << line;
  unsigned n = (m_.cpu().state().efer & EFER_LMA) ? 16 : 8;  // XMM8-15 exist in IA-32e mode
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(line, sizeof line, "xmm%-2u %016" PRIx64 "%016" PRIx64 "  (%g, %g)\n", i, f.xmm[i].u64[1],
                  f.xmm[i].u64[0], f.xmm[i].f64[1], f.xmm[i].f64[0]);
    out << line;
  }
}

void Monitor::cmd_reset(std::ostream& out) {
  m_.reset();
  out << "machine reset: CS:IP " << hex0x(m_.cpu().state().seg[CS].selector) << ":" << hex0x(m_.cpu().state().rip)
      << "\n";
}

void Monitor::cmd_syntax(const Args& args, std::ostream& out) {
  if (args.size() == 1 && (args[0] == "att" || args[0] == "intel")) {
    att_syntax_ = args[0] == "att";
    out << "disassembly in " << (att_syntax_ ? "AT&T" : "Intel") << " syntax\n";
  } else {
    out << "error: usage: syntax intel|att\n";
  }
}

}  // namespace pc64
