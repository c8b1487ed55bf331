#include "frontend/monitor.h"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "frontend/debug_control.h"
#include "frontend/expression.h"
#include "frontend/terminal.h"
#include "mem/paging.h"

namespace pc64 {

namespace {

std::string hex(uint64_t v, int width = 0) {
  char b[32];
  std::snprintf(b, sizeof b, "%0*" PRIx64, width, v);
  return b;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> r;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) r.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The code size the CPU decodes with now (SDM Vol. 3A 5.2.1): real and
// virtual-8086 mode 16-bit, 64-bit with EFER.LMA and CS.L, else CS.D.
unsigned code_bits(const CpuState& s) {
  if (!(s.cr0 & CR0_PE) || (s.rflags & VM)) return 16;
  if ((s.efer & EFER_LMA) && s.seg[CS].l()) return 64;
  return s.seg[CS].db() ? 32 : 16;
}

std::string rflags_text(uint64_t f) {
  static constexpr struct { uint64_t bit; const char* name; } kBits[] = {
      {ID, "ID"}, {VIP, "VIP"}, {VIF, "VIF"}, {AC, "AC"}, {VM, "VM"}, {RF, "RF"}, {NT, "NT"}, {OF, "OF"},
      {DF, "DF"}, {IF, "IF"}, {TF, "TF"}, {SF, "SF"}, {ZF, "ZF"}, {AF, "AF"}, {PF, "PF"}, {CF, "CF"}};
  std::string r = "[";
  for (auto& b : kBits)
    if (f & b.bit) r += std::string(r.size() > 1 ? " " : "") + b.name;
  r += " IOPL=" + std::to_string((f & IOPL) >> 12) + "]";
  return r;
}

std::string bits_text(uint64_t v, std::initializer_list<std::pair<uint64_t, const char*>> names) {
  std::string r;
  for (auto& [bit, name] : names)
    if (v & bit) r += std::string(r.empty() ? "" : " ") + name;
  return "[" + r + "]";
}

// Descriptor type names (SDM Vol. 3A tables 3-1 and 3-2).
std::string descriptor_type(unsigned type, bool s, bool long_mode) {
  if (s) {
    std::string r = (type & 8) ? "code" : "data";
    if (type & 8) {
      r += (type & 2) ? " RX" : " X";
      if (type & 4) r += " conforming";
    } else {
      r += (type & 2) ? " RW" : " R";
      if (type & 4) r += " expand-down";
    }
    if (type & 1) r += " accessed";
    return r;
  }
  static constexpr const char* kSys32[16] = {"reserved",      "tss16 avail", "ldt",        "tss16 busy",
                                             "call gate16",   "task gate",   "int gate16", "trap gate16",
                                             "reserved",      "tss32 avail", "reserved",   "tss32 busy",
                                             "call gate32",   "reserved",    "int gate32", "trap gate32"};
  static constexpr const char* kSys64[16] = {"reserved", "reserved", "ldt",        "reserved",
                                             "reserved", "reserved", "reserved",   "reserved",
                                             "reserved", "tss64 avail", "reserved", "tss64 busy",
                                             "call gate64", "reserved", "int gate64", "trap gate64"};
  return (long_mode ? kSys64 : kSys32)[type & 15];
}

}  // namespace

std::string Monitor::execute(std::string_view line) {
  std::ostringstream out;
  execute(line, out);
  return out.str();
}

std::optional<uint64_t> Monitor::eval(std::string_view text, std::ostream& out) {
  std::string err;
  auto v = evaluate_expression(text, m_.cpu(), err, &symbols_);
  if (!v) out << "error: " << err << "\n";
  return v;
}

void Monitor::execute(std::string_view line, std::ostream& out) {
  line = trim(line);
  if (line.empty()) return;
  size_t sp = 0;
  while (sp < line.size() && !std::isspace(static_cast<unsigned char>(line[sp])) && line[sp] != '/') ++sp;
  std::string cmd(line.substr(0, sp));
  std::string_view rest = line.substr(sp);
  std::string spec;  // "/Nfs" after x / xp
  if (!rest.empty() && rest[0] == '/') {
    size_t e = 0;
    while (e < rest.size() && !std::isspace(static_cast<unsigned char>(rest[e]))) ++e;
    spec = std::string(rest.substr(1, e - 1));
    rest = rest.substr(e);
  }
  Args args = split(rest);
  for (char& c : cmd) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  if (!spec.empty() && cmd != "x" && cmd != "xp") {
    out << "error: '/' format only applies to x and xp\n";
    return;
  }
  if (cmd == "help" || cmd == "h" || cmd == "?") cmd_help(out);
  else if (cmd == "r" || cmd == "registers" || cmd == "info_registers") {
    if (args.empty()) cmd_registers(out);
    else if (args.size() == 1 && args[0] == "fpu") cmd_registers_fpu(out);
    else if (args.size() == 1 && args[0] == "sse") cmd_registers_sse(out);
    else out << "error: usage: r [fpu|sse]\n";
  } else if (cmd == "reset") cmd_reset(out);
  else if (cmd == "syntax") cmd_syntax(args, out);
  else if (cmd == "set") cmd_set(rest, out);
  else if (cmd == "x") cmd_examine(spec, false, args, out);
  else if (cmd == "xp") cmd_examine(spec, true, args, out);
  else if (cmd == "u" || cmd == "disas" || cmd == "disassemble") cmd_disassemble(args, out);
  else if (cmd == "s" || cmd == "step" || cmd == "si") cmd_step(args, out);
  else if (cmd == "c" || cmd == "cont" || cmd == "continue") cmd_continue(args, out);
  else if (cmd == "page") cmd_page(args, out);
  else if (cmd == "gdt") cmd_gdt(out);
  else if (cmd == "idt") cmd_idt(out);
  else if (cmd == "info" || cmd == "i") cmd_info(args, out);
  else if (cmd == "count") cmd_count(out);
  else if (cmd == "post") cmd_info({"post"}, out);  // the issue's short form of `info post`
  else if (cmd == "b" || cmd == "break" || cmd == "bp") cmd_break(args, false, out);
  else if (cmd == "tb" || cmd == "tbreak") cmd_break(args, true, out);
  else if (cmd == "watch" || cmd == "w") cmd_watch(args, WatchKind::Write, out);
  else if (cmd == "rwatch") cmd_watch(args, WatchKind::Read, out);
  else if (cmd == "awatch") cmd_watch(args, WatchKind::Access, out);
  else if (cmd == "delete" || cmd == "d" || cmd == "del") cmd_delete(args, out);
  else if (cmd == "next" || cmd == "n") cmd_next(out);
  else if (cmd == "until") cmd_until(args, out);
  else if (cmd == "sym") cmd_sym(args, out);
  else if (cmd == "trace") cmd_trace(args, out);
  else if (cmd == "find") cmd_find(args, out);
  else if (cmd == "dump") cmd_dump(args, out);
  else if (cmd == "write") cmd_write(args, out);
  else if (cmd == "ldt") cmd_ldt(out);
  else if (cmd == "tss") cmd_tss(out);
  else if (cmd == "tlb") cmd_tlb(out);
  else if (cmd == "screendump") cmd_screendump(args, out);
  else if (cmd == "change" || cmd == "eject") cmd_media(cmd, args, out);
  else if (cmd == "savevm" || cmd == "loadvm")
    // Machine state files need every component's serialize() (DESIGN
    // "Every component serialises"), which does not exist yet.
    out << "error: " << cmd << " is not available yet (machine state files are not implemented)\n";
  else if (cmd == "p" || cmd == "pause") out << "the guest is paused\n";
  else if (cmd == "q" || cmd == "quit") {
    quit_ = true;
    out << "bye\n";
  } else {
    out << "error: unknown command '" << cmd << "' (try help)\n";
  }
}

void Monitor::cmd_help(std::ostream& out) {
  out << "r | registers            general, segment, control registers, EFER, GDTR/IDTR\n"
         "r fpu | r sse             x87 stack, control/status/tag words; XMM registers and MXCSR\n"
         "reset                     reset the machine (as the reset button); syntax intel|att for u\n"
         "set REG=EXPR              change a register (rax, eax, al, rip, rflags, cr3, efer, dr0 ...)\n"
         "x/Nfs ADDR                examine linear memory: N count, f = x|d|c, s = b|w|d|q (also h, g)\n"
         "xp/Nfs ADDR               the same on physical memory\n"
         "u | disas [ADDR [N]]      disassemble N (default 10) instructions at ADDR (default CS:RIP)\n"
         "s | step [N]              execute N (default 1) instructions\n"
         "c | continue [N]          run (up to N instructions) until a breakpoint; Ctrl-C or p pauses\n"
         "next | n                  step over a call; until ADDR: run to ADDR\n"
         "b [p] ADDR [if COND]      breakpoint (linear, SEG:OFF, or physical with p); tb: one-shot\n"
         "b int N | io PORT | cr3 | mode   break on a vector, port access, CR3 write, mode switch\n"
         "watch|rwatch|awatch [p] ADDR [LEN]  write / read / access watchpoint (linear or physical)\n"
         "delete [N | int N | io PORT | cr3 | mode]   remove (all); info break lists them\n"
         "page ADDR                 page walk of a linear address, every level's entry and flags\n"
         "gdt | idt                 decoded descriptor tables\n"
         "info pic|pit|rtc|lapic|ioapic|pci   device state\n"
         "count                     instructions retired\n"
         "q | quit                  leave the monitor\n"
         "sym FILE | sym clear        load an nm-style symbol list (names in expressions and u)\n"
         "trace on [FILE] | trace off  one line per executed instruction with changed registers\n"
         "find ADDR LEN BYTE...|\"txt\"  search linear memory; write ADDR BYTE...: patch RAM\n"
         "dump [p] FILE ADDR LEN      save memory to a file\n"
         "ldt | tss | tlb             LDT entries, the current TSS, the soft TLB's valid entries\n"
         "savevm FILE | loadvm FILE machine state files: not available yet\n"
         "screendump FILE.png         the screen as PNG; change cdrom FILE | eject cdrom\n"
         "info ide|vga|serial|post|cmos  more device state (post: also alone); info break lists breakpoints\n"
         "Expressions: registers, symbols, 0x hex, decimal, + - * ( ), == != < > <= >= & | && ||.\n";
}

// ---------------------------------------------------------------- state

void Monitor::cmd_registers(std::ostream& out) {
  Cpu& cpu = m_.cpu();
  uint64_t flags = cpu.rflags();  // folds lazy flags; the value is unchanged
  const CpuState& s = cpu.state();
  static constexpr const char* kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                             "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  // Print in the familiar a/b/c/d order.
  static constexpr unsigned kOrder[16] = {RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8, R9, R10, R11, R12, R13, R14, R15};
  char b[160];
  for (unsigned i = 0; i < 16; ++i) {
    unsigned r = kOrder[i];
    std::snprintf(b, sizeof b, "%-3s=%016" PRIx64 "%s", kNames[r], s.gpr[r], (i % 4 == 3) ? "\n" : "  ");
    out << b;
  }
  std::snprintf(b, sizeof b, "rip=%016" PRIx64 "  rflags=%016" PRIx64 " ", s.rip, flags);
  out << b << rflags_text(flags) << "  cpl=" << s.cpl << "  mode=" << code_bits(s) << "-bit\n";
  static constexpr const char* kSeg[kSegCount] = {"es", "cs", "ss", "ds", "fs", "gs"};
  auto seg_line = [&](const char* name, const Segment& g) {
    std::snprintf(b, sizeof b, "%-4s=%04x base=%016" PRIx64 " limit=%08x attr=%04x", name, g.selector, g.base,
                  g.limit, g.attr);
    out << b;
    if (!g.present()) out << " (not present)";
    else out << " " << descriptor_type(g.type(), g.s(), s.efer & EFER_LMA) << " dpl=" << g.dpl()
             << (g.l() ? " L" : "") << (g.db() ? " D" : "") << (g.g() ? " G" : "");
    out << "\n";
  };
  for (unsigned i = 0; i < kSegCount; ++i) seg_line(kSeg[i], s.seg[i]);
  seg_line("ldtr", s.ldtr);
  seg_line("tr", s.tr);
  std::snprintf(b, sizeof b, "gdtr base=%016" PRIx64 " limit=%04x   idtr base=%016" PRIx64 " limit=%04x\n", s.gdtr.base,
                s.gdtr.limit, s.idtr.base, s.idtr.limit);
  out << b;
  out << "cr0=" << hex(s.cr0, 16) << " "
      << bits_text(s.cr0, {{CR0_PG, "PG"}, {CR0_CD, "CD"}, {CR0_NW, "NW"}, {CR0_AM, "AM"}, {CR0_WP, "WP"},
                           {CR0_NE, "NE"}, {CR0_ET, "ET"}, {CR0_TS, "TS"}, {CR0_EM, "EM"}, {CR0_MP, "MP"},
                           {CR0_PE, "PE"}})
      << "\n";
  out << "cr2=" << hex(s.cr2, 16) << "  cr3=" << hex(s.cr3, 16) << "  cr8=" << hex(s.cr8) << "\n";
  out << "cr4=" << hex(s.cr4, 16) << " "
      << bits_text(s.cr4, {{1ULL << 21, "SMAP"}, {1ULL << 20, "SMEP"}, {1ULL << 18, "OSXSAVE"}, {1ULL << 17, "PCIDE"},
                           {1ULL << 16, "FSGSBASE"}, {1ULL << 12, "LA57"}, {1ULL << 11, "UMIP"},
                           {CR4_OSXMMEXCPT, "OSXMMEXCPT"}, {CR4_OSFXSR, "OSFXSR"}, {CR4_PCE, "PCE"}, {CR4_PGE, "PGE"},
                           {CR4_MCE, "MCE"}, {CR4_PAE, "PAE"}, {CR4_PSE, "PSE"}, {CR4_DE, "DE"}, {CR4_TSD, "TSD"},
                           {CR4_PVI, "PVI"}, {CR4_VME, "VME"}})
      << "\n";
  out << "efer=" << hex(s.efer, 16) << " "
      << bits_text(s.efer, {{EFER_NXE, "NXE"}, {EFER_LMA, "LMA"}, {EFER_LME, "LME"}, {EFER_SCE, "SCE"}}) << "\n";
  out << "dr0=" << hex(s.dr[0], 16) << " dr1=" << hex(s.dr[1], 16) << " dr2=" << hex(s.dr[2], 16)
      << " dr3=" << hex(s.dr[3], 16) << "\ndr6=" << hex(s.dr[6], 16) << " dr7=" << hex(s.dr[7], 16) << "\n";
}

void Monitor::cmd_set(std::string_view rest, std::ostream& out) {
  size_t eq = rest.find('=');
  if (eq == std::string_view::npos) {
    out << "error: usage: set REG=EXPR\n";
    return;
  }
  std::string name(trim(rest.substr(0, eq)));
  auto reg = find_register(name);
  if (!reg) {
    out << "error: unknown register '" << name << "'\n";
    return;
  }
  auto v = eval(rest.substr(eq + 1), out);
  if (!v) return;
  std::string err;
  if (!write_register(m_.cpu(), *reg, *v, err)) {
    out << "error: " << err << "\n";
    return;
  }
  out << name << "=" << hex(read_register(m_.cpu(), *reg)) << "\n";
}

// ---------------------------------------------------------------- memory

bool Monitor::read_physical(uint64_t paddr, uint8_t* dst, size_t n) { return debugger_read_physical(m_, paddr, dst, n); }

bool Monitor::translate(uint64_t linear, uint64_t& paddr, std::string& error) {
  return debugger_translate(m_, linear, paddr, error);
}

bool Monitor::read_linear(uint64_t linear, uint8_t* dst, size_t n, std::string& error) {
  return debugger_read_linear(m_, linear, dst, n, error);
}

void Monitor::cmd_examine(std::string_view spec, bool physical, const Args& args, std::ostream& out) {
  // Spec: [N][f][s]; 'd' alone means decimal (as in gdb), "dd" = decimal dwords.
  size_t p = 0;
  uint64_t count = 0;
  while (p < spec.size() && std::isdigit(static_cast<unsigned char>(spec[p])) && count < 1000000)
    count = count * 10 + (spec[p++] - '0');
  if (p == 0) count = 1;
  char fmt = 'x';
  unsigned size = 1;
  std::string letters(spec.substr(p));
  auto size_of = [](char c) -> unsigned {
    switch (c) {
      case 'b': return 1;
      case 'w': case 'h': return 2;
      case 'd': return 4;
      case 'q': case 'g': return 8;
      default: return 0;
    }
  };
  bool ok = true;
  if (letters.size() == 1) {
    char c = letters[0];
    if (std::strchr("xducoi", c)) fmt = c;
    else if (size_of(c)) size = size_of(c);
    else ok = false;
  } else if (letters.size() == 2) {
    fmt = letters[0];
    size = size_of(letters[1]);
    ok = std::strchr("xduco", fmt) && size;
  } else if (!letters.empty()) {
    ok = false;
  }
  if (!ok) {
    out << "error: bad format '/" << spec << "' (x/Nfs: f = x|d|u|o|c|i, s = b|w|d|q)\n";
    return;
  }
  if (fmt == 'i') {  // instructions: what u does
    if (physical || args.empty() || count > 10000) {
      out << "error: x/Ni takes a linear address and N <= 10000\n";
      return;
    }
    return cmd_disassemble({args[0], std::to_string(count)}, out);
  }
  if (fmt == 'c') size = 1;
  if (count == 0 || count * size > 65536) {
    out << "error: count must be 1.." << 65536 / size << "\n";
    return;
  }
  if (args.empty()) {
    out << "error: usage: " << (physical ? "xp" : "x") << "/Nfs ADDR\n";
    return;
  }
  std::string joined;
  for (auto& a : args) joined += a + " ";
  auto addr = eval(joined, out);
  if (!addr) return;
  std::vector<uint8_t> buf(count * size);
  if (physical) {
    if (!read_physical(*addr, buf.data(), buf.size())) {
      out << "error: physical range " << hex(*addr) << "+" << hex(buf.size()) << " is not all RAM or ROM\n";
      return;
    }
  } else {
    std::string err;
    if (!read_linear(*addr, buf.data(), buf.size(), err)) {
      out << "error: " << err << "\n";
      return;
    }
  }
  unsigned per_line = fmt == 'c' ? 16 : 16 / size;
  for (uint64_t i = 0; i < count; ++i) {
    if (i % per_line == 0) {
      if (i) out << "\n";
      out << hex(*addr + i * size, 16) << ":";
    }
    uint64_t v = 0;
    for (unsigned k = 0; k < size; ++k) v |= static_cast<uint64_t>(buf[i * size + k]) << (8 * k);
    if (fmt == 'x') out << " " << hex(v, static_cast<int>(size * 2));
    else if (fmt == 'd') out << " " << (size == 8 ? static_cast<int64_t>(v) : static_cast<int64_t>(v << (64 - 8 * size)) >> (64 - 8 * size));
    else if (fmt == 'u') out << " " << v;
    else if (fmt == 'o') out << " 0" << std::oct << v << std::dec;
    else out << (i % per_line == 0 ? " " : "") << (std::isprint(static_cast<int>(v)) ? static_cast<char>(v) : '.');
  }
  out << "\n";
}

// ---------------------------------------------------------------- code

unsigned Monitor::disassemble_one(uint64_t linear, std::ostream& out) {
  const CpuState& s = m_.cpu().state();
  unsigned bits = code_bits(s);
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
  size_t n = 0;
  std::string err;
  // Read byte by byte so an instruction at the end of a mapped page still decodes if it fits.
  for (; n < sizeof bytes; ++n)
    if (!read_linear(linear + n, bytes + n, 1, err)) break;
  out << hex(linear, 16) << ": ";
  if (n == 0) {
    out << "error: " << err << "\n";
    return 0;
  }
  ZydisDecoder dec;
  if (bits == 64) ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  else if (bits == 32) ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
  else ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &insn, ops))) {
    out << hex(bytes[0], 2) << std::string(28, ' ') << "(bad)\n";
    return 1;
  }
  ZydisFormatter fmt;
  ZydisFormatterInit(&fmt, att_syntax_ ? ZYDIS_FORMATTER_STYLE_ATT : ZYDIS_FORMATTER_STYLE_INTEL);
  char text[256];
  // Branch targets are shown as linear addresses (for 16/32-bit code with a
  // CS base this is base+offset, which is what `u` and `x` take anyway).
  ZydisFormatterFormatInstruction(&fmt, &insn, ops, insn.operand_count_visible, text, sizeof text, linear, ZYAN_NULL);
  std::string hexbytes;
  for (unsigned i = 0; i < insn.length; ++i) hexbytes += hex(bytes[i], 2);
  if (hexbytes.size() < 30) hexbytes.resize(30, ' ');
  out << hexbytes << text << "\n";
  return insn.length;
}

