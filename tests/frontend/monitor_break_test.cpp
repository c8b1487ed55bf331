// Monitor breakpoints, watchpoints, event breaks and run control, driving a
// small nasm guest in flat 64-bit long mode on a bare machine.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "frontend/debug_control.h"
#include "frontend/machine.h"
#include "frontend/monitor.h"
#include "frontend/long_mode_guest.h"

using namespace pc64;

namespace {

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

constexpr uint64_t kOrg = 0x200000;

const char* kGuest = R"(bits 64
org 0x200000
%define A(x) (x - $$ + 0x200000)
start:
    lidt [idtr]
    xor ecx, ecx
again:
    inc rcx
    mov [data], rcx          ; write watch
    cmp rcx, 10
    jne again
    call func
after_call:
    mov rax, [data2]         ; read watch
    mov dx, 0x80
    mov al, 0x55
    out dx, al               ; I/O break
    int 0x30                 ; vector break
back:
    mov rax, cr3
    mov cr3, rax             ; CR3 break
    hlt
func:
    mov rbx, 0x1234
    ret
isr30:
    mov r8, 1
    iretq
align 16
idt:
    times 0x30*16 db 0
    dw A(isr30) & 0xFFFF, 0x08
    db 0, 0x8E
    dw (A(isr30) >> 16) & 0xFFFF
    dd 0, 0
idt_end:
idtr:
    dw idt_end - idt - 1
    dq A(idt)
align 8
data: dq 0
data2: dq 0x77
)";

struct Rig : test::LongModeGuest {
  Rig() : LongModeGuest(kGuest) {}
};

}  // namespace

TEST_CASE("monitor: breakpoint, continue, info break, delete, tb") {
  Rig r;
  uint64_t call = r.find("call ");
  uint64_t func = r.find("mov ebx, 0x1234");
  std::string out = r.mon.execute("b " + std::to_string(func));
  CHECK(has(out, "breakpoint 1 at"));
  out = r.mon.execute("c");
  CHECK(has(out, "breakpoint 1 at"));
  CHECK(r.rip() == func);
  CHECK(r.reg(RCX) == 10);
  CHECK(r.reg(RBX) == 0);  // stopped before the instruction
  CHECK(has(r.mon.execute("info break"), "hits 1"));
  // Continuing from a breakpoint runs past it.
  r.mon.execute("s");
  CHECK(r.reg(RBX) == 0x1234);
  CHECK(has(r.mon.execute("delete 1"), "deleted 1"));
  CHECK(has(r.mon.execute("delete 1"), "error:"));
  CHECK(has(r.mon.execute("info break"), "no breakpoints"));
  // A physical breakpoint (identity-mapped here).
  Rig p;
  CHECK(has(p.mon.execute("b p " + std::to_string(func)), "at physical"));
  p.mon.execute("c");
  CHECK(p.rip() == func);
  CHECK(p.reg(RBX) == 0);
  CHECK(has(p.mon.execute("info break"), "physical"));
  CHECK(has(r.mon.execute("b nosuchsymbol"), "error:"));
  CHECK(has(r.mon.execute("b 0x10:0x20"), "at 0x20"));  // GDT selector 0x10: flat data, base 0
  CHECK(has(r.mon.execute("b 0x100:0"), "outside its descriptor table"));
  CHECK(has(r.mon.execute("b cs:0x30"), "at 0x30"));
  r.mon.execute("delete");

  // tb: one-shot, gone after the hit.
  Rig t;
  out = t.mon.execute("tb " + std::to_string(call));
  CHECK(has(out, "temporary breakpoint"));
  t.mon.execute("c");
  CHECK(t.rip() == call);
  CHECK(has(t.mon.execute("info break"), "no breakpoints"));
  // next steps over the call; the breakpoint inside func is not hit by next's own stop.
  out = t.mon.execute("next");
  CHECK(t.rip() == call + 5);
  CHECK(t.reg(RBX) == 0x1234);
}

TEST_CASE("monitor: conditional breakpoint in a loop, until, step N") {
  Rig r;
  uint64_t loop = r.find("inc rcx");
  CHECK(has(r.mon.execute("b " + std::to_string(loop) + " if rcx == 6"), "if rcx == 6"));
  r.mon.execute("c");
  CHECK(r.rip() == loop);
  CHECK(r.reg(RCX) == 6);  // the loop ran 6 times before the condition held
  CHECK(has(r.mon.execute("b 0x200000 if nosuch == 1"), "error: condition"));
  r.mon.execute("delete");
  r.mon.execute("s 3");
  CHECK(r.reg(RCX) == 7);
  uint64_t after = r.find("mov rax, ");
  r.mon.execute("until " + std::to_string(after));
  CHECK(r.rip() == after);
  CHECK(r.reg(RCX) == 10);
  CHECK(has(r.mon.execute("info break"), "no breakpoints"));  // until's breakpoint is gone
}

