// SSE/SSE2 conversions between single, double and integers (CVTxx2yy and
// the truncating CVTTxx2yy), in every MXCSR rounding mode: run as the host
// instruction under the guest's MXCSR on x86-64 hosts, else on the portable
// path (sse_soft.h, also forced by PC64_SOFTFLOAT). The MMX forms
// (CVTPI2PS, CVTPS2PI, ...) are computed with the XMM equivalents on the low
// lanes so the host's own x87/MMX state is never touched.
#include "cpu/sse_common.h"
#include "cpu/sse_soft.h"

namespace pc64 {

namespace {

// The GPR forms, shared by the host and the portable paths: CVTSI2SS/SD take
// a runner `uint32_t fn(Xmm& d, T v, uint32_t mxcsr)`, CVT(T)SS/SD2SI a runner
// `uint32_t fn(const Xmm& s, T& r, uint32_t mxcsr)`; both return the flags raised.
template <class T, uint32_t (*Host)(Xmm&, T, uint32_t)> void h_cvtsi2f(Core& c, const Insn& i) {
  check_sse(c);
  T v = (i.flags & kInsnHasMem) ? static_cast<T>(c.mem_read<std::make_unsigned_t<T>>(i))
                                : static_cast<T>(c.s.gpr[i.r1]);
  Xmm t = c.s.fpu.xmm[i.r0];
  uint32_t f = Host(t, v, host_mxcsr(c));
  sse_flags(c, f);
  c.s.fpu.xmm[i.r0] = t;
}
template <class T, Src K, uint32_t (*Host)(const Xmm&, T&, uint32_t)> void h_cvtf2si(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s = load_src<K>(c, i);
  T r;
  uint32_t f = Host(s, r, host_mxcsr(c));
  sse_flags(c, f);
  c.s.gpr[i.r0] = static_cast<std::make_unsigned_t<T>>(r);  // 32-bit results zero-extend
}

bool gpr64(const Decoded& d, unsigned k) {
  return d.is_reg(k) ? ZydisRegisterGetClass(d.op[k].reg.value) == ZYDIS_REGCLASS_GPR64 : d.op[k].size == 64;
}

template <uint32_t (*H32)(const Xmm&, int32_t&, uint32_t), uint32_t (*H64)(const Xmm&, int64_t&, uint32_t), Src K>
bool to_int(Insn& i, const Decoded& d) {
  set_operands(i, d);
  i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[0].reg.value));
  bool w = gpr64(d, 0);
  if (d.is_mem(1)) i.handler = w ? &h_cvtf2si<int64_t, K, H64> : &h_cvtf2si<int32_t, K, H32>;
  else i.handler = w ? &h_cvtf2si<int64_t, Src::Reg, H64> : &h_cvtf2si<int32_t, Src::Reg, H32>;
  return true;
}
template <uint32_t (*H32)(Xmm&, int32_t, uint32_t), uint32_t (*H64)(Xmm&, int64_t, uint32_t)>
bool from_int(Insn& i, const Decoded& d) {
  set_operands(i, d);
  if (d.is_reg(1)) i.r1 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[1].reg.value));
  i.handler = gpr64(d, 1) ? &h_cvtsi2f<int64_t, H64> : &h_cvtsi2f<int32_t, H32>;
  return true;
}

}  // namespace

#if PC64_HOST_SSE

