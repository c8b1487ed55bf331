// SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic and compares: ADD..DIV,
// MIN/MAX, SQRT, RCP/RSQRT, ADDSUB, HADD/HSUB, CMPxx, (U)COMISx, ROUNDxx,
// DPPS/DPPD. On x86-64 hosts each runs as the same host instruction under the
// guest's MXCSR (rounding, FTZ, DAZ), so results, NaN propagation and
// exception flags are the hardware's by construction (DESIGN; issue 5).
// Elsewhere, and with PC64_SOFTFLOAT, the portable path (sse_soft.h) stands in.
#include <array>
#include <utility>

#include "cpu/sse_common.h"
#include "cpu/sse_soft.h"

namespace pc64 {

namespace {

#if PC64_HOST_SSE

PC64_HOST2(addps, "addps") PC64_HOST2(addpd, "addpd") PC64_HOST2(addss, "addss") PC64_HOST2(addsd, "addsd")
PC64_HOST2(subps, "subps") PC64_HOST2(subpd, "subpd") PC64_HOST2(subss, "subss") PC64_HOST2(subsd, "subsd")
PC64_HOST2(mulps, "mulps") PC64_HOST2(mulpd, "mulpd") PC64_HOST2(mulss, "mulss") PC64_HOST2(mulsd, "mulsd")
PC64_HOST2(divps, "divps") PC64_HOST2(divpd, "divpd") PC64_HOST2(divss, "divss") PC64_HOST2(divsd, "divsd")
PC64_HOST2(minps, "minps") PC64_HOST2(minpd, "minpd") PC64_HOST2(minss, "minss") PC64_HOST2(minsd, "minsd")
PC64_HOST2(maxps, "maxps") PC64_HOST2(maxpd, "maxpd") PC64_HOST2(maxss, "maxss") PC64_HOST2(maxsd, "maxsd")
PC64_HOST2(sqrtps, "sqrtps") PC64_HOST2(sqrtpd, "sqrtpd") PC64_HOST2(sqrtss, "sqrtss") PC64_HOST2(sqrtsd, "sqrtsd")
PC64_HOST2(rcpps, "rcpps") PC64_HOST2(rcpss, "rcpss") PC64_HOST2(rsqrtps, "rsqrtps") PC64_HOST2(rsqrtss, "rsqrtss")
PC64_HOST2(addsubps, "addsubps") PC64_HOST2(addsubpd, "addsubpd")
PC64_HOST2(haddps, "haddps") PC64_HOST2(haddpd, "haddpd") PC64_HOST2(hsubps, "hsubps") PC64_HOST2(hsubpd, "hsubpd")
PC64_HOST2_IMM(cmpps, "cmpps") PC64_HOST2_IMM(cmppd, "cmppd") PC64_HOST2_IMM(cmpss, "cmpss") PC64_HOST2_IMM(cmpsd, "cmpsd")
PC64_HOST2_IMM(roundps, "roundps") PC64_HOST2_IMM(roundpd, "roundpd")
PC64_HOST2_IMM(roundss, "roundss") PC64_HOST2_IMM(roundsd, "roundsd")
PC64_HOST2_IMM(dpps, "dpps") PC64_HOST2_IMM(dppd, "dppd")

// (U)COMISS/SD: ZF, PF, CF from the compare; OF, SF, AF cleared (SDM COMISS).
template <bool Double, bool Unordered> void op_comis(Core& c, Xmm& d, const Xmm& s, const Insn&) {
  HostV2 a = to_host(d), b = to_host(s);
  uint32_t mx = host_mxcsr(c), out, saved;
  uint8_t zf, pf, cf;
#define PC64_COMIS(text)                                                                                  \
  asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[b], %[a]\n\tsetz %[zf]\n\tsetp %[pf]\n\t" \
               "setc %[cf]\n\tstmxcsr %[out]\n\tldmxcsr %[sv]"                                          \
               : [zf] "=q"(zf), [pf] "=q"(pf), [cf] "=q"(cf), [out] "=m"(out), [sv] "=m"(saved)         \
               : [a] "x"(a), [b] "x"(b), [mx] "m"(mx)                                                   \
               : "cc")
  if (Double && Unordered) PC64_COMIS("ucomisd");
  else if (Double) PC64_COMIS("comisd");
  else if (Unordered) PC64_COMIS("ucomiss");
  else PC64_COMIS("comiss");
#undef PC64_COMIS
  sse_flags(c, out & kMxcsrFlags);
  c.set_flags(kArithFlags, (zf ? ZF : 0) | (pf ? PF : 0) | (cf ? CF : 0));
}

#else
// The portable path (sse_soft.h) under the same names.
using sf80::sse::Op;
#define PC64_SOFT2(fn, ...) \
  inline uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::__VA_ARGS__(d, s, mx); }
PC64_SOFT2(addps, arith<Op::kAdd, false, false>) PC64_SOFT2(addpd, arith<Op::kAdd, true, false>)
PC64_SOFT2(addss, arith<Op::kAdd, false, true>) PC64_SOFT2(addsd, arith<Op::kAdd, true, true>)
PC64_SOFT2(subps, arith<Op::kSub, false, false>) PC64_SOFT2(subpd, arith<Op::kSub, true, false>)
PC64_SOFT2(subss, arith<Op::kSub, false, true>) PC64_SOFT2(subsd, arith<Op::kSub, true, true>)
PC64_SOFT2(mulps, arith<Op::kMul, false, false>) PC64_SOFT2(mulpd, arith<Op::kMul, true, false>)
PC64_SOFT2(mulss, arith<Op::kMul, false, true>) PC64_SOFT2(mulsd, arith<Op::kMul, true, true>)
PC64_SOFT2(divps, arith<Op::kDiv, false, false>) PC64_SOFT2(divpd, arith<Op::kDiv, true, false>)
PC64_SOFT2(divss, arith<Op::kDiv, false, true>) PC64_SOFT2(divsd, arith<Op::kDiv, true, true>)
PC64_SOFT2(minps, arith<Op::kMin, false, false>) PC64_SOFT2(minpd, arith<Op::kMin, true, false>)
PC64_SOFT2(minss, arith<Op::kMin, false, true>) PC64_SOFT2(minsd, arith<Op::kMin, true, true>)
PC64_SOFT2(maxps, arith<Op::kMax, false, false>) PC64_SOFT2(maxpd, arith<Op::kMax, true, false>)
PC64_SOFT2(maxss, arith<Op::kMax, false, true>) PC64_SOFT2(maxsd, arith<Op::kMax, true, true>)
PC64_SOFT2(sqrtps, sqrt<false, false>) PC64_SOFT2(sqrtpd, sqrt<true, false>)
PC64_SOFT2(sqrtss, sqrt<false, true>) PC64_SOFT2(sqrtsd, sqrt<true, true>)
PC64_SOFT2(rcpps, recip<false, false>) PC64_SOFT2(rcpss, recip<false, true>)
PC64_SOFT2(rsqrtps, recip<true, false>) PC64_SOFT2(rsqrtss, recip<true, true>)
PC64_SOFT2(addsubps, addsub<false>) PC64_SOFT2(addsubpd, addsub<true>)
PC64_SOFT2(haddps, horizontal<false, false>) PC64_SOFT2(haddpd, horizontal<true, false>)
PC64_SOFT2(hsubps, horizontal<false, true>) PC64_SOFT2(hsubpd, horizontal<true, true>)
#undef PC64_SOFT2
template <int I> uint32_t cmpps(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::cmp<I, false, false>(d, s, mx); }
template <int I> uint32_t cmppd(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::cmp<I, true, false>(d, s, mx); }
template <int I> uint32_t cmpss(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::cmp<I, false, true>(d, s, mx); }
template <int I> uint32_t cmpsd(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::cmp<I, true, true>(d, s, mx); }
template <int I> uint32_t roundps(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::round<I, false, false>(d, s, mx); }
template <int I> uint32_t roundpd(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::round<I, true, false>(d, s, mx); }
template <int I> uint32_t roundss(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::round<I, false, true>(d, s, mx); }
template <int I> uint32_t roundsd(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::round<I, true, true>(d, s, mx); }
template <int I> uint32_t dpps(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::dp<I, false>(d, s, mx); }
template <int I> uint32_t dppd(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::dp<I, true>(d, s, mx); }
template <bool Double, bool Unordered> void op_comis(Core& c, Xmm& d, const Xmm& s, const Insn&) {
  sse_soft::ComisResult r = sse_soft::comis<Double, Unordered>(d, s, host_mxcsr(c));
  sse_flags(c, r.flags);
  c.set_flags(kArithFlags, (r.zf ? ZF : 0) | (r.pf ? PF : 0) | (r.cf ? CF : 0));
}
#endif

// Handler tables for the imm8-selected host instructions: one instantiation
// per immediate value the instruction looks at.
#define PC64_IMM_TABLE(name, host, count)                                                          \
  template <Src K, size_t... I> Handler name##_pick(unsigned imm, std::index_sequence<I...>) {     \
    static constexpr Handler t[] = {&h_xmm<host_op<host<static_cast<int>(I)>>, K>...};            \
    return t[imm % (count)];                                                                       \
  }                                                                                                \
  template <Src K> Handler name##_handler(unsigned imm) {                                          \
    return name##_pick<K>(imm, std::make_index_sequence<(count)>{});                               \
  }
