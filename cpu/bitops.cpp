// Bit instructions: BT BTS BTR BTC, BSF BSR, TZCNT LZCNT POPCNT.
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

// OP: 0 BT, 1 BTS, 2 BTR, 3 BTC. S = bit offset source (R1/R0 register or I).
template <unsigned OP, class D, class S> struct Bt {
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned bits = sizeof(T) * 8;
    bool bit = false;
    if constexpr (D::kMem) {
      // Register bit offsets address memory beyond the operand (signed, SDM
      // Vol. 2 BT "bit base"); immediates are taken modulo the size.
      uint64_t off = c.ea(i);
      int64_t bitoff;
      if constexpr (std::is_same_v<S, I>) {
        bitoff = static_cast<int64_t>(i.imm & (bits - 1));
      } else {
        bitoff = static_cast<int64_t>(static_cast<Signed<T>>(c.reg<T>(i.r0)));
        off += static_cast<uint64_t>((bitoff >> (size_log2<T>() + 3)) * static_cast<int64_t>(sizeof(T)));
        off &= Core::kAddrMask[i.asize];
        bitoff &= bits - 1;
      }
      const T m = T(1) << bitoff;
      if constexpr (OP == 0) {
        bit = c.read<T>(i.seg, off) & m;
      } else {
        uint64_t lin = c.linear(i.seg, off, sizeof(T), true);
        c.probe_write(lin, sizeof(T), c.user());
        T v = c.read_lin<T>(lin);
        bit = v & m;
        v = OP == 1 ? (v | m) : OP == 2 ? static_cast<T>(v & ~m) : static_cast<T>(v ^ m);
        c.write_lin<T>(lin, v);
      }
    } else {
      unsigned b;
      if constexpr (std::is_same_v<S, I>) b = i.imm & (bits - 1);
      else b = c.reg<T>(i.r1) & (bits - 1);
      const T m = T(1) << b;
      T v = c.reg<T>(i.r0);
      bit = v & m;
      if constexpr (OP != 0) {
        v = OP == 1 ? (v | m) : OP == 2 ? static_cast<T>(v & ~m) : static_cast<T>(v ^ m);
        c.set_reg<T>(i.r0, v);
      }
    }
    c.set_flags(CF, bit ? CF : 0);
  }
};

template <unsigned OP> Handler bt_handler(Form f, unsigned sz) {
  switch (f) {
    case Form::RR: return by_size_wide<Bt<OP, R0, R1>>(sz);
    case Form::RI: return by_size_wide<Bt<OP, R0, I>>(sz);
    case Form::MR: return by_size_wide<Bt<OP, M, R0>>(sz);
    case Form::MI: return by_size_wide<Bt<OP, M, I>>(sz);
    default: return nullptr;
  }
}

// OP: 0 BSF, 1 BSR, 2 TZCNT, 3 LZCNT, 4 POPCNT.
template <unsigned OP, class S> struct Scan {
  template <class T> static void fn(Core& c, const Insn& i) {
    constexpr unsigned bits = sizeof(T) * 8;
    T v = S::template get<T>(c, i);
    uint64_t v64 = v;
    switch (OP) {
      case 0:
      case 1:
        if (v == 0) {
          // Destination unchanged (as Intel and AMD do; the SDM says undefined).
          c.set_flags(ZF, ZF);
        } else {
          unsigned r = OP == 0 ? __builtin_ctzll(v64) : 63 - __builtin_clzll(v64);
          c.set_reg<T>(i.r0, static_cast<T>(r));
          c.set_flags(ZF, 0);
        }
        break;
      case 2: {
        unsigned r = v == 0 ? bits : __builtin_ctzll(v64);
        c.set_reg<T>(i.r0, static_cast<T>(r));
        c.set_flags(CF | ZF, (v == 0 ? CF : 0) | (r == 0 ? ZF : 0));
        break;
      }
      case 3: {
        unsigned r = v == 0 ? bits : __builtin_clzll(v64) - (64 - bits);
        c.set_reg<T>(i.r0, static_cast<T>(r));
        c.set_flags(CF | ZF, (v == 0 ? CF : 0) | (r == 0 ? ZF : 0));
        break;
      }
      default: {
        unsigned r = __builtin_popcountll(v64);
        c.set_reg<T>(i.r0, static_cast<T>(r));
        c.set_flags(kArithFlags, v == 0 ? ZF : 0);  // POPCNT clears OF SF AF CF PF
        break;
      }
    }
  }
};

template <unsigned OP> Handler scan_handler(bool mem, unsigned sz) {
  return mem ? by_size_wide<Scan<OP, M>>(sz) : by_size_wide<Scan<OP, R1>>(sz);
}

}  // namespace

bool build_bt(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  Form f = form_of(d);
  unsigned sz = d.op_size(0);
  switch (op) {
    case 0: i.handler = bt_handler<0>(f, sz); break;
    case 1: i.handler = bt_handler<1>(f, sz); break;
    case 2: i.handler = bt_handler<2>(f, sz); break;
    default: i.handler = bt_handler<3>(f, sz); break;
  }
  return i.handler != nullptr;
}

// The CPUID profile (cpuid.cpp) advertises POPCNT and LZCNT (ABM) but not
// BMI1, so TZCNT (F3 0F BC) executes as BSF, as on the processors we model.
bool build_bitscan(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  bool mem = d.is_mem(1);
  unsigned sz = d.op_size(0);
  switch (op) {
    case 0: i.handler = scan_handler<0>(mem, sz); break;
    case 1: i.handler = scan_handler<1>(mem, sz); break;
    case 2: i.handler = scan_handler<0>(mem, sz); break;
    case 3: i.handler = scan_handler<3>(mem, sz); break;
    default: i.handler = scan_handler<4>(mem, sz); break;
  }
  return true;
}

}  // namespace pc64
