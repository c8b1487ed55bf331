// Debug features: TF single-step traps and DR0-DR3 instruction breakpoints.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

TEST_CASE("debug: TF single-step traps after each instruction") {
  Machine m;
  m.load(0x600, assemble("bits 16\norg 0x600\n inc word [0x500]\n iret\n"));
  m.load(1 * 4, {0x00, 0x06, 0x00, 0x00});
  m.load(0x1000, assemble(R"(bits 16
org 0x1000
    mov word [0x500], 0
    pushf
    pop ax
    or ax, 0x100
    push ax
    popf              ; sets TF: the first trap comes after the next instruction
    nop
    nop
    nop
    pushf
    pop ax
    and ax, 0xFEFF
    push ax
    popf              ; TF was set when this started: one more trap
    hlt
)"));
  m.real_mode(0x1000);
  m.run(1000);
  uint16_t count = 0;
  m.mem.read_bytes(0x500, &count, 2);
  CHECK(count == 8);
  CHECK(m.cpu.halted());
  CHECK((m.s().dr[6] & 0x4000) != 0);  // BS
}

TEST_CASE("debug: DR0 instruction breakpoint raises #DB before the instruction") {
  Machine m;
  m.load(0x600, assemble(R"(bits 16
org 0x600
    mov eax, dr6
    mov [0x504], eax
    mov [0x508], bx      ; BX when the breakpoint hit
    xor eax, eax
    mov dr7, eax         ; disarm, then resume the instruction
    iret
)"));
  m.load(1 * 4, {0x00, 0x06, 0x00, 0x00});
  m.load(0x1000, assemble(R"(bits 16
org 0x1000
    mov eax, target
    mov dr0, eax
    mov eax, 1           ; L0, execute, 1 byte
    mov dr7, eax
    mov bx, 1
    mov bx, 2
target:
    mov bx, 3
    hlt
)"));
  m.real_mode(0x1000);
  m.run(1000);
  uint32_t dr6 = 0;
  uint16_t bx_at_hit = 0;
  m.mem.read_bytes(0x504, &dr6, 4);
  m.mem.read_bytes(0x508, &bx_at_hit, 2);
  CHECK((dr6 & 0xF) == 1);  // B0
  CHECK(bx_at_hit == 2);    // before "mov bx, 3" ran
  CHECK((m.reg(RBX) & 0xFFFF) == 3);
  CHECK(m.cpu.halted());
}

TEST_CASE("state: serialize round trip restores registers and mode") {
  Machine a;
  a.load(0x10000, assemble("bits 64\norg 0x10000\n mov rax, 0x1122334455667788\n add rax, rax\n hlt\n"));
  a.long_mode(0x10000);
  a.run(100);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.cpu.serialize(save);

  Machine b;
  StateSerializer load(blob.data(), blob.size());
  b.cpu.serialize(load);
  CHECK(load.at_end());
  CHECK(b.reg(RAX) == 0x22446688AACCEF10ull);
  CHECK(b.s().rip == a.s().rip);
  CHECK(b.cpu.halted());
  CHECK((b.flags() & (CF | OF | SF)) == (a.flags() & (CF | OF | SF)));
  CHECK(b.cpu.core().mode64());
}
