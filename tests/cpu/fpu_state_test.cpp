// FPU/SSE state management (issue 5, priority 1): CR0.TS/EM/MP -> #NM/#UD,
// CR4.OSFXSR and OSXMMEXCPT (#XM vs #UD), alignment #GP, LDMXCSR/STMXCSR,
// FXSAVE/FXRSTOR layouts, XSAVE/XRSTOR/XGETBV/XSETBV, CPUID leaf 0xD,
// FNINIT/RESET state, serialisation, and the MOVSD/CMPSD mnemonics shared
// with the string instructions.
#include <doctest/doctest.h>

#include "simd_harness.h"

using namespace pc64;
using namespace pc64::test;

namespace {

constexpr uint64_t kData = Pc64Runner::kData;

// Runs one instruction with RSI = kData; returns the fault vector or -1.
constexpr int kFrozen = -2;  // exec(): the instruction froze (X87Freeze) instead of running

int exec(Core& c, std::initializer_list<uint8_t> bytes) {
  std::vector<uint8_t> b(bytes);
  Insn in;
  REQUIRE(ZYAN_SUCCESS(decode_insn(2, b.data(), b.size(), in)));
  REQUIRE((in.handler != &h_undefined));
  c.s.gpr[RSI] = kData;
  c.next_rip = c.s.rip + in.len;
  try {
    in.handler(c, in);
  } catch (const GuestFault& f) {
    return f.vector;
  } catch (const X87Freeze&) {
    return kFrozen;
  }
  return -1;
}

uint32_t rd32(Pc64Runner& r, uint64_t pa) { return static_cast<uint32_t>(r.machine().mem.read(pa, 4)); }
uint64_t rd64(Pc64Runner& r, uint64_t pa) { return r.machine().mem.read(pa, 8); }

Xmm xmm_of(uint64_t lo, uint64_t hi) {
  Xmm x;
  x.u64[0] = lo;
  x.u64[1] = hi;
  return x;
}

}  // namespace

TEST_CASE("SSE availability follows CR0.EM/TS and CR4.OSFXSR; x87 follows EM/TS and WAIT follows MP+TS") {
  Pc64Runner r;
  Core& c = r.core();
  CHECK(exec(c, {0x0F, 0x58, 0xC1}) == -1);  // addps xmm0, xmm1
  c.s.cr0 |= CR0_TS;
  CHECK(exec(c, {0x0F, 0x58, 0xC1}) == kNM);
  CHECK(exec(c, {0xDB, 0xE3}) == kNM);  // fninit
  CHECK(exec(c, {0x9B}) == kNM);        // fwait with MP and TS
  c.s.cr0 &= ~uint64_t(CR0_MP);
  CHECK(exec(c, {0x9B}) == -1);         // fwait with TS only runs
  c.s.cr0 = (c.s.cr0 & ~uint64_t(CR0_TS)) | CR0_EM;
  CHECK(exec(c, {0x0F, 0x58, 0xC1}) == kUD);
  CHECK(exec(c, {0xDB, 0xE3}) == kNM);  // x87 with EM: #NM (emulation trap)
  CHECK(exec(c, {0x0F, 0xFC, 0xC1}) == kUD);  // paddb mm0, mm1 with EM
  c.s.cr0 &= ~uint64_t(CR0_EM);
  c.s.cr4 &= ~uint64_t(CR4_OSFXSR);
  CHECK(exec(c, {0x0F, 0x58, 0xC1}) == kUD);
  CHECK(exec(c, {0x0F, 0xFC, 0xC1}) == -1);  // MMX does not need OSFXSR
}

