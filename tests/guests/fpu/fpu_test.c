/* pc64 guest user-space FPU/SIMD check (issue 5).
 *
 * A static program built with the host's `gcc -static -O2` when the guest
 * images are built (scripts/build-guests.sh). It runs in the Linux guest's
 * initramfs and, natively, on the host; the host's output is the oracle and
 * the guest test (tests/guests/fpu_compare.sh) wants the two to be identical.
 * It prints exact bit patterns of SSE2 double/float and x87 long double
 * arithmetic over special values (zeros, denormals, infinities, NaNs), libm,
 * printf/strtod of floats, MXCSR/x87 rounding modes and exception flags,
 * vector code (SSE2, SSSE3, SSE4.1, SSE4.2 through intrinsics) and the string
 * functions glibc implements with SSE2/SSE4.2. Nothing depends on addresses
 * or time, so both runs must print the same bytes.
 *
 * Run it natively with AVX/FMA masked (GLIBC_TUNABLES, see build-guests.sh)
 * so glibc picks the same ifunc variants the pc64 CPU (no AVX) gets.
 */
#include <fenv.h>
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash = 1469598103934665603ull; /* FNV-1a over all printed bits */
static void mix(const void* p, size_t n) {
  const unsigned char* b = p;
  for (size_t k = 0; k < n; ++k) hash = (hash ^ b[k]) * 1099511628211ull;
}
static uint64_t bits64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t bits32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static void ld_bits(long double x, uint64_t* m, unsigned* se) {
  unsigned char b[16] = {0};
  memcpy(b, &x, 10);
  memcpy(m, b, 8);
  *se = b[8] | (b[9] << 8);
}

/* Values that exercise the special cases of IEEE arithmetic. */
static const double kD[] = {0.0, -0.0, 1.0, -1.0, 0.1, -2.5, 3.0, 1.0 / 3.0, 1e308, -1e-300,
                            4.9e-324, 2.2250738585072014e-308, 1.5e-310, 9007199254740993.0,
                            HUGE_VAL, -HUGE_VAL, 0, 0, 6.02214076e23, 0.5};
#define ND (sizeof kD / sizeof kD[0])
static volatile double vd[ND];
static volatile float vf[ND];
static volatile long double vl[ND];

static void init_values(void) {
  for (unsigned k = 0; k < ND; ++k) vd[k] = kD[k];
  vd[16] = __builtin_nan("");          /* QNaN */
  vd[17] = -__builtin_nans("0x5");     /* negative SNaN with payload */
  for (unsigned k = 0; k < ND; ++k) {
    vf[k] = (float)kD[k];
    vl[k] = (long double)kD[k];
  }
  vf[16] = __builtin_nanf("");
  vf[17] = -__builtin_nansf("0x3");
  vf[11] = 1.1754944e-38f;   /* FLT_MIN */
  vf[12] = 1.4e-45f;         /* smallest float denormal */
  vl[16] = __builtin_nanl("");
  vl[17] = -__builtin_nansl("0x7");
  vl[10] = 3.6451995318824746025e-4951L; /* long double denormal */
}

/* ---- SSE2 scalar double and float: every pair, four operations ---- */
static void sse_scalar(void) {
  uint64_t h = hash;
  hash = 1469598103934665603ull;
  for (unsigned a = 0; a < ND; ++a)
    for (unsigned b = 0; b < ND; ++b) {
      double x = vd[a], y = vd[b];
      uint64_t r[6] = {bits64(x + y), bits64(x - y), bits64(x * y), bits64(x / y),
                       (uint64_t)(x < y) | (uint64_t)(x == y) << 1 | (uint64_t)(x > y) << 2,
                       bits64(fmin(x, y))};
      mix(r, sizeof r);
      float f = vf[a], g = vf[b];
      uint32_t s[5] = {bits32(f + g), bits32(f - g), bits32(f * g), bits32(f / g),
                       bits32((float)((double)f * (double)g))};
      mix(s, sizeof s);
    }
  printf("sse2 scalar pairs: %016llx\n", (unsigned long long)hash);
  hash ^= h;
  for (unsigned a = 0; a < ND; ++a) {
    double x = vd[a];
    float f = vf[a];
    printf("d[%2u] %016llx sqrt %016llx f2d %016llx d2f %08x cvtt %lld f %08x fsqrt %08x\n", a,
           (unsigned long long)bits64(x), (unsigned long long)bits64(sqrt(x)),
           (unsigned long long)bits64((double)f), bits32((float)x),
           (long long)(x == x && fabs(x) < 9e18 ? (long long)x : -1), bits32(f),
           bits32(sqrtf(f)));
  }
}

