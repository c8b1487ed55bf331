// The guest's debug registers beyond instruction breakpoints (SDM Vol. 3B
// 18.2-18.3): data write and read/write breakpoints, I/O breakpoints with
// CR4.DE, DR7.GD general detect (DR6.BD), and the one-instruction hold of
// debug traps after MOV SS (SDM Vol. 3A 6.8.3). Real-mode guests assembled
// with nasm; the #DB handler at 0x600 logs DR6 and the return IP.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

// #DB handler: appends (DR6 low word, return IP) to the log at 0x540,
// count at 0x520, clears DR6 and returns. With [0x522] != 0 it also skips
// the 3-byte faulting instruction (MOV r32, DRn) and disarms nothing else.
const char* kHandler = R"(bits 16
org 0x600
    push bp
    push bx
    push si
    push eax
    mov bp, sp
    mov si, [0x520]
    mov eax, dr6
    mov [0x540+si], ax
    mov bx, [bp+10]          ; return IP
    mov [0x542+si], bx
    add word [0x520], 4
    xor eax, eax
    mov dr6, eax
    cmp word [0x522], 0
    je .out
    add word [bp+10], 3
.out:
    pop eax
    pop si
    pop bx
    pop bp
    iret
)";

struct Rig {
  Machine m;
  explicit Rig(const std::string& program) {
    m.load(0x600, assemble(kHandler));
    m.load(1 * 4, {0x00, 0x06, 0x00, 0x00});
    m.load(0x1000, assemble("bits 16\norg 0x1000\n" + program));
    m.real_mode(0x1000);
    m.run(10000);
    CHECK(m.cpu.halted());
  }
  uint16_t w(uint32_t a) {
    uint16_t v = 0;
    m.mem.read_bytes(a, &v, 2);
    return v;
  }
  unsigned hits() { return w(0x520) / 4; }
  uint16_t dr6(unsigned k) { return w(0x540 + 4 * k); }
  uint16_t ip(unsigned k) { return w(0x542 + 4 * k); }
};

}  // namespace

TEST_CASE("debug registers: data write breakpoint traps after the write, reads do not") {
  Rig r(R"(
    mov word [0x580], after
    mov eax, 0x702           ; DR1 = 0x702, LEN 4 covers 0x700-0x703 (low bits ignored)
    mov dr1, eax
    mov eax, 0xD00004        ; L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes)
    mov dr7, eax
    mov al, [0x701]          ; a read: no break
    mov byte [0x703], 5      ; a write inside the range
after:
    mov byte [0x710], 6      ; outside: no break
    xor eax, eax
    mov dr7, eax
    hlt
)");
  REQUIRE(r.hits() == 1);
  CHECK((r.dr6(0) & 0xF) == 2);  // B1
  CHECK(r.ip(0) == r.w(0x580));  // a trap: the write completed, IP after it
  CHECK((r.w(0x702) >> 8) == 5);
}

TEST_CASE("debug registers: read/write breakpoint catches a read; two breakpoints, DR6 names the right one") {
  Rig r(R"(
    mov word [0x580], after_read
    mov eax, 0x700
    mov dr0, eax
    mov eax, 0x720
    mov dr3, eax
    mov eax, 0x10030041      ; L0 R/W0=11 LEN0=00; L3 R/W3=01 LEN3=00
    mov dr7, eax
    mov al, [0x700]          ; read hits DR0
after_read:
    mov byte [0x720], 1      ; write hits DR3
    xor eax, eax
    mov dr7, eax
    hlt
)");
  REQUIRE(r.hits() == 2);
  CHECK((r.dr6(0) & 0xF) == 1);  // B0
  CHECK(r.ip(0) == r.w(0x580));
  CHECK((r.dr6(1) & 0xF) == 8);  // B3
}

TEST_CASE("debug registers: I/O breakpoint needs CR4.DE") {
  Rig r(R"(
    mov word [0x580], after
    mov eax, 0x80
    mov dr2, eax
    mov eax, 0x2000010       ; L2, R/W2 = 10 (I/O), LEN2 = 00
    mov dr7, eax
    out 0x80, al             ; CR4.DE clear: R/W 10 is undefined, no break
    mov eax, cr4
    or eax, 8                ; CR4.DE
    mov cr4, eax
    out 0x80, al
after:
    mov dx, 0x81
    out dx, al               ; another port: no break
    xor eax, eax
    mov dr7, eax
    hlt
)");
  REQUIRE(r.hits() == 1);
  CHECK((r.dr6(0) & 0xF) == 4);  // B2
  CHECK(r.ip(0) == r.w(0x580));
}

TEST_CASE("debug registers: DR7.GD makes a DR access fault with DR6.BD and clears GD") {
  Rig r(R"(
    mov word [0x522], 1      ; the handler skips the faulting MOV
    mov word [0x580], access
    mov eax, 0x2000          ; GD
    mov dr7, eax
access:
    mov eax, dr0             ; #DB fault (BD)
    mov eax, dr7             ; GD is clear now: no fault
    mov [0x584], eax
    hlt
)");
  REQUIRE(r.hits() == 1);
  CHECK((r.dr6(0) & 0x2000) != 0);  // BD
  CHECK(r.ip(0) == r.w(0x580));      // a fault: IP of the MOV itself
  CHECK((r.w(0x584) & 0x2000) == 0);
}

