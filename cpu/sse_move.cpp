// SSE/SSE2/SSE3/SSE4.1 data movement and bitwise/shuffle operations on XMM
// registers, plus the MMX register moves: MOVAPS..MOVDQU, MOVSS/MOVSD,
// MOVLPS..MOVHPD, MOVHLPS/MOVLHPS, MOVD/MOVQ, MOVQ2DQ/MOVDQ2Q, MOVMSKPS/PD,
// MOVNT*, LDDQU, MOVDDUP/MOVSHDUP/MOVSLDUP, SHUFPS/PD, UNPCK*, ANDPS..XORPD,
// BLENDPS/PD, BLENDVPS/PD, INSERTPS, EXTRACTPS (SDM Vol. 2).
#include "cpu/sse_common.h"

namespace pc64 {

namespace {

// ---------------- register/memory loads into XMM (d = f(d, s)) ----------------

void op_copy(Core&, Xmm& d, const Xmm& s, const Insn&) { d = s; }
void op_low32_merge(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u32[0] = s.u32[0]; }  // MOVSS xmm, xmm
void op_low64_merge(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[0] = s.u64[0]; }  // MOVSD/MOVLPS load
void op_high_from_low(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[1] = s.u64[0]; }  // MOVHPS load, MOVLHPS
void op_low_from_high(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[0] = s.u64[1]; }  // MOVHLPS
void op_movddup(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[0] = d.u64[1] = s.u64[0]; }
void op_movshdup(Core&, Xmm& d, const Xmm& s, const Insn&) {
  d.u32[0] = d.u32[1] = s.u32[1];
  d.u32[2] = d.u32[3] = s.u32[3];
}
void op_movsldup(Core&, Xmm& d, const Xmm& s, const Insn&) {
  d.u32[0] = d.u32[1] = s.u32[0];
  d.u32[2] = d.u32[3] = s.u32[2];
}
void op_and(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[0] &= s.u64[0], d.u64[1] &= s.u64[1]; }
void op_andn(Core&, Xmm& d, const Xmm& s, const Insn&) {
  d.u64[0] = ~d.u64[0] & s.u64[0];
  d.u64[1] = ~d.u64[1] & s.u64[1];
}
void op_or(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[0] |= s.u64[0], d.u64[1] |= s.u64[1]; }
void op_xor(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[0] ^= s.u64[0], d.u64[1] ^= s.u64[1]; }
void op_shufps(Core&, Xmm& d, const Xmm& s, const Insn& i) {
  unsigned m = i.imm & 0xFF;
  Xmm r;
  r.u32[0] = d.u32[m & 3];
  r.u32[1] = d.u32[(m >> 2) & 3];
  r.u32[2] = s.u32[(m >> 4) & 3];
  r.u32[3] = s.u32[(m >> 6) & 3];
  d = r;
}
void op_shufpd(Core&, Xmm& d, const Xmm& s, const Insn& i) {
  Xmm r;
  r.u64[0] = d.u64[i.imm & 1];
  r.u64[1] = s.u64[(i.imm >> 1) & 1];
  d = r;
}
void op_unpcklps(Core&, Xmm& d, const Xmm& s, const Insn&) {
  Xmm r = {.u32 = {d.u32[0], s.u32[0], d.u32[1], s.u32[1]}};
  d = r;
}
void op_unpckhps(Core&, Xmm& d, const Xmm& s, const Insn&) {
  Xmm r = {.u32 = {d.u32[2], s.u32[2], d.u32[3], s.u32[3]}};
  d = r;
}
void op_unpcklpd(Core&, Xmm& d, const Xmm& s, const Insn&) { d.u64[1] = s.u64[0]; }
void op_unpckhpd(Core&, Xmm& d, const Xmm& s, const Insn&) {
  d.u64[0] = d.u64[1];
  d.u64[1] = s.u64[1];
}
void op_blendps(Core&, Xmm& d, const Xmm& s, const Insn& i) {
  for (unsigned k = 0; k < 4; ++k)
    if ((i.imm >> k) & 1) d.u32[k] = s.u32[k];
}
void op_blendpd(Core&, Xmm& d, const Xmm& s, const Insn& i) {
  for (unsigned k = 0; k < 2; ++k)
    if ((i.imm >> k) & 1) d.u64[k] = s.u64[k];
}
void op_blendvps(Core& c, Xmm& d, const Xmm& s, const Insn&) {
  const Xmm& m = c.s.fpu.xmm[0];
  for (unsigned k = 0; k < 4; ++k)
    if (m.u32[k] >> 31) d.u32[k] = s.u32[k];
}
void op_blendvpd(Core& c, Xmm& d, const Xmm& s, const Insn&) {
  const Xmm& m = c.s.fpu.xmm[0];
  for (unsigned k = 0; k < 2; ++k)
    if (m.u64[k] >> 63) d.u64[k] = s.u64[k];
}
// INSERTPS: register form takes source lane imm[7:6], memory form the m32;
// then lane imm[5:4] of d gets it, and lanes in imm[3:0] are zeroed.
template <bool Mem> void op_insertps(Core&, Xmm& d, const Xmm& s, const Insn& i) {
  unsigned imm = i.imm & 0xFF;
  uint32_t v = Mem ? s.u32[0] : s.u32[imm >> 6];
  d.u32[(imm >> 4) & 3] = v;
  for (unsigned k = 0; k < 4; ++k)
    if ((imm >> k) & 1) d.u32[k] = 0;
}

// ---------------- stores and GPR moves ----------------

// Stores `Bytes` of xmm[r0] starting at byte `Off` to memory.
template <unsigned Bytes, unsigned Off, bool Aligned> void h_store(Core& c, const Insn& i) {
  check_sse(c);
  const Xmm& x = c.s.fpu.xmm[i.r0];
  if constexpr (Bytes == 16) {
    store128(c, i, x, Aligned);
  } else {
    uint64_t v;
    std::memcpy(&v, x.u8 + Off, 8);
    if (Bytes == 8) c.mem_write<uint64_t>(i, v);
    else c.mem_write<uint32_t>(i, static_cast<uint32_t>(v));
  }
}

// MOVD/MOVQ xmm <- r/m32/64: zero-extended into the register.
template <class T> void h_movd_to_xmm(Core& c, const Insn& i) {
  check_sse(c);
  T v = (i.flags & kInsnHasMem) ? c.mem_read<T>(i) : static_cast<T>(c.s.gpr[i.r1]);
  Xmm& d = c.s.fpu.xmm[i.r0];
  d.u64[0] = v;
  d.u64[1] = 0;
}
// MOVD/MOVQ r/m32/64 <- xmm (r1 = xmm, r0 = GPR when no memory).
template <class T> void h_movd_from_xmm(Core& c, const Insn& i) {
  check_sse(c);
  T v = static_cast<T>(c.s.fpu.xmm[i.r1].u64[0]);
  if (i.flags & kInsnHasMem) c.mem_write<T>(i, v);
  else c.s.gpr[i.r0] = v;  // a 32-bit GPR write zero-extends
}
// MOVQ xmm, xmm/m64 (F3 0F 7E; also 66 0F D6 with a register destination).
template <Src K> void h_movq_xmm(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s = load_src<K>(c, i);
  Xmm& d = c.s.fpu.xmm[i.r0];
  d.u64[0] = s.u64[0];
  d.u64[1] = 0;
}
// MOVSS/MOVSD xmm, m32/m64: the upper part of the register is cleared.
template <Src K> void h_movs_load(Core& c, const Insn& i) {
  check_sse(c);
  c.s.fpu.xmm[i.r0] = load_src<K>(c, i);
}
void h_movmskps(Core& c, const Insn& i) {
  check_sse(c);
  const Xmm& x = c.s.fpu.xmm[i.r1];
  c.s.gpr[i.r0] = (x.u32[0] >> 31) | ((x.u32[1] >> 31) << 1) | ((x.u32[2] >> 31) << 2) | ((x.u32[3] >> 31) << 3);
}
void h_movmskpd(Core& c, const Insn& i) {
  check_sse(c);
  const Xmm& x = c.s.fpu.xmm[i.r1];
  c.s.gpr[i.r0] = (x.u64[0] >> 63) | ((x.u64[1] >> 63) << 1);
}
template <class T> void h_extractps(Core& c, const Insn& i) {  // r1 = xmm
  check_sse(c);
  uint32_t v = c.s.fpu.xmm[i.r1].u32[i.imm & 3];
  if (i.flags & kInsnHasMem) c.mem_write<uint32_t>(i, v);
  else c.s.gpr[i.r0] = v;
}
template <class T> void h_movnti(Core& c, const Insn& i) { c.mem_write<T>(i, static_cast<T>(c.s.gpr[i.r0])); }

// ---------------- MMX moves ----------------

template <class T> void h_movd_to_mm(Core& c, const Insn& i) {
  check_mmx(c);
  T v = (i.flags & kInsnHasMem) ? c.mem_read<T>(i) : static_cast<T>(c.s.gpr[i.r1]);
  mmx_enter(c);
  mmx_write(c, i.r0, v);
}
template <class T> void h_movd_from_mm(Core& c, const Insn& i) {  // r1 = mm
  check_mmx(c);
  T v = static_cast<T>(c.s.fpu.mm(i.r1));
  if (i.flags & kInsnHasMem) c.mem_write<T>(i, v);
  else c.s.gpr[i.r0] = v;
  mmx_enter(c);
}
template <bool Mem> void h_movq_mm_load(Core& c, const Insn& i) {
  check_mmx(c);
  uint64_t v = Mem ? c.mem_read<uint64_t>(i) : c.s.fpu.mm(i.r1);
  mmx_enter(c);
  mmx_write(c, i.r0, v);
}
void h_movq_mm_store(Core& c, const Insn& i) {  // MOVQ m64, mm / MOVNTQ (r0 = mm)
  check_mmx(c);
  c.mem_write<uint64_t>(i, c.s.fpu.mm(i.r0));
  mmx_enter(c);
}
void h_movq2dq(Core& c, const Insn& i) {
  check_sse(c);
  check_mmx(c);
  Xmm& d = c.s.fpu.xmm[i.r0];
  d.u64[0] = c.s.fpu.mm(i.r1);
  d.u64[1] = 0;
  mmx_enter(c);
}
void h_movdq2q(Core& c, const Insn& i) {
  check_sse(c);
  check_mmx(c);
  mmx_enter(c);
  mmx_write(c, i.r0, c.s.fpu.xmm[i.r1].u64[0]);
}

// Full-width load/store/move: MOVAPS-style (aligned) or MOVUPS-style.
bool full_move(Insn& i, const Decoded& d, bool aligned) {
  set_operands(i, d);
  if (d.is_mem(0)) {
    i.handler = aligned ? &h_store<16, 0, true> : &h_store<16, 0, false>;
    return true;
  }
  return aligned ? xmm_form<op_copy, Src::M128A>(i, d) : xmm_form<op_copy, Src::M128U>(i, d);
}

bool gpr_is64(const Decoded& d, unsigned k) {
  return ZydisRegisterGetClass(d.op[k].reg.value) == ZYDIS_REGCLASS_GPR64;
}

bool build_movd(Insn& i, const Decoded& d) {
  set_operands(i, d);
  bool wide = d.op[d.is_mem(0) || is_gpr(d, 0) ? 0 : 1].size == 64;
  if (is_xmm(d, 0)) {
    i.r0 = vreg(d, 0);
    if (is_gpr(d, 1)) i.r1 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[1].reg.value));
    if (is_xmm(d, 1)) {  // MOVQ xmm, xmm
      i.r1 = vreg(d, 1);
      i.handler = &h_movq_xmm<Src::Reg>;
    } else if (d.is_mem(1) && d.zi.opcode == 0x7E) {  // F3 0F 7E: MOVQ xmm, m64
      i.handler = &h_movq_xmm<Src::M64>;
    } else {
      i.handler = wide ? &h_movd_to_xmm<uint64_t> : &h_movd_to_xmm<uint32_t>;
    }
    return true;
  }
  if (is_xmm(d, 1)) {
    i.r1 = vreg(d, 1);
    if (d.is_mem(0) && d.zi.opcode == 0xD6) {  // 66 0F D6: MOVQ m64, xmm
      i.r0 = i.r1;
      i.handler = &h_store<8, 0, false>;
      return true;
    }
    if (d.is_reg(0)) i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[0].reg.value));
    i.handler = (wide || (d.is_mem(0) && d.op[0].size == 64)) ? &h_movd_from_xmm<uint64_t> : &h_movd_from_xmm<uint32_t>;
    return true;
  }
  if (is_mmx(d, 0)) {
    i.r0 = vreg(d, 0);
    if (is_mmx(d, 1)) {
      i.r1 = vreg(d, 1);
      i.handler = &h_movq_mm_load<false>;
    } else if (d.is_mem(1) && d.zi.opcode == 0x6F) {
      i.handler = &h_movq_mm_load<true>;
    } else {
      if (d.is_reg(1)) i.r1 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[1].reg.value));
      i.handler = (d.op[1].size == 64) ? &h_movd_to_mm<uint64_t> : &h_movd_to_mm<uint32_t>;
    }
    return true;
  }
  if (is_mmx(d, 1)) {
    i.r1 = vreg(d, 1);
    if (d.is_mem(0) && d.zi.opcode == 0x7F) {
      i.r0 = i.r1;
      i.handler = &h_movq_mm_store;
      return true;
    }
    if (d.is_reg(0)) i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[0].reg.value));
    i.handler = d.op[0].size == 64 ? &h_movd_from_mm<uint64_t> : &h_movd_from_mm<uint32_t>;
    return true;
  }
  return false;
}

}  // namespace

