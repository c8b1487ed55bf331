// SSE4.1 MPSADBW and the SSE4.2 additions: the packed string compares
// PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM and CRC32 (CRC-32C). Portable C++
// (SDM Vol. 1 12.10-12.11, Vol. 2 4.1 "Imm8 control byte operation for
// PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM").
#include "cpu/sse_common.h"

namespace pc64 {

namespace {

// ---------------- MPSADBW ----------------

void op_mpsadbw(Core&, Xmm& d, const Xmm& s, const Insn& i) {
  unsigned off1 = ((i.imm >> 2) & 1) * 4, off2 = (i.imm & 3) * 4;
  Xmm r;
  for (unsigned k = 0; k < 8; ++k) {
    unsigned sum = 0;
    for (unsigned j = 0; j < 4; ++j) {
      int a = d.u8[off1 + k + j], b = s.u8[off2 + j];
      sum += static_cast<unsigned>(a > b ? a - b : b - a);
    }
    r.u16[k] = static_cast<uint16_t>(sum);
  }
  d = r;
}

// ---------------- PCMPxSTRx ----------------

// Element k of x for the imm8[1:0] data format (signed formats sign-extend).
int32_t element(const Xmm& x, unsigned k, unsigned fmt) {
  switch (fmt) {
    case 0: return x.u8[k];
    case 1: return x.u16[k];
    case 2: return x.i8[k];
    default: return x.i16[k];
  }
}

unsigned implicit_len(const Xmm& x, unsigned n, unsigned fmt) {
  for (unsigned k = 0; k < n; ++k)
    if (element(x, k, fmt) == 0) return k;
  return n;
}
unsigned explicit_len(int64_t v, unsigned n) {
  uint64_t a = v < 0 ? (v == INT64_MIN ? uint64_t(1) << 63 : uint64_t(-v)) : uint64_t(v);
  return a > n ? n : static_cast<unsigned>(a);
}

// Computes IntRes2 (SDM "Aggregation", "Polarity") for d = xmm1, s = xmm2/m128.
unsigned str_compare(const Xmm& d, const Xmm& s, unsigned len1, unsigned len2, unsigned imm) {
  unsigned fmt = imm & 3, agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
  unsigned n = (fmt & 1) ? 8 : 16;
  unsigned res = 0;
  for (unsigned j = 0; j < n; ++j) {  // j indexes xmm2 (the text)
    bool bit = false;
    switch (agg) {
      case 0:  // equal any: s[j] is one of d[0..len1)
        if (j < len2)
          for (unsigned i = 0; i < len1 && !bit; ++i) bit = element(d, i, fmt) == element(s, j, fmt);
        break;
      case 1:  // ranges: d holds [lo, hi] pairs
        if (j < len2)
          for (unsigned i = 0; i + 1 < len1 && !bit; i += 2) {  // a pair needs both bounds valid
            int32_t v = element(s, j, fmt);
            bit = v >= element(d, i, fmt) && v <= element(d, i + 1, fmt);
          }
        break;
      case 2: {  // equal each
        bool v1 = j < len1, v2 = j < len2;
        bit = (v1 && v2) ? element(d, j, fmt) == element(s, j, fmt) : (!v1 && !v2);
        break;
      }
      default: {  // equal ordered: d[0..] is a substring of s at j
        bit = true;
        for (unsigned k = 0; j + k < n && bit; ++k) {
          bool v1 = k < len1, v2 = j + k < len2;
          if (!v1) break;           // needle ended: matches
          if (!v2) bit = false;     // text ended before the needle
          else bit = element(d, k, fmt) == element(s, j + k, fmt);
        }
        break;
      }
    }
    res |= unsigned(bit) << j;
  }
  unsigned mask = (1u << n) - 1;
  if (pol == 1) res = ~res & mask;
  else if (pol == 3) res ^= (1u << len2) - 1;  // negate only the valid text elements
  return res & mask;
}

template <bool Explicit, bool Index, Src K> void h_pcmpstr(Core& c, const Insn& i) {
  check_sse(c);
  Xmm s = load_src<K>(c, i);
  const Xmm& d = c.s.fpu.xmm[i.r0];
  unsigned imm = static_cast<unsigned>(i.imm & 0xFF);
  unsigned fmt = imm & 3, n = (fmt & 1) ? 8 : 16;
  unsigned len1, len2;
  if (Explicit) {
    // REX.W selects RAX/RDX; otherwise EAX/EDX as signed 32-bit values.
    bool w = i.aux;
    int64_t a = w ? int64_t(c.s.gpr[RAX]) : int64_t(int32_t(c.s.gpr[RAX]));
    int64_t b = w ? int64_t(c.s.gpr[RDX]) : int64_t(int32_t(c.s.gpr[RDX]));
    len1 = explicit_len(a, n);
    len2 = explicit_len(b, n);
  } else {
    len1 = implicit_len(d, n, fmt);
    len2 = implicit_len(s, n, fmt);
  }
  unsigned res = str_compare(d, s, len1, len2, imm);
  if (Index) {
    unsigned idx = n;
    if (res) idx = (imm & 0x40) ? 31 - __builtin_clz(res) : __builtin_ctz(res);
    c.s.gpr[RCX] = idx;
  } else {
    Xmm m{};
    if (imm & 0x40) {  // expand each bit to a byte/word mask
      for (unsigned k = 0; k < n; ++k) {
        if (!((res >> k) & 1)) continue;
        if (n == 16) m.u8[k] = 0xFF;
        else m.u16[k] = 0xFFFF;
      }
    } else {
      m.u64[0] = res;
    }
    c.s.fpu.xmm[0] = m;
  }
  uint64_t f = 0;
  if (res) f |= CF;
  if (len2 < n) f |= ZF;
  if (len1 < n) f |= SF;
  if (res & 1) f |= OF;
  c.set_flags(kArithFlags, f);
}

// ---------------- CRC32 (CRC-32C, reflected polynomial 0x82F63B78) ----------------

struct Crc32cTable {
  uint32_t t[256];
  constexpr Crc32cTable() : t() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t v = b;
      for (int k = 0; k < 8; ++k) v = (v >> 1) ^ ((v & 1) ? 0x82F63B78u : 0);
      t[b] = v;
    }
  }
};
constexpr Crc32cTable kCrc;