TEST_CASE("debug registers: no single-step trap right after MOV SS; it comes after the next instruction") {
  Rig r(R"(
    mov word [0x580], b
    mov word [0x582], c
    mov word [0x584], d
    xor ax, ax
    pushf
    pop cx
    or cx, 0x100
    push cx
    popf                     ; TF on: the first trap follows the next instruction
    nop
b:  mov ss, ax               ; the trap after this one is held
c:  nop
d:  pushf
    pop cx
    and cx, 0xFEFF
    push cx
    popf
    hlt
)");
  REQUIRE(r.hits() >= 3);
  CHECK(r.ip(0) == r.w(0x580));  // after the first nop
  CHECK(r.ip(1) == r.w(0x584));  // after "mov ss" + "nop": one trap for the pair
  for (unsigned k = 0; k < r.hits(); ++k) CHECK(r.ip(k) != r.w(0x582));
  CHECK((r.dr6(1) & 0x4000) != 0);  // BS
}

// Start of the two protected-mode programs below: real mode at 0000:1000,
// load the program's GDT and IDT, switch to 32-bit protected mode at `pm`
// with DS = selector 0x10.
const std::string kRealToProtected = R"(bits 16
org 0x1000
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    lgdt [gdt_desc]
    lidt [idt_desc]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp 0x08:pm
bits 32
pm:
    mov ax, 0x10
    mov ds, ax
)";

TEST_CASE("debug registers: TSS T bit raises #DB with DR6.BT before the new task's first instruction") {
  Machine m;
  m.load(0x1000, assemble(kRealToProtected + R"(    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    mov ax, 0x18
    ltr ax
    mov dword [0x580], task_b
    jmp 0x20:0               ; to task B, whose TSS has T = 1
    hlt
task_b:
    mov dword [0x584], 1
    hlt
db_handler:
    mov eax, dr6
    mov [0x540], eax
    mov eax, [esp]           ; return EIP
    mov [0x544], eax
    inc dword [0x520]
    iretd
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF    ; 0x08 code
    dq 0x00CF92000000FFFF    ; 0x10 data
    dw 103, tss_a
    db 0, 0x89, 0, 0         ; 0x18 TSS A (32-bit, available)
    dw 103, tss_b
    db 0, 0x89, 0, 0         ; 0x20 TSS B
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt:
    dq 0
    dw db_handler, 0x08, 0x8E00, 0   ; vector 1: 32-bit interrupt gate
idt_end:
idt_desc:
    dw idt_end - idt - 1
    dd idt
tss_b:
    dd 0                     ; link
    times 6 dd 0             ; esp0..ss2
    dd 0                     ; cr3
    dd task_b                ; eip
    dd 2                     ; eflags
    dd 0, 0, 0, 0, 0x6000, 0, 0, 0   ; eax ecx edx ebx esp ebp esi edi
    dd 0x10, 0x08, 0x10, 0x10, 0x10, 0x10   ; es cs ss ds fs gs
    dd 0                     ; ldt
    dw 1                     ; T: debug trap on entry
    dw 104                   ; I/O map base
tss_a:
    times 104 db 0
)"));
  m.real_mode(0x1000);
  m.run(10000);
  CHECK(m.cpu.halted());
  uint32_t count = 0, dr6 = 0, eip = 0, task_b = 0, reached = 0;
  m.mem.read_bytes(0x520, &count, 4);
  m.mem.read_bytes(0x540, &dr6, 4);
  m.mem.read_bytes(0x544, &eip, 4);
  m.mem.read_bytes(0x580, &task_b, 4);
  m.mem.read_bytes(0x584, &reached, 4);
  CHECK(count == 1);
  CHECK((dr6 & 0x8000) != 0);  // BT
  CHECK(eip == task_b);        // before the new task's first instruction
  CHECK(reached == 1);
  CHECK(m.s().tr.selector == 0x20);
}

TEST_CASE("debug registers: faults push RF = 1, an instruction-breakpoint #DB pushes RF = 0") {
  Machine m;
  m.load(0x1000, assemble(kRealToProtected + R"(    mov ss, ax
    mov esp, 0x7000
    ud2                      ; #UD: a fault
    mov eax, target
    mov dr0, eax
    mov eax, 1               ; L0, execute
    mov dr7, eax
target:
    nop                      ; #DB (instruction breakpoint)
    hlt
ud_handler:
    mov eax, [esp+8]         ; pushed EFLAGS
    mov [0x540], eax
    add dword [esp], 2       ; skip ud2
    iretd
db_handler:
    mov eax, [esp+8]
    mov [0x544], eax
    or dword [esp+8], 0x10000    ; RF: resume past the breakpoint
    iretd
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt:
    dq 0
    dw db_handler, 0x08, 0x8E00, 0
    times 4 dq 0
    dw ud_handler, 0x08, 0x8E00, 0   ; vector 6
idt_end:
idt_desc:
    dw idt_end - idt - 1
    dd idt
)"));
  m.real_mode(0x1000);
  m.run(10000);
  CHECK(m.cpu.halted());
  uint32_t ud_flags = 0, db_flags = 0;
  m.mem.read_bytes(0x540, &ud_flags, 4);
  m.mem.read_bytes(0x544, &db_flags, 4);
  CHECK((ud_flags & 0x10000) != 0);
  CHECK(db_flags != 0);
  CHECK((db_flags & 0x10000) == 0);
  CHECK((m.flags() & 0x10000) == 0);  // cleared again after the resumed instruction
}
