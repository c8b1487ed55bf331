// 64-bit mode stack instructions (CALL/RET/PUSH/POP with a 64-bit operand
// size), which take a path of their own: RSP unmasked, SS flat. What must
// hold there as everywhere: a faulting push changes neither RSP nor memory,
// non-canonical stack references are #SS(0), RET imm16 and POP RSP.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

// Flat 64-bit mode; the identity map covers the first 16 MiB, so the page
// at 16 MiB is not present.
struct LongMode : Machine {
  Core& c = cpu.core();
  LongMode() { long_mode(0x1000); }
};
constexpr uint64_t kUnmapped = 16ull << 20;

}  // namespace

TEST_CASE("64-bit stack: CALL rel pushes the return RIP; a faulting CALL changes nothing") {
  LongMode m;
  auto& c = m.c;
  c.s.gpr[RSP] = 0x80000;
  CHECK(run_insn64(c, {0xE8, 0x10, 0x00, 0x00, 0x00}) == -1);  // call +0x10
  CHECK(c.next_rip == 0x1015);
  CHECK(c.s.gpr[RSP] == 0x7FFF8);
  CHECK(m.mem.read(0x7FFF8, 8) == 0x1005);

  // The push hits a not-present page: #PF with CR2 = the slot, RSP and the
  // next RIP as they were.
  c.s.gpr[RSP] = kUnmapped + 0x10;
  uint32_t err = 0;
  CHECK(run_insn64(c, {0xE8, 0x10, 0x00, 0x00, 0x00}, &err) == kPF);
  CHECK(c.s.cr2 == kUnmapped + 8);
  CHECK(c.s.gpr[RSP] == kUnmapped + 0x10);
  CHECK(c.next_rip == 0x1005);

  // Half the slot on a present page: nothing is written to it either.
  c.s.gpr[RSP] = kUnmapped + 4;
  m.mem.write(kUnmapped - 4, 4, 0x11223344);
  CHECK(run_insn64(c, {0xE8, 0x10, 0x00, 0x00, 0x00}) == kPF);
  CHECK(m.mem.read(kUnmapped - 4, 4) == 0x11223344);
  CHECK(c.s.gpr[RSP] == kUnmapped + 4);

  // A non-canonical stack slot: #SS(0), not #GP.
  c.s.gpr[RSP] = 0x800000000000ull + 8;
  CHECK(run_insn64(c, {0xE8, 0x10, 0x00, 0x00, 0x00}, &err) == kSS);
  CHECK(err == 0);
  CHECK(c.s.gpr[RSP] == 0x800000000000ull + 8);
  // A non-canonical target: #GP(0) before anything is pushed.
  c.s.gpr[RSP] = 0x80000;
  m.mem.write(0x7FFF8, 8, 0);
  c.s.rip = 0x1000;
  c.next_rip = 0x7FFFFFFFFFF0ull;
  Insn call;
  const uint8_t e8[] = {0xE8, 0x20, 0x00, 0x00, 0x00};
  REQUIRE(ZYAN_SUCCESS(decode_insn(2, e8, sizeof e8, call)));
  bool gp = false;
  try {
    call.handler(c, call);
  } catch (const GuestFault& f) {
    gp = f.vector == kGP;
  }
  CHECK(gp);
  CHECK(c.s.gpr[RSP] == 0x80000);
  CHECK(m.mem.read(0x7FFF8, 8) == 0);
}

TEST_CASE("64-bit stack: RET and RET imm16; a non-canonical return address is #GP with RSP unchanged") {
  LongMode m;
  auto& c = m.c;
  c.s.gpr[RSP] = 0x7FFF0;
  m.mem.write(0x7FFF0, 8, 0x2345);
  CHECK(run_insn64(c, {0xC3}) == -1);
  CHECK(c.next_rip == 0x2345);
  CHECK(c.s.gpr[RSP] == 0x7FFF8);

  c.s.gpr[RSP] = 0x7FFF0;
  CHECK(run_insn64(c, {0xC2, 0x10, 0x01}) == -1);  // ret 0x110
  CHECK(c.next_rip == 0x2345);
  CHECK(c.s.gpr[RSP] == 0x7FFF0 + 8 + 0x110);

  m.mem.write(0x7FFF0, 8, 0x0000800000000000ull);
  c.s.gpr[RSP] = 0x7FFF0;
  CHECK(run_insn64(c, {0xC3}) == kGP);
  CHECK(c.s.gpr[RSP] == 0x7FFF0);

  // The stack top on a not-present page / non-canonical: #PF / #SS(0).
  c.s.gpr[RSP] = kUnmapped;
  CHECK(run_insn64(c, {0xC3}) == kPF);
  CHECK(c.s.gpr[RSP] == kUnmapped);
  c.s.gpr[RSP] = 0xFFFF7FFFFFFFFFF8ull;
  CHECK(run_insn64(c, {0xC3}) == kSS);
  CHECK(c.s.gpr[RSP] == 0xFFFF7FFFFFFFFFF8ull);
}

