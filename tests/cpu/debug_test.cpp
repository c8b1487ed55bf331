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

namespace {
// 64-bit guest with a #DB handler that counts hits at [0x3000], keeps DR6 at
// [0x3008], clears DR6 and resumes with RF = 1 (past the breakpoint).
// Linear 0x40000000 + x aliases physical x (a second PDPT entry to the same
// page directory).
std::string db64_program(const std::string& body) {
  return R"(bits 64
org 0x1000
    lidt [idtd]
)" + body + R"(
db_handler:
    inc qword [0x3000]
    mov rax, dr6
    mov [0x3008], rax
    xor eax, eax
    mov dr6, rax
    or qword [rsp + 16], 0x10000
    iretq
align 16
idt:
    dq 0, 0
    dw db_handler, 0x08, 0x8E00, 0, 0, 0, 0, 0
idtd:
    dw 2*16 - 1
    dq idt
)";
}
uint64_t q(Machine& m, uint64_t a) {
  uint64_t v = 0;
  m.mem.read_bytes(a, &v, 8);
  return v;
}
}  // namespace

TEST_CASE("debug: DR execution breakpoints in cached blocks: every pass, RF resume, armed mid-block, aliased pages") {
  Machine m;
  m.load(0x1000, assemble(db64_program(R"(
    mov rax, target
    mov dr0, rax
    mov eax, 1               ; L0, execute
    mov dr7, rax
    xor ebx, ebx
    mov ecx, 5
loop1:
    inc rbx
target:
    add rbx, 10              ; #DB before each of the 5 passes
    dec ecx
    jnz loop1
    mov [0x3010], rbx
    mov rax, t2
    mov dr1, rax
    mov eax, 0x5             ; L0 and L1
    mov dr7, rax
t2: nop                      ; same block as the MOV DR7: hits at once
    mov rax, 0x40000000 + aliased
    mov dr2, rax
    mov eax, 0x10            ; L2 only
    mov dr7, rax
    call aliased             ; through its identity address: no hit
    mov rax, 0x40000000 + aliased
    call rax                 ; the same code (same cached block) at DR2: hit
    hlt
aliased:
    inc rsi
    ret
)")));
  m.long_mode(0x1000);
  uint64_t pdpt0 = 0;
  m.mem.read_bytes(0x102000, &pdpt0, 8);
  m.mem.write_bytes(0x102008, &pdpt0, 8);  // linear 1 GiB + x -> x
  m.s().gpr[RSI] = 0;
  m.run(100000);
  CHECK(m.cpu.halted());
  CHECK(q(m, 0x3010) == 55);     // every instruction ran once despite the faults
  CHECK(q(m, 0x3000) == 5 + 1 + 1);
  CHECK((q(m, 0x3008) & 0xF) == 4);  // B2 for the last one
  CHECK(m.reg(RSI) == 2);
  CHECK((m.flags() & 0x10000) == 0);
}

TEST_CASE("debug: a task switch clears the local breakpoint enables L0-L3 and LE, not G0-G3") {
  Machine m;
  m.load(0x1000, assemble_file(asm_source("tasks.asm")));
  m.real_mode(0x1000);
  m.s().dr[7] = 0x400 | 0x3FF;  // L0-G3, LE, GE
  m.run(100000);
  CHECK((m.s().dr[7] & 0x3FF) == 0x2AA);
}
