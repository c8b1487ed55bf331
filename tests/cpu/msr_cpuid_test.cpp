// MSRs (stored and read back, reserved bits and unknown MSRs raise #GP) and
// the CPUID profile against what pc64 implements (SDM Vol. 4, Vol. 2 CPUID).
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {
uint64_t rd(Core& c, uint32_t idx) {
  uint64_t v = 0xBAD;
  REQUIRE(c.read_msr(idx, v));
  return v;
}
}  // namespace

TEST_CASE("MSR: MTRRs are stored and read back; invalid types and reserved bits are #GP") {
  Machine m;
  Core& c = m.cpu.core();
  CHECK(rd(c, 0xFE) == 0x508);  // MTRRcap: 8 variable ranges, fixed ranges, WC
  CHECK(c.write_msr(0x2FF, 0xC06));  // E, FE, default WB
  CHECK(rd(c, 0x2FF) == 0xC06);
  CHECK_FALSE(c.write_msr(0x2FF, 0x1006));  // bit 12 reserved
  CHECK_FALSE(c.write_msr(0x2FF, 0xC02));   // type 2 is reserved
  // Every fixed-range MTRR: 8 memory types each.
  const uint32_t fixed[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F};
  for (unsigned k = 0; k < 11; ++k) {
    const uint64_t v = 0x0606060605040100ull | (k % 2);  // WB WB WB WB WP WT WC UC (or WC)
    CHECK(c.write_msr(fixed[k], v));
    CHECK(rd(c, fixed[k]) == v);
  }
  CHECK_FALSE(c.write_msr(0x250, 0x0606060606060603ull));  // a type-3 byte
  CHECK(rd(c, 0x250) == 0x0606060605040100ull);             // unchanged
  // Variable ranges: base/mask pairs 0x200-0x20F.
  for (uint32_t n = 0; n < 8; ++n) {
    const uint64_t base = (uint64_t(n + 1) << 28) | 6, mask = 0xFFF0000000ull | 0x800;
    CHECK(c.write_msr(0x200 + 2 * n, base));
    CHECK(c.write_msr(0x201 + 2 * n, mask));
    CHECK(rd(c, 0x200 + 2 * n) == base);
    CHECK(rd(c, 0x201 + 2 * n) == mask);
  }
  CHECK_FALSE(c.write_msr(0x200, 0x10000106));           // base bits 11:8 reserved
  CHECK_FALSE(c.write_msr(0x200, 0x10000003));           // type 3
  CHECK_FALSE(c.write_msr(0x201, 0xFFF0000000ull | 1));  // mask bits 10:0 reserved
  CHECK_FALSE(c.write_msr(0x201, 1ull << 40));           // beyond MAXPHYADDR (40)
  uint64_t v;
  CHECK_FALSE(c.read_msr(0x210, v));  // no ninth range
}

TEST_CASE("MSR: PAT, MISC_ENABLE, PLATFORM_ID, BIOS_SIGN_ID, TSC_AUX, unknown MSRs") {
  Machine m;
  Core& c = m.cpu.core();
  CHECK(rd(c, 0x277) == 0x0007040600070406ull);  // power-up PAT (SDM 11.12.4)
  CHECK(c.write_msr(0x277, 0x0007010600070106ull));  // Linux's layout (WC in PA1)
  CHECK(rd(c, 0x277) == 0x0007010600070106ull);
  CHECK_FALSE(c.write_msr(0x277, 0x0007010600070102ull));  // type 2 is reserved
  CHECK_FALSE(c.write_msr(0x277, 0x0807010600070106ull));  // type 8 is reserved
  CHECK(rd(c, 0x277) == 0x0007010600070106ull);

  CHECK(rd(c, 0x1A0) == 1);  // MISC_ENABLE: fast strings
  CHECK(c.write_msr(0x1A0, 0x850089));
  CHECK(rd(c, 0x1A0) == 0x850089);

  CHECK(rd(c, 0x17) == 0);            // PLATFORM_ID: read-only
  CHECK_FALSE(c.write_msr(0x17, 0));
  // BIOS_SIGN_ID as Linux reads the microcode revision: write 0, CPUID, read.
  CHECK(c.write_msr(0x8B, 0));
  CHECK((rd(c, 0x8B) >> 32) == 0);
  CHECK(c.write_msr(0x79, 0));  // BIOS_UPDT_TRIG: accepted, no microcode

  CHECK(c.write_msr(0xC0000103, 0x12345678));
  CHECK(rd(c, 0xC0000103) == 0x12345678);
  CHECK_FALSE(c.write_msr(0xC0000103, 1ull << 32));  // TSC_AUX is 32 bits

  uint64_t v;
  CHECK_FALSE(c.read_msr(0x12345, v));
  CHECK_FALSE(c.write_msr(0x12345, 0));
  CHECK_FALSE(c.write_msr(0x3A, 5));  // FEATURE_CONTROL is locked
}

