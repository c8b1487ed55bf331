// The portable SSE floating-point path (cpu/sse_soft.h) against the host's
// SSE unit: every operation on random special/ordinary operands under every
// rounding mode with FTZ/DAZ combinations; results and MXCSR flags must match
// bit for bit. PC64_SSE_SOFT_CASES=N (default 20000 per operation). RCP and
// RSQRT are checked against the SDM's error bound instead (sse_approx.h).
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "cpu/sse_common.h"
#include "cpu/sse_soft.h"
#include "sse_approx.h"

using namespace pc64;

namespace {

#if PC64_HOST_SSE
PC64_HOST2(h_addps, "addps") PC64_HOST2(h_addpd, "addpd") PC64_HOST2(h_addss, "addss") PC64_HOST2(h_addsd, "addsd")
PC64_HOST2(h_subps, "subps") PC64_HOST2(h_subsd, "subsd") PC64_HOST2(h_mulps, "mulps") PC64_HOST2(h_mulsd, "mulsd")
PC64_HOST2(h_mulpd, "mulpd") PC64_HOST2(h_divps, "divps") PC64_HOST2(h_divpd, "divpd") PC64_HOST2(h_divss, "divss")
PC64_HOST2(h_minps, "minps") PC64_HOST2(h_maxpd, "maxpd") PC64_HOST2(h_minsd, "minsd") PC64_HOST2(h_maxss, "maxss")
PC64_HOST2(h_sqrtps, "sqrtps") PC64_HOST2(h_sqrtpd, "sqrtpd") PC64_HOST2(h_sqrtss, "sqrtss")
PC64_HOST2(h_cvtss2sd, "cvtss2sd") PC64_HOST2(h_cvtsd2ss, "cvtsd2ss") PC64_HOST2(h_cvtps2pd, "cvtps2pd")
PC64_HOST2(h_cvtpd2ps, "cvtpd2ps") PC64_HOST2(h_cvtdq2ps, "cvtdq2ps") PC64_HOST2(h_cvtdq2pd, "cvtdq2pd")
PC64_HOST2(h_cvtps2dq, "cvtps2dq") PC64_HOST2(h_cvttps2dq, "cvttps2dq") PC64_HOST2(h_cvtpd2dq, "cvtpd2dq")
PC64_HOST2(h_cvttpd2dq, "cvttpd2dq")
PC64_HOST2_IMM(h_cmpps, "cmpps") PC64_HOST2_IMM(h_cmpsd, "cmpsd")
PC64_HOST2(h_addsubps, "addsubps") PC64_HOST2(h_addsubpd, "addsubpd") PC64_HOST2(h_haddps, "haddps")
PC64_HOST2(h_haddpd, "haddpd") PC64_HOST2(h_hsubps, "hsubps") PC64_HOST2(h_hsubpd, "hsubpd")
PC64_HOST2_IMM(h_roundps, "roundps") PC64_HOST2_IMM(h_roundpd, "roundpd") PC64_HOST2_IMM(h_roundss, "roundss")
PC64_HOST2_IMM(h_roundsd, "roundsd") PC64_HOST2_IMM(h_dpps, "dpps") PC64_HOST2_IMM(h_dppd, "dppd")

// The GPR conversions and (U)COMIS in the same shape as the others: the
// integer comes from lane 0 of s (CVTSI2xx) or goes to d.u64[0] (CVTxx2SI,
// zero-extended from 32 bits); (U)COMIS puts ZF | PF << 1 | CF << 2 in d.u32[0].
#define PC64_TEST_CVTSI(fn, text, T)                                                                  \
  uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx) {                                                    \
    HostV2 a = to_host(d);                                                                            \
    uint32_t out, saved;                                                                              \
    asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[v], %[a]\n\tstmxcsr %[out]\n\tldmxcsr %[sv]" \
                 : [a] "+x"(a), [out] "=m"(out), [sv] "=m"(saved)                                     \
                 : [v] "r"(static_cast<T>(s.u64[0])), [mx] "m"(mx));                                  \
    d = from_host(a);                                                                                 \
    return out & kMxcsrFlags;                                                                         \
  }
PC64_TEST_CVTSI(h_cvtsi2ss32, "cvtsi2ssl", int32_t) PC64_TEST_CVTSI(h_cvtsi2ss64, "cvtsi2ssq", int64_t)
PC64_TEST_CVTSI(h_cvtsi2sd32, "cvtsi2sdl", int32_t) PC64_TEST_CVTSI(h_cvtsi2sd64, "cvtsi2sdq", int64_t)
#define PC64_TEST_CVT2SI(fn, text, T)                                                                 \
  uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx) {                                                    \
    HostV2 a = to_host(s);                                                                            \
    T r;                                                                                              \
    uint32_t out, saved;                                                                              \
    asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[a], %[r]\n\tstmxcsr %[out]\n\tldmxcsr %[sv]" \
                 : [r] "=r"(r), [out] "=m"(out), [sv] "=m"(saved)                                     \
                 : [a] "x"(a), [mx] "m"(mx));                                                         \
    d.u64[0] = static_cast<std::make_unsigned_t<T>>(r);                                               \
    return out & kMxcsrFlags;                                                                         \
  }
PC64_TEST_CVT2SI(h_cvtss2si32, "cvtss2si", int32_t) PC64_TEST_CVT2SI(h_cvttss2si64, "cvttss2si", int64_t)
PC64_TEST_CVT2SI(h_cvtsd2si64, "cvtsd2si", int64_t) PC64_TEST_CVT2SI(h_cvttsd2si32, "cvttsd2si", int32_t)
#define PC64_TEST_COMIS(fn, text)                                                                     \
  uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx) {                                                    \
    HostV2 a = to_host(d), b = to_host(s);                                                            \
    uint8_t zf, pf, cf;                                                                               \
    uint32_t out, saved;                                                                              \
    asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[b], %[a]\n\tsetz %[zf]\n\tsetp %[pf]\n\t"  \
                 "setc %[cf]\n\tstmxcsr %[out]\n\tldmxcsr %[sv]"                                       \
                 : [zf] "=q"(zf), [pf] "=q"(pf), [cf] "=q"(cf), [out] "=m"(out), [sv] "=m"(saved)     \
                 : [a] "x"(a), [b] "x"(b), [mx] "m"(mx)                                               \
                 : "cc");                                                                             \
    d.u32[0] = unsigned(zf != 0) | unsigned(pf != 0) << 1 | unsigned(cf != 0) << 2;                   \
    return out & kMxcsrFlags;                                                                         \
  }
PC64_TEST_COMIS(h_comiss, "comiss") PC64_TEST_COMIS(h_ucomiss, "ucomiss")
PC64_TEST_COMIS(h_comisd, "comisd") PC64_TEST_COMIS(h_ucomisd, "ucomisd")

template <bool Dbl, class T> uint32_t s_cvtsi(Xmm& d, const Xmm& s, uint32_t mx) {
  return sse_soft::cvtsi2f<Dbl, T>(d, static_cast<T>(s.u64[0]), mx);
}
template <bool Dbl, bool Trunc, class T> uint32_t s_cvt2si(Xmm& d, const Xmm& s, uint32_t mx) {
  T r;
  uint32_t f = sse_soft::cvtf2si<Dbl, Trunc, T>(s, r, mx);
  d.u64[0] = static_cast<std::make_unsigned_t<T>>(r);
  return f;
}
template <bool Dbl, bool Unordered> uint32_t s_comis(Xmm& d, const Xmm& s, uint32_t mx) {
  sse_soft::ComisResult r = sse_soft::comis<Dbl, Unordered>(d, s, mx);
  d.u32[0] = unsigned(r.zf) | unsigned(r.pf) << 1 | unsigned(r.cf) << 2;
  return r.flags;
}

using Fn = uint32_t (*)(Xmm&, const Xmm&, uint32_t);
struct Pair {
  const char* name;
  Fn host, soft;
};

namespace S = sse_soft;
using sf80::sse::Op;
const Pair kPairs[] = {
    {"addps", h_addps, S::arith<Op::kAdd, false, false>},  {"addpd", h_addpd, S::arith<Op::kAdd, true, false>},
    {"addss", h_addss, S::arith<Op::kAdd, false, true>},   {"addsd", h_addsd, S::arith<Op::kAdd, true, true>},
    {"subps", h_subps, S::arith<Op::kSub, false, false>},  {"subsd", h_subsd, S::arith<Op::kSub, true, true>},
    {"mulps", h_mulps, S::arith<Op::kMul, false, false>},  {"mulsd", h_mulsd, S::arith<Op::kMul, true, true>},
    {"mulpd", h_mulpd, S::arith<Op::kMul, true, false>},   {"divps", h_divps, S::arith<Op::kDiv, false, false>},
    {"divpd", h_divpd, S::arith<Op::kDiv, true, false>},   {"divss", h_divss, S::arith<Op::kDiv, false, true>},
    {"minps", h_minps, S::arith<Op::kMin, false, false>},  {"maxpd", h_maxpd, S::arith<Op::kMax, true, false>},
    {"minsd", h_minsd, S::arith<Op::kMin, true, true>},    {"maxss", h_maxss, S::arith<Op::kMax, false, true>},
    {"sqrtps", h_sqrtps, S::sqrt<false, false>},           {"sqrtpd", h_sqrtpd, S::sqrt<true, false>},
    {"sqrtss", h_sqrtss, S::sqrt<false, true>},            {"cvtss2sd", h_cvtss2sd, S::cvtss2sd},
    {"cvtsd2ss", h_cvtsd2ss, S::cvtsd2ss},                 {"cvtps2pd", h_cvtps2pd, S::cvtps2pd},
    {"cvtpd2ps", h_cvtpd2ps, S::cvtpd2ps},                 {"cvtdq2ps", h_cvtdq2ps, S::cvtdq2ps},
    {"cvtdq2pd", h_cvtdq2pd, S::cvtdq2pd},                 {"cvtps2dq", h_cvtps2dq, S::cvtps2dq<false>},
    {"cvttps2dq", h_cvttps2dq, S::cvtps2dq<true>},         {"cvtpd2dq", h_cvtpd2dq, S::cvtpd2dq<false>},
    {"cvttpd2dq", h_cvttpd2dq, S::cvtpd2dq<true>},
    {"cmpps lt", h_cmpps<1>, S::cmp<1, false, false>},     {"cmpps le", h_cmpps<2>, S::cmp<2, false, false>},
    {"cmpps unord", h_cmpps<3>, S::cmp<3, false, false>},  {"cmpps nlt", h_cmpps<5>, S::cmp<5, false, false>},
    {"cmpsd eq", h_cmpsd<0>, S::cmp<0, true, true>},       {"cmpsd neq", h_cmpsd<4>, S::cmp<4, true, true>},
    {"cmpsd nle", h_cmpsd<6>, S::cmp<6, true, true>},      {"cmpsd ord", h_cmpsd<7>, S::cmp<7, true, true>},
    {"cvtsi2ss r32", h_cvtsi2ss32, s_cvtsi<false, int32_t>}, {"cvtsi2ss r64", h_cvtsi2ss64, s_cvtsi<false, int64_t>},
    {"cvtsi2sd r32", h_cvtsi2sd32, s_cvtsi<true, int32_t>},  {"cvtsi2sd r64", h_cvtsi2sd64, s_cvtsi<true, int64_t>},
    {"cvtss2si r32", h_cvtss2si32, s_cvt2si<false, false, int32_t>},
    {"cvttss2si r64", h_cvttss2si64, s_cvt2si<false, true, int64_t>},
    {"cvtsd2si r64", h_cvtsd2si64, s_cvt2si<true, false, int64_t>},
    {"cvttsd2si r32", h_cvttsd2si32, s_cvt2si<true, true, int32_t>},
    {"comiss", h_comiss, s_comis<false, false>},             {"ucomiss", h_ucomiss, s_comis<false, true>},
    {"comisd", h_comisd, s_comis<true, false>},              {"ucomisd", h_ucomisd, s_comis<true, true>},
    {"addsubps", h_addsubps, S::addsub<false>},   {"addsubpd", h_addsubpd, S::addsub<true>},
    {"haddps", h_haddps, S::horizontal<false, false>}, {"haddpd", h_haddpd, S::horizontal<true, false>},
    {"hsubps", h_hsubps, S::horizontal<false, true>},  {"hsubpd", h_hsubpd, S::horizontal<true, true>},
    // ROUNDxx: every rounding field, MXCSR.RC (4) and suppressed PE (8).
    {"roundps 0", h_roundps<0>, S::round<0, false, false>},   {"roundps 9", h_roundps<9>, S::round<9, false, false>},
    {"roundps 2", h_roundps<2>, S::round<2, false, false>},   {"roundps 4", h_roundps<4>, S::round<4, false, false>},
    {"roundpd 1", h_roundpd<1>, S::round<1, true, false>},    {"roundpd 11", h_roundpd<11>, S::round<11, true, false>},
    {"roundpd 12", h_roundpd<12>, S::round<12, true, false>}, {"roundpd 3", h_roundpd<3>, S::round<3, true, false>},
    {"roundss 3", h_roundss<3>, S::round<3, false, true>},    {"roundss 6", h_roundss<6>, S::round<6, false, true>},
    {"roundsd 0", h_roundsd<0>, S::round<0, true, true>},     {"roundsd 10", h_roundsd<10>, S::round<10, true, true>},
    // DPPS/DPPD: all lanes, partial product and result masks, none.
    {"dpps ff", h_dpps<0xFF>, S::dp<0xFF, false>}, {"dpps 71", h_dpps<0x71>, S::dp<0x71, false>},
    {"dpps a6", h_dpps<0xA6>, S::dp<0xA6, false>}, {"dpps 0f", h_dpps<0x0F>, S::dp<0x0F, false>},
    {"dpps f0", h_dpps<0xF0>, S::dp<0xF0, false>}, {"dpps 3c", h_dpps<0x3C>, S::dp<0x3C, false>},
    {"dppd 33", h_dppd<0x33>, S::dp<0x33, true>},  {"dppd 12", h_dppd<0x12>, S::dp<0x12, true>},
    {"dppd 21", h_dppd<0x21>, S::dp<0x21, true>},  {"dppd 30", h_dppd<0x30>, S::dp<0x30, true>},
};

uint32_t f32(std::mt19937_64& g) {
  static const uint32_t pool[] = {0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
                                  0xFFA00005, 0x00000001, 0x807FFFFF, 0x00400000, 0x00800000, 0x80800000,
                                  0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3FC00000, 0x4F000000,
                                  0xCF000000, 0x4EFFFFFF, 0x00FFFFFF, 0x0DA24260, 0x7E967699, 0x1F800001, 0x20000000};
  switch (g() % 4) {
    case 0: return pool[g() % (sizeof pool / 4)];
    case 1: return static_cast<uint32_t>(g());
    case 2: return static_cast<uint32_t>(((g() % 2) << 31) | ((100 + g() % 56) << 23) | (g() & 0x7FFFFF));
    default: return static_cast<uint32_t>(((g() % 2) << 31) | ((g() % 40) << 23) | (g() & 0x7FFFFF));  // tiny
  }
}
uint64_t f64(std::mt19937_64& g) {
  static const uint64_t pool[] = {0, 0x8000000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
                                  0x7FF8000000000000, 0x7FF0000000000001, 0x0000000000000001, 0x800FFFFFFFFFFFFF,
                                  0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0x3FF0000000000000, 0x41E0000000000000,
                                  0xC1E0000000000000, 0x41DFFFFFFFC00000, 0x380FFFFFFFFFFFFF, 0x3810000000000000,
                                  0x36A0000000000000, 0x47EFFFFFE0000000, 0x2000000000000001};
  switch (g() % 4) {
    case 0: return pool[g() % (sizeof pool / 8)];
    case 1: return g();
    case 2: return ((g() % 2) << 63) | ((900 + g() % 250) << 52) | (g() & 0xFFFFFFFFFFFFFull);
    default: return ((g() % 2) << 63) | ((g() % 80) << 52) | (g() & 0xFFFFFFFFFFFFFull);  // tiny
  }
}
void fill(Xmm& x, std::mt19937_64& g) {
  unsigned kind = g() % 3;
  for (unsigned k = 0; k < 2; ++k) {
    if (kind == 0) x.u64[k] = (uint64_t(f32(g)) << 32) | f32(g);
    else if (kind == 1) x.u64[k] = f64(g);
    else x.u64[k] = g() % 2 ? g() : (uint64_t(static_cast<uint32_t>(g() % 4001) - 2000) << 32) | (g() % 70000);
  }
}
#endif

}  // namespace