void Monitor::cmd_disassemble(const Args& args, std::ostream& out) {
  const CpuState& s = m_.cpu().state();
  uint64_t addr = s.seg[CS].base + s.rip;
  if (code_bits(s) != 64) addr &= 0xFFFFFFFFULL;
  uint64_t count = 10;
  if (!args.empty()) {
    auto a = eval(args[0], out);
    if (!a) return;
    addr = *a;
  }
  if (args.size() > 1) {
    auto c = eval(args[1], out);
    if (!c) return;
    if (*c == 0 || *c > 10000) {
      out << "error: count must be 1..10000\n";
      return;
    }
    count = *c;
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (std::string sym = symbols_.at(addr); !sym.empty()) out << sym << ":\n";
    unsigned len = disassemble_one(addr, out);
    if (!len) return;
    addr += len;
  }
}

// ---------------------------------------------------------------- run control

void Monitor::report_stop(ExitReason r, uint64_t before, std::ostream& out) {
  out << "executed " << (m_.instructions_retired() - before) << " instruction(s)";
  if (r != ExitReason::None) out << ", stopped: " << describe(r);
  if (m_.cpu().halted()) out << " (cpu halted)";
  out << "\n";
  const CpuState& s = m_.cpu().state();
  uint64_t addr = s.seg[CS].base + s.rip;
  if (code_bits(s) != 64) addr &= 0xFFFFFFFFULL;
  disassemble_one(addr, out);
}