TEST_CASE("MSR: RDMSR/WRMSR in a guest; unknown MSRs and CPL 3 raise #GP, RDTSCP returns TSC_AUX") {
  Machine m;
  // Real mode: #GP goes through the IVT; the handler counts it in BX and
  // skips the 2-byte RDMSR/WRMSR.
  m.load(0x1000, assemble(R"(bits 16
org 0x1000
    mov word [13*4], gp_handler
    mov word [13*4+2], 0
    xor bx, bx
    mov ecx, 0x277
    rdmsr                 ; PAT: fine
    mov esi, eax
    mov ecx, 0xC0000103
    mov eax, 0xCAFE
    xor edx, edx
    wrmsr                 ; TSC_AUX
    xor ecx, ecx
    rdtscp
    mov edi, ecx          ; 0xCAFE
    mov ecx, 0x4321
    rdmsr                 ; unknown: #GP
    wrmsr                 ; unknown: #GP
    mov ecx, 0x277
    mov eax, 0x02020202
    wrmsr                 ; reserved PAT type: #GP
    hlt
gp_handler:
    inc bx
    push bp
    mov bp, sp
    add word [bp + 2], 2
    pop bp
    iret
)"));
  m.real_mode(0x1000);
  m.run(1000);
  CHECK(m.cpu.halted());
  CHECK((m.reg(RSI) & 0xFFFFFFFF) == 0x00070406);
  CHECK((m.reg(RDI) & 0xFFFFFFFF) == 0xCAFE);
  CHECK((m.reg(RBX) & 0xFFFF) == 3);

  // CPL 3 in 64-bit mode: RDMSR is #GP(0) even for a known MSR.
  Machine u;
  u.load(0x2000, assemble("bits 64\n mov ecx, 0x10\n rdmsr\n"));
  u.long_mode(0x2000);
  auto& st = u.s();
  st.seg[CS].selector = 0x2B;
  st.seg[CS].attr = 0x9B | 0x60 | 0x2000;
  st.cpl = 3;
  u.cpu.state_changed();
  st.idtr = {0, 0};  // nothing can deliver the #GP: it ends in a triple fault
  u.run(100);
  CHECK(u.cpu.shutdown());
  CHECK(u.s().rip == 0x2005);  // stopped at RDMSR, after MOV ECX
}

TEST_CASE("CPUID: the profile advertises what is implemented, and no more") {
  Machine m;
  Core& c = m.cpu.core();
  uint32_t r[4];
  c.cpuid(0, 0, r);
  CHECK(r[0] >= 7);
  const uint32_t max_leaf = r[0];
  CHECK(r[1] == 0x756E6547);  // "Genu"
  CHECK(r[3] == 0x49656E69);  // "ineI"
  CHECK(r[2] == 0x6C65746E);  // "ntel"
  if (max_leaf >= 0xA) {  // no architectural performance monitoring (no PMU): version 0
    uint32_t pm[4];
    c.cpuid(0xA, 0, pm);
    CHECK(pm[0] == 0);
    CHECK(pm[1] == 0);
    CHECK(pm[3] == 0);
  }

  c.cpuid(1, 0, r);
  CHECK(r[0] == (m.s().gpr[RDX] & 0xFFFFFFFF));  // signature = EDX after RESET
  CHECK(((r[0] >> 8) & 0xF) == 6);               // family 6
  const uint32_t edx_required = (1u << 0) | (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |
                                (1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 15) | (1u << 16) |
                                (1u << 17) | (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);
  CHECK((r[3] & edx_required) == edx_required);  // FPU VME PSE TSC MSR PAE CX8 APIC SEP MTRR PGE CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2
  // Not implemented: MCE, MCA, ACPI thermal, HTT, TM, PBE, PSN, DS.
  const uint32_t edx_absent = (1u << 7) | (1u << 14) | (1u << 18) | (1u << 21) | (1u << 22) | (1u << 28) |
                              (1u << 29) | (1u << 31);
  CHECK((r[3] & edx_absent) == 0);
  // ECX: CX16 MOVBE POPCNT present; MONITOR, VMX, SMX, EST, PDCM, x2APIC, AES, AVX, RDRAND absent.
  CHECK((r[2] & ((1u << 13) | (1u << 22) | (1u << 23))) == ((1u << 13) | (1u << 22) | (1u << 23)));
  const uint32_t ecx_absent = (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 15) | (1u << 21) | (1u << 25) |
                              (1u << 28) | (1u << 30);
  CHECK((r[2] & ecx_absent) == 0);

  c.cpuid(0x80000000, 0, r);
  CHECK(r[0] >= 0x80000008);
  c.cpuid(0x80000001, 0, r);
  const uint32_t ext_edx = (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29);  // SYSCALL NX RDTSCP LM
  CHECK((r[3] & ext_edx) == ext_edx);
  CHECK((r[3] & (1u << 26)) == 0);  // no 1 GiB pages advertised
  CHECK((r[2] & 1) == 1);           // LAHF/SAHF in 64-bit mode
  c.cpuid(0x80000008, 0, r);
  CHECK((r[0] & 0xFF) == kMaxPhysAddrBits);
  CHECK(((r[0] >> 8) & 0xFF) == 48);
}
