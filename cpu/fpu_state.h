// Floating-point and SIMD state of one logical processor: the x87 FPU
// (register stack, control/status/tag words, last-instruction pointers), the
// MMX registers that alias the x87 mantissas, XMM0-15, MXCSR and XCR0.
// Names follow the Intel SDM Vol. 1 ch. 8 (x87), 9 (MMX), 10-11 (SSE/MXCSR),
// 13 (XSAVE).
#pragma once
#include <cstdint>
#include <cstring>

#include "mem/state.h"

namespace pc64 {

// One 80-bit x87 register in the memory layout of a host `long double` and of
// the FXSAVE register slots: 64-bit significand (explicit integer bit 63),
// then sign (bit 15) and 15-bit biased exponent. Padded to 16 bytes.
struct Float80 {
  uint64_t mant = 0;
  uint16_t se = 0;  // sign << 15 | exponent
  uint16_t pad[3] = {};

  unsigned exp() const { return se & 0x7FFF; }
  bool sign() const { return se >> 15; }
  bool operator==(const Float80& o) const { return mant == o.mant && se == o.se; }
};
static_assert(sizeof(Float80) == 16);

// An XMM register (and a convenient 128-bit value for operands).
union alignas(16) Xmm {
  uint8_t u8[16];
  int8_t i8[16];
  uint16_t u16[8];
  int16_t i16[8];
  uint32_t u32[4];
  int32_t i32[4];
  uint64_t u64[2];
  int64_t i64[2];
  float f32[4];
  double f64[2];
};
static_assert(sizeof(Xmm) == 16);

// x87 status word FSW (SDM Vol. 1 8.1.3).
enum Fsw : uint16_t {
  FSW_IE = 1u << 0, FSW_DE = 1u << 1, FSW_ZE = 1u << 2, FSW_OE = 1u << 3, FSW_UE = 1u << 4,
  FSW_PE = 1u << 5, FSW_SF = 1u << 6, FSW_ES = 1u << 7, FSW_C0 = 1u << 8, FSW_C1 = 1u << 9,
  FSW_C2 = 1u << 10, FSW_TOP = 7u << 11, FSW_C3 = 1u << 14, FSW_B = 1u << 15,
};
constexpr uint16_t kFswExceptions = 0x3F;
constexpr uint16_t kFswCond = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;

// x87 control word FCW (SDM Vol. 1 8.1.5): exception masks 0-5, PC 8-9, RC 10-11.
enum Fcw : uint16_t { FCW_PC = 3u << 8, FCW_RC = 3u << 10, FCW_X = 1u << 12 };

// MXCSR (SDM Vol. 1 10.2.3).
enum Mxcsr : uint32_t {
  MXCSR_IE = 1u << 0, MXCSR_DE = 1u << 1, MXCSR_ZE = 1u << 2, MXCSR_OE = 1u << 3,
  MXCSR_UE = 1u << 4, MXCSR_PE = 1u << 5, MXCSR_DAZ = 1u << 6, MXCSR_MASKS = 0x3Fu << 7,
  MXCSR_RC = 3u << 13, MXCSR_FTZ = 1u << 15,
};
constexpr uint32_t kMxcsrFlags = 0x3F;
constexpr uint32_t kMxcsrDefault = 0x1F80;
// Bits software may set: everything above is reserved (#GP). DAZ is supported,
// so the FXSAVE MXCSR_MASK reads 0xFFFF (SDM Vol. 1 11.6.6).
constexpr uint32_t kMxcsrMask = 0xFFFF;

// XCR0 state components (SDM Vol. 1 13.1); pc64 implements x87 and SSE.
enum Xcr0 : uint64_t { XCR0_X87 = 1u << 0, XCR0_SSE = 1u << 1 };
constexpr uint64_t kXcr0Supported = XCR0_X87 | XCR0_SSE;

struct FpuState {
  // Default member values are the power-on (RESET) state, so a fresh
  // CpuState needs no extra step (SDM Vol. 3A table 9-1).
  // ---- x87 (physical registers R0-R7; ST(i) is R[(TOP + i) & 7]) ----
  Float80 r[8];
  uint16_t fcw = 0x0040;
  uint16_t fsw = 0;
  uint8_t ftw = 0;      // abridged tag: bit i set = R[i] not empty (FXSAVE format)
  uint16_t fop = 0;     // last non-control instruction's opcode, 11 bits
  uint16_t fcs = 0, fds = 0;
  uint64_t fip = 0, fdp = 0;
  // ---- SSE ----
  Xmm xmm[16] = {};
  uint32_t mxcsr = kMxcsrDefault;
  uint64_t xcr0 = XCR0_X87;