void Monitor::cmd_step(const Args& args, std::ostream& out) {
  uint64_t n = 1;
  if (!args.empty()) {
    auto v = eval(args[0], out);
    if (!v) return;
    n = *v;
  }
  if (n == 0) {
    out << "error: step count must be at least 1\n";
    return;
  }
  run_and_report(n, out);
}

void Monitor::cmd_continue(const Args& args, std::ostream& out) {
  // Without a limit: until a breakpoint, the guest stops, or a pause (Ctrl-C, p).
  uint64_t limit = 0;
  if (!args.empty()) {
    auto v = eval(args[0], out);
    if (!v) return;
    if (*v == 0) {
      out << "error: instruction limit must be at least 1\n";
      return;
    }
    limit = *v;
  }
  run_and_report(limit, out);
}

void Monitor::cmd_count(std::ostream& out) {
  out << "instructions retired: " << m_.instructions_retired() << "\n";
  char b[160];
  if (last_run_seconds_ > 0) {
    std::snprintf(b, sizeof b, "last run: %" PRIu64 " instructions in %.3f s = %.1f MIPS\n", last_run_instructions_,
                  last_run_seconds_, last_run_instructions_ / last_run_seconds_ / 1e6);
    out << b;
  }
  Cpu::Stats st = m_.cpu().stats();
  std::snprintf(b, sizeof b, "decoded blocks cached: %" PRIu64 "  TLB fills: %" PRIu64 "  #UD (unimplemented): %" PRIu64 "\n",
                st.blocks, st.tlb_fills, m_.cpu().undefined_opcode_count());
  out << b;
}