PC64_IMM_TABLE(cmpps, cmpps, 8)
PC64_IMM_TABLE(cmppd, cmppd, 8)
PC64_IMM_TABLE(cmpss, cmpss, 8)
PC64_IMM_TABLE(cmpsd, cmpsd, 8)
PC64_IMM_TABLE(roundps, roundps, 16)
PC64_IMM_TABLE(roundpd, roundpd, 16)
PC64_IMM_TABLE(roundss, roundss, 16)
PC64_IMM_TABLE(roundsd, roundsd, 16)
PC64_IMM_TABLE(dpps, dpps, 256)
PC64_IMM_TABLE(dppd, dppd, 256)
#undef PC64_IMM_TABLE

// An imm8 form: operand 0 XMM, operand 1 XMM or memory of kind K.
template <Src K> bool imm_form(Insn& i, const Decoded& d, Handler (*reg)(unsigned), Handler (*mem)(unsigned)) {
  set_operands(i, d);
  unsigned imm = static_cast<unsigned>(i.imm & 0xFF);
  i.handler = d.is_mem(1) ? mem(imm) : reg(imm);
  (void)sizeof(K);
  return true;
}

}  // namespace

#define PC64_ARITH(M, fn, K) \
  case ZYDIS_MNEMONIC_##M: return xmm_form<host_op<fn>, Src::K>(i, d);