  unsigned top() const { return (fsw >> 11) & 7; }
  void set_top(unsigned t) { fsw = static_cast<uint16_t>((fsw & ~FSW_TOP) | ((t & 7) << 11)); }
  unsigned phys(unsigned i) const { return (top() + i) & 7; }
  Float80& st(unsigned i) { return r[phys(i)]; }
  bool st_empty(unsigned i) const { return !((ftw >> phys(i)) & 1); }

  // MMX register n is the significand of physical register n (SDM Vol. 1 9.5).
  uint64_t& mm(unsigned n) { return r[n].mant; }

  // FNINIT / FINIT (SDM Vol. 1 8.1.x table 8-? "FPU state after FINIT"): the
  // registers themselves keep their contents, only become empty.
  void finit() {
    fcw = 0x037F;
    fsw = 0;
    ftw = 0;
    fop = 0;
    fcs = fds = 0;
    fip = fdp = 0;
  }
  // Power-on / RESET (SDM Vol. 3A 9.1.1, table 9-1): x87 as after FNINIT but
  // FCW 0x0040 and registers +0; XMM zero, MXCSR 0x1F80, XCR0 = x87 only.
  void reset() {
    for (auto& x : r) x = Float80{};
    finit();
    fcw = 0x0040;
    std::memset(xmm, 0, sizeof xmm);
    mxcsr = kMxcsrDefault;
    xcr0 = XCR0_X87;
  }

  // The full 16-bit tag word (2 bits per physical register: 00 valid, 01 zero,
  // 10 special, 11 empty) as FSTENV/FSAVE store it, computed from contents
  // (SDM Vol. 1 8.1.7).
  uint16_t full_tag() const {
    uint16_t t = 0;
    for (unsigned k = 0; k < 8; ++k) {
      unsigned tag;
      if (!((ftw >> k) & 1)) tag = 3;
      else if (r[k].exp() == 0 && r[k].mant == 0) tag = 1;
      else if (r[k].exp() == 0x7FFF || r[k].exp() == 0 || !(r[k].mant >> 63)) tag = 2;
      else tag = 0;
      t = static_cast<uint16_t>(t | (tag << (2 * k)));
    }
    return t;
  }
  void set_full_tag(uint16_t t) {
    ftw = 0;
    for (unsigned k = 0; k < 8; ++k)
      if (((t >> (2 * k)) & 3) != 3) ftw = static_cast<uint8_t>(ftw | (1u << k));
  }

  // One function both ways (DESIGN "Every component serialises").
  void serialize(StateSerializer& s) {
    s.tag(0x46505530);  // "FPU0"
    for (auto& x : r) {
      s(x.mant);
      s(x.se);
    }
    s(fcw);
    s(fsw);
    s(ftw);
    s(fop);
    s(fcs);
    s(fds);
    s(fip);
    s(fdp);
    s(xmm);
    s(mxcsr);
    s(xcr0);
    if (s.loading()) {
      // A corrupt snapshot must not smuggle in reserved bits.
      mxcsr &= kMxcsrMask;
      xcr0 = (xcr0 & kXcr0Supported) | XCR0_X87;
      fop &= 0x7FF;
    }
  }
};

// CPUID leaf 0xD (XSAVE area layout) for `subleaf` with the current XCR0;
// fills EAX, EBX, ECX, EDX (fxsave.cpp).
void fpu_cpuid_leaf_d(uint32_t subleaf, uint64_t xcr0, uint32_t r[4]);

}  // namespace pc64