// ---------------------------------------------------------------- paging

void Monitor::cmd_page(const Args& args, std::ostream& out) {
  if (args.empty()) {
    out << "error: usage: page ADDR\n";
    return;
  }
  std::string joined;
  for (auto& a : args) joined += a + " ";
  auto lin = eval(joined, out);
  if (!lin) return;
  const CpuState& s = m_.cpu().state();
  uint64_t linear = *lin;
  if (!(s.cr0 & CR0_PG)) {
    out << "paging disabled: linear " << hex(linear) << " = physical " << hex(linear & 0xFFFFFFFFULL) << "\n";
    return;
  }
  bool lma = s.efer & EFER_LMA;
  bool pae = lma || (s.cr4 & CR4_PAE);
  bool nxe = s.efer & EFER_NXE;
  if (lma && !is_canonical48(linear)) {
    out << "error: address " << hex(linear) << " is not canonical\n";
    return;
  }
  // Walk the levels by hand, read-only, to show each entry (SDM 4.3-4.5).
  constexpr uint64_t kAddr52 = 0x000FFFFFFFFFF000ULL;
  auto flags = [&](uint64_t e, bool leaf, bool ps_allowed) {
    std::string r;
    auto add = [&](bool on, const char* n) {
      if (on) r += std::string(r.empty() ? "" : " ") + n;
    };
    add(e & 1, "P");
    add(e & 2, "RW");
    add(e & 4, "US");
    add(e & 8, "PWT");
    add(e & 16, "PCD");
    add(e & 32, "A");
    add(leaf && (e & 64), "D");
    add(ps_allowed && (e & 128), "PS");
    add(leaf && (e & 256), "G");
    add(pae && nxe && (e >> 63), "XD");
    return "[" + r + "]";
  };
  struct Level {
    const char* name;
    unsigned shift;
    unsigned index_bits;
    bool ps_allowed;
  };
  std::vector<Level> levels;
  uint64_t table;
  unsigned entry_size = pae ? 8 : 4;
  if (lma) {
    levels = {{"PML4E", 39, 9, false}, {"PDPTE", 30, 9, true}, {"PDE", 21, 9, true}, {"PTE", 12, 9, false}};
    table = s.cr3 & kAddr52;
    out << "4-level paging, cr3=" << hex(s.cr3) << "\n";
  } else if (pae) {
    levels = {{"PDPTE", 30, 2, false}, {"PDE", 21, 9, true}, {"PTE", 12, 9, false}};
    table = s.cr3 & 0xFFFFFFE0ULL;
    linear &= 0xFFFFFFFFULL;
    out << "PAE paging, cr3=" << hex(s.cr3) << "\n";
  } else {
    levels = {{"PDE", 22, 10, bool(s.cr4 & CR4_PSE)}, {"PTE", 12, 10, false}};
    table = s.cr3 & 0xFFFFF000ULL;
    linear &= 0xFFFFFFFFULL;
    out << "32-bit paging, cr3=" << hex(s.cr3) << "\n";
  }
  bool complete = false;
  for (size_t li = 0; li < levels.size(); ++li) {
    const Level& L = levels[li];
    uint64_t idx = (linear >> L.shift) & ((1ULL << L.index_bits) - 1);
    uint64_t ea = table + idx * entry_size;
    uint8_t raw[8] = {};
    if (!read_physical(ea, raw, entry_size)) {
      out << L.name << "[" << idx << "] @" << hex(ea) << ": not in RAM\n";
      break;
    }
    uint64_t e = 0;
    for (unsigned k = 0; k < entry_size; ++k) e |= static_cast<uint64_t>(raw[k]) << (8 * k);
    bool last = li + 1 == levels.size();
    bool big = L.ps_allowed && (e & 128);
    out << L.name << "[" << idx << "] @" << hex(ea, pae ? 10 : 8) << " = " << hex(e, static_cast<int>(entry_size * 2))
        << " " << flags(e, last || big, L.ps_allowed) << "\n";
    if (!(e & 1)) {
      out << "not present at " << L.name << "\n";
      break;
    }
    if (last || big) {
      uint64_t page = 1ULL << L.shift;
      uint64_t base;
      if (!pae && big)  // 4 MiB page, PSE-36: bits 20:13 hold address bits 39:32 (SDM 4.3)
        base = (e & 0xFFC00000ULL) | ((e >> 13) & 0xFFULL) << 32;
      else
        base = e & kAddr52 & ~(page - 1);
      out << "page " << hex(base) << " size " << (page >> 10) << " KiB -> physical "
          << hex(base + (linear & (page - 1))) << "\n";
      complete = true;
      break;
    }
    table = pae ? (e & kAddr52) : (e & 0xFFFFF000ULL);
  }
  // The reference walker's verdict (permissions and reserved bits included).
  WalkResult w = walk_page_tables(m_.memory(), debugger_paging_control(s), *lin, AccessKind::Read, false, false);
  if (w.ok)
    out << "walk: " << hex(*lin) << " -> " << hex(w.paddr) << (w.writable ? " writable" : " read-only")
        << (w.user ? " user" : " supervisor") << (w.executable ? " executable" : " no-execute") << "\n";
  else
    out << "walk: #PF error code " << hex(w.error_code) << (complete ? " (reserved bits?)" : "") << "\n";
}

