// Blocks that go on through a direct CALL into its callee on the same page
// (decode_block): only CALL rel may be followed, and RIP-dependent work in
// the followed part sees the callee's RIP.
#include "tests/cpu/cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

TEST_CASE("block follow: CALL/JMP [RIP+disp] are not followed, CALL/JMP rel are, with exact RIPs") {
  // `call [rel ptr]` has a RIP-relative operand, which Zydis also marks
  // "relative": that once made the block go on at a made-up target, so the
  // OUT after it ran before the callee (EAX still 1) and later records got
  // RIPs counted from the wrong place.
  Machine m;
  m.load(0x1000, assemble(R"(
bits 64
org 0x1000
  mov eax, 1
  call [rel ptr]
  out 0xF4, eax          ; 0x1234, set by the callee
  call direct            ; E8 to this page: the block goes on in `direct`
ret1:
  sub eax, direct        ; RIP-relative LEA in the followed part: 0
  out 0xF4, eax
  mov eax, ebx
  sub eax, ret1          ; the return address the followed CALL pushed: 0
  out 0xF4, eax
  jmp [rel jptr]         ; FF 25: not followed (the JMP rel after it would be)
  jmp fail
there:
  mov eax, 0x5678
  jmp short over         ; EB on the same page: followed
fail:
  mov eax, 0xBAD
over:
  lea rcx, [rel over]    ; followed part: RIP-relative
  sub ecx, over
  add eax, ecx
  out 0xF4, eax          ; 0x5678
  hlt
indirect:
  mov eax, 0x1234
  ret
direct:
  mov rbx, [rsp]
  lea rax, [rel direct]
  ret
align 8
ptr: dq indirect
jptr: dq there
)"));
  m.long_mode(0x1000);
  m.run(1000);
  CHECK(m.cpu.halted());
  CHECK_FALSE(m.cpu.shutdown());
  CHECK(hex_words(m.ports.results) == hex_words({0x1234, 0, 0, 0x5678}));
}

TEST_CASE("block follow: conditional branches mid-block continue when not taken, leave when taken") {
  // decode_block goes on at a Jcc's fall-through: the block is xor .. jnz
  // with `je skip` in its middle. Retired counts and RIPs must come out as
  // if every Jcc ended its block.
  Machine m;
  m.load(0x1000, assemble(R"(
bits 64
org 0x1000
  xor eax, eax           ; 0x1000 (2 bytes)
  mov ecx, 5             ; 0x1002 (5)
top:
  add eax, ecx           ; 0x1007 (2)
  cmp ecx, 3             ; 0x1009 (3)
  je skip                ; 0x100C: taken once, from the middle of the block
  add eax, 100
skip:
  dec ecx
  jnz top
  lea rbx, [rel here]    ; RIP-relative after a mid-block JNZ not taken
here:
  hlt
)"));
  m.long_mode(0x1000);
  // Ten instructions: xor, mov, one whole iteration (6), then add, cmp.
  CHECK(m.run(10) == 10);
  CHECK(m.s().rip == 0x100C);
  CHECK(m.reg(RAX) == 5 + 100 + 4);
  m.run(1000);
  CHECK(m.cpu.halted());
  CHECK(m.reg(RAX) == 5 + 4 + 3 + 2 + 1 + 4 * 100);
  CHECK(m.reg(RBX) == m.s().rip - 1);  // `here` is the HLT, RIP is past it
}