TEST_CASE("unmasked SIMD exceptions: #XM with OSXMMEXCPT, else #UD; destination unchanged, flag set") {
  Pc64Runner r;
  Core& c = r.core();
  c.s.fpu.xmm[0] = xmm_of(0x3F8000003F800000, 0x3F8000003F800000);  // 1.0f x4
  c.s.fpu.xmm[1] = xmm_of(0x3F80000000000000, 0x3F8000003F800000);  // lane 0 = +0
  c.s.fpu.mxcsr = kMxcsrDefault & ~(1u << 9);                        // unmask ZE
  CHECK(exec(c, {0x0F, 0x5E, 0xC1}) == kXM);                         // divps xmm0, xmm1
  CHECK(c.s.fpu.xmm[0].u64[0] == 0x3F8000003F800000);
  CHECK((c.s.fpu.mxcsr & MXCSR_ZE) != 0);
  c.s.cr4 &= ~uint64_t(CR4_OSXMMEXCPT);
  c.s.fpu.mxcsr &= ~kMxcsrFlags;
  CHECK(exec(c, {0x0F, 0x5E, 0xC1}) == kUD);
  CHECK((c.s.fpu.mxcsr & MXCSR_ZE) != 0);
  // Masked: the result is +inf in lane 0 and only the flag is set.
  c.s.fpu.mxcsr = kMxcsrDefault;
  CHECK(exec(c, {0x0F, 0x5E, 0xC1}) == -1);
  CHECK(c.s.fpu.xmm[0].u32[0] == 0x7F800000);
  CHECK(c.s.fpu.mxcsr == (kMxcsrDefault | MXCSR_ZE));
}

TEST_CASE("aligned SSE forms #GP on a misaligned operand, unaligned forms do not") {
  Pc64Runner r;
  Core& c = r.core();
  for (unsigned k = 0; k < 32; ++k) r.machine().mem.write(kData + k, 1, k);
  c.s.gpr[RSI] = kData;
  CHECK(exec(c, {0x0F, 0x28, 0x46, 0x04}) == kGP);   // movaps xmm0, [rsi+4]
  CHECK(exec(c, {0x66, 0x0F, 0xFC, 0x46, 0x08}) == kGP);  // paddb xmm0, [rsi+8]
  CHECK(exec(c, {0x0F, 0x10, 0x46, 0x04}) == -1);    // movups xmm0, [rsi+4]
  CHECK(c.s.fpu.xmm[0].u8[0] == 4);
  CHECK(c.s.fpu.xmm[0].u8[15] == 19);
  CHECK(exec(c, {0xF3, 0x0F, 0x58, 0x46, 0x04}) == -1);  // addss xmm0, [rsi+4]: scalar, no alignment
  CHECK(exec(c, {0x0F, 0xAE, 0x46, 0x08}) == kGP);   // fxsave [rsi+8]
}

TEST_CASE("LDMXCSR/STMXCSR and reserved bits") {
  Pc64Runner r;
  Core& c = r.core();
  CHECK(c.s.fpu.mxcsr == kMxcsrDefault);
  r.machine().mem.write(kData, 4, 0x7FC0 | MXCSR_DAZ);
  CHECK(exec(c, {0x0F, 0xAE, 0x16}) == -1);  // ldmxcsr [rsi]
  CHECK(c.s.fpu.mxcsr == (0x7FC0u | MXCSR_DAZ));
  CHECK(exec(c, {0x0F, 0xAE, 0x5E, 0x10}) == -1);  // stmxcsr [rsi+16]
  CHECK(rd32(r, kData + 16) == (0x7FC0u | MXCSR_DAZ));
  r.machine().mem.write(kData, 4, 0x11F80);
  CHECK(exec(c, {0x0F, 0xAE, 0x16}) == kGP);
  CHECK(c.s.fpu.mxcsr == (0x7FC0u | MXCSR_DAZ));
}

