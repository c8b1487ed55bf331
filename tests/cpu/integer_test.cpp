// Hand-checked vectors for the integer instruction groups, in 64-bit and
// real mode. Each snippet ends with HLT; registers are checked afterwards.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {
Machine& run64(Machine& m, const std::string& body) {
  m.load(0x10000, assemble("bits 64\norg 0x10000\n" + body + "\nhlt\n"));
  m.long_mode(0x10000);
  m.run();
  REQUIRE(m.cpu.halted());
  return m;
}
}  // namespace

TEST_CASE("alu: add/adc/sub/sbb flags") {
  Machine m;
  run64(m, R"(
    mov eax, 0xFFFFFFFF
    add eax, 1          ; 0, CF=1 ZF=1
    setc bl
    setz bh
    mov ecx, 0x7FFFFFFF
    add ecx, 1          ; OF=1 SF=1
    seto dl
    sets dh
    mov esi, 5
    stc
    adc esi, 10         ; 16
    mov edi, 5
    stc
    sbb edi, 10         ; -6, CF=1
    setc r8b
    mov r9, -1
    inc r9              ; 0, CF preserved (1 from sbb)
    setc r10b
  )");
  CHECK(m.reg(RAX) == 0);
  CHECK((m.reg(RBX) & 0xFFFF) == 0x0101);
  CHECK(m.reg(RCX) == 0x80000000);
  CHECK((m.reg(RDX) & 0xFFFF) == 0x0101);
  CHECK(m.reg(RSI) == 16);
  CHECK(m.reg(RDI) == 0xFFFFFFFA);
  CHECK((m.reg(R8) & 0xFF) == 1);
  CHECK(m.reg(R9) == 0);
  CHECK((m.reg(R10) & 0xFF) == 1);
}

TEST_CASE("mul/div and #DE delivery") {
  Machine m;
  run64(m, R"(
    mov rax, 0x123456789
    mov rcx, 0x1000
    mul rcx
    mov r8, rax
    mov r9, rdx
    mov rax, -7
    cqo
    mov rcx, 2
    idiv rcx            ; q=-3 r=-1
    mov r10, rax
    mov r11, rdx
    mov eax, 100
    mov bl, 7
    div bl              ; al=14 ah=2
  )");
  CHECK(m.reg(R8) == 0x123456789000ull);
  CHECK(m.reg(R9) == 0);
  CHECK(m.reg(R10) == uint64_t(-3));
  CHECK(m.reg(R11) == uint64_t(-1));
  CHECK((m.reg(RAX) & 0xFFFF) == 0x020E);
}

TEST_CASE("shifts, rotates, bit scans, string ops") {
  Machine m;
  run64(m, R"(
    mov eax, 0x80000001
    rol eax, 1            ; 3, CF=1
    setc bl
    mov ecx, 0x12345678
    shld ecx, eax, 8      ; 0x34567800
    mov edx, 0x100
    bsf esi, edx          ; 8
    bsr edi, edx          ; 8
    mov r8, 0xF0F0
    popcnt r9, r8         ; 8
    lea rdi, [rel buf]
    mov rcx, 16
    mov al, 0xAB
    rep stosb
    lea rsi, [rel buf]
    lodsq
    mov r10, rax
    jmp done
  buf: times 32 db 0
  done:
  )");
  CHECK((m.reg(RBX) & 0xFF) == 1);
  CHECK(m.reg(RCX) == 0);  // consumed by REP
  CHECK(m.reg(RSI) != 0);
  CHECK(m.reg(R9) == 8);
  CHECK(m.reg(R10) == 0xABABABABABABABABull);
}

