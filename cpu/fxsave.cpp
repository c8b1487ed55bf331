// FPU/SSE state management instructions: FXSAVE/FXRSTOR (32- and 64-bit
// layouts), LDMXCSR/STMXCSR, XSAVE/XRSTOR/XGETBV/XSETBV with XCR0 = x87|SSE,
// and the CPUID leaf 0xD data that describes the XSAVE area
// (SDM Vol. 1 10.5, 13; Vol. 2 FXSAVE, XSAVE, XRSTOR, XSETBV).
#include "cpu/sse_common.h"

namespace pc64 {

namespace {

constexpr unsigned kLegacyArea = 512;
constexpr unsigned kXsaveHeader = 64;
constexpr unsigned kXsaveSize = kLegacyArea + kXsaveHeader;  // x87 + SSE only

// The legacy (FXSAVE) image of the state, SDM Vol. 1 table 10-2 / 10-3.
// `wide` = REX.W form (64-bit FIP/FDP); `nxmm` = XMM registers saved.
void fx_image(const FpuState& f, uint8_t* b, bool wide, unsigned nxmm, bool x87, bool sse, bool mxcsr) {
  auto put16 = [&](unsigned off, uint16_t v) { std::memcpy(b + off, &v, 2); };
  auto put32 = [&](unsigned off, uint32_t v) { std::memcpy(b + off, &v, 4); };
  auto put64 = [&](unsigned off, uint64_t v) { std::memcpy(b + off, &v, 8); };
  if (x87) {
    put16(0, f.fcw);
    put16(2, f.fsw);
    b[4] = f.ftw;
    b[5] = 0;
    put16(6, f.fop);
    if (wide) {
      put64(8, f.fip);
      put64(16, f.fdp);
    } else {
      put32(8, static_cast<uint32_t>(f.fip));
      put16(12, f.fcs);
      put16(14, 0);
      put32(16, static_cast<uint32_t>(f.fdp));
      put16(20, f.fds);
      put16(22, 0);
    }
    // ST(0)..ST(7) in stack order (not physical order), 10 bytes each + 6 reserved.
    for (unsigned k = 0; k < 8; ++k) {
      const Float80& r = f.r[(f.top() + k) & 7];
      put64(32 + 16 * k, r.mant);
      put16(40 + 16 * k, r.se);
      std::memset(b + 42 + 16 * k, 0, 6);
    }
  }
  if (mxcsr) {  // FXSAVE always writes MXCSR; XSAVE only with the SSE component
    put32(24, f.mxcsr);
    put32(28, kMxcsrMask);
  }
  if (sse)
    for (unsigned k = 0; k < nxmm; ++k) std::memcpy(b + 160 + 16 * k, &f.xmm[k], 16);
}

void fx_load_x87(FpuState& f, const uint8_t* b, bool wide) {
  auto get16 = [&](unsigned off) { uint16_t v; std::memcpy(&v, b + off, 2); return v; };
  auto get32 = [&](unsigned off) { uint32_t v; std::memcpy(&v, b + off, 4); return v; };
  auto get64 = [&](unsigned off) { uint64_t v; std::memcpy(&v, b + off, 8); return v; };
  f.fcw = get16(0);
  f.fsw = get16(2);
  f.ftw = b[4];
  f.fop = get16(6) & 0x7FF;
  if (wide) {
    f.fip = get64(8);
    f.fdp = get64(16);
  } else {
    f.fip = get32(8);
    f.fcs = get16(12);
    f.fdp = get32(16);
    f.fds = get16(20);
  }
  for (unsigned k = 0; k < 8; ++k) {
    Float80& r = f.r[(f.top() + k) & 7];
    r.mant = get64(32 + 16 * k);
    r.se = get16(40 + 16 * k);
  }
  // FSW.ES/B follow the unmasked exception flags restored (SDM 8.1.3.x).
  if (f.fsw & ~f.fcw & kFswExceptions) f.fsw |= FSW_ES | FSW_B;
  else f.fsw &= ~(FSW_ES | FSW_B);
}

void x87_init_state(FpuState& f) {  // XRSTOR's x87 initial configuration (SDM 13.6)
  f.finit();
  for (auto& r : f.r) r = Float80{};
}

uint64_t area_offset(Core& c, const Insn& i, unsigned align) {
  uint64_t off = c.ea(i);
  if ((c.segchk[i.seg].base + off) & (align - 1)) c.gp(0);
  return off;
}

// ---------------- FXSAVE / FXRSTOR ----------------

template <bool Wide> void h_fxsave(Core& c, const Insn& i) {
  check_fpu(c);  // CR0.TS or EM -> #NM
  uint64_t off = area_offset(c, i, 16);
  uint8_t img[kLegacyArea];
  // Bytes 464-511 are available to software and left untouched: read them
  // first so the whole image can be written in one checked store.
  // Outside 64-bit mode the XMM8-15 slots keep their memory contents too.
  read_bytes(c, i.seg, off, img, kLegacyArea);
  fx_image(c.s.fpu, img, Wide, c.mode64() ? 16 : 8, true, true, true);
  write_bytes(c, i.seg, off, img, kLegacyArea);
}

template <bool Wide> void h_fxrstor(Core& c, const Insn& i) {
  check_fpu(c);
  uint64_t off = area_offset(c, i, 16);
  uint8_t img[kLegacyArea];
  read_bytes(c, i.seg, off, img, kLegacyArea);
  uint32_t mx;
  std::memcpy(&mx, img + 24, 4);
  if (mx & ~kMxcsrMask) c.gp(0);  // reserved MXCSR bits (SDM FXRSTOR)
  FpuState& f = c.s.fpu;
  const uint16_t old_fsw = f.fsw;
  fx_load_x87(f, img, Wide);
  x87_es_cleared(c, old_fsw);  // FERR# follows the restored ES
  if (c.s.cr4 & CR4_OSFXSR) {
    f.mxcsr = mx;
    unsigned n = c.mode64() ? 16 : 8;
    for (unsigned k = 0; k < n; ++k) std::memcpy(&f.xmm[k], img + 160 + 16 * k, 16);
  }
}

// ---------------- LDMXCSR / STMXCSR ----------------

void h_ldmxcsr(Core& c, const Insn& i) {
  check_sse(c);
  uint32_t v = c.mem_read<uint32_t>(i);
  if (v & ~kMxcsrMask) c.gp(0);
  c.s.fpu.mxcsr = v;
}
void h_stmxcsr(Core& c, const Insn& i) {
  check_sse(c);
  c.mem_write<uint32_t>(i, c.s.fpu.mxcsr);
}

// ---------------- XSAVE family ----------------

void check_xsave(Core& c) {
  if (!(c.s.cr4 & CR4_OSXSAVE)) c.ud();
  if (c.s.cr0 & CR0_TS) c.raise(kNM);
}

template <bool Wide> void h_xsave(Core& c, const Insn& i) {
  check_xsave(c);
  uint64_t off = area_offset(c, i, 64);
  uint64_t rfbm = ((c.s.gpr[RDX] << 32) | uint32_t(c.s.gpr[RAX])) & c.s.fpu.xcr0;
  uint8_t img[kXsaveSize];
  read_bytes(c, i.seg, off, img, kXsaveSize);
  bool x87 = rfbm & XCR0_X87, sse = rfbm & XCR0_SSE;
  fx_image(c.s.fpu, img, Wide, c.mode64() ? 16 : 8, x87, sse, sse);
  uint64_t bv;
  std::memcpy(&bv, img + 512, 8);
  bv = (bv & ~rfbm) | rfbm;  // XINUSE is treated as all ones for x87 and SSE
  std::memcpy(img + 512, &bv, 8);
  write_bytes(c, i.seg, off, img, kXsaveSize);
}

template <bool Wide> void h_xrstor(Core& c, const Insn& i) {
  check_xsave(c);
  uint64_t off = area_offset(c, i, 64);
  uint64_t rfbm = ((c.s.gpr[RDX] << 32) | uint32_t(c.s.gpr[RAX])) & c.s.fpu.xcr0;
  uint8_t img[kXsaveSize];
  read_bytes(c, i.seg, off, img, kXsaveSize);
  uint64_t bv, comp;
  std::memcpy(&bv, img + 512, 8);
  std::memcpy(&comp, img + 520, 8);
  // Standard form only: XCOMP_BV and the rest of the header must be zero, and
  // XSTATE_BV may name only enabled components (SDM XRSTOR, #GP conditions).
  if (comp != 0 || (bv & ~c.s.fpu.xcr0)) c.gp(0);
  for (unsigned k = 528; k < kXsaveSize; ++k)
    if (img[k]) c.gp(0);
  uint32_t mx;
  std::memcpy(&mx, img + 24, 4);
  if ((rfbm & XCR0_SSE) && (mx & ~kMxcsrMask)) c.gp(0);
  FpuState& f = c.s.fpu;
  if (rfbm & XCR0_X87) {
    const uint16_t old_fsw = f.fsw;
    if (bv & XCR0_X87) fx_load_x87(f, img, Wide);
    else x87_init_state(f);
    x87_es_cleared(c, old_fsw);
  }
  if (rfbm & XCR0_SSE) {
    f.mxcsr = mx;  // MXCSR comes from memory whenever SSE is requested
    unsigned n = c.mode64() ? 16 : 8;
    for (unsigned k = 0; k < n; ++k) {
      if (bv & XCR0_SSE) std::memcpy(&f.xmm[k], img + 160 + 16 * k, 16);
      else f.xmm[k] = Xmm{};
    }
  }
}

void h_xgetbv(Core& c, const Insn&) {
  if (!(c.s.cr4 & CR4_OSXSAVE)) c.ud();
  if (uint32_t(c.s.gpr[RCX]) != 0) c.gp(0);  // only XCR0 exists (no XGETBV1)
  c.s.gpr[RAX] = uint32_t(c.s.fpu.xcr0);
  c.s.gpr[RDX] = uint32_t(c.s.fpu.xcr0 >> 32);
}

void h_xsetbv(Core& c, const Insn&) {
  if (!(c.s.cr4 & CR4_OSXSAVE)) c.ud();
  if (c.s.cpl != 0 || c.v86()) c.gp(0);
  if (uint32_t(c.s.gpr[RCX]) != 0) c.gp(0);
  uint64_t v = (uint64_t(uint32_t(c.s.gpr[RDX])) << 32) | uint32_t(c.s.gpr[RAX]);
  if (!(v & XCR0_X87) || (v & ~kXcr0Supported)) c.gp(0);  // x87 bit must stay set
  c.s.fpu.xcr0 = v;
}

}  // namespace

void fpu_cpuid_leaf_d(uint32_t subleaf, uint64_t xcr0, uint32_t r[4]) {
  r[0] = r[1] = r[2] = r[3] = 0;
  if (subleaf == 0) {
    r[0] = static_cast<uint32_t>(kXcr0Supported);  // components XCR0 may enable
    r[1] = kXsaveSize;                              // size for the components enabled now
    r[2] = kXsaveSize;                              // size for all supported components
    (void)xcr0;                                     // x87 and SSE both live in the legacy area
  }
  // Subleaf 1: no XSAVEOPT/XSAVEC/XGETBV1/XSAVES. Subleaves 2+: no AVX state.
}

bool build_fxsave(Insn& i, const Decoded& d, unsigned) {
  set_operands(i, d);
  switch (d.zi.mnemonic) {
    case ZYDIS_MNEMONIC_FXSAVE: i.handler = &h_fxsave<false>; return true;
    case ZYDIS_MNEMONIC_FXSAVE64: i.handler = &h_fxsave<true>; return true;
    case ZYDIS_MNEMONIC_FXRSTOR: i.handler = &h_fxrstor<false>; return true;
    case ZYDIS_MNEMONIC_FXRSTOR64: i.handler = &h_fxrstor<true>; return true;
    case ZYDIS_MNEMONIC_XSAVE: i.handler = &h_xsave<false>; return true;
    case ZYDIS_MNEMONIC_XSAVE64: i.handler = &h_xsave<true>; return true;
    case ZYDIS_MNEMONIC_XRSTOR: i.handler = &h_xrstor<false>; return true;
    case ZYDIS_MNEMONIC_XRSTOR64: i.handler = &h_xrstor<true>; return true;
    case ZYDIS_MNEMONIC_XGETBV: i.handler = &h_xgetbv; return true;
    case ZYDIS_MNEMONIC_XSETBV:
      i.handler = &h_xsetbv;
      i.flags |= kInsnEndsBlock;
      return true;
    case ZYDIS_MNEMONIC_LDMXCSR: i.handler = &h_ldmxcsr; return true;
    case ZYDIS_MNEMONIC_STMXCSR: i.handler = &h_stmxcsr; return true;
    default: return false;
  }
}

}  // namespace pc64