TEST_CASE("monitor: watchpoints report the data address, linear and physical") {
  Rig r;
  uint64_t data = kOrg + r.code.size() - 16;  // `data` then `data2`
  std::string out = r.mon.execute("watch " + std::to_string(data) + " 8");
  CHECK(has(out, "write watchpoint 1"));
  out = r.mon.execute("c");
  CHECK(has(out, "watchpoint 1: write at"));
  CHECK(r.reg(RCX) == 1);
  uint64_t v = 0;
  r.m.memory().read_bytes(data, &v, 8);
  CHECK(v == 1);  // stopped after the write
  r.mon.execute("c");
  CHECK(r.reg(RCX) == 2);
  r.mon.execute("delete 1");
  // A read of data2 through a physical read watch (identity mapping).
  out = r.mon.execute("rwatch p " + std::to_string(data + 8) + " 8");
  CHECK(has(out, "read watchpoint 2 at physical"));
  out = r.mon.execute("c");
  char expect[64];
  std::snprintf(expect, sizeof expect, "watchpoint 2: read at %#llx", static_cast<unsigned long long>(data + 8));
  CHECK(has(out, expect));
  CHECK(r.reg(RAX) == 0x77);
  CHECK(r.reg(RCX) == 10);  // the writes to `data` did not stop it
  // awatch catches both directions; bad arguments are errors.
  CHECK(has(r.mon.execute("awatch"), "error: usage"));
  CHECK(has(r.mon.execute("watch 0x1000 0"), "error:"));
}

TEST_CASE("monitor: break on I/O port, vector, CR3 write") {
  Rig r;
  CHECK(has(r.mon.execute("b io 0x80"), "I/O port 0x80"));
  CHECK(has(r.mon.execute("b int 0x30"), "vector 0x30"));
  CHECK(has(r.mon.execute("b cr3"), "CR3"));
  std::string out = r.mon.execute("c");
  CHECK(has(out, "I/O port 0x80 accessed"));
  CHECK(has(out, "int 0x30"));  // stopped after the OUT
  out = r.mon.execute("c");
  CHECK(has(out, "vector 0x30 delivered"));
  CHECK(r.rip() == r.find("mov r8d"));  // at the handler's first instruction
  CHECK(r.reg(R8) == 0);
  out = r.mon.execute("c");
  CHECK(has(out, "CR3 written"));
  CHECK(r.reg(R8) == 1);
  CHECK(has(out, "hlt"));
  CHECK(has(r.mon.execute("info break"), "break on vector 0x30"));
  CHECK(has(r.mon.execute("delete int 0x31"), "error:"));
  CHECK(has(r.mon.execute("b int 300"), "error:"));
  CHECK(has(r.mon.execute("b io 0x10000"), "error:"));
  CHECK(has(r.mon.execute("b"), "error: usage"));
  CHECK(has(r.mon.execute("b p"), "error:"));
}

TEST_CASE("monitor: break on mode switch (real -> protected)") {
  Machine m([] {
    MachineConfig c;
    c.pc_board = false;
    c.ram_bytes = 1 << 20;
    return c;
  }());
  Monitor mon(m);
  auto code = test::assemble("bits 16\norg 0x7c00\n mov eax, cr0\n or al, 1\n mov cr0, eax\n nop\n hlt\n");
  m.memory().write_bytes(0x7c00, code.data(), code.size());
  CpuState& s = m.cpu().state();
  s.seg[CS].selector = 0;
  s.seg[CS].base = 0;
  s.rip = 0x7c00;
  m.cpu().state_changed();
  mon.execute("b mode");
  std::string out = mon.execute("c");
  CHECK(has(out, "mode switch to protected 16-bit"));
  CHECK(has(out, "nop"));
}

TEST_CASE("monitor: p pauses a free-running guest") {
  Machine m([] {
    MachineConfig c;
    c.pc_board = false;
    c.ram_bytes = 16 << 20;
    return c;
  }());
  Monitor mon(m);
  m.cpu().enter_long_mode_identity(0x10000, 16 << 20);
  const uint8_t spin[] = {0xEB, 0xFE};  // jmp $
  m.memory().write_bytes(kOrg, spin, sizeof spin);
  m.cpu().state().rip = kOrg;
  m.cpu().state_changed();
  int polls = 0;
  mon.set_interrupt_check([&] { return ++polls == 5; });
  std::string out = mon.execute("c");
  CHECK(has(out, "stopped: paused"));
  CHECK(polls == 5);
  CHECK(m.cpu().state().rip == kOrg);
}