TEST_CASE("real mode: segments, call/ret, int via IVT, iret") {
  Machine m;
  // IVT entry 0x21 -> 0000:0x600
  m.load(0x600, assemble("bits 16\norg 0x600\n mov dx, 0x1234\n iret\n"));
  std::vector<uint8_t> ivt = {0x00, 0x06, 0x00, 0x00};
  m.load(0x21 * 4, ivt);
  m.load(0x1000, assemble(R"(bits 16
org 0x1000
    mov ax, 0x2000
    mov ds, ax
    mov word [0x10], 0xBEEF   ; physical 0x20010
    call sub1
    int 0x21
    hlt
sub1:
    mov bx, [0x10]
    ret
)"));
  m.real_mode(0x1000);
  m.run();
  CHECK(m.cpu.halted());
  CHECK((m.reg(RBX) & 0xFFFF) == 0xBEEF);
  CHECK((m.reg(RDX) & 0xFFFF) == 0x1234);
  uint16_t w = 0;
  m.mem.read_bytes(0x20010, &w, 2);
  CHECK(w == 0xBEEF);
}

TEST_CASE("undefined opcode raises #UD and is counted") {
  Machine m;
  // #UD handler (vector 6) in real mode: record and halt.
  m.load(0x700, assemble("bits 16\norg 0x700\n mov cx, 0x5555\n hlt\n"));
  std::vector<uint8_t> ivt = {0x00, 0x07, 0x00, 0x00};
  m.load(6 * 4, ivt);
  m.load(0x1000, assemble("bits 16\norg 0x1000\n db 0x0F, 0x04\n"));  // no such opcode
  m.real_mode(0x1000);
  m.run();
  CHECK((m.reg(RCX) & 0xFFFF) == 0x5555);
  CHECK(m.cpu.undefined_opcode_count() == 1);
}

TEST_CASE("self-modifying code: a store into the running block takes effect") {
  Machine m;
  run64(m, R"(
    mov eax, 1
    lea rbx, [rel patch]
    mov byte [rbx+1], 42     ; patch the immediate of the next instruction
  patch:
    mov cl, 7
  )");
  CHECK((m.reg(RCX) & 0xFF) == 42);
}

TEST_CASE("budget is respected and RDTSC counts retired instructions") {
  Machine m;
  m.load(0x10000, assemble("bits 64\norg 0x10000\nl: inc rax\n jmp l\n"));
  m.long_mode(0x10000);
  m.cpu.set_time_base(1000);
  CHECK(m.run(101) == 101);
  CHECK(m.reg(RAX) == 51);
  m.load(0x20000, assemble("bits 64\norg 0x20000\n nop\n nop\n rdtsc\n hlt\n"));
  m.s().rip = 0x20000;
  m.cpu.set_time_base(5000);
  m.run(100);
  CHECK(m.reg(RAX) == 5002);
}

// Rotates, BT and CLC/STC/CMC change only CF (and OF) and keep ZF/SF/PF/AF
// lazy from the operation before; shifts and multiplies leave ZF/SF/PF lazy
// on their result (FlagOp::Szp). PUSHF folds everything.
TEST_CASE("flags: partial producers after ADD/SUB/INC keep the other flags") {
  Machine m;
  run64(m, R"(
    mov eax, 0x0F
    add al, 0x71        ; 0x80: SF=1 OF=1 AF=1 ZF=0 CF=0, PF=0 (one bit set)
    mov ecx, 0x80000001
    rol ecx, 1          ; CF=1 (bit 0 of the result), OF = CF ^ MSB = 1
    pushfq
    pop r8
    mov eax, 1
    sub eax, 1          ; ZF=1 PF=1 CF=0 AF=0 SF=0 OF=0
    bt eax, 0           ; CF = 0, ZF kept (OF SF AF PF undefined)
    stc                 ; CF = 1
    cmc                 ; CF = 0
    stc
    pushfq
    pop r9
    mov edx, 0xFF
    inc dl              ; 0: ZF=1 AF=1 PF=1, CF kept (1)
    ror edx, 1          ; edx = 0: CF = MSB = 0, OF = 0
    setz r10b           ; ZF still from INC
    setc r11b
    pushfq
    pop r12
    mov eax, 3
    shl eax, 30         ; 0xC0000000: CF=0 SF=1 ZF=0 PF=1 (low byte 0); OF AF undefined
    pushfq
    pop r13
    mov eax, 0x10000
    imul eax, eax, 0x10000  ; 0 with overflow: CF=OF=1 (the others undefined)
    pushfq
    pop r14
  )");
  const uint64_t arith = 0x8D5;  // OF SF ZF AF PF CF
  CHECK((m.reg(R8) & arith) == 0x891);   // OF SF AF CF
  CHECK((m.reg(R9) & 0x41) == 0x41);     // ZF CF
  CHECK((m.reg(R10) & 0xFF) == 1);
  CHECK((m.reg(R11) & 0xFF) == 0);
  CHECK((m.reg(R12) & arith) == 0x054);  // ZF AF PF
  CHECK((m.reg(R13) & 0xC5) == 0x084);   // SF PF, not ZF CF
  CHECK((m.reg(R14) & 0x801) == 0x801);  // OF CF
}
