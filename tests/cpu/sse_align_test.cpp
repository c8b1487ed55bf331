// Alignment checking of SSE memory operands (SDM Vol. 3A 6.15, interrupt 17):
// #GP(0) for the forms that need 16-byte alignment, #AC(0) below 8-byte
// alignment for the unaligned 128-bit forms, size-based #AC for scalars.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

TEST_CASE("SSE alignment at CPL 3 with CR0.AM + EFLAGS.AC: MOVUPS & co. #AC below 8 bytes, MOVAPS & co. #GP") {
  Machine m;
  m.load(0x1000, assemble_file(asm_source("sse_align.asm")));
  m.real_mode(0x1000);
  m.run(100000);
  const std::vector<uint32_t> want = {
      0x01,
      0xE0110000,  // MOVUPS xmm, [+4]: #AC(0)
      0xE0110000,  // MOVDQU xmm, [+1]
      0xE0110000,  // LDDQU xmm, [+12]
      0xE0110000,  // MOVUPD [+20], xmm ...
      0x17161514,  // ... wrote nothing
      0x0B0A0908,  // MOVUPS at 8 mod 16 loads
      0xFFFFFFFF,  // MOVDQU store at 8 mod 16 stores
      0xA1,
      0xE00D0000,  // MOVAPS load at 8 mod 16: #GP(0), not #AC
      0xE00D0000,  // MOVDQA store at 4
      0xE00D0000,  // ADDPS xmm, m128 at 8 mod 16
      0xE00D0000,  // FXSAVE at 8 mod 16
      0xA2,
      0xE0110000,  // MOVSD xmm, m64 at 4
      0xE0110000,  // MOVSS xmm, m32 at 2
      0xA3,
      0xE00D0000,  // AC = 0: MOVUPS at 4 is fine, MOVAPS at 4 still #GP(0)
      0xA4,
  };
  CHECK(m.cpu.halted());
  CHECK_FALSE(m.cpu.shutdown());
  CHECK(hex_words(m.ports.results) == hex_words(want));
}
