// Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR, SHLD SHRD (SDM Vol. 2
// "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/SHR", "SHLD", "SHRD"). Flags are computed
// eagerly here; where the SDM leaves a flag undefined we produce what current
// Intel processors do (checked by the differential test against the host).
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

template <class T> constexpr unsigned kBits = sizeof(T) * 8;
template <class T> inline uint64_t msb(T v) { return (v >> (kBits<T> - 1)) & 1; }

// Count source: 1 (D0/D1), CL, or imm8.
struct CountOne {
  static unsigned get(Core&, const Insn&) { return 1; }
};
struct CountCl {
  static unsigned get(Core& c, const Insn&) { return c.s.gpr[RCX] & 0xFF; }
};
struct CountImm {
  static unsigned get(Core&, const Insn& i) { return i.imm & 0xFF; }
};

// FLAGS = false: the variant without flag results, for records whose flags
// nothing reads (dead-flag elimination, cpu/dispatch.h).
template <unsigned OP, class D, class CNT, bool FLAGS = true> struct Shift {
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned bits = kBits<T>;
    const unsigned count = CNT::get(c, i) & (bits == 64 ? 63 : 31);
    if (count == 0) {
      // No operation and no flag change; a 32-bit register destination is
      // still written (zero-extended) like any 32-bit operation.
      if constexpr (sizeof(T) == 4 && !D::kMem) c.set_reg<T>(i.r0, c.reg<T>(i.r0));
      return;
    }
    uint64_t flags = 0;
    uint64_t mask = CF | OF;
    T res = 0;  // SHL/SHR/SAR: ZF/SF/PF stay lazy on the result
    modify<D, T>(c, i, [&](T d) -> T {
      T r;
      switch (OP) {
        case 0: {  // ROL
          unsigned n = count & (bits - 1);
          r = n ? static_cast<T>((d << n) | (d >> (bits - n))) : d;
          uint64_t cf = r & 1;
          flags = (cf ? CF : 0) | ((msb(r) ^ cf) ? OF : 0);
          return r;
        }
        case 1: {  // ROR
          unsigned n = count & (bits - 1);
          r = n ? static_cast<T>((d >> n) | (d << (bits - n))) : d;
          flags = (msb(r) ? CF : 0) | ((msb(r) ^ ((r >> (bits - 2)) & 1)) ? OF : 0);
          return r;
        }
        case 2: {  // RCL: rotate through CF, period bits+1
          unsigned n = bits < 32 ? count % (bits + 1) : count;
          uint64_t cf = c.cf();
          if (n == 0) {
            flags = (cf ? CF : 0) | ((msb(d) ^ cf) ? OF : 0);
            return d;
          }
          // (CF:d) rotated left by n.
          unsigned __int128 wide = (static_cast<unsigned __int128>(cf) << bits) | d;
          unsigned __int128 m = (static_cast<unsigned __int128>(1) << (bits + 1)) - 1;
          wide = ((wide << n) | (wide >> (bits + 1 - n))) & m;
          r = static_cast<T>(wide);
          uint64_t ncf = static_cast<uint64_t>(wide >> bits) & 1;
          flags = (ncf ? CF : 0) | ((msb(r) ^ ncf) ? OF : 0);
          return r;
        }
        case 3: {  // RCR
          unsigned n = bits < 32 ? count % (bits + 1) : count;
          uint64_t cf = c.cf();
          if (n == 0) {
            flags = (cf ? CF : 0) | ((msb(d) ^ ((d >> (bits - 2)) & 1)) ? OF : 0);
            return d;
          }
          unsigned __int128 wide = (static_cast<unsigned __int128>(cf) << bits) | d;
          unsigned __int128 m = (static_cast<unsigned __int128>(1) << (bits + 1)) - 1;
          wide = ((wide >> n) | (wide << (bits + 1 - n))) & m;
          r = static_cast<T>(wide);
          uint64_t ncf = static_cast<uint64_t>(wide >> bits) & 1;
          flags = (ncf ? CF : 0) | ((msb(r) ^ ((r >> (bits - 2)) & 1)) ? OF : 0);
          return r;
        }
        case 4: {  // SHL
          unsigned __int128 wide = static_cast<unsigned __int128>(d) << count;
          r = static_cast<T>(wide);
          uint64_t cf = static_cast<uint64_t>(wide >> bits) & 1;
          flags = (cf ? CF : 0) | ((msb(r) ^ cf) ? OF : 0);
          mask = kArithFlags;
          return res = r;
        }
        case 5: {  // SHR
          uint64_t cf = count <= bits ? (uint64_t(d) >> (count - 1)) & 1 : 0;
          r = count < bits ? static_cast<T>(d >> count) : 0;
          flags = (cf ? CF : 0) | (msb(d) ? OF : 0);
          mask = kArithFlags;
          return res = r;
        }
        default: {  // SAR
          using S = Signed<T>;
          unsigned n = count < bits ? count : bits - 1;
          uint64_t cf = (static_cast<int64_t>(static_cast<S>(d)) >> (count < bits ? count - 1 : bits - 1)) & 1;
          r = static_cast<T>(static_cast<S>(d) >> n);
          flags = cf ? CF : 0;
          mask = kArithFlags;
          return res = r;
        }
      }
    });
    if constexpr (FLAGS) {
      if (mask == kArithFlags) c.set_lazy_szp(size_log2<T>(), res, flags);
      else c.set_flags(mask, flags);
    }
  }
};