TEST_CASE("FXSAVE/FXRSTOR: 64-bit layout, stack-ordered registers, round trip") {
  Pc64Runner r;
  Core& c = r.core();
  FpuState& f = c.s.fpu;
  f.fcw = 0x027F;
  f.fsw = 0x3800 | FSW_C1;  // TOP = 7
  f.ftw = 0x80;             // R7 = ST(0) valid
  f.fop = 0x123;
  f.fip = 0x1122334455667788;
  f.fdp = 0x99AABBCCDDEEFF00;
  f.r[7].mant = 0xC000000000000000;
  f.r[7].se = 0x3FFF;  // 1.5
  f.mxcsr = 0x3F80 | MXCSR_PE;
  for (unsigned k = 0; k < 16; ++k) f.xmm[k] = xmm_of(0x0101010101010101ull * k, ~0ull - k);
  CHECK(exec(c, {0x48, 0x0F, 0xAE, 0x06}) == -1);  // fxsave64 [rsi]
  CHECK(r.machine().mem.read(kData, 2) == 0x027F);
  CHECK(r.machine().mem.read(kData + 2, 2) == (0x3800u | FSW_C1));
  CHECK(r.machine().mem.read(kData + 4, 1) == 0x80);
  CHECK(r.machine().mem.read(kData + 6, 2) == 0x123);
  CHECK(rd64(r, kData + 8) == 0x1122334455667788);
  CHECK(rd64(r, kData + 16) == 0x99AABBCCDDEEFF00);
  CHECK(rd32(r, kData + 24) == (0x3F80u | MXCSR_PE));
  CHECK(rd32(r, kData + 28) == 0xFFFF);                // MXCSR_MASK: DAZ supported
  CHECK(rd64(r, kData + 32) == 0xC000000000000000);   // ST(0) = R7
  CHECK(r.machine().mem.read(kData + 40, 2) == 0x3FFF);
  CHECK(rd64(r, kData + 160 + 16 * 15) == 0x0F0F0F0F0F0F0F0F);
  // The 32-bit form stores FIP/FCS and FDP/FDS in 32+16 bits.
  f.fcs = 0x1B;
  CHECK(exec(c, {0x0F, 0xAE, 0x86, 0x00, 0x02, 0x00, 0x00}) == -1);  // fxsave [rsi+0x200]
  CHECK(rd32(r, kData + 0x200 + 8) == 0x55667788);
  CHECK(r.machine().mem.read(kData + 0x200 + 12, 2) == 0x1B);
  FpuState saved = f;
  f.finit();
  f.mxcsr = kMxcsrDefault;
  for (auto& x : f.xmm) x = Xmm{};
  CHECK(exec(c, {0x48, 0x0F, 0xAE, 0x0E}) == -1);  // fxrstor64 [rsi]
  CHECK(f.fcw == saved.fcw);
  CHECK(f.fsw == saved.fsw);
  CHECK(f.ftw == saved.ftw);
  CHECK(f.fip == saved.fip);
  CHECK(f.r[7] == saved.r[7]);
  CHECK(f.mxcsr == saved.mxcsr);
  for (unsigned k = 0; k < 16; ++k) CHECK(std::memcmp(&f.xmm[k], &saved.xmm[k], 16) == 0);
  // FXRSTOR rejects reserved MXCSR bits.
  r.machine().mem.write(kData + 24, 4, 0x10000);
  CHECK(exec(c, {0x48, 0x0F, 0xAE, 0x0E}) == kGP);
}

