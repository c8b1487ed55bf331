// Small x87/SSE programs run through the whole CPU (decoder, block cache,
// interpreter loop) in 64-bit mode, with results checked against the same
// computation done by the test process; plus the deferred x87 exception
// (#MF at the next waiting instruction with CR0.NE, none with NE clear).
#include <doctest/doctest.h>

#include <cmath>

#include "simd_harness.h"

using namespace pc64;
using namespace pc64::test;

namespace {

Machine& run_fp(Machine& m, const std::string& body) {
  m.load(0x10000, assemble("bits 64\norg 0x10000\n" + body + "\nhlt\n"));
  m.long_mode(0x10000);
  m.s().cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
  m.s().cr0 |= CR0_MP | CR0_NE;
  m.run(10000000);
  REQUIRE(m.cpu.halted());
  return m;
}

double as_double(uint64_t v) {
  double d;
  std::memcpy(&d, &v, 8);
  return d;
}

}  // namespace

TEST_CASE("SSE2 program: an escape-time loop in doubles gives the host's iteration count") {
  Machine m;
  // z = z^2 + c for c = -0.7453 + 0.1127i, at most 5000 iterations.
  run_fp(m, R"(
    mov rax, 0xBFE7D9E83E425AEE   ; -0.7453
    movq xmm6, rax
    mov rax, 0x3FBCD9E83E425AEE   ; 0.1127
    movq xmm7, rax
    xorpd xmm0, xmm0              ; x
    xorpd xmm1, xmm1              ; y
    mov eax, 4
    cvtsi2sd xmm5, eax            ; 4.0
    xor ecx, ecx
  again:
    movapd xmm2, xmm0
    mulsd xmm2, xmm0              ; x*x
    movapd xmm3, xmm1
    mulsd xmm3, xmm1              ; y*y
    movapd xmm4, xmm2
    addsd xmm4, xmm3
    ucomisd xmm4, xmm5
    ja done
    mulsd xmm1, xmm0
    addsd xmm1, xmm1
    addsd xmm1, xmm7              ; y = 2xy + cy
    subsd xmm2, xmm3
    addsd xmm2, xmm6
    movapd xmm0, xmm2             ; x = x*x - y*y + cx
    inc ecx
    cmp ecx, 5000
    jb again
  done:
    movq rdx, xmm0
  )");
  double cx = as_double(0xBFE7D9E83E425AEE), cy = as_double(0x3FBCD9E83E425AEE);
  double x = 0, y = 0;
  unsigned n = 0;
  for (; n < 5000; ++n) {
    double xx = x * x, yy = y * y;
    if (xx + yy > 4.0) break;
    y = 2 * x * y + cy;  // the program computes (x*y)*2 then +cy: same rounding
    x = xx - yy + cx;
  }
  CHECK(m.reg(RCX) == n);
  uint64_t xb;
  std::memcpy(&xb, &x, 8);
  CHECK(m.reg(RDX) == xb);
}

TEST_CASE("x87 program: constants, arithmetic, FSQRT, FISTP, FCOMI and FSTP m64") {
  Machine m;
  run_fp(m, R"(
    finit
    fldpi
    fstp qword [0x20000]          ; pi rounded to double
    fld1
    fadd st0, st0                 ; 2
    fsqrt                         ; sqrt(2)
    mov dword [0x20010], 1000000
    fimul dword [0x20010]
    fistp dword [0x20014]         ; round(sqrt(2) * 1e6) = 1414214
    fld1
    fldz
    fcomip st0, st1               ; 0 < 1: CF=1
    setc bl
    fstp st0
    fnstsw ax
    mov ecx, [0x20014]
    mov rdx, [0x20000]
  )");
  double pi = M_PI;
  uint64_t pib;
  std::memcpy(&pib, &pi, 8);
  CHECK(m.reg(RDX) == pib);
  CHECK(m.reg(RCX) == 1414214);
  CHECK((m.reg(RBX) & 0xFF) == 1);
  CHECK(((m.reg(RAX) >> 11) & 7) == 0);  // the stack is balanced: TOP back at 0
}

TEST_CASE("x87 unmasked exceptions are deferred to the next waiting instruction (#MF with CR0.NE)") {
  Pc64Runner r;
  Core& c = r.core();
  auto exec = [&](std::initializer_list<uint8_t> bytes) -> int {
    std::vector<uint8_t> b(bytes);
    Insn in;
    REQUIRE(ZYAN_SUCCESS(decode_insn(2, b.data(), b.size(), in)));
    c.next_rip = c.s.rip + in.len;
    try {
      in.handler(c, in);
    } catch (const GuestFault& f) {
      return f.vector;
    }
    return -1;
  };
  r.machine().mem.write(Pc64Runner::kData, 2, 0x037B);  // FCW with ZE unmasked
  c.s.gpr[RSI] = Pc64Runner::kData;
  CHECK(exec({0xDB, 0xE3}) == -1);  // fninit
  CHECK(exec({0xD9, 0x2E}) == -1);  // fldcw [rsi]
  CHECK(exec({0xD9, 0xE8}) == -1);  // fld1
  CHECK(exec({0xD9, 0xEE}) == -1);  // fldz
  CHECK(exec({0xDE, 0xF9}) == -1);  // fdivp: 1/0 -> ZE pending, no fault yet
  CHECK((c.s.fpu.fsw & (FSW_ZE | FSW_ES | FSW_B)) == (FSW_ZE | FSW_ES | FSW_B));
  CHECK(exec({0xDF, 0xE0}) == -1);  // fnstsw ax: non-waiting
  CHECK(exec({0x9B}) == kMF);       // fwait reports it
  CHECK(exec({0xD9, 0xE8}) == kMF); // and so does any waiting x87 instruction
  c.s.cr0 &= ~uint64_t(CR0_NE);
  CHECK(exec({0x9B}) == -1);        // NE clear: the FERR# path (not modelled) does not fault
  c.s.cr0 |= CR0_NE;
  CHECK(exec({0xDB, 0xE2}) == -1);  // fnclex
  CHECK(exec({0x9B}) == -1);
  CHECK((c.s.fpu.fsw & (FSW_ES | FSW_B | FSW_ZE)) == 0);
}