// ---------------------------------------------------------------- descriptor tables

void Monitor::cmd_gdt(std::ostream& out) {
  const CpuState& s = m_.cpu().state();
  bool lma = s.efer & EFER_LMA;
  out << "GDT base=" << hex(s.gdtr.base) << " limit=" << hex(s.gdtr.limit) << "\n";
  for (uint64_t off = 0; off + 7 <= s.gdtr.limit;) {
    uint8_t d[16] = {};
    std::string err;
    if (!read_linear(s.gdtr.base + off, d, 8, err)) {
      out << "error: " << err << "\n";
      return;
    }
    uint64_t lo = 0;
    for (int k = 0; k < 8; ++k) lo |= static_cast<uint64_t>(d[k]) << (8 * k);
    unsigned step = 8;
    char sel[8];
    std::snprintf(sel, sizeof sel, "%04x", static_cast<unsigned>(off));
    if (lo == 0) {
      off += step;
      continue;
    }
    // SDM Vol. 3A 3.4.5: base 15:0 @16, 23:16 @32, 31:24 @56; limit 15:0, 19:16 @48.
    uint64_t base = ((lo >> 16) & 0xFFFFFF) | ((lo >> 56) & 0xFF) << 24;
    uint32_t limit = static_cast<uint32_t>((lo & 0xFFFF) | ((lo >> 48) & 0xF) << 16);
    unsigned access = (lo >> 40) & 0xFF, flags = (lo >> 52) & 0xF;
    bool sbit = access & 0x10;
    unsigned type = access & 0xF;
    // In long mode LDT and TSS descriptors are 16 bytes (SDM 7.2.3, 8.2.3).
    if (lma && !sbit && (type == 2 || type == 9 || type == 11)) {
      if (off + 15 <= s.gdtr.limit && read_linear(s.gdtr.base + off + 8, d + 8, 8, err))
        base |= static_cast<uint64_t>(d[8] | d[9] << 8 | d[10] << 16 | static_cast<uint32_t>(d[11]) << 24) << 32;
      step = 16;
    }
    if (flags & 8) limit = (limit << 12) | 0xFFF;
    out << sel << ": " << hex(lo, 16) << " base=" << hex(base) << " limit=" << hex(limit) << " "
        << descriptor_type(type, sbit, lma) << " dpl=" << ((access >> 5) & 3) << ((access & 0x80) ? " P" : " not-present")
        << ((flags & 2) && sbit ? " L" : "") << ((flags & 4) ? " D" : "") << ((flags & 8) ? " G" : "") << "\n";
    off += step;
  }
}