TEST_CASE("XSAVE/XRSTOR/XGETBV/XSETBV with XCR0 = x87|SSE") {
  Pc64Runner r;
  Core& c = r.core();
  CHECK(exec(c, {0x0F, 0x01, 0xD0}) == kUD);  // xgetbv needs CR4.OSXSAVE
  c.s.cr4 |= 1u << 18;
  c.s.gpr[RCX] = 0;
  CHECK(exec(c, {0x0F, 0x01, 0xD0}) == -1);
  CHECK(c.s.gpr[RAX] == 1);
  CHECK(c.s.gpr[RDX] == 0);
  c.s.gpr[RAX] = 2;  // SSE without x87
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == kGP);
  c.s.gpr[RAX] = 7;  // AVX not supported
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == kGP);
  c.s.gpr[RAX] = 3;
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == -1);
  CHECK(c.s.fpu.xcr0 == 3);
  uint32_t leaf[4];
  fpu_cpuid_leaf_d(0, c.s.fpu.xcr0, leaf);
  CHECK(leaf[0] == 3);
  CHECK(leaf[1] == 576);
  CHECK(leaf[2] == 576);

  c.s.fpu.xmm[3] = xmm_of(0x1234, 0x5678);
  c.s.fpu.mxcsr = 0x5F80;
  for (unsigned k = 0; k < 576; k += 8) r.machine().mem.write(kData + k, 8, 0);
  c.s.gpr[RAX] = 3;
  c.s.gpr[RDX] = 0;
  CHECK(exec(c, {0x0F, 0xAE, 0x26}) == -1);  // xsave [rsi]
  CHECK(rd64(r, kData + 512) == 3);           // XSTATE_BV
  CHECK(rd32(r, kData + 24) == 0x5F80);
  CHECK(rd64(r, kData + 160 + 48) == 0x1234);
  // Restoring with XSTATE_BV.SSE = 0 puts SSE in its initial state, but MXCSR
  // still comes from memory.
  r.machine().mem.write(kData + 512, 8, 1);
  r.machine().mem.write(kData + 24, 4, 0x1F80 | MXCSR_FTZ);
  CHECK(exec(c, {0x0F, 0xAE, 0x2E}) == -1);  // xrstor [rsi]
  CHECK(c.s.fpu.xmm[3].u64[0] == 0);
  CHECK(c.s.fpu.mxcsr == (0x1F80u | MXCSR_FTZ));
  // A non-zero reserved header byte or a compacted form is #GP.
  r.machine().mem.write(kData + 520, 8, 1ull << 63);
  CHECK(exec(c, {0x0F, 0xAE, 0x2E}) == kGP);
  r.machine().mem.write(kData + 520, 8, 0);
  CHECK(exec(c, {0x0F, 0xAE, 0x66, 0x08}) == kGP);  // xsave [rsi+8]: needs 64-byte alignment
}

