// The built-in monitor driving small guest programs on a bare machine.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "frontend/expression.h"
#include "frontend/machine.h"
#include "frontend/monitor.h"

using namespace pc64;

namespace {

MachineConfig bare() {
  MachineConfig c;
  c.pc_board = false;
  c.ram_bytes = 16 << 20;
  return c;
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// Flat 64-bit long mode, first 16 MiB identity-mapped with 2 MiB pages;
// tables at 0x10000 (GDT), 0x11000 (PML4), 0x12000 (PDPT), 0x13000 (PD).
struct LongModeRig {
  Machine m{bare()};
  Monitor mon{m};
  static constexpr uint64_t kCode = 0x200100;
  LongModeRig() {
    m.cpu().enter_long_mode_identity(0x10000, 16 << 20);
    // mov rax, rbx ; inc rcx ; nop ; hlt
    const uint8_t code[] = {0x48, 0x89, 0xD8, 0x48, 0xFF, 0xC1, 0x90, 0xF4};
    m.memory().write_bytes(kCode, code, sizeof code);
    CpuState& s = m.cpu().state();
    s.rip = kCode;
    s.gpr[RBX] = 0xCAFEF00D12345678ULL;
    s.gpr[RCX] = 41;
    s.gpr[RSP] = 0x300000;
    m.cpu().state_changed();
  }
};

}  // namespace

TEST_CASE("monitor: expressions") {
  Machine m(bare());
  m.cpu().state().gpr[RAX] = 0x1000;
  m.cpu().state().gpr[RBX] = 0x11223344AABBCCDDULL;
  std::string err;
  auto ev = [&](const char* t) { return evaluate_expression(t, m.cpu(), err); };
  CHECK(ev("0x10 + 2*3") == 0x16u);
  CHECK(ev("(1+2)*3") == 9u);
  CHECK(ev("rax + 0x20") == 0x1020u);
  CHECK(ev("$rax - 1") == 0xFFFu);
  CHECK(ev("-1") == ~0ULL);
  CHECK(ev("ebx") == 0xAABBCCDDu);
  CHECK(ev("bh") == 0xCCu);
  CHECK(ev("bl") == 0xDDu);
  CHECK(ev("RAX*2") == 0x2000u);
  CHECK_FALSE(ev("nosuchreg + 1"));
  CHECK(has(err, "nosuchreg"));
  CHECK_FALSE(ev("(1+2"));
  CHECK_FALSE(ev("0x"));
  CHECK_FALSE(ev("12ab"));
  CHECK_FALSE(ev("1 +"));
  CHECK_FALSE(ev("0x1ffffffffffffffff"));
  CHECK_FALSE(ev(std::string(10000, '(').c_str()));  // deep nesting: error, no stack overflow
}

TEST_CASE("monitor: registers and set") {
  LongModeRig r;
  std::string out = r.mon.execute("r");
  CHECK(has(out, "rbx=cafef00d12345678"));
  CHECK(has(out, "rcx=0000000000000029"));
  CHECK(has(out, "rip=0000000000200100"));
  CHECK(has(out, "mode=64-bit"));
  CHECK(has(out, "cs  =0008"));
  CHECK(has(out, "[PG"));
  CHECK(has(out, "LMA"));
  CHECK(has(out, "cr3=0000000000011000"));

  out = r.mon.execute("set rax=0x1234");
  CHECK(r.m.cpu().state().gpr[RAX] == 0x1234);
  CHECK(has(out, "rax=1234"));
  r.mon.execute("set al = 0xff");
  CHECK(r.m.cpu().state().gpr[RAX] == 0x12FF);
  r.mon.execute("set r9d=rbx+1");
  CHECK(r.m.cpu().state().gpr[R9] == 0x12345679u);
  r.mon.execute("set rflags=0x202");
  CHECK(has(r.mon.execute("registers"), "rflags=0000000000000202 [IF IOPL=0]"));

  CHECK(has(r.mon.execute("set nosuchreg=1"), "error: unknown register 'nosuchreg'"));
  CHECK(has(r.mon.execute("set rax=zz"), "error:"));
  CHECK(has(r.mon.execute("set rax"), "error:"));
  CHECK(has(r.mon.execute("set cs=0"), "error:"));
  CHECK(r.m.cpu().state().gpr[RAX] == 0x12FF);  // failed sets changed nothing
}

TEST_CASE("monitor: examine memory") {
  LongModeRig r;
  const uint8_t bytes[] = {0xDE, 0xAD, 0xBE, 0xEF, 0x41, 0x42, 0x00, 0x7F};
  r.m.memory().write_bytes(0x1000, bytes, sizeof bytes);
  CHECK(has(r.mon.execute("x/4xb 0x1000"), "0000000000001000: de ad be ef"));
  CHECK(has(r.mon.execute("xp/4x 0x1000"), "0000000000001000: de ad be ef"));
  CHECK(has(r.mon.execute("x/2xw 0x1000"), ": adde efbe"));
  CHECK(has(r.mon.execute("x/1xd 0x1000"), ": efbeadde"));
  CHECK(has(r.mon.execute("x/1q 0x1000"), ": 7f004241efbeadde"));
  CHECK(has(r.mon.execute("x/2db 0x1000"), ": -34 -83"));  // signed, as in gdb
  CHECK(has(r.mon.execute("x/2ub 0x1000"), ": 222 173"));
  CHECK(has(r.mon.execute("x/2ob 0x1000"), ": 0336 0255"));
  CHECK(has(r.mon.execute("x/4c 0x1004"), ": AB.."));
  CHECK(has(r.mon.execute("x/2xb rip"), "0000000000200100: 48 89"));

  // Unmapped linear address (beyond the 16 MiB identity map), errors, and no
  // accessed bit appears on the PDE the walk went through.
  uint64_t pde_before = r.m.memory().read(0x13000, 8);
  CHECK(has(r.mon.execute("x/4xb 0xdeadbeef000"), "error: linear address deadbeef000 is not mapped"));
  CHECK(has(r.mon.execute("x/4xb 0x1000"), "de ad"));
  CHECK(r.m.memory().read(0x13000, 8) == pde_before);
  CHECK(has(r.mon.execute("x/4xb 0xffff800000000000"), "error:"));
  CHECK(has(r.mon.execute("x/4xb 0x8000000000000000"), "not canonical"));
  CHECK(has(r.mon.execute("xp/4xb 0xfed00000"), "error: physical range"));  // no RAM there
  CHECK(has(r.mon.execute("x/4zb 0x1000"), "error: bad format"));
  CHECK(has(r.mon.execute("x/4xb"), "error: usage"));
}

TEST_CASE("monitor: disassemble and step") {
  LongModeRig r;
  std::string out = r.mon.execute("u");
  CHECK(has(out, "0000000000200100: 4889d8"));
  CHECK(has(out, "mov rax, rbx"));
  CHECK(has(out, "inc rcx"));
  CHECK(has(out, "hlt"));
  out = r.mon.execute("u 0x200103 1");
  CHECK(has(out, "inc rcx"));
  CHECK_FALSE(has(out, "mov rax"));

  out = r.mon.execute("s 1");
  CHECK(r.m.cpu().state().rip == LongModeRig::kCode + 3);  // mov rax, rbx is 3 bytes
  CHECK(r.m.cpu().state().gpr[RAX] == 0xCAFEF00D12345678ULL);
  CHECK(has(out, "executed 1 instruction"));
  CHECK(has(out, "inc rcx"));  // the next instruction is shown
  r.mon.execute("s");
  CHECK(r.m.cpu().state().rip == LongModeRig::kCode + 6);
  CHECK(r.m.cpu().state().gpr[RCX] == 42);
  CHECK(has(r.mon.execute("count"), "instructions retired: 2"));
  r.mon.execute("c 1");
  CHECK(r.m.cpu().state().rip == LongModeRig::kCode + 7);
  CHECK(has(r.mon.execute("c"), "halted"));  // no limit: runs until the guest stops
  CHECK(has(r.mon.execute("u 0xdeadbeef000"), "error:"));
}

TEST_CASE("monitor: 16-bit disassembly in real mode") {
  Machine m(bare());
  Monitor mon(m);
  m.cpu().reset();
  CpuState& s = m.cpu().state();
  // Real mode at 0000:7C00: mov ax, 0x1234 ; int 0x10
  const uint8_t code[] = {0xB8, 0x34, 0x12, 0xCD, 0x10};
  m.memory().write_bytes(0x7C00, code, sizeof code);
  s.seg[CS].selector = 0;
  s.seg[CS].base = 0;
  s.rip = 0x7C00;
  m.cpu().state_changed();
  std::string out = mon.execute("u 0x7c00 2");
  CHECK(has(out, "b83412"));
  CHECK(has(out, "mov ax, 0x1234"));
  CHECK(has(out, "int 0x10"));
  CHECK(has(mon.execute("r"), "mode=16-bit"));
  CHECK(has(mon.execute("page 0x1000"), "paging disabled"));
}

TEST_CASE("monitor: page walk, gdt, idt") {
  LongModeRig r;
  std::string out = r.mon.execute("page 0x200123");
  CHECK(has(out, "4-level paging"));
  CHECK(has(out, "PML4E[0] @0000011000 = 0000000000012007 [P RW US]"));
  CHECK(has(out, "PDPTE[0] @0000012000 = 0000000000013007 [P RW US]"));
  CHECK(has(out, "PDE[1] @0000013008 = 0000000000200087 [P RW US PS]"));
  CHECK(has(out, "size 2048 KiB -> physical 200123"));
  CHECK(has(out, "walk: 200123 -> 200123 writable user executable"));
  out = r.mon.execute("page 0x40000000");
  CHECK(has(out, "PDPTE[1]"));
  CHECK(has(out, "not present at PDPTE"));
  CHECK(has(out, "walk: #PF"));

  out = r.mon.execute("gdt");
  CHECK(has(out, "0008: 00af9a000000ffff base=0 limit=ffffffff code RX dpl=0 P L G"));
  CHECK(has(out, "0010: 00cf92000000ffff base=0 limit=ffffffff data RW dpl=0 P D G"));

  // A 64-bit interrupt gate for vector 3 at 0x12345678 (IDT at 0x20000).
  uint8_t gate[16] = {0x78, 0x56, 0x08, 0x00, 0x00, 0x8E, 0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0};
  r.m.memory().write_bytes(0x20000 + 3 * 16, gate, 16);
  r.m.cpu().state().idtr = {0x20000, 256 * 16 - 1};
  out = r.mon.execute("idt");
  CHECK(has(out, "03: 0008:12345678 int gate64 dpl=0 P"));
}

TEST_CASE("monitor: bad input and devices") {
  LongModeRig r;
  CHECK(has(r.mon.execute("frob"), "error: unknown command 'frob'"));
  CHECK(r.mon.execute("").empty());
  CHECK(has(r.mon.execute("help"), "x/Nfs"));
  CHECK(has(r.mon.execute("info pic"), "error: this machine has no PC devices"));
  CHECK(has(r.mon.execute("page"), "error: usage"));
  CHECK(has(r.mon.execute("s 0"), "error:"));
  CHECK(has(r.mon.execute("u rip (("), "error:"));
  CHECK(r.m.cpu().state().rip == LongModeRig::kCode);  // nothing ran
  CHECK_FALSE(r.mon.quit_requested());
  r.mon.execute("quit");
  CHECK(r.mon.quit_requested());
}

TEST_CASE("monitor: info on a full PC") {
  MachineConfig c;  // full board, no firmware
  c.ram_bytes = 32 << 20;
  c.serial = SerialMode::None;
  Machine m(c);
  Monitor mon(m);
  CHECK(has(mon.execute("info pic"), "master: irr="));
  CHECK(has(mon.execute("info pit"), "channel 2:"));
  CHECK(has(mon.execute("info rtc"), "time="));
  CHECK(has(mon.execute("info lapic"), "lvt timer"));
  CHECK(has(mon.execute("info ioapic"), "pin 23:"));
  std::string pci = mon.execute("info pci");
  CHECK(has(pci, "00:00.0 8086:1237"));  // i440FX host bridge
  CHECK(has(pci, "00:01.0 8086:7000"));  // PIIX3 ISA bridge
  CHECK(has(mon.execute("info frob"), "error: unknown device"));
  CHECK(has(mon.execute("info ide"), "primary channel: selected=0"));
  CHECK(has(mon.execute("info vga"), "crtc:"));
  CHECK(has(mon.execute("info serial"), "COM at 3f8"));
  CHECK(has(mon.execute("info post"), "last POST code: 00"));
  CHECK(has(mon.execute("post"), "last POST code: 00"));
  CHECK(has(mon.execute("info cmos"), "70:"));
  // The screen renders without firmware too (blank text mode).
  char tmpl[] = "/tmp/pc64-screen-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(has(mon.execute(std::string("screendump ") + tmpl), "screen written"));
  std::FILE* f = std::fopen(tmpl, "rb");
  REQUIRE(f);
  unsigned char sig[8] = {};
  CHECK(std::fread(sig, 1, 8, f) == 8);
  std::fclose(f);
  unlink(tmpl);
  CHECK((sig[1] == 'P' && sig[2] == 'N' && sig[3] == 'G'));
  CHECK(has(mon.execute("screendump /nonexistent-dir/x.png"), "error:"));
}

TEST_CASE("monitor: change cdrom FILE / eject cdrom reach the drive; bad files leave the old disc") {
  MachineConfig c;  // full board, no firmware
  c.ram_bytes = 32 << 20;
  c.serial = SerialMode::None;
  Machine m(c);
  Monitor mon(m);
  char tmpl[] = "/tmp/pc64-cd-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  std::vector<char> disc(2048 * 30, 'x');
  REQUIRE(write(fd, disc.data(), disc.size()) == static_cast<ssize_t>(disc.size()));
  close(fd);
  CHECK(has(mon.execute(std::string("change cdrom ") + tmpl), "inserted (30 sectors)"));
  CHECK(m.board()->cdrom->medium_present());
  CHECK(has(mon.execute("change cdrom /nonexistent/pc64.iso"), "error:"));
  CHECK(m.board()->cdrom->sectors() == 30);  // the old disc stays
  CHECK(has(mon.execute("eject floppy"), "error: usage"));
  CHECK(has(mon.execute("eject cdrom"), "cdrom: ejected"));
  CHECK_FALSE(m.board()->cdrom->medium_present());
  std::remove(tmpl);
}

TEST_CASE("monitor: r fpu, r sse, syntax att, reset") {
  LongModeRig r;
  CpuState& s = r.m.cpu().state();
  // ST(0) = 1.5 in R7 (TOP = 7), the rest empty.
  s.fpu.set_top(7);
  s.fpu.r[7].mant = 0xC000000000000000ULL;
  s.fpu.r[7].se = 0x3FFF;
  s.fpu.ftw = 0x80;
  s.fpu.xmm[3].f64[0] = 2.25;
  s.fpu.mxcsr = 0x1F80;
  std::string fpu = r.mon.execute("r fpu");
  CHECK(has(fpu, "fcw=0040"));
  CHECK(has(fpu, "(top=7)"));
  CHECK(has(fpu, "st0 (r7) 3fff c000000000000000  1.5"));
  CHECK(has(fpu, "st1 (r0) 0000 0000000000000000  empty"));
  std::string sse = r.mon.execute("r sse");
  CHECK(has(sse, "mxcsr=00001f80"));
  CHECK(has(sse, "xmm3  00000000000000004002000000000000  (0, 2.25)"));
  CHECK(has(sse, "xmm15"));  // long mode: 16 registers
  CHECK(has(r.mon.execute("r frob"), "error: usage"));

  CHECK(has(r.mon.execute("u rip 1"), "mov rax, rbx"));
  CHECK(has(r.mon.execute("syntax att"), "AT&T"));
  CHECK(has(r.mon.execute("u rip 1"), "mov %rbx, %rax"));
  r.mon.execute("syntax intel");
  CHECK(has(r.mon.execute("syntax frob"), "error: usage"));

  CHECK(has(r.mon.execute("reset"), "machine reset"));
  CHECK(s.rip == 0xFFF0);
  CHECK(s.seg[CS].selector == 0xF000);
  CHECK((s.efer & EFER_LMA) == 0);
}