void Monitor::cmd_idt(std::ostream& out) {
  const CpuState& s = m_.cpu().state();
  std::string err;
  if (!(s.cr0 & CR0_PE)) {
    // Real mode: the IVT, 4-byte segment:offset vectors (SDM 20.1.4).
    out << "IVT base=" << hex(s.idtr.base) << " limit=" << hex(s.idtr.limit) << "\n";
    for (uint64_t v = 0; v < 256 && v * 4 + 3 <= s.idtr.limit; ++v) {
      uint8_t d[4];
      if (!read_linear(s.idtr.base + v * 4, d, 4, err)) {
        out << "error: " << err << "\n";
        return;
      }
      char b[48];
      std::snprintf(b, sizeof b, "%02x: %04x:%04x\n", static_cast<unsigned>(v), d[2] | d[3] << 8, d[0] | d[1] << 8);
      out << b;
    }
    return;
  }
  bool lma = s.efer & EFER_LMA;
  unsigned size = lma ? 16 : 8;  // SDM 6.14.1: 16-byte gates in IA-32e mode
  out << "IDT base=" << hex(s.idtr.base) << " limit=" << hex(s.idtr.limit) << "\n";
  for (uint64_t v = 0; v < 256 && v * size + size - 1 <= s.idtr.limit; ++v) {
    uint8_t d[16] = {};
    if (!read_linear(s.idtr.base + v * size, d, size, err)) {
      out << "error: " << err << "\n";
      return;
    }
    uint64_t lo = 0, hi = 0;
    for (int k = 0; k < 8; ++k) lo |= static_cast<uint64_t>(d[k]) << (8 * k);
    for (unsigned k = 8; k < size; ++k) hi |= static_cast<uint64_t>(d[k]) << (8 * (k - 8));
    if (lo == 0 && hi == 0) continue;
    unsigned access = (lo >> 40) & 0xFF;
    uint64_t offset = (lo & 0xFFFF) | ((lo >> 48) & 0xFFFF) << 16 | (lma ? (hi & 0xFFFFFFFF) << 32 : 0);
    char b[32];
    std::snprintf(b, sizeof b, "%02x: ", static_cast<unsigned>(v));
    out << b << hex((lo >> 16) & 0xFFFF, 4) << ":" << hex(offset) << " "
        << descriptor_type(access & 0xF, access & 0x10, lma) << " dpl=" << ((access >> 5) & 3)
        << ((access & 0x80) ? " P" : " not-present");
    if (lma && (lo >> 32 & 7)) out << " ist=" << ((lo >> 32) & 7);
    out << "\n";
  }
}