TEST_CASE("XSAVE is advertised: CPUID.1 XSAVE/OSXSAVE, leaf 0xD, MOV CR4.OSXSAVE, XSETBV rules") {
  Pc64Runner r;
  Core& c = r.core();
  auto cpuid = [&](uint32_t leaf, uint32_t sub) {
    c.s.gpr[RAX] = leaf;
    c.s.gpr[RCX] = sub;
    REQUIRE(exec(c, {0x0F, 0xA2}) == -1);
  };
  cpuid(0, 0);
  CHECK(uint32_t(c.s.gpr[RAX]) >= 0xD);  // leaf 0xD is reachable
  cpuid(1, 0);
  CHECK((c.s.gpr[RCX] & (1u << 26)) != 0);  // XSAVE
  CHECK((c.s.gpr[RCX] & (1u << 27)) == 0);  // OSXSAVE: CR4.OSXSAVE is clear
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == kUD);  // xsetbv without CR4.OSXSAVE
  CHECK(exec(c, {0x0F, 0xAE, 0x26}) == kUD);  // xsave without CR4.OSXSAVE
  // mov cr4, rax: OSXSAVE is accepted (bit 19, PCIDE, is not implemented: #GP).
  c.s.gpr[RAX] = c.s.cr4 | (1u << 19);
  CHECK(exec(c, {0x0F, 0x22, 0xE0}) == kGP);
  c.s.gpr[RAX] = c.s.cr4 | CR4_OSXSAVE;
  CHECK(exec(c, {0x0F, 0x22, 0xE0}) == -1);
  CHECK((c.s.cr4 & CR4_OSXSAVE) != 0);
  cpuid(1, 0);
  CHECK((c.s.gpr[RCX] & (1u << 27)) != 0);  // OSXSAVE now mirrors CR4
  // Leaf 0xD: XCR0 may hold x87|SSE, the standard-format area is 512 + 64 bytes;
  // subleaf 1 offers no XSAVEOPT/XSAVEC/XSAVES, subleaf 2 (AVX) is empty.
  cpuid(0xD, 0);
  CHECK(uint32_t(c.s.gpr[RAX]) == 3);
  CHECK(uint32_t(c.s.gpr[RBX]) == 576);
  CHECK(uint32_t(c.s.gpr[RCX]) == 576);
  CHECK(uint32_t(c.s.gpr[RDX]) == 0);
  cpuid(0xD, 1);
  CHECK(uint32_t(c.s.gpr[RAX]) == 0);
  cpuid(0xD, 2);
  CHECK((c.s.gpr[RAX] | c.s.gpr[RBX] | c.s.gpr[RCX] | c.s.gpr[RDX]) == 0);
  // XSETBV: x87|SSE is valid; a reserved bit, XCR1, or CPL 3 is #GP.
  c.s.gpr[RCX] = 0;
  c.s.gpr[RDX] = 0;
  c.s.gpr[RAX] = 3;
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == -1);
  CHECK(c.s.fpu.xcr0 == 3);
  c.s.gpr[RDX] = 1;  // bit 32
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == kGP);
  c.s.gpr[RDX] = 0;
  c.s.gpr[RAX] = 0;  // x87 must stay enabled
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == kGP);
  c.s.gpr[RAX] = 3;
  c.s.gpr[RCX] = 1;
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == kGP);
  c.s.gpr[RCX] = 0;
  c.s.cpl = 3;
  CHECK(exec(c, {0x0F, 0x01, 0xD1}) == kGP);
  CHECK(exec(c, {0x0F, 0x01, 0xD0}) == -1);  // xgetbv works at any CPL
  CHECK(uint32_t(c.s.gpr[RAX]) == 3);
  c.s.cpl = 0;
  // Clearing CR4.OSXSAVE makes XGETBV #UD again.
  c.s.gpr[RAX] = c.s.cr4 & ~CR4_OSXSAVE;
  CHECK(exec(c, {0x0F, 0x22, 0xE0}) == -1);
  c.s.gpr[RCX] = 0;
  CHECK(exec(c, {0x0F, 0x01, 0xD0}) == kUD);
}

