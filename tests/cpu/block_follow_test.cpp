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