/* ---- rounding modes (MXCSR.RC and x87 RC together through fesetround) ---- */
static void rounding(void) {
  static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
  static const char* names[] = {"near", "down", "up", "zero"};
  for (unsigned m = 0; m < 4; ++m) {
    fesetround(modes[m]);
    volatile double a = 1.0, b = 3.0, c = -2.5, big = 1e308;
    volatile long double la = 1.0L, lb = 3.0L;
    volatile float fa = 1.0f, fb = 3.0f;
    printf("%s: %016llx %016llx %ld %ld %ld %08x %08x %016llx ld %La %La\n", names[m],
           (unsigned long long)bits64(a / b), (unsigned long long)bits64(big * 10.0),
           lrint(c), lrint(-c), lrint(2.5), bits32(fa / fb), bits32((float)(a / b)),
           (unsigned long long)bits64(nearbyint(c)), la / lb, sqrtl(lb));
  }
  fesetround(FE_TONEAREST);
}

/* ---- exception flags (MXCSR and x87 FSW, merged by fetestexcept) ---- */
static void flags(void) {
  volatile double z = 0.0, one = 1.0, tiny = 1e-300, big = 1e308;
  volatile long double lz = 0.0L, lone = 1.0L;
  const char* what[] = {"1/0", "0/0", "tiny*tiny", "big*big", "1/3", "ld 1/0", "ld 0/0"};
  for (unsigned k = 0; k < 7; ++k) {
    feclearexcept(FE_ALL_EXCEPT);
    volatile long double r;
    switch (k) {
      case 0: r = one / z; break;
      case 1: r = z / z; break;
      case 2: r = tiny * tiny; break;
      case 3: r = big * big; break;
      case 4: r = one / 3.0; break;
      case 5: r = lone / lz; break;
      default: r = lz / lz; break;
    }
    (void)r;
    printf("flags %-9s %02x\n", what[k], fetestexcept(FE_ALL_EXCEPT));
  }
  feclearexcept(FE_ALL_EXCEPT);
}

/* ---- x87 long double: arithmetic and the transcendental instructions ---- */
static void x87(void) {
  for (unsigned a = 0; a < ND; ++a) {
    long double x = vl[a], y = vl[(a + 7) % ND];
    long double r[] = {x + y, x * y, x / y, sqrtl(x), sinl(x), cosl(x), tanl(x), atanl(x),
                       expl(x), logl(x), fmodl(x, y), remainderl(x, y), rintl(x), x - y};
    uint64_t m;
    unsigned se;
    printf("ld[%2u]", a);
    for (unsigned k = 0; k < sizeof r / sizeof r[0]; ++k) {
      ld_bits(r[k], &m, &se);
      printf(" %04x:%016llx", se, (unsigned long long)m);
    }
    printf("\n");
  }
  int e;
  long double fr = frexpl(1234.5678L, &e);
  printf("ld misc %La %d %La %La %La %La %La\n", fr, e, ldexpl(fr, 300), powl(2.0L, 0.5L),
         atan2l(1.0L, -1.0L), log2l(10.0L), exp2l(-0.75L));
  printf("ld print %.21Lg %.30Lf %Le\n", 1.0L / 3.0L, 2.0L / 7.0L, -1e4000L);
}

/* ---- libm double (SSE2/SSE4.1 code in glibc) ---- */
static void libm(void) {
  static const double in[] = {0.5, -1.75, 3.14159, 100.25, 1e-5, 710.0, -745.5, 1e22, 0.0};
  for (unsigned k = 0; k < sizeof in / sizeof in[0]; ++k) {
    double x = in[k];
    double r[] = {sin(x), cos(x), tan(x), exp(x), log(fabs(x)), pow(fabs(x), 0.37), atan2(x, 2.0),
                  cbrt(x), hypot(x, 3.0), erf(x), lgamma(x), floor(x), ceil(x), round(x),
                  trunc(x), fmod(x, 0.7), expm1(x), log1p(fabs(x)), asinh(x), sinf((float)x)};
    printf("m[%u]", k);
    for (unsigned j = 0; j < sizeof r / sizeof r[0]; ++j)
      printf(" %016llx", (unsigned long long)bits64(r[j]));
    printf("\n");
  }
}