TEST_CASE("CR0.NE=0: a pending x87 exception asserts FERR# and freezes the next waiting instruction; IGNNE# lets it run") {
  // The PC's wiring in miniature: IGNNE# is set by the handler's port 0xF0
  // write (here: by the test) and follows FERR#'s negation.
  struct FerrProbe final : InterruptSource {
    bool intr_pending() const override { return false; }
    uint8_t acknowledge_intr() override { return 0; }
    void set_ferr(bool a) override {
      ++(a ? asserted : negated);
      if (!a) ignne_pin = false;
    }
    bool ignne() const override { return ignne_pin; }
    int asserted = 0, negated = 0;
    bool ignne_pin = false;
  } probe;
  Pc64Runner r;
  Core& c = r.core();
  c.intr = &probe;
  c.s.cr0 &= ~uint64_t(CR0_NE);
  c.s.fpu.fcw = 0x037B;  // ZE unmasked
  CHECK(exec(c, {0xD9, 0xE8}) == -1);  // fld1
  CHECK(exec(c, {0xD9, 0xEE}) == -1);  // fldz
  CHECK(exec(c, {0xDE, 0xF9}) == -1);  // fdivp: 1/0, unmasked -> pending (ES)
  CHECK((c.s.fpu.fsw & FSW_ES) != 0);
  CHECK(probe.asserted == 0);          // reported at the next waiting instruction
  CHECK(exec(c, {0xDF, 0xE0}) == -1);  // fnstsw ax (no-wait): runs
  CHECK(exec(c, {0x9B}) == kFrozen);   // fwait: FERR#, no #MF, frozen
  CHECK(probe.asserted == 1);
  CHECK(c.s.fpu.top() == 6);           // the unmasked #Z did not pop
  CHECK(exec(c, {0xD9, 0xE8}) == kFrozen);  // fld1 (waiting) freezes too, and changes nothing
  CHECK(c.s.fpu.top() == 6);
  probe.ignne_pin = true;              // the IRQ13 handler wrote port 0xF0
  CHECK(exec(c, {0x9B}) == -1);        // IGNNE#: proceeds, exception still pending
  CHECK(exec(c, {0xD9, 0xE8}) == -1);
  CHECK(c.s.fpu.top() == 5);
  CHECK((c.s.fpu.fsw & FSW_ES) != 0);
  CHECK(exec(c, {0xDB, 0xE2}) == -1);  // fnclex (no-wait): FERR# negated, IGNNE# follows
  CHECK(probe.negated == 1);
  CHECK_FALSE(probe.ignne_pin);
  CHECK((c.s.fpu.fsw & FSW_ES) == 0);
  CHECK(exec(c, {0x9B}) == -1);
  // With CR0.NE the same pending exception is #MF and FERR# stays quiet.
  c.s.cr0 |= CR0_NE;
  c.s.fpu.fsw |= 0x0004 | FSW_ES | FSW_B;  // ZE pending again
  CHECK(exec(c, {0x9B}) == kMF);
  const int before = probe.asserted;
  c.s.cr0 &= ~uint64_t(CR0_NE);
  CHECK(exec(c, {0x9B}) == kFrozen);
  CHECK(probe.asserted == before + 1);
  CHECK(exec(c, {0xDB, 0xE3}) == -1);  // fninit also negates it
  CHECK(probe.negated == 2);
  // So do FNSAVE (it reinitialises the FPU) and FXRSTOR of an image without ES.
  c.s.fpu.fsw |= 0x0004 | FSW_ES | FSW_B;
  CHECK(exec(c, {0x9B}) == kFrozen);
  CHECK(exec(c, {0xDD, 0x36}) == -1);  // fnsave [rsi]
  CHECK(probe.negated == 3);
  CHECK(exec(c, {0x0F, 0xAE, 0x06}) == -1);  // fxsave [rsi]: a clean image
  c.s.fpu.fsw |= 0x0004 | FSW_ES | FSW_B;
  CHECK(exec(c, {0x9B}) == kFrozen);
  CHECK(exec(c, {0x0F, 0xAE, 0x0E}) == -1);  // fxrstor [rsi]
  CHECK(probe.negated == 4);
  CHECK((c.s.fpu.fsw & FSW_ES) == 0);
  CHECK(exec(c, {0x9B}) == -1);
}

TEST_CASE("FNINIT and RESET state; FpuState serialises both ways") {
  FpuState f;
  CHECK(f.fcw == 0x0040);  // power-on (SDM Vol. 3A table 9-1)
  CHECK(f.mxcsr == kMxcsrDefault);
  f.fsw = 0x3FFF;
  f.ftw = 0x5A;
  f.finit();
  CHECK(f.fcw == 0x037F);
  CHECK(f.fsw == 0);
  CHECK(f.ftw == 0);
  CHECK(f.full_tag() == 0xFFFF);
  f.ftw = 0x01;
  f.r[0] = Float80{};  // +0 -> tag "zero"
  CHECK(f.full_tag() == 0xFFFD);

  f.xmm[5].u64[1] = 0xDEADBEEF;
  f.mxcsr = 0x7F80;
  f.r[3].mant = 42;
  std::vector<uint8_t> blob;
  StateSerializer w(blob);
  f.serialize(w);
  FpuState g;
  StateSerializer rd(blob.data(), blob.size());
  g.serialize(rd);
  CHECK(rd.at_end());
  CHECK(g.xmm[5].u64[1] == 0xDEADBEEF);
  CHECK(g.mxcsr == 0x7F80);
  CHECK(g.r[3].mant == 42);
  CHECK(g.fcw == f.fcw);
}