TEST_CASE("64-bit stack: PUSH/POP of registers, memory and immediates, 16-bit forms, POP RSP") {
  LongMode m;
  auto& c = m.c;
  // RSP above 4 GiB would be cut by any 32-bit mask; the identity map only
  // covers 16 MiB, so the 64-bit width is checked by the arithmetic instead:
  // the stack pointer wraps from 0 to the top of the address space.
  c.s.gpr[RSP] = 0x80000;
  c.s.gpr[RBX] = 0x1122334455667788ull;
  CHECK(run_insn64(c, {0x53}) == -1);  // push rbx
  CHECK(c.s.gpr[RSP] == 0x7FFF8);
  CHECK(m.mem.read(0x7FFF8, 8) == 0x1122334455667788ull);
  CHECK(run_insn64(c, {0x54}) == -1);  // push rsp: the value before the push
  CHECK(m.mem.read(0x7FFF0, 8) == 0x7FFF8);
  CHECK(run_insn64(c, {0x6A, 0xFE}) == -1);  // push -2 (sign-extended)
  CHECK(m.mem.read(0x7FFE8, 8) == 0xFFFFFFFFFFFFFFFEull);
  CHECK(run_insn64(c, {0x41, 0x5F}) == -1);  // pop r15
  CHECK(c.s.gpr[R15] == 0xFFFFFFFFFFFFFFFEull);
  CHECK(c.s.gpr[RSP] == 0x7FFF0);
  CHECK(run_insn64(c, {0x5C}) == -1);  // pop rsp: the popped value wins
  CHECK(c.s.gpr[RSP] == 0x7FFF8);
  m.mem.write(0x9000, 8, 0xCAFEF00DCAFEF00Dull);
  c.s.gpr[RSI] = 0x9000;
  CHECK(run_insn64(c, {0xFF, 0x36}) == -1);  // push qword [rsi]
  CHECK(m.mem.read(0x7FFF0, 8) == 0xCAFEF00DCAFEF00Dull);
  CHECK(c.s.gpr[RSP] == 0x7FFF0);

  // 16-bit forms move all 64 bits of RSP by 2.
  c.s.gpr[RSP] = 0x80000;
  CHECK(run_insn64(c, {0x66, 0x53}) == -1);  // push bx
  CHECK(c.s.gpr[RSP] == 0x7FFFE);
  CHECK(m.mem.read(0x7FFFE, 2) == 0x7788);
  CHECK(run_insn64(c, {0x66, 0x58}) == -1);  // pop ax
  CHECK((c.s.gpr[RAX] & 0xFFFF) == 0x7788);
  CHECK(c.s.gpr[RSP] == 0x80000);

  // POP from a not-present page: RSP and the destination unchanged.
  c.s.gpr[RSP] = kUnmapped;
  c.s.gpr[RAX] = 5;
  CHECK(run_insn64(c, {0x58}) == kPF);
  CHECK(c.s.gpr[RSP] == kUnmapped);
  CHECK(c.s.gpr[RAX] == 5);
  // PUSH at RSP = 0: the slot is 0xFFFF...F8, canonical but not mapped.
  c.s.gpr[RSP] = 0;
  CHECK(run_insn64(c, {0x53}) == kPF);
  CHECK(c.s.cr2 == 0xFFFFFFFFFFFFFFF8ull);
  CHECK(c.s.gpr[RSP] == 0);
}

TEST_CASE("64-bit stack: CALL r64 reads the target before the push; faults change nothing") {
  LongMode m;
  auto& c = m.c;
  c.s.gpr[RSP] = 0x80000;
  c.s.gpr[RAX] = 0x5000;
  CHECK(run_insn64(c, {0xFF, 0xD0}) == -1);  // call rax
  CHECK(c.next_rip == 0x5000);
  CHECK(c.s.gpr[RSP] == 0x7FFF8);
  CHECK(m.mem.read(0x7FFF8, 8) == 0x1002);
  CHECK(run_insn64(c, {0xFF, 0xD4}) == -1);  // call rsp: the value before the push
  CHECK(c.next_rip == 0x7FFF8);
  CHECK(c.s.gpr[RSP] == 0x7FFF0);

  c.s.gpr[RAX] = 0x0000800000000000ull;  // non-canonical target: #GP(0), nothing pushed
  m.mem.write(0x7FFE8, 8, 0);
  CHECK(run_insn64(c, {0xFF, 0xD0}) == kGP);
  CHECK(c.s.gpr[RSP] == 0x7FFF0);
  CHECK(m.mem.read(0x7FFE8, 8) == 0);
  c.s.gpr[RAX] = 0x5000;
  c.s.gpr[RSP] = kUnmapped + 8;  // the push faults: RSP unchanged
  CHECK(run_insn64(c, {0xFF, 0xD0}) == kPF);
  CHECK(c.s.gpr[RSP] == kUnmapped + 8);
  CHECK(c.next_rip == 0x1002);
}