// ---------------------------------------------------------------- devices

void Monitor::cmd_info(const Args& args, std::ostream& out) {
  if (args.empty()) {
    out << "error: usage: info pic|pit|rtc|lapic|ioapic|pci\n";
    return;
  }
  const std::string& what = args[0];
  if (what == "registers" || what == "r") return cmd_registers(out);
  if (what == "break" || what == "b" || what == "breakpoints" || what == "watch") return cmd_info_break(out);
  PcBoard* board = m_.board();
  if (!board) {
    out << "error: this machine has no PC devices\n";
    return;
  }
  char b[200];
  if (what == "pic" && board->pic) {
    Pic8259& p = *board->pic;
    for (unsigned c = 0; c < 2; ++c) {
      std::snprintf(b, sizeof b, "%s: irr=%02x isr=%02x imr=%02x base=%02x elcr=%02x%s\n", c ? "slave " : "master",
                    p.irr(c), p.isr(c), p.imr(c), p.vector_base(c), p.elcr(c), p.initialized(c) ? "" : " (in ICW sequence)");
      out << b;
    }
    out << "intr pending: " << (p.intr_pending() ? "yes" : "no") << "\n";
  } else if (what == "pit" && board->pit) {
    Pit8254& p = *board->pit;
    for (unsigned c = 0; c < 3; ++c) {
      std::snprintf(b, sizeof b, "channel %u: mode=%u gate=%u\n", c, p.mode(c), p.gate(c) ? 1 : 0);
      out << b;
    }
    out << "speaker: " << (p.speaker_enabled() ? "on" : "off") << "\n";
  } else if (what == "rtc" && board->rtc) {
    RtcCmos& r = *board->rtc;
    std::snprintf(b, sizeof b, "time=%lld (unix)  A=%02x B=%02x C=%02x D=%02x  irq=%u nmi-masked=%u\n",
                  static_cast<long long>(r.unix_time()), r.cmos(0x0A), r.cmos(0x0B), r.cmos(0x0C), r.cmos(0x0D),
                  r.irq_level() ? 1 : 0, r.nmi_masked() ? 1 : 0);
    out << b;
  } else if (what == "lapic" && board->lapic) {
    LocalApic& l = *board->lapic;
    // read_register has no side effects (unlike an MMIO read of EOI writes);
    // register offsets from SDM Vol. 3A table 11-1.
    std::snprintf(b, sizeof b, "id=%u base_msr=%016" PRIx64 " %s%s tpr=%02x ppr=%02x svr=%08x esr=%08x\n",
                  l.apic_id(), l.apic_base_msr(), l.hardware_enabled() ? "enabled" : "disabled",
                  l.software_enabled() ? "" : " (software-disabled)", l.tpr(), l.read_register(0xA0),
                  l.read_register(0xF0), l.read_register(0x280));
    out << b;
    static constexpr struct { uint32_t reg; const char* name; } kLvt[] = {
        {0x320, "timer"}, {0x330, "thermal"}, {0x340, "perf"}, {0x350, "lint0"}, {0x360, "lint1"}, {0x370, "error"}};
    for (auto& v : kLvt) {
      uint32_t x = l.read_register(v.reg);
      std::snprintf(b, sizeof b, "lvt %-7s=%08x vector=%02x%s\n", v.name, x, x & 0xFF, (x >> 16 & 1) ? " masked" : "");
      out << b;
    }
    std::snprintf(b, sizeof b, "timer initial=%08x current=%08x divide=%08x\n", l.read_register(0x380),
                  l.read_register(0x390), l.read_register(0x3E0));
    out << b;
    for (const char* nm : {"isr", "tmr", "irr"}) {
      uint32_t base = nm[0] == 'i' && nm[1] == 's' ? 0x100 : nm[0] == 't' ? 0x180 : 0x200;
      out << nm << "=";
      for (int i = 7; i >= 0; --i) out << hex(l.read_register(base + 0x10 * i), 8);
      out << "\n";
    }
  } else if (what == "ioapic" && board->ioapic) {
    IoApic& io = *board->ioapic;
    for (unsigned pin = 0; pin < IoApic::kPins; ++pin) {
      uint64_t e = io.redirection_entry(pin);
      // 82093AA data sheet 3.2.4: vector 7:0, delivery mode 10:8, dest mode 11,
      // status 12, polarity 13, remote IRR 14, trigger 15, mask 16, dest 63:56.
      std::snprintf(b, sizeof b, "pin %2u: %016" PRIx64 " vec=%02x dm=%u %s %s %s%s%s dest=%02x level=%u\n", pin, e,
                    static_cast<unsigned>(e & 0xFF), static_cast<unsigned>(e >> 8 & 7), (e >> 11 & 1) ? "logical" : "physical",
                    (e >> 13 & 1) ? "active-low" : "active-high", (e >> 15 & 1) ? "level" : "edge",
                    (e >> 14 & 1) ? " remote-irr" : "", (e >> 16 & 1) ? " masked" : "",
                    static_cast<unsigned>(e >> 56), io.pin_level(pin) ? 1 : 0);
      out << b;
    }
  } else if (what == "pci" && board->pci) {
    for (unsigned dev = 0; dev < 32; ++dev)
      for (unsigned fn = 0; fn < 8; ++fn) {
        PciFunction* f = board->pci->find(static_cast<uint8_t>(dev), static_cast<uint8_t>(fn));
        if (!f) continue;
        uint32_t cls = f->read8(pci::kClassCode) | f->read8(pci::kClassCode + 1) << 8 | f->read8(pci::kClassCode + 2) << 16;
        std::snprintf(b, sizeof b, "00:%02x.%u %04x:%04x class %06x cmd=%04x irq line=%u pin=%u\n", dev, fn,
                      f->read16(pci::kVendorId), f->read16(pci::kDeviceId), cls, f->command(),
                      f->read8(pci::kInterruptLine), f->read8(pci::kInterruptPin));
        out << b;
        for (int bar = 0; bar <= PciFunction::kRomBar; ++bar) {
          if (!f->bar_size(bar)) continue;
          uint64_t a = f->bar_address(bar);
          out << "    " << (bar == PciFunction::kRomBar ? std::string("rom ") : "bar" + std::to_string(bar)) << " size "
              << hex(f->bar_size(bar)) << " at " << (a == kPciBarUnmapped ? std::string("(unmapped)") : hex(a)) << "\n";
        }
      }
  } else if (what == "ide" && board->ide) {
    // Task-file registers as the drive holds them (const reads: no status-read side effects).
    for (unsigned ch = 0; ch < 2; ++ch) {
      IdeChannel& c = board->ide->channel(ch);
      for (unsigned u = 0; u < 2; ++u) {
        IdeDrive* d = c.drive(u);
        if (!d) continue;
        std::snprintf(b, sizeof b,
                      "%s %s: %s status=%02x error=%02x count=%02x lba=%02x%02x%02x device=%02x%s%s\n",
                      ch ? "secondary" : "primary", u ? "slave " : "master", d->is_atapi() ? "ATAPI" : "ATA  ",
                      d->status(), d->read_register(ata::kErrorFeature, false),
                      d->read_register(ata::kCount, false), d->read_register(ata::kLbaHigh, false),
                      d->read_register(ata::kLbaMid, false), d->read_register(ata::kLbaLow, false),
                      d->read_register(ata::kDevice, false), d->intrq() ? " INTRQ" : "",
                      d->dma_pending() ? " DMA-pending" : "");
        out << b;
      }
      std::snprintf(b, sizeof b, "%s channel: selected=%u irq=%u bus-master status=%02x command=%02x\n",
                    ch ? "secondary" : "primary", c.selected(), c.irq_level() ? 1 : 0,
                    c.bus_master() ? c.bus_master()->status() : 0, c.bus_master() ? c.bus_master()->command() : 0);
      out << b;
    }
  } else if (what == "vga" && board->vga) {
    Vga& v = board->vga->vga();
    std::snprintf(b, sizeof b, "misc=%02x seq:", v.misc_output());
    out << b;
    for (unsigned i = 0; i < 5; ++i) std::snprintf(b, sizeof b, " %02x", v.sr(i)), out << b;
    out << "\ncrtc:";
    for (unsigned i = 0; i < 25; ++i) std::snprintf(b, sizeof b, " %02x", v.cr(i)), out << b;
    out << "\ngfx:";
    for (unsigned i = 0; i < 9; ++i) std::snprintf(b, sizeof b, " %02x", v.gr(i)), out << b;
    out << "\nattr:";
    for (unsigned i = 0; i < 21; ++i) std::snprintf(b, sizeof b, " %02x", v.ar(i)), out << b;
    // GR6 bit 0: graphics mode (alphanumeric when clear), VGA data sheet.
    out << "\nmode: " << ((v.gr(6) & 1) ? "graphics" : "text") << "\n";
  } else if (what == "serial" && board->com1) {
    for (Uart16550* u : {board->com1, board->com2}) {
      if (!u) continue;
      unsigned div = u->divisor();
      std::snprintf(b, sizeof b, "COM at %03x: divisor=%u (%llu baud) irq=%u\n", u->base(), div,
                    div ? static_cast<unsigned long long>(Uart16550::kBaseBaud / div) : 0ULL,
                    u->irq_level() ? 1 : 0);
      out << b;
    }
  } else if (what == "post" && board->debug_ports) {
    std::snprintf(b, sizeof b, "last POST code: %02x (%" PRIu64 " writes to port 0x80)\n", board->debug_ports->post_code(),
                  board->debug_ports->post_writes());
    out << b;
  } else if (what == "cmos" && board->rtc) {
    for (unsigned i = 0; i < 128; ++i) {
      if (i % 16 == 0) std::snprintf(b, sizeof b, "%s%02x:", i ? "\n" : "", i), out << b;
      std::snprintf(b, sizeof b, " %02x", board->rtc->cmos(static_cast<uint8_t>(i)));
      out << b;
    }
    out << "\n";
  } else {
    out << "error: unknown device '" << what << "' (info pic|pit|rtc|lapic|ioapic|pci|ide|vga|serial|post|cmos)\n";
  }
}

bool monitor_session(Monitor& mon, LineInput& input, bool leave_on_continue,
                     const std::function<void(bool)>& at_prompt) {
  std::string line;
  for (;;) {
    std::fflush(stdout);  // guest serial output written so far
    if (at_prompt) at_prompt(true);
    if (!input.read_line("(pc64) ", line)) return false;
    if (at_prompt) at_prompt(false);
    std::string_view cmd = trim(line);
    if (leave_on_continue && (cmd == "c" || cmd == "cont" || cmd == "continue")) return false;
    input.write(mon.execute(line));
    if (mon.quit_requested()) return true;
  }
}

}  // namespace pc64
