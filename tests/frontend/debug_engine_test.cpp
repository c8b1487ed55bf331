// The shared breakpoint engine (cpu/debug_trap) through the monitor, in the
// corners issue 10 names: watchpoints inside REP string instructions, a
// breakpoint on a page that is mapped at two linear addresses, the soft-TLB
// listing, and the commands that are not available yet.
#include <doctest/doctest.h>

#include <string>

#include "frontend/debug_control.h"
#include "frontend/machine.h"
#include "frontend/monitor.h"
#include "frontend/long_mode_guest.h"

using namespace pc64;

namespace {

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

constexpr uint64_t kOrg = test::LongModeGuest::kOrg;
constexpr uint64_t kTables = test::LongModeGuest::kTables;
constexpr uint64_t kAlias = 0x1000000;  // linear 16 MiB: a second mapping of physical 0x200000
using Guest = test::LongModeGuest;

}  // namespace

TEST_CASE("watchpoints stop a REP string instruction at the iteration that touched them") {
  Guest g(R"(bits 64
org 0x200000
    mov rdi, 0x300000
    mov ecx, 16
    mov al, 0x41
rep_stos:
    rep stosb
    mov rsi, 0x300000
    mov rdi, 0x301000
    mov ecx, 8
rep_movs:
    rep movsd
    hlt
)");
  const uint64_t rep_stos = g.find("rep stosb"), rep_movs = g.find("rep movsd");
  // A one-byte write watch on the 6th byte STOSB stores.
  g.mon.execute("watch 0x300005 1");
  std::string out = g.mon.execute("c");
  CHECK(has(out, "watchpoint 1: write at 0x300005"));
  CHECK(g.m.cpu().state().rip == rep_stos);  // still on the REP: 10 iterations to go
  CHECK(g.reg(RCX) == 10);
  CHECK(g.reg(RDI) == 0x300006);
  uint8_t bytes[8] = {};
  g.m.memory().read_bytes(0x300000, bytes, 8);
  CHECK(bytes[5] == 0x41);
  CHECK(bytes[6] == 0);  // the next iteration has not run
  g.mon.execute("delete 1");
  // A read watch on the source of REP MOVSD: the third dword.
  g.mon.execute("rwatch 0x300008 4");
  out = g.mon.execute("c");
  CHECK(has(out, "watchpoint 2: read at 0x300008"));
  CHECK(g.m.cpu().state().rip == rep_movs);
  CHECK(g.reg(RCX) == 5);
  CHECK(g.reg(RSI) == 0x30000C);
  g.mon.execute("delete 2");
  // Resuming finishes the string from where it stopped.
  g.mon.execute("c");
  CHECK(g.m.cpu().halted());
  CHECK(g.reg(RCX) == 0);
  uint32_t copied[4] = {};
  g.m.memory().read_bytes(0x301000, copied, sizeof copied);
  CHECK(copied[0] == 0x41414141);
  CHECK(copied[3] == 0x41414141);
}

TEST_CASE("a breakpoint at a linear address ignores the page's other linear alias") {
  // `func` is called first through the alias at 16 MiB, then at its own
  // address. Blocks are cached by physical address, so the block decoded for
  // the alias call serves the second call too.
  const char* kSource = R"(bits 64
org 0x200000
    xor ebx, ebx
    mov rax, func - 0x200000 + 0x1000000
    call rax
    call func
    hlt
align 16
func:
    inc ebx
    ret
)";
  auto map_alias = [](Guest& g) {
    // PD entry 8 (linear 16 MiB): a 2 MiB page at physical 0x200000, P RW US PS.
    const uint64_t pde = kOrg | 0x87;
    g.m.memory().write_bytes(kTables + 0x3000 + 8 * 8, &pde, 8);
    g.m.cpu().state_changed();
  };
  uint64_t func = 0;
  {
    Guest g(kSource);
    map_alias(g);
    func = g.find("inc ebx");
    g.mon.execute("b " + std::to_string(func));
    std::string out = g.mon.execute("c");
    CHECK(has(out, "breakpoint 1 at " + hex0x(func)));
    CHECK(g.m.cpu().state().rip == func);
    CHECK(g.reg(RBX) == 1);  // the call through the alias ran past it
    g.mon.execute("c");
    CHECK(g.m.cpu().halted());
    CHECK(g.reg(RBX) == 2);
    // The soft TLB lists both mappings of the page.
    out = g.mon.execute("tlb");
    CHECK(has(out, "0000000001000000 -> 0000000000200000"));
    CHECK(has(out, "0000000000200000 -> 0000000000200000"));
    CHECK(has(out, "valid entries"));
  }
  {
    Guest g(kSource);
    map_alias(g);
    const uint64_t func_alias = func - kOrg + kAlias;
    g.mon.execute("b " + std::to_string(func_alias));
    CHECK(has(g.mon.execute("c"), "breakpoint 1 at " + hex0x(func_alias)));
    CHECK(g.m.cpu().state().rip == func_alias);
    CHECK(g.reg(RBX) == 0);
    g.mon.execute("c");  // the call at the page's own address does not stop
    CHECK(g.m.cpu().halted());
    CHECK(g.reg(RBX) == 2);
  }
}

TEST_CASE("monitor: tlb lists entries; savevm/loadvm say they are not available") {
  Guest g("bits 64\nmov rax, [0x300000]\nhlt\n");
  g.mon.execute("c");
  std::string out = g.mon.execute("tlb");
  // The data page read (2 MiB page, cached as its 4 KiB piece) and the code page.
  CHECK(has(out, "sup  0000000000300000 -> 0000000000300000"));
  CHECK(has(out, " 2M"));
  CHECK(has(g.mon.execute("savevm /tmp/x"), "error: savevm is not available yet"));
  CHECK(has(g.mon.execute("loadvm /tmp/x"), "error: loadvm is not available yet"));
}