bool build_sse_move(Insn& i, const Decoded& d, unsigned) {
  switch (d.zi.mnemonic) {
    case ZYDIS_MNEMONIC_MOVAPS:
    case ZYDIS_MNEMONIC_MOVAPD:
    case ZYDIS_MNEMONIC_MOVDQA:
    case ZYDIS_MNEMONIC_MOVNTPS:
    case ZYDIS_MNEMONIC_MOVNTPD:
    case ZYDIS_MNEMONIC_MOVNTDQ:
    case ZYDIS_MNEMONIC_MOVNTDQA:
      return full_move(i, d, true);
    case ZYDIS_MNEMONIC_MOVUPS:
    case ZYDIS_MNEMONIC_MOVUPD:
    case ZYDIS_MNEMONIC_MOVDQU:
    case ZYDIS_MNEMONIC_LDDQU:
      return full_move(i, d, false);
    case ZYDIS_MNEMONIC_MOVSS:
      set_operands(i, d);
      if (d.is_mem(0)) i.handler = &h_store<4, 0, false>;
      else if (d.is_mem(1)) i.handler = &h_movs_load<Src::M32>;
      else return xmm_form<op_low32_merge, Src::M32>(i, d);
      return true;
    case ZYDIS_MNEMONIC_MOVSD:
      // Shares its mnemonic with the string instruction MOVSD.
      if (!is_xmm(d, 0) && !is_xmm(d, 1)) return build_string(i, d, 0);
      set_operands(i, d);
      if (d.is_mem(0)) i.handler = &h_store<8, 0, false>;
      else if (d.is_mem(1)) i.handler = &h_movs_load<Src::M64>;
      else return xmm_form<op_low64_merge, Src::M64>(i, d);
      return true;
    case ZYDIS_MNEMONIC_MOVLPS:
    case ZYDIS_MNEMONIC_MOVLPD:
      set_operands(i, d);
      if (d.is_mem(0)) {
        i.handler = &h_store<8, 0, false>;
        return true;
      }
      return d.is_mem(1) && xmm_form<op_low64_merge, Src::M64>(i, d);
    case ZYDIS_MNEMONIC_MOVHPS:
    case ZYDIS_MNEMONIC_MOVHPD:
      set_operands(i, d);
      if (d.is_mem(0)) {
        i.handler = &h_store<8, 8, false>;
        return true;
      }
      return d.is_mem(1) && xmm_form<op_high_from_low, Src::M64>(i, d);
    case ZYDIS_MNEMONIC_MOVHLPS: return xmm_form<op_low_from_high, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_MOVLHPS: return xmm_form<op_high_from_low, Src::M64>(i, d);
    case ZYDIS_MNEMONIC_MOVDDUP: return xmm_form<op_movddup, Src::M64>(i, d);
    case ZYDIS_MNEMONIC_MOVSHDUP: return xmm_form<op_movshdup, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_MOVSLDUP: return xmm_form<op_movsldup, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_MOVD:
    case ZYDIS_MNEMONIC_MOVQ: return build_movd(i, d);
    case ZYDIS_MNEMONIC_MOVNTQ:
      set_operands(i, d);
      i.handler = &h_movq_mm_store;
      return true;
    case ZYDIS_MNEMONIC_MOVQ2DQ:
      set_operands(i, d);
      i.handler = &h_movq2dq;
      return true;
    case ZYDIS_MNEMONIC_MOVDQ2Q:
      set_operands(i, d);
      i.handler = &h_movdq2q;
      return true;
    case ZYDIS_MNEMONIC_MOVMSKPS:
    case ZYDIS_MNEMONIC_MOVMSKPD:
      set_operands(i, d);
      i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(
          ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, d.op[0].reg.value)));
      i.handler = d.zi.mnemonic == ZYDIS_MNEMONIC_MOVMSKPS ? &h_movmskps : &h_movmskpd;
      return true;
    case ZYDIS_MNEMONIC_EXTRACTPS:
      set_operands(i, d);
      if (d.is_reg(0)) i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[0].reg.value));
      i.r1 = vreg(d, 1);
      i.handler = &h_extractps<uint32_t>;
      return true;
    case ZYDIS_MNEMONIC_MOVNTI:
      set_operands(i, d);
      i.handler = gpr_is64(d, 1) ? &h_movnti<uint64_t> : &h_movnti<uint32_t>;
      return true;
    case ZYDIS_MNEMONIC_ANDPS:
    case ZYDIS_MNEMONIC_ANDPD: return xmm_form<op_and, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_ANDNPS:
    case ZYDIS_MNEMONIC_ANDNPD: return xmm_form<op_andn, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_ORPS:
    case ZYDIS_MNEMONIC_ORPD: return xmm_form<op_or, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_XORPS:
    case ZYDIS_MNEMONIC_XORPD: return xmm_form<op_xor, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_SHUFPS: return xmm_form<op_shufps, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_SHUFPD: return xmm_form<op_shufpd, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_UNPCKLPS: return xmm_form<op_unpcklps, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_UNPCKHPS: return xmm_form<op_unpckhps, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_UNPCKLPD: return xmm_form<op_unpcklpd, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_UNPCKHPD: return xmm_form<op_unpckhpd, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_BLENDPS: return xmm_form<op_blendps, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_BLENDPD: return xmm_form<op_blendpd, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_BLENDVPS: return xmm_form<op_blendvps, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_BLENDVPD: return xmm_form<op_blendvpd, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_INSERTPS:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_xmm<op_insertps<true>, Src::M32> : &h_xmm<op_insertps<false>, Src::Reg>;
      return true;
    default:
      return false;
  }
}

}  // namespace pc64