TEST_CASE("MOVSD and CMPSD still decode to the string instructions without XMM operands") {
  Pc64Runner r;
  Core& c = r.core();
  r.machine().mem.write(kData, 4, 0xCAFEF00D);
  c.s.gpr[RDI] = kData + 0x100;
  c.s.gpr[RSI] = kData;
  CHECK(exec(c, {0xA5}) == -1);  // movsd (string)
  CHECK(rd32(r, kData + 0x100) == 0xCAFEF00D);
  CHECK(exec(c, {0xA7}) == -1);  // cmpsd (string)
  c.s.fpu.xmm[1].u64[0] = 0x4000000000000000;  // 2.0
  CHECK(exec(c, {0xF2, 0x0F, 0x10, 0xC1}) == -1);  // movsd xmm0, xmm1
  CHECK(c.s.fpu.xmm[0].u64[0] == 0x4000000000000000);
  CHECK(exec(c, {0xF2, 0x0F, 0xC2, 0xC1, 0x00}) == -1);  // cmpeqsd xmm0, xmm1
  CHECK(c.s.fpu.xmm[0].u64[0] == ~0ull);
}

TEST_CASE("FNSTENV/FLDENV and FNSAVE/FRSTOR: 32- and 16-bit protected-mode layouts, round trip") {
  Pc64Runner r;
  Core& c = r.core();
  FpuState& f = c.s.fpu;
  auto setup = [&] {
    f.finit();
    f.fcw = 0x0272;
    f.fsw = static_cast<uint16_t>((6 << 11) | FSW_C3);
    f.r[6].mant = 1ull << 63;
    f.r[6].se = 0x3FFF;  // 1.0: tag valid
    f.r[7] = Float80{};  // +0: tag zero
    f.ftw = 0xC0;
    f.fip = 0x12345678;
    f.fcs = 0x33;
    f.fop = 0x1D9;
    f.fdp = 0x9ABCDEF0;
    f.fds = 0x2B;
  };
  setup();
  CHECK(exec(c, {0xD9, 0x36}) == -1);  // fnstenv [rsi] (32-bit operand size: 28 bytes)
  auto& mem = r.machine().mem;
  CHECK(mem.read(kData + 0, 2) == 0x0272);
  CHECK(mem.read(kData + 4, 2) == ((6u << 11) | FSW_C3));
  CHECK(mem.read(kData + 8, 2) == 0x4FFF);  // R7 zero (01), R6 valid (00), the rest empty
  CHECK(rd32(r, kData + 12) == 0x12345678);
  CHECK(rd32(r, kData + 16) == (0x33u | (0x1D9u << 16)));
  CHECK(rd32(r, kData + 20) == 0x9ABCDEF0);
  CHECK(mem.read(kData + 24, 2) == 0x2B);
  CHECK(f.fcw == 0x027F);  // FNSTENV masks every exception afterwards
  f.finit();
  CHECK(exec(c, {0xD9, 0x26}) == -1);  // fldenv [rsi]
  CHECK(f.fcw == 0x0272);
  CHECK(f.top() == 6);
  CHECK(f.ftw == 0xC0);
  CHECK(f.fip == 0x12345678);
  CHECK(f.fop == 0x1D9);

  // 16-bit operand size: 14 bytes, IP/DP truncated to 16 bits.
  setup();
  CHECK(exec(c, {0x66, 0xD9, 0xB6, 0x00, 0x01, 0x00, 0x00}) == -1);  // fnstenv [rsi+0x100], o16
  CHECK(mem.read(kData + 0x100, 2) == 0x0272);
  CHECK(mem.read(kData + 0x102, 2) == ((6u << 11) | FSW_C3));
  CHECK(mem.read(kData + 0x104, 2) == 0x4FFF);
  CHECK(mem.read(kData + 0x106, 2) == 0x5678);
  CHECK(mem.read(kData + 0x108, 2) == 0x33);
  CHECK(mem.read(kData + 0x10A, 2) == 0xDEF0);
  CHECK(mem.read(kData + 0x10C, 2) == 0x2B);

  // FNSAVE: environment then ST(0)..ST(7); the FPU is initialised afterwards.
  setup();
  CHECK(exec(c, {0xDD, 0xB6, 0x00, 0x02, 0x00, 0x00}) == -1);  // fnsave [rsi+0x200]
  CHECK(rd64(r, kData + 0x200 + 28) == (1ull << 63));  // ST(0) = R6 = 1.0
  CHECK(mem.read(kData + 0x200 + 36, 2) == 0x3FFF);
  CHECK(f.fcw == 0x037F);
  CHECK(f.ftw == 0);
  CHECK(exec(c, {0xDD, 0xA6, 0x00, 0x02, 0x00, 0x00}) == -1);  // frstor [rsi+0x200]
  CHECK(f.fcw == 0x0272);
  CHECK(f.top() == 6);
  CHECK(f.ftw == 0xC0);
  CHECK(f.st(0).mant == (1ull << 63));
  CHECK(f.st(0).se == 0x3FFF);
}