namespace {

PC64_HOST2(cvtps2pd, "cvtps2pd") PC64_HOST2(cvtpd2ps, "cvtpd2ps") PC64_HOST2(cvtss2sd, "cvtss2sd")
PC64_HOST2(cvtsd2ss, "cvtsd2ss") PC64_HOST2(cvtdq2ps, "cvtdq2ps") PC64_HOST2(cvtps2dq, "cvtps2dq")
PC64_HOST2(cvttps2dq, "cvttps2dq") PC64_HOST2(cvtdq2pd, "cvtdq2pd") PC64_HOST2(cvtpd2dq, "cvtpd2dq")
PC64_HOST2(cvttpd2dq, "cvttpd2dq")

// CVTSI2SS/SD xmm, r/m32/64: merges into the low lane.
#define PC64_CVTSI(fn, text, T)                                                                  \
  uint32_t fn(Xmm& d, T v, uint32_t mx) {                                                        \
    HostV2 a = to_host(d);                                                                       \
    uint32_t out, saved;                                                                         \
    asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[v], %[a]\n\t"                     \
                 "stmxcsr %[out]\n\tldmxcsr %[sv]"                                               \
                 : [a] "+x"(a), [out] "=m"(out), [sv] "=m"(saved)                                \
                 : [v] "r"(v), [mx] "m"(mx));                                                    \
    d = from_host(a);                                                                            \
    return out & kMxcsrFlags;                                                                    \
  }
PC64_CVTSI(cvtsi2ss32, "cvtsi2ssl", int32_t)
PC64_CVTSI(cvtsi2ss64, "cvtsi2ssq", int64_t)
PC64_CVTSI(cvtsi2sd32, "cvtsi2sdl", int32_t)
PC64_CVTSI(cvtsi2sd64, "cvtsi2sdq", int64_t)
#undef PC64_CVTSI

// CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m: reads the low lane.
#define PC64_CVT2SI(fn, text, T)                                                                 \
  uint32_t fn(const Xmm& s, T& r, uint32_t mx) {                                                 \
    HostV2 a = to_host(s);                                                                       \
    uint32_t out, saved;                                                                         \
    asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[a], %[r]\n\t"                     \
                 "stmxcsr %[out]\n\tldmxcsr %[sv]"                                               \
                 : [r] "=r"(r), [out] "=m"(out), [sv] "=m"(saved)                                \
                 : [a] "x"(a), [mx] "m"(mx));                                                    \
    return out & kMxcsrFlags;                                                                    \
  }
PC64_CVT2SI(cvtss2si32, "cvtss2si", int32_t)
PC64_CVT2SI(cvtss2si64, "cvtss2si", int64_t)
PC64_CVT2SI(cvttss2si32, "cvttss2si", int32_t)
PC64_CVT2SI(cvttss2si64, "cvttss2si", int64_t)
PC64_CVT2SI(cvtsd2si32, "cvtsd2si", int32_t)
PC64_CVT2SI(cvtsd2si64, "cvtsd2si", int64_t)
PC64_CVT2SI(cvttsd2si32, "cvttsd2si", int32_t)
PC64_CVT2SI(cvttsd2si64, "cvttsd2si", int64_t)
#undef PC64_CVT2SI

}  // namespace

#else  // the portable path (sse_soft.h) under the host runners' names

namespace {

#define PC64_SOFT_CVT(fn, ...) \
  uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx) { return sse_soft::__VA_ARGS__(d, s, mx); }
PC64_SOFT_CVT(cvtps2pd, cvtps2pd) PC64_SOFT_CVT(cvtpd2ps, cvtpd2ps) PC64_SOFT_CVT(cvtss2sd, cvtss2sd)
PC64_SOFT_CVT(cvtsd2ss, cvtsd2ss) PC64_SOFT_CVT(cvtdq2ps, cvtdq2ps) PC64_SOFT_CVT(cvtps2dq, cvtps2dq<false>)
PC64_SOFT_CVT(cvttps2dq, cvtps2dq<true>) PC64_SOFT_CVT(cvtdq2pd, cvtdq2pd) PC64_SOFT_CVT(cvtpd2dq, cvtpd2dq<false>)
PC64_SOFT_CVT(cvttpd2dq, cvtpd2dq<true>)
#undef PC64_SOFT_CVT
constexpr auto cvtsi2ss32 = sse_soft::cvtsi2f<false, int32_t>;
constexpr auto cvtsi2ss64 = sse_soft::cvtsi2f<false, int64_t>;
constexpr auto cvtsi2sd32 = sse_soft::cvtsi2f<true, int32_t>;
constexpr auto cvtsi2sd64 = sse_soft::cvtsi2f<true, int64_t>;
constexpr auto cvtss2si32 = sse_soft::cvtf2si<false, false, int32_t>;
constexpr auto cvtss2si64 = sse_soft::cvtf2si<false, false, int64_t>;
constexpr auto cvttss2si32 = sse_soft::cvtf2si<false, true, int32_t>;
constexpr auto cvttss2si64 = sse_soft::cvtf2si<false, true, int64_t>;
constexpr auto cvtsd2si32 = sse_soft::cvtf2si<true, false, int32_t>;
constexpr auto cvtsd2si64 = sse_soft::cvtf2si<true, false, int64_t>;
constexpr auto cvttsd2si32 = sse_soft::cvtf2si<true, true, int32_t>;
constexpr auto cvttsd2si64 = sse_soft::cvtf2si<true, true, int64_t>;

}  // namespace

#endif

namespace {

// ---- MMX-operand forms ----
// CVTPI2PS xmm, mm/m64: two int32 -> the low two singles; upper lanes kept.
template <bool Mem> void h_cvtpi2ps(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s{};
  if (Mem) {
    s.u64[0] = c.mem_read<uint64_t>(i);
  } else {
    check_mmx(c);
    s.u64[0] = c.s.fpu.mm(i.r1);
  }
  uint32_t f = cvtdq2ps(s, s, host_mxcsr(c));  // lanes 2, 3 are 0: exact, no flags
  sse_flags(c, f);
  if (!Mem) mmx_enter(c);  // only the MMX-register form switches to MMX mode
  c.s.fpu.xmm[i.r0].u64[0] = s.u64[0];
}
// CVTPI2PD xmm, mm/m64: exact, never raises.
template <bool Mem> void h_cvtpi2pd(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s{};
  if (Mem) {
    s.u64[0] = c.mem_read<uint64_t>(i);
  } else {
    check_mmx(c);
    s.u64[0] = c.s.fpu.mm(i.r1);
  }
  cvtdq2pd(s, s, host_mxcsr(c));
  if (!Mem) mmx_enter(c);
  c.s.fpu.xmm[i.r0] = s;
}
// CVT(T)PS2PI / CVT(T)PD2PI mm, xmm/m: two lanes -> two int32 in an MMX register.
template <Src K, uint32_t (*Host)(Xmm&, const Xmm&, uint32_t)> void h_cvt2pi(Core& c, const Insn& i) {
  check_sse(c);
  check_mmx(c);
  Xmm s = load_src<K>(c, i);
  if (K == Src::M64 || K == Src::Reg) s.u64[1] = 0;  // PS2PI reads only two singles
  Xmm r{};
  uint32_t f = Host(r, s, host_mxcsr(c));
  sse_flags(c, f);
  mmx_enter(c);
  mmx_write(c, i.r0, r.u64[0]);
}
template <Src K, uint32_t (*Host)(Xmm&, const Xmm&, uint32_t)> void h_cvtpd2pi(Core& c, const Insn& i) {
  check_sse(c);
  check_mmx(c);
  Xmm s = load_src<K>(c, i);
  Xmm r{};
  uint32_t f = Host(r, s, host_mxcsr(c));
  sse_flags(c, f);
  mmx_enter(c);
  mmx_write(c, i.r0, r.u64[0]);
}

}  // namespace

#define PC64_CVT(M, fn, K) \
  case ZYDIS_MNEMONIC_##M: return xmm_form<host_op<fn>, Src::K>(i, d);

bool build_sse_convert(Insn& i, const Decoded& d, unsigned) {
  switch (d.zi.mnemonic) {
    PC64_CVT(CVTPS2PD, cvtps2pd, M64) PC64_CVT(CVTPD2PS, cvtpd2ps, M128A) PC64_CVT(CVTSS2SD, cvtss2sd, M32)
    PC64_CVT(CVTSD2SS, cvtsd2ss, M64) PC64_CVT(CVTDQ2PS, cvtdq2ps, M128A) PC64_CVT(CVTPS2DQ, cvtps2dq, M128A)
    PC64_CVT(CVTTPS2DQ, cvttps2dq, M128A) PC64_CVT(CVTDQ2PD, cvtdq2pd, M64) PC64_CVT(CVTPD2DQ, cvtpd2dq, M128A)
    PC64_CVT(CVTTPD2DQ, cvttpd2dq, M128A)
    case ZYDIS_MNEMONIC_CVTSI2SS: return from_int<cvtsi2ss32, cvtsi2ss64>(i, d);
    case ZYDIS_MNEMONIC_CVTSI2SD: return from_int<cvtsi2sd32, cvtsi2sd64>(i, d);
    case ZYDIS_MNEMONIC_CVTSS2SI: return to_int<cvtss2si32, cvtss2si64, Src::M32>(i, d);
    case ZYDIS_MNEMONIC_CVTTSS2SI: return to_int<cvttss2si32, cvttss2si64, Src::M32>(i, d);
    case ZYDIS_MNEMONIC_CVTSD2SI: return to_int<cvtsd2si32, cvtsd2si64, Src::M64>(i, d);
    case ZYDIS_MNEMONIC_CVTTSD2SI: return to_int<cvttsd2si32, cvttsd2si64, Src::M64>(i, d);
    case ZYDIS_MNEMONIC_CVTPI2PS:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_cvtpi2ps<true> : &h_cvtpi2ps<false>;
      return true;
    case ZYDIS_MNEMONIC_CVTPI2PD:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_cvtpi2pd<true> : &h_cvtpi2pd<false>;
      return true;
    case ZYDIS_MNEMONIC_CVTPS2PI:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_cvt2pi<Src::M64, cvtps2dq> : &h_cvt2pi<Src::Reg, cvtps2dq>;
      return true;
    case ZYDIS_MNEMONIC_CVTTPS2PI:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_cvt2pi<Src::M64, cvttps2dq> : &h_cvt2pi<Src::Reg, cvttps2dq>;
      return true;
    case ZYDIS_MNEMONIC_CVTPD2PI:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_cvtpd2pi<Src::M128A, cvtpd2dq> : &h_cvtpd2pi<Src::Reg, cvtpd2dq>;
      return true;
    case ZYDIS_MNEMONIC_CVTTPD2PI:
      set_operands(i, d);
      i.handler = d.is_mem(1) ? &h_cvtpd2pi<Src::M128A, cvttpd2dq> : &h_cvtpd2pi<Src::Reg, cvttpd2dq>;
      return true;
    default: return false;
  }
}
#undef PC64_CVT

}  // namespace pc64