#define PC64_IMM(M, name, K) \
  case ZYDIS_MNEMONIC_##M: return imm_form<Src::K>(i, d, &name##_handler<Src::Reg>, &name##_handler<Src::K>);

bool build_sse_arith(Insn& i, const Decoded& d, unsigned) {
  switch (d.zi.mnemonic) {
    PC64_ARITH(ADDPS, addps, M128A) PC64_ARITH(ADDPD, addpd, M128A) PC64_ARITH(ADDSS, addss, M32) PC64_ARITH(ADDSD, addsd, M64)
    PC64_ARITH(SUBPS, subps, M128A) PC64_ARITH(SUBPD, subpd, M128A) PC64_ARITH(SUBSS, subss, M32) PC64_ARITH(SUBSD, subsd, M64)
    PC64_ARITH(MULPS, mulps, M128A) PC64_ARITH(MULPD, mulpd, M128A) PC64_ARITH(MULSS, mulss, M32) PC64_ARITH(MULSD, mulsd, M64)
    PC64_ARITH(DIVPS, divps, M128A) PC64_ARITH(DIVPD, divpd, M128A) PC64_ARITH(DIVSS, divss, M32) PC64_ARITH(DIVSD, divsd, M64)
    PC64_ARITH(MINPS, minps, M128A) PC64_ARITH(MINPD, minpd, M128A) PC64_ARITH(MINSS, minss, M32) PC64_ARITH(MINSD, minsd, M64)
    PC64_ARITH(MAXPS, maxps, M128A) PC64_ARITH(MAXPD, maxpd, M128A) PC64_ARITH(MAXSS, maxss, M32) PC64_ARITH(MAXSD, maxsd, M64)
    PC64_ARITH(SQRTPS, sqrtps, M128A) PC64_ARITH(SQRTPD, sqrtpd, M128A) PC64_ARITH(SQRTSS, sqrtss, M32) PC64_ARITH(SQRTSD, sqrtsd, M64)
    PC64_ARITH(RCPPS, rcpps, M128A) PC64_ARITH(RCPSS, rcpss, M32) PC64_ARITH(RSQRTPS, rsqrtps, M128A) PC64_ARITH(RSQRTSS, rsqrtss, M32)
    PC64_ARITH(ADDSUBPS, addsubps, M128A) PC64_ARITH(ADDSUBPD, addsubpd, M128A)
    PC64_ARITH(HADDPS, haddps, M128A) PC64_ARITH(HADDPD, haddpd, M128A) PC64_ARITH(HSUBPS, hsubps, M128A) PC64_ARITH(HSUBPD, hsubpd, M128A)
    PC64_IMM(CMPPS, cmpps, M128A) PC64_IMM(CMPPD, cmppd, M128A) PC64_IMM(CMPSS, cmpss, M32)
    PC64_IMM(ROUNDPS, roundps, M128A) PC64_IMM(ROUNDPD, roundpd, M128A) PC64_IMM(ROUNDSS, roundss, M32) PC64_IMM(ROUNDSD, roundsd, M64)
    PC64_IMM(DPPS, dpps, M128A) PC64_IMM(DPPD, dppd, M128A)
    case ZYDIS_MNEMONIC_CMPSD:
      // Shares its mnemonic with the string instruction CMPSD.
      if (!is_xmm(d, 0)) return build_string(i, d, 1);
      return imm_form<Src::M64>(i, d, &cmpsd_handler<Src::Reg>, &cmpsd_handler<Src::M64>);
    case ZYDIS_MNEMONIC_COMISS: return xmm_form<op_comis<false, false>, Src::M32>(i, d);
    case ZYDIS_MNEMONIC_UCOMISS: return xmm_form<op_comis<false, true>, Src::M32>(i, d);
    case ZYDIS_MNEMONIC_COMISD: return xmm_form<op_comis<true, false>, Src::M64>(i, d);
    case ZYDIS_MNEMONIC_UCOMISD: return xmm_form<op_comis<true, true>, Src::M64>(i, d);
    default: return false;
  }
}
#undef PC64_ARITH
#undef PC64_IMM


}  // namespace pc64
