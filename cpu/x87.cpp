// The builder for the x87 data instructions (loads/stores in every format,
// arithmetic, compares, FCMOVcc, constants, transcendental functions): the
// whole D8-DF opcode space apart from the control group (x87_control.cpp).
// On x86-64 hosts the instruction runs on the host FPU (x87_host.cpp); with
// PC64_SOFTFLOAT or elsewhere on the portable path (x87_soft.cpp).
#include "cpu/x87.h"

namespace pc64 {

X87MemForm x87_mem_form(unsigned op, unsigned reg) {
  switch (op & 7) {
    case 0: return {4, false};  // D8: m32fp arithmetic/compares
    case 2: return {4, false};  // DA: m32int
    case 4: return {8, false};  // DC: m64fp
    case 6: return {2, false};  // DE: m16int
    case 1:  // D9: FLD/FST/FSTP m32fp
      return reg == 0 ? X87MemForm{4, false} : (reg == 2 || reg == 3) ? X87MemForm{4, true} : X87MemForm{0, false};
    case 3:  // DB: FILD/FISTTP/FIST/FISTP m32int, FLD/FSTP m80fp
      if (reg == 0) return {4, false};
      if (reg <= 3) return {4, true};
      if (reg == 5) return {10, false};
      if (reg == 7) return {10, true};
      return {0, false};
    case 5:  // DD: FLD/FISTTP/FST/FSTP m64
      return reg == 0 ? X87MemForm{8, false} : reg <= 3 ? X87MemForm{8, true} : X87MemForm{0, false};
    default:  // DF: FILD/FISTTP/FIST/FISTP m16int, FBLD/FBSTP m80bcd, FILD/FISTP m64int
      if (reg == 0) return {2, false};
      if (reg <= 3) return {2, true};
      if (reg == 4) return {10, false};
      if (reg == 5) return {8, false};
      if (reg == 6) return {10, true};
      return {8, true};
  }
}

bool build_x87(Insn& i, const Decoded& d, unsigned) {
  unsigned opcode = d.zi.opcode;
  if (opcode < 0xD8 || opcode > 0xDF || d.zi.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT) return false;
  unsigned modrm = (unsigned(d.zi.raw.modrm.mod) << 6) | (unsigned(d.zi.raw.modrm.reg) << 3) | d.zi.raw.modrm.rm;
  i.imm2 = ((opcode & 7) << 8) | modrm;  // FOP (SDM Vol. 1 8.1.9)
  bool mem = (modrm >> 6) != 3;
  if (mem) {
    for (unsigned k = 0; k < d.zi.operand_count; ++k)
      if (d.op[k].type == ZYDIS_OPERAND_TYPE_MEMORY) {
        set_mem(i, d, k);
        break;
      }
  }
#if PC64_X87_HOST
  i.imm = x87_stub_index(opcode, modrm);
  if (mem) {
    X87MemForm f = x87_mem_form(opcode, (modrm >> 3) & 7);
    if (!f.bytes) return false;
    i.aux = static_cast<uint8_t>(f.bytes | (f.store ? 0x80 : 0));
    i.handler = &x87_host_mem;
  } else {
    i.handler = &x87_host_reg;
  }
  return true;
#else
  return x87_soft_build(i, d, opcode, modrm);
#endif
}

}  // namespace pc64