template <class T> void h_crc32(Core& c, const Insn& i) {
  T v = (i.flags & kInsnHasMem) ? c.mem_read<T>(i) : c.reg<T>(i.r1);
  uint32_t crc = static_cast<uint32_t>(c.s.gpr[i.r0]);
  for (unsigned k = 0; k < sizeof(T); ++k) crc = (crc >> 8) ^ kCrc.t[(crc ^ (uint64_t(v) >> (8 * k))) & 0xFF];
  c.s.gpr[i.r0] = crc;  // zero-extended to 64 bits in either operand size
}

template <bool E, bool I> bool pcmpstr_form(Insn& i, const Decoded& d) {
  set_operands(i, d);
  i.aux = (d.zi.attributes & ZYDIS_ATTRIB_HAS_REX) && (d.zi.raw.rex.W);
  i.handler = d.is_mem(1) ? &h_pcmpstr<E, I, Src::M128U> : &h_pcmpstr<E, I, Src::Reg>;
  return true;
}

}  // namespace

bool build_sse4(Insn& i, const Decoded& d, unsigned) {
  switch (d.zi.mnemonic) {
    case ZYDIS_MNEMONIC_MPSADBW: return xmm_form<op_mpsadbw, Src::M128A>(i, d);
    case ZYDIS_MNEMONIC_PCMPESTRI: return pcmpstr_form<true, true>(i, d);
    case ZYDIS_MNEMONIC_PCMPESTRM: return pcmpstr_form<true, false>(i, d);
    case ZYDIS_MNEMONIC_PCMPISTRI: return pcmpstr_form<false, true>(i, d);
    case ZYDIS_MNEMONIC_PCMPISTRM: return pcmpstr_form<false, false>(i, d);
    case ZYDIS_MNEMONIC_CRC32: {
      set_operands(i, d);
      i.r0 = static_cast<uint8_t>(ZydisRegisterGetId(d.op[0].reg.value));
      switch (d.op[1].size) {
        case 8: i.handler = &h_crc32<uint8_t>; break;  // r1 is already the byte-register code
        case 16: i.handler = &h_crc32<uint16_t>; break;
        case 32: i.handler = &h_crc32<uint32_t>; break;
        default: i.handler = &h_crc32<uint64_t>; break;
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace pc64