/* ---- printf / strtod of floats ---- */
static void text(void) {
  for (unsigned a = 0; a < ND; ++a)
    printf("p %.17g %e %.3f %a %g\n", vd[a], vd[a], vd[a], vd[a], (double)vf[a]);
  static const char* s[] = {"0.1", "-1e-320", "2.2250738585072011e-308", "1.7976931348623159e308",
                            "123456789012345678901234567890", "0x1.fffffffffffffp1023", "nan(12)",
                            "-inf", "3.14159265358979323846264338327950288", "1e-400"};
  for (unsigned k = 0; k < sizeof s / sizeof s[0]; ++k)
    printf("strtod %s %016llx %08x\n", s[k], (unsigned long long)bits64(strtod(s[k], NULL)),
           bits32(strtof(s[k], NULL)));
  /* Round trip of pseudo-random doubles through %.17g. */
  uint64_t x = 88172645463325252ull;
  unsigned bad = 0;
  hash = 1469598103934665603ull;
  char buf[64];
  for (unsigned k = 0; k < 3000; ++k) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double d;
    memcpy(&d, &x, 8);
    if (d != d) continue;
    snprintf(buf, sizeof buf, "%.17g", d);
    mix(buf, strlen(buf));
    if (bits64(strtod(buf, NULL)) != bits64(d)) ++bad;
  }
  printf("printf/strtod round trip: %u bad, text hash %016llx\n", bad, (unsigned long long)hash);
}

/* ---- vector integer and float code ---- */
typedef int v4si __attribute__((vector_size(16)));
typedef short v8hi __attribute__((vector_size(16)));
typedef double v2df __attribute__((vector_size(16)));

__attribute__((target("sse4.2"))) static void simd(void) {
  hash = 1469598103934665603ull;
  uint32_t seed = 12345;
  int32_t a[64], b[64], c[64];
  float fa[64];
  for (unsigned k = 0; k < 64; ++k) {
    seed = seed * 1103515245u + 12345u;
    a[k] = (int32_t)seed;
    seed = seed * 1103515245u + 12345u;
    b[k] = (int32_t)seed >> (k & 15);
    fa[k] = (float)a[k] / 65536.0f;
  }
  for (unsigned k = 0; k < 64; k += 4) {
    v4si x, y;
    memcpy(&x, a + k, 16);
    memcpy(&y, b + k, 16);
    v4si r = (x + y) * (x ^ y) - (x >> 3) + (y < x);
    memcpy(c + k, &r, 16);
    v8hi hx = (v8hi)x, hy = (v8hi)y;
    v8hi hr = hx * hy + (hx >> 2);
    mix(&hr, 16);
    v2df dx = {(double)a[k], (double)b[k]}, dy = {(double)a[k + 1], 3.0};
    v2df dr = dx * dy / (dx + dy);
    mix(&dr, 16);
  }
  mix(c, sizeof c);
  printf("vector ext: %016llx\n", (unsigned long long)hash);

  hash = 1469598103934665603ull;
  uint32_t crc = 0;
  for (unsigned k = 0; k < 64; ++k) crc = _mm_crc32_u32(crc, (uint32_t)a[k]);
  crc = _mm_crc32_u8(crc, 0x5A);
  unsigned pop = 0;
  for (unsigned k = 0; k < 64; ++k) pop += (unsigned)_mm_popcnt_u32((uint32_t)b[k]);
  for (unsigned k = 0; k < 64; k += 4) {
    __m128i x = _mm_loadu_si128((const __m128i*)(a + k));
    __m128i y = _mm_loadu_si128((const __m128i*)(b + k));
    __m128i r[] = {_mm_shuffle_epi8(x, y), _mm_min_epi32(x, y), _mm_max_epu32(x, y),
                   _mm_mullo_epi32(x, y), _mm_hadd_epi32(x, y), _mm_abs_epi16(x),
                   _mm_packus_epi32(x, y), _mm_cmpgt_epi64(x, y), _mm_sad_epu8(x, y),
                   _mm_madd_epi16(x, y), _mm_minpos_epu16(x), _mm_alignr_epi8(x, y, 5),
                   _mm_blendv_epi8(x, y, x), _mm_mpsadbw_epu8(x, y, 5)};
    mix(r, sizeof r);
    int t[] = {_mm_testz_si128(x, y), _mm_testc_si128(x, y),
               _mm_cmpistri(x, y, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY),
               _mm_cmpestri(x, 9, y, 13, _SIDD_SWORD_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY),
               _mm_movemask_epi8(x)};
    mix(t, sizeof t);
    __m128i m = _mm_cmpistrm(x, y, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED | _SIDD_UNIT_MASK);
    mix(&m, 16);
    __m128 f = _mm_loadu_ps(fa + k);
    __m128 g = _mm_set_ps(0.5f, -1.25f, 3.0f, fa[(k + 9) % 64]);
    __m128 fr[] = {_mm_dp_ps(f, g, 0xF1), _mm_round_ps(f, _MM_FROUND_TO_NEG_INF),
                   _mm_round_ps(f, _MM_FROUND_TO_NEAREST_INT), _mm_rcp_ps(f), _mm_rsqrt_ps(g),
                   _mm_hadd_ps(f, g), _mm_addsub_ps(f, g), _mm_blendv_ps(f, g, f),
                   _mm_max_ps(f, g), _mm_sqrt_ps(f)};
    mix(fr, sizeof fr);
    __m128d d = _mm_cvtps_pd(f);
    __m128d dr[] = {_mm_dp_pd(d, d, 0x31), _mm_round_pd(d, _MM_FROUND_TO_ZERO), _mm_hsub_pd(d, d)};
    mix(dr, sizeof dr);
    __m128i cv[] = {_mm_cvtps_epi32(f), _mm_cvttps_epi32(f), _mm_cvtpd_epi32(d)};
    mix(cv, sizeof cv);
  }
  printf("sse4.2 intrinsics: crc %08x pop %u hash %016llx\n", crc, pop, (unsigned long long)hash);
  /* Auto-vectorised float loop (GCC -O2 vectorises with SSE2). */
  float acc[16] = {0};
  for (unsigned r = 0; r < 100; ++r)
    for (unsigned k = 0; k < 64; ++k) acc[k & 15] = acc[k & 15] * 0.25f + fa[k] * (float)r - acc[(k + 1) & 15] * 0.125f;
  hash = 1469598103934665603ull;
  mix(acc, sizeof acc);
  printf("vectorised loop: %016llx %a\n", (unsigned long long)hash, (double)acc[3]);
}