template <bool RIGHT, class D, class CNT> struct ShiftD {  // SHLD / SHRD dst, r1(src), count
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned bits = kBits<T>;
    const unsigned count = CNT::get(c, i) & (bits == 64 ? 63 : 31);
    if (count == 0) {
      if constexpr (sizeof(T) == 4 && !D::kMem) c.set_reg<T>(i.r0, c.reg<T>(i.r0));
      return;
    }
    const T s = c.reg<T>(D::kMem ? i.r0 : i.r1);
    uint64_t flags = 0;
    T res = 0;
    modify<D, T>(c, i, [&](T d) -> T {
      T r;
      uint64_t cf;
      if constexpr (bits == 16) {
        // Counts above 16 continue into the destination again (d:s:d), as Intel does.
        uint64_t tmp = RIGHT ? (uint64_t(d) << 32) | (uint64_t(s) << 16) | d
                             : (uint64_t(d) << 32) | (uint64_t(s) << 16) | d;
        if (RIGHT) {
          r = static_cast<T>(tmp >> count);
          cf = (tmp >> (count - 1)) & 1;
        } else {
          r = static_cast<T>((tmp << count) >> 32);
          cf = (tmp >> (48 - count)) & 1;
        }
      } else {
        if (RIGHT) {
          r = static_cast<T>((d >> count) | (s << (bits - count)));
          cf = (d >> (count - 1)) & 1;
        } else {
          r = static_cast<T>((d << count) | (s >> (bits - count)));
          cf = (d >> (bits - count)) & 1;
        }
      }
      flags = (cf ? CF : 0) | ((msb(r) ^ msb(d)) ? OF : 0);
      return res = r;
    });
    c.set_lazy_szp(size_log2<T>(), res, flags);
  }
};

template <unsigned OP, class CNT> Handler shift_for(bool mem, unsigned sz) {
  if (mem) return by_size<Shift<OP, M, CNT>>(sz);
  // RCL/RCR read CF, and a count in CL may be 0: no flag-less variants.
  if constexpr (OP != 2 && OP != 3 && !std::is_same_v<CNT, CountCl>)
    return by_size_nf<Shift<OP, R0, CNT>, Shift<OP, R0, CNT, false>>(sz);
  return by_size_quiet<Shift<OP, R0, CNT>>(sz);
}
template <unsigned OP> Handler shift_counted(bool mem, unsigned sz, int cnt) {
  switch (cnt) {
    case 0: return shift_for<OP, CountOne>(mem, sz);
    case 1: return shift_for<OP, CountCl>(mem, sz);
    default: return shift_for<OP, CountImm>(mem, sz);
  }
}

}  // namespace

bool build_shift(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  bool mem = d.is_mem(0);
  unsigned sz = d.op_size(0);
  int cnt;
  if (d.is_imm(1)) cnt = 2;
  else if (d.is_reg(1)) cnt = 1;  // CL
  else if (d.nvis() >= 2 && d.op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) cnt = 2;
  else cnt = 0;
  // D0/D1 (shift by 1): Zydis shows the 1 as an immediate operand.
  if (cnt == 2 && i.imm == 1 && d.zi.raw.imm[0].size == 0) cnt = 0;
  switch (op) {
    case 0: i.handler = shift_counted<0>(mem, sz, cnt); break;
    case 1: i.handler = shift_counted<1>(mem, sz, cnt); break;
    case 2: i.handler = shift_counted<2>(mem, sz, cnt); break;
    case 3: i.handler = shift_counted<3>(mem, sz, cnt); break;
    case 4: i.handler = shift_counted<4>(mem, sz, cnt); break;
    case 5: i.handler = shift_counted<5>(mem, sz, cnt); break;
    default: i.handler = shift_counted<7>(mem, sz, cnt); break;
  }
  return true;
}

bool build_shiftd(Insn& i, const Decoded& d, unsigned right) {
  set_operands(i, d);
  bool mem = d.is_mem(0);
  unsigned sz = d.op_size(0);
  bool cl = d.is_reg(2);
  if (sz == 0) return false;
  auto pick = [&]<bool R>() -> Handler {
    if (cl) return mem ? by_size_wide<ShiftD<R, M, CountCl>>(sz) : by_size_wide<ShiftD<R, R0, CountCl>>(sz);
    return mem ? by_size_wide<ShiftD<R, M, CountImm>>(sz) : by_size_wide<ShiftD<R, R0, CountImm>>(sz);
  };
  i.handler = right ? pick.template operator()<true>() : pick.template operator()<false>();
  return true;
}

}  // namespace pc64
