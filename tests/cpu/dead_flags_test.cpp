// Dead-flag elimination (finish_block in cpu/interpreter.cpp): records whose
// flag results are overwritten before anything reads them run a variant
// without flags in the threaded path. Nothing of it may be visible.
#include "cpu/decoder.h"
#include "cpu/dispatch.h"
#include "tests/cpu/cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

TEST_CASE("dead flags: RFLAGS exact at a fault, at the block end, through CF-preserving INC") {
  Machine m;
  check_program(m, "dead_flags.asm",
                {
                    0x894,  // #PF after ADD: OF SF AF PF
                    0x095,  // #PF after SUB + ROL: SF AF PF CF
                    0x044,  // dead ADD, IMUL; SHL to 0: ZF PF
                    0x001,  // STC, dead INC, INC: CF kept
                    0x22,   // dead CMP, live CMP feeding CMOVA
                },
                true);
}

TEST_CASE("dead flags: the flag-less variants are chosen only where the flags are dead") {
  // Decode and run a block, then look at the entries its records got.
  Machine m;
  m.load(0x1000, assemble(R"(
bits 64
org 0x1000
  add eax, ecx        ; dead: the ROL rewrites CF/OF, the XOR the rest
  rol edx, 7          ; dead: the XOR rewrites all six
  xor esi, esi
  imul edi, esi, 3    ; live: the load below may fault and show RFLAGS
  mov rbx, [rsp]
  hlt
)"));
  m.long_mode(0x1000);
  m.run(100);
  REQUIRE(m.cpu.halted());
  Core& c = m.cpu.core();
  const uintptr_t key = BlockCache::make_key(m.mem.page(0x1000).read, 2, true);
  const Block* b = c.blocks.find(key);
  REQUIRE(b != nullptr);
  REQUIRE(b->count >= 5);
  auto dead = [&](unsigned k) { return b->insns[k].thread == threaded_entry(b->insns[k], true, true); };
  auto live = [&](unsigned k) { return b->insns[k].thread == threaded_entry(b->insns[k], true, false); };
  // Each record has a flag-less variant registered, so the two differ.
  for (unsigned k = 0; k < 4; ++k) REQUIRE((threaded_entry(b->insns[k], true, true) != threaded_entry(b->insns[k], true, false)));
  CHECK(dead(0));   // ADD: its SF/ZF/AF/PF survive the ROL but die at the XOR
  CHECK(dead(1));   // ROL
  CHECK(dead(2));   // XOR: the IMUL rewrites all six
  CHECK(live(3));   // IMUL before a load that may fault
  // The one-at-a-time handlers still compute flags (budget end, TF, breakpoints).
  m.long_mode(0x1000);
  m.s().gpr[RAX] = 0x7FFFFFFF;
  m.s().gpr[RCX] = 1;
  CHECK(m.run(1) == 1);
  CHECK((m.flags() & kArithFlags) == (OF | SF | AF | PF));
}
