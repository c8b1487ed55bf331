// Shared pieces of the SSE/MMX/x87 handler files: the availability checks
// (#UD / #NM / #MF by CR0 and CR4), operand fetch for XMM instructions
// (register, aligned or unaligned m128, m64, m32, m16), wide memory access,
// MXCSR exception reporting (#XM vs #UD), and the host-SSE runner that
// executes one host instruction under the guest's MXCSR.
#pragma once
#include <cstring>

#include "cpu/core.h"
#include "cpu/decoder.h"
#include "cpu/fpu_state.h"

namespace pc64 {

// ---------------- availability (SDM Vol. 3A 2.5 table 2-2, Vol. 1 13.x) ----------------

// SSE/SSE2/... instructions: CR0.EM or !CR4.OSFXSR -> #UD, CR0.TS -> #NM.
inline void check_sse(Core& c) {
  if (__builtin_expect((c.s.cr0 & (CR0_EM | CR0_TS)) || !(c.s.cr4 & CR4_OSFXSR), 0)) {
    if ((c.s.cr0 & CR0_EM) || !(c.s.cr4 & CR4_OSFXSR)) c.ud();
    c.raise(kNM);
  }
}

// A pending unmasked x87 exception (FSW.ES) is reported when the next waiting
// x87 or MMX instruction starts: #MF with CR0.NE, else the legacy FERR# path
// (SDM Vol. 1 8.7, D.2.1): with IGNNE# the instruction proceeds; without,
// FERR# goes to the chipset (IRQ13) and the instruction freezes (X87Freeze)
// until the interrupt is taken.
void x87_pending_exception(Core& c);
// After an instruction that may clear FSW.ES (FNCLEX, FNINIT, FLDCW, FLDENV,
// FRSTOR): negates FERR# when ES went from 1 to 0.
void x87_es_cleared(Core& c, uint16_t old_fsw);

// x87 instructions: CR0.EM or CR0.TS -> #NM (SDM Vol. 3A table 2-2).
inline void check_fpu(Core& c) {
  if (__builtin_expect(c.s.cr0 & (CR0_EM | CR0_TS), 0)) c.raise(kNM);
}
inline void check_fpu_wait(Core& c) {
  check_fpu(c);
  if (__builtin_expect(c.s.fpu.fsw & FSW_ES, 0)) x87_pending_exception(c);
}
// MMX instructions: EM -> #UD, TS -> #NM, then a pending x87 exception.
inline void check_mmx(Core& c) {
  if (__builtin_expect(c.s.cr0 & (CR0_EM | CR0_TS), 0)) {
    if (c.s.cr0 & CR0_EM) c.ud();
    c.raise(kNM);
  }
  if (__builtin_expect(c.s.fpu.fsw & FSW_ES, 0)) x87_pending_exception(c);
}
// Any MMX instruction except EMMS makes the x87 stack "all valid, TOP = 0"
// (SDM Vol. 1 9.5.1).
inline void mmx_enter(Core& c) {
  c.s.fpu.ftw = 0xFF;
  c.s.fpu.set_top(0);
}
inline void mmx_write(Core& c, unsigned n, uint64_t v) {
  c.s.fpu.r[n].mant = v;
  c.s.fpu.r[n].se = 0xFFFF;  // writing an MMX register sets the exponent to all ones
}

// ---------------- memory ----------------

// Linear address of a `size`-byte access; the second half of a wide access
// wraps like the hardware does outside 64-bit mode.
inline uint64_t wrap_lin(const Core& c, uint64_t lin) { return c.mode64() ? lin : (lin & 0xFFFFFFFF); }

// Reads `n` bytes (n a multiple of 8, or 1/2/4) at seg:off.
inline void read_bytes(Core& c, unsigned seg, uint64_t off, void* dst, unsigned n) {
  uint64_t lin = c.linear(seg, off, n, false);
  if (uint8_t* p = c.tlb.lookup(lin, n, AccessKind::Read, c.user())) {
    std::memcpy(dst, p, n);
    return;
  }
  auto* d = static_cast<uint8_t*>(dst);
  if (n < 8) {
    uint64_t v = c.read_slow(lin, n, c.user());
    std::memcpy(d, &v, n);
    return;
  }
  for (unsigned k = 0; k < n; k += 8) {
    uint64_t v = c.read_lin<uint64_t>(wrap_lin(c, lin + k));
    std::memcpy(d + k, &v, 8);
  }
}
// Writes `n` bytes; every page is checked before anything is written, so a
// faulting store changes nothing.
inline void write_bytes(Core& c, unsigned seg, uint64_t off, const void* src, unsigned n) {
  uint64_t lin = c.linear(seg, off, n, true);
  if (uint8_t* p = c.tlb.lookup(lin, n, AccessKind::Write, c.user())) {
    std::memcpy(p, src, n);
    return;
  }
  const auto* s = static_cast<const uint8_t*>(src);
  if (n < 8) {
    uint64_t v = 0;
    std::memcpy(&v, s, n);
    c.write_slow(lin, n, v, c.user());
    return;
  }
  c.probe_write(lin, n, c.user());
  for (unsigned k = 0; k < n; k += 8) {
    uint64_t v;
    std::memcpy(&v, s + k, 8);
    c.write_lin<uint64_t>(wrap_lin(c, lin + k), v);
  }
}
// 16-byte-aligned forms fault with #GP(0) on a misaligned linear address
// (SDM Vol. 1 11.6.2 / 12.x "Alignment").
inline void check_align16(Core& c, const Insn& i, uint64_t off) {
  uint64_t lin = c.segchk[i.seg].base + off;
  if (lin & 15) c.gp(0);
}

// Source operand kinds of XMM instructions.
enum class Src : uint8_t { Reg, M128A, M128U, M64, M32, M16 };

template <Src K> inline Xmm load_src(Core& c, const Insn& i) {
  Xmm v{};
  if constexpr (K == Src::Reg) {
    v = c.s.fpu.xmm[i.r1];
  } else {
    uint64_t off = c.ea(i);
    if constexpr (K == Src::M128A) check_align16(c, i, off);
    if constexpr (K == Src::M128A || K == Src::M128U) read_bytes(c, i.seg, off, &v, 16);
    else if constexpr (K == Src::M64) v.u64[0] = c.read<uint64_t>(i.seg, off);
    else if constexpr (K == Src::M32) v.u32[0] = c.read<uint32_t>(i.seg, off);
    else v.u16[0] = c.read<uint16_t>(i.seg, off);
  }
  return v;
}
inline void store128(Core& c, const Insn& i, const Xmm& v, bool aligned) {
  uint64_t off = c.ea(i);
  if (aligned) check_align16(c, i, off);
  write_bytes(c, i.seg, off, &v, 16);
}

// ---------------- MXCSR exceptions (SDM Vol. 1 11.5) ----------------

// Reports the exception flags an operation raised. Masked ones just set their
// MXCSR flag. If any is unmasked the destination must stay unchanged, so the
// caller commits its result only after this returns: pre-computation
// exceptions (IE, DE, ZE) win over post-computation ones (OE, UE, PE);
// delivery is #XM with CR4.OSXMMEXCPT, else #UD (SDM Vol. 1 11.5.1).
inline void sse_flags(Core& c, uint32_t flags) {
  uint32_t& mx = c.s.fpu.mxcsr;
  uint32_t unmasked = flags & ~(mx >> 7) & kMxcsrFlags;
  if (__builtin_expect(unmasked != 0, 0)) {
    constexpr uint32_t kPre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    mx |= (unmasked & kPre) ? (flags & kPre) : flags;
    if (c.s.cr4 & CR4_OSXMMEXCPT) c.raise(kXM);
    c.ud();
  }
  mx |= flags;
}

// The MXCSR the host runs a guest operation under: the guest's rounding,
// FTZ and DAZ, every exception masked (the host must never trap) and no
// flags set, so the flags read back are exactly this operation's.
inline uint32_t host_mxcsr(const Core& c) { return (c.s.fpu.mxcsr | MXCSR_MASKS) & ~kMxcsrFlags & 0xFFFF; }

// Handler shape for XMM-destination instructions: d = op(d, s).
using XmmOp = void (*)(Core&, Xmm&, const Xmm&, const Insn&);

template <XmmOp Op, Src K> void h_xmm(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s = load_src<K>(c, i);
  Op(c, c.s.fpu.xmm[i.r0], s, i);
}

// Builds the register or memory form of an XMM instruction whose source is
// operand 1 (operand 0 the XMM destination). `K` is the memory form's kind.
template <XmmOp Op, Src K> bool xmm_form(Insn& i, const Decoded& d) {
  set_operands(i, d);
  i.handler = d.is_mem(1) ? with_thread_call<&h_xmm<Op, K>>() : with_thread_call<&h_xmm<Op, Src::Reg>>();
  return true;
}

// Register number of an XMM/MM/ST operand (Zydis register -> 0..15).
inline uint8_t vreg(const Decoded& d, unsigned k) { return static_cast<uint8_t>(ZydisRegisterGetId(d.op[k].reg.value)); }
inline bool is_xmm(const Decoded& d, unsigned k) {
  return d.is_reg(k) && ZydisRegisterGetClass(d.op[k].reg.value) == ZYDIS_REGCLASS_XMM;
}
inline bool is_mmx(const Decoded& d, unsigned k) {
  return d.is_reg(k) && ZydisRegisterGetClass(d.op[k].reg.value) == ZYDIS_REGCLASS_MMX;
}
inline bool is_gpr(const Decoded& d, unsigned k) {
  if (!d.is_reg(k)) return false;
  auto cls = ZydisRegisterGetClass(d.op[k].reg.value);
  return cls == ZYDIS_REGCLASS_GPR32 || cls == ZYDIS_REGCLASS_GPR64 || cls == ZYDIS_REGCLASS_GPR16 ||
         cls == ZYDIS_REGCLASS_GPR8;
}

// ---------------- host SSE (x86-64 hosts) ----------------
#if defined(__x86_64__) && !defined(PC64_SOFT_SSE)  // PC64_SOFT_SSE: compile-check the portable path
#define PC64_HOST_SSE 1
typedef long long HostV2 __attribute__((vector_size(16)));

inline HostV2 to_host(const Xmm& x) {
  HostV2 v;
  std::memcpy(&v, &x, 16);
  return v;
}
inline Xmm from_host(HostV2 v) {
  Xmm x;
  std::memcpy(&x, &v, 16);
  return x;
}

// Defines `uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx)`: runs host
// instruction `text` (AT&T: text src, dst) on copies of d and s under MXCSR
// `mx` (from host_mxcsr) and returns the exception flags it raised. The whole
// sequence is one asm statement so the compiler cannot move other
// floating-point work under the guest's MXCSR.
#define PC64_HOST2(fn, text)                                                              \
  inline uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx) {                                 \
    HostV2 a = to_host(d), b = to_host(s);                                                \
    uint32_t out, saved;                                                                  \
    asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[b], %[a]\n\t"              \
                 "stmxcsr %[out]\n\tldmxcsr %[sv]"                                        \
                 : [a] "+x"(a), [out] "=m"(out), [sv] "=m"(saved)                         \
                 : [b] "x"(b), [mx] "m"(mx));                                             \
    d = from_host(a);                                                                     \
    return out & kMxcsrFlags;                                                             \
  }
// Same with an immediate (template parameter IMM).
#define PC64_HOST2_IMM(fn, text)                                                          \
  template <int IMM> inline uint32_t fn(Xmm& d, const Xmm& s, uint32_t mx) {              \
    HostV2 a = to_host(d), b = to_host(s);                                                \
    uint32_t out, saved;                                                                  \
    asm volatile("stmxcsr %[sv]\n\tldmxcsr %[mx]\n\t" text " %[imm], %[b], %[a]\n\t"      \
                 "stmxcsr %[out]\n\tldmxcsr %[sv]"                                        \
                 : [a] "+x"(a), [out] "=m"(out), [sv] "=m"(saved)                         \
                 : [b] "x"(b), [mx] "m"(mx), [imm] "i"(IMM));                             \
    d = from_host(a);                                                                     \
    return out & kMxcsrFlags;                                                             \
  }
#endif

// Runs `host(tmp, s, mx)` on a copy of d, reports the flags, then commits.
template <uint32_t (*Host)(Xmm&, const Xmm&, uint32_t)> void host_op(Core& c, Xmm& d, const Xmm& s, const Insn&) {
  Xmm t = d;
  uint32_t f = Host(t, s, host_mxcsr(c));
  sse_flags(c, f);
  d = t;
}

}  // namespace pc64