TEST_CASE("MMX instructions alias the x87 registers: TOP = 0, all tags valid, exponent all ones; EMMS empties") {
  Pc64Runner r;
  Core& c = r.core();
  FpuState& f = c.s.fpu;
  f.finit();
  f.set_top(3);
  c.s.gpr[RAX] = 0x1122334455667788;
  CHECK(exec(c, {0x48, 0x0F, 0x6E, 0xC8}) == -1);  // movq mm1, rax
  CHECK(f.top() == 0);
  CHECK(f.ftw == 0xFF);
  CHECK(f.r[1].mant == 0x1122334455667788);
  CHECK(f.r[1].se == 0xFFFF);
  CHECK(exec(c, {0x0F, 0xFC, 0xC9}) == -1);  // paddb mm1, mm1
  CHECK(f.r[1].mant == 0x22446688AACCEE10);
  CHECK(exec(c, {0x0F, 0x77}) == -1);  // emms
  CHECK(f.ftw == 0);
  CHECK(f.full_tag() == 0xFFFF);
}

TEST_CASE("x87 data instructions record FOP, FIP/FCS and FDP/FDS") {
  Pc64Runner r;
  Core& c = r.core();
  FpuState& f = c.s.fpu;
  f.finit();
  c.s.rip = 0x401234;
  r.machine().mem.write(kData + 0x40, 4, 0x3F800000);  // 1.0f
  CHECK(exec(c, {0xD9, 0x46, 0x40}) == -1);  // fld dword [rsi+0x40]
  CHECK(f.fop == 0x146);                     // (D9 & 7) << 8 | ModRM 46
  CHECK(f.fip == 0x401234);
  CHECK(f.fcs == c.s.seg[CS].selector);
  CHECK(f.fdp == kData + 0x40);
  CHECK(f.fds == c.s.seg[DS].selector);
  CHECK(f.st(0).se == 0x3FFF);
  c.s.rip = 0x401240;
  CHECK(exec(c, {0xD8, 0xC0}) == -1);  // fadd st0, st0
  CHECK(f.fop == 0x0C0);
  CHECK(f.fip == 0x401240);
  CHECK(f.fdp == kData + 0x40);  // register forms leave the data pointer
  CHECK(f.st(0).se == 0x4000);   // 2.0
  CHECK(exec(c, {0xD9, 0xEE}) == -1);  // fldz: not a control instruction either
  CHECK(f.fop == 0x1EE);
  CHECK(exec(c, {0xD9, 0x7E, 0x10}) == -1);  // fnstcw [rsi+0x10]: control, FOP unchanged
  CHECK(f.fop == 0x1EE);
}
