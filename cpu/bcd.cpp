// Decimal arithmetic: DAA DAS AAA AAS AAM AAD (SDM Vol. 2 pseudo-code).
// All are invalid in 64-bit mode (#UD).
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

uint64_t szp8(uint8_t r) {
  uint64_t f = 0;
  if (r == 0) f |= ZF;
  if (r & 0x80) f |= SF;
  if (!__builtin_parity(r)) f |= PF;
  return f;
}

template <unsigned OP> void h_bcd(Core& c, const Insn& i) {
  if (c.mode64()) c.ud();
  uint8_t al = c.reg<uint8_t>(0), ah = c.reg<uint8_t>(1);
  const bool af = c.af(), cf = c.cf();
  uint64_t f = 0;
  switch (OP) {
    case 0: {  // DAA
      uint8_t old = al;
      bool ncf = false;
      if ((al & 0xF) > 9 || af) {
        ncf = cf || al > 0xF9;
        al = static_cast<uint8_t>(al + 6);
        f |= AF;
      }
      if (old > 0x99 || cf) {
        al = static_cast<uint8_t>(al + 0x60);
        ncf = true;
      }
      if (ncf) f |= CF;
      f |= szp8(al);
      c.set_reg<uint8_t>(0, al);
      break;
    }
    case 1: {  // DAS
      uint8_t old = al;
      bool ncf = false;
      if ((al & 0xF) > 9 || af) {
        ncf = cf || al < 6;
        al = static_cast<uint8_t>(al - 6);
        f |= AF;
      }
      if (old > 0x99 || cf) {
        al = static_cast<uint8_t>(al - 0x60);
        ncf = true;
      }
      if (ncf) f |= CF;
      f |= szp8(al);
      c.set_reg<uint8_t>(0, al);
      break;
    }
    case 2:  // AAA
    case 3: {  // AAS
      uint16_t ax = c.reg<uint16_t>(RAX);
      if ((al & 0xF) > 9 || af) {
        ax = OP == 2 ? static_cast<uint16_t>(ax + 0x106) : static_cast<uint16_t>(ax - 0x106);
        f |= AF | CF;
      }
      ax &= 0xFF0F;
      c.set_reg<uint16_t>(RAX, ax);
      f |= szp8(static_cast<uint8_t>(ax));
      break;
    }
    case 4: {  // AAM imm8
      uint8_t base = static_cast<uint8_t>(i.imm);
      if (base == 0) c.raise(kDE);
      ah = al / base;
      al = al % base;
      c.set_reg<uint16_t>(RAX, static_cast<uint16_t>(al | (ah << 8)));
      f |= szp8(al);
      break;
    }
    default: {  // AAD imm8
      uint8_t base = static_cast<uint8_t>(i.imm);
      al = static_cast<uint8_t>(al + ah * base);
      c.set_reg<uint16_t>(RAX, al);
      f |= szp8(al);
      break;
    }
  }
  c.set_flags(kArithFlags, f);
}

}  // namespace

bool build_bcd(Insn& i, const Decoded& d, unsigned op) {
  set_operands(i, d);
  static constexpr Handler h[] = {&h_bcd<0>, &h_bcd<1>, &h_bcd<2>, &h_bcd<3>, &h_bcd<4>, &h_bcd<5>};
  if (op == 4 || op == 5) {
    if (!d.is_imm(0)) i.imm = 10;  // D4 0A / D5 0A without an explicit operand
  }
  i.handler = h[op];
  return true;
}

}  // namespace pc64