/* ---- string functions (glibc's SSE2/SSSE3/SSE4.2 variants) ---- */
static void strings(void) {
  static char src[4096 + 64], dst[4096 + 64];
  uint32_t seed = 777;
  for (unsigned k = 0; k < sizeof src; ++k) {
    seed = seed * 1664525u + 1013904223u;
    src[k] = (char)(1 + (seed >> 24) % 200);
  }
  uint64_t acc = 0;
  hash = 1469598103934665603ull;
  for (unsigned len = 0; len < 600; len += 7)
    for (unsigned al = 0; al < 16; al += 5) {
      memset(dst, 0, sizeof dst);
      memcpy(dst + al, src + (len % 13), len);
      mix(dst, len + 32);
      memmove(dst + al + 3, dst + al, len);
      mix(dst, len + 32);
      dst[al + len] = 0;
      acc += strlen(dst + al);
      char* p = strchr(dst + al, src[len % 13 + len / 2]);
      acc = acc * 31 + (p ? (uint64_t)(p - dst) : 999);
      p = strrchr(dst + al, 'x');
      acc = acc * 31 + (p ? (uint64_t)(p - dst) : 999);
      acc = acc * 31 + (uint64_t)(memcmp(dst + al, src, len) > 0);
      acc = acc * 31 + (uint64_t)(strcmp(dst + al, dst + al + 1) < 0);
      char needle[4] = {src[len + 1], src[len + 2], src[len + 3], 0};
      p = strstr(src + 1, needle);
      acc = acc * 31 + (p ? (uint64_t)(p - src) : 999);
      acc = acc * 31 + strspn(dst + al, "\x01\x02\x03\x04\x05" "abcdefghijklmnopqrstuvwxyz");
      memset(dst + al, len & 0xFF, len);
      mix(dst, len + 32);
    }
  printf("strings: %016llx %016llx\n", (unsigned long long)hash, (unsigned long long)acc);
}

int main(void) {
  printf("PC64-FPU-BEGIN\n");
  init_values();
  sse_scalar();
  rounding();
  flags();
  x87();
  libm();
  text();
  simd();
  strings();
  printf("PC64-FPU-END\n");
  return 0;
}