TEST_CASE("monitor: symbols, trace, find, write, dump, count, x/i") {
  Rig r;
  char tmpl[] = "/tmp/pc64-sym-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  std::string path = tmpl;
  uint64_t func = r.find("mov ebx, 0x1234");
  {
    std::ofstream f(path);
    f << std::hex << "0000000000200000 T start\n" << func << " t func\n";
  }
  CHECK(has(r.mon.execute("sym " + path), "2 symbols loaded"));
  CHECK(has(r.mon.execute("sym /nonexistent/file"), "error: cannot read"));
  // Symbols in expressions and in the disassembly.
  CHECK(has(r.mon.execute("b func"), "breakpoint 1 at"));
  r.mon.execute("c");
  CHECK(r.rip() == func);
  CHECK(has(r.mon.execute("u func 1"), "func:"));
  CHECK(has(r.mon.execute("x/2i func"), "ret"));
  // Trace: one line per instruction with the registers it changed.
  CHECK(has(r.mon.execute("trace on"), "trace on"));
  std::string out = r.mon.execute("s 2");
  CHECK(has(out, "mov ebx, 0x1234"));
  CHECK(has(out, "rbx=0x1234"));
  CHECK(has(out, "rsp=0x300000"));  // ret popped the return address
  r.mon.execute("trace off");
  CHECK_FALSE(has(r.mon.execute("s"), "rax="));
  CHECK(has(r.mon.execute("trace maybe"), "error: usage"));
  // find / write / dump
  out = r.mon.execute("find 0x200000 0x400 0xbb 0x34 0x12");
  CHECK(has(out, "found at " + [&] {
    char b[24];
    std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(func));
    return std::string(b);
  }()));
  CHECK(has(r.mon.execute("write 0x1000 1 2 3"), "wrote 3 byte(s)"));
  CHECK(has(r.mon.execute("x/3xb 0x1000"), "01 02 03"));
  CHECK(has(r.mon.execute("write 0x1000 300"), "error:"));
  CHECK(has(r.mon.execute("find 0x0 0x2000 \"\x01\x02\""), "1 match"));
  CHECK(has(r.mon.execute("dump " + path + " 0x1000 3"), "wrote 3 bytes"));
  {
    std::ifstream f(path, std::ios::binary);
    char b[3] = {};
    f.read(b, 3);
    CHECK((b[0] == 1 && b[1] == 2 && b[2] == 3));
  }
  CHECK(has(r.mon.execute("dump " + path + " 0xdeadbeef000 16"), "error:"));
  unlink(path.c_str());
  out = r.mon.execute("count");
  CHECK(has(out, "MIPS"));
  CHECK(has(out, "decoded blocks cached"));
  CHECK(has(r.mon.execute("tss"), "no task register"));
  CHECK(has(r.mon.execute("ldt"), "no LDT"));
  CHECK(has(r.mon.execute("change cdrom x.iso"), "error:"));
  CHECK(has(r.mon.execute("eject floppy"), "error: usage"));
}

TEST_CASE("monitor: breakpoint on an instruction that crosses a page") {
  Rig r;
  // nop x14 at 0x200ff0, then mov eax, 0x12345678 at 0x200ffe..0x201002, hlt.
  std::vector<uint8_t> code(14, 0x90);
  for (uint8_t b : {0xB8, 0x78, 0x56, 0x34, 0x12, 0xF4}) code.push_back(b);
  r.m.memory().write_bytes(0x200FF0, code.data(), code.size());
  r.m.cpu().state().rip = 0x200FF0;
  r.m.cpu().state().gpr[RAX] = 0;
  CHECK(has(r.mon.execute("b 0x200ffe"), "breakpoint 1"));
  CHECK(has(r.mon.execute("c"), "breakpoint 1 at 0x200ffe"));
  CHECK(r.rip() == 0x200FFE);
  CHECK(r.reg(RAX) == 0);
  r.mon.execute("s");
  CHECK(r.reg(RAX) == 0x12345678);  // the real instruction ran, bytes from both pages
  // Conditional and false: the instruction runs through h_breakpoint's re-decode.
  r.m.cpu().state().rip = 0x200FF0;
  r.m.cpu().state().gpr[RAX] = 0;
  r.mon.execute("delete");
  r.mon.execute("b 0x200ffe if rax == 5");
  r.mon.execute("c");
  CHECK(r.reg(RAX) == 0x12345678);
  CHECK(r.m.cpu().halted());
}