TEST_CASE("portable SSE floating point matches the host SSE unit bit for bit") {
#if PC64_HOST_SSE
  const char* env = std::getenv("PC64_SSE_SOFT_CASES");
  const uint64_t per_op = env ? std::strtoull(env, nullptr, 0) : 20000;
  std::mt19937_64 g(7);
  unsigned failures = 0;
  for (const Pair& p : kPairs) {
    unsigned shown = 0;
    for (uint64_t n = 0; n < per_op; ++n) {
      Xmm d, s;
      fill(d, g);
      fill(s, g);
      uint32_t mx = 0x1F80 | uint32_t((g() % 4) << 13) | (g() % 2 ? MXCSR_FTZ : 0u) | (g() % 2 ? MXCSR_DAZ : 0u);
      Xmm hd = d, sd = d;
      uint32_t hf = p.host(hd, s, mx), sf = p.soft(sd, s, mx);
      if (std::memcmp(&hd, &sd, 16) != 0 || hf != sf) {
        ++failures;
        if (shown++ < 2) {
          char buf[300];
          snprintf(buf, sizeof buf,
                   "%s mxcsr %04x d %016llx%016llx s %016llx%016llx: host %016llx%016llx flags %02x, soft "
                   "%016llx%016llx flags %02x",
                   p.name, mx, (unsigned long long)d.u64[1], (unsigned long long)d.u64[0],
                   (unsigned long long)s.u64[1], (unsigned long long)s.u64[0], (unsigned long long)hd.u64[1],
                   (unsigned long long)hd.u64[0], hf, (unsigned long long)sd.u64[1], (unsigned long long)sd.u64[0],
                   sf);
          MESSAGE(std::string(buf));
        }
      }
    }
  }
  MESSAGE((per_op * (sizeof kPairs / sizeof kPairs[0])) << " cases, " << failures << " mismatches");
  CHECK(failures == 0);
#endif
}

// RCP/RSQRT on the portable path: special cases and the error bound over
// every 7th significand of two binades (the relative error repeats
// with the exponent; two cover RSQRT's odd and even ones), the binades where
// RCP's result turns tiny, and a sweep of all encodings.
TEST_CASE("portable RCP/RSQRT meet the SDM's special cases and 1.5 * 2^-12 error bound") {
  using test::approx_violation;
  unsigned bad = 0;
  auto check = [&](uint32_t a) {
    uint32_t r = sf80::sse::rcp(a), q = sf80::sse::rsqrt(a);
    const char* why = approx_violation<false>(a, r);
    const char* why_sqrt = approx_violation<true>(a, q);
    if ((*why || *why_sqrt) && bad++ < 5)
      MESSAGE("src " << std::hex << a << ": rcp " << r << " " << why << ", rsqrt " << q << " " << why_sqrt);
  };
  for (uint32_t m = 0; m < (1u << 23); m += 7)
    for (uint32_t ex : {127u, 128u}) check((ex << 23) | m);
  for (uint32_t m = 0; m < (1u << 23); m += 61)
    for (uint32_t ex : {252u, 253u, 254u}) check((ex << 23) | m);
  for (uint64_t a = 0; a < (1ull << 32); a += 65537 * 7) check(static_cast<uint32_t>(a));
  for (uint32_t a : {0u, 0x80000000u, 1u, 0x807FFFFFu, 0x7F800000u, 0xFF800000u, 0x7F800001u, 0xFFC00001u,
                     0x00800000u, 0x80800000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x3F800000u, 0xBF800000u, 0x7E7FE800u,
                     0x7E800C01u, 0x7E800000u})
    check(a);
  CHECK(bad == 0);
  // Exact powers of two have exact reciprocals: the approximation returns them.
  CHECK(sf80::sse::rcp(0x40000000u) == 0x3F000000u);   // 1/2
  CHECK(sf80::sse::rsqrt(0x40800000u) == 0x3F000000u); // 1/sqrt(4)
  CHECK(sf80::sse::rsqrt(0xBF800000u) == 0xFFC00000u); // negative: QNaN indefinite
  CHECK(sf80::sse::rcp(0x807FFFFFu) == 0xFF800000u);   // denormal counts as -0
}
