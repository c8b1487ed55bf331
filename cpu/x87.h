// Internal interface of the x87 files: the host-FPU runner (x87_host.cpp,
// x86-64 hosts unless PC64_SOFTFLOAT) and the portable path (x87_soft.cpp),
// behind the one builder in x87.cpp.
#pragma once
#include "cpu/sse_common.h"

#if defined(__x86_64__) && !defined(PC64_SOFTFLOAT)
#define PC64_X87_HOST 1
#else
#define PC64_X87_HOST 0
#endif

namespace pc64 {

// Records FOP/FIP/FCS (and FDP/FDS for a memory operand) for the running
// non-control x87 instruction (SDM Vol. 1 8.1.8-8.1.9). Insn::imm2 holds FOP.
inline void x87_note_insn(Core& c, const Insn& i, bool has_mem) {
  FpuState& f = c.s.fpu;
  f.fop = static_cast<uint16_t>(i.imm2 & 0x7FF);
  f.fip = c.s.rip;
  f.fcs = c.s.seg[CS].selector;
  if (has_mem) {
    f.fdp = c.ea(i);
    f.fds = c.s.seg[i.seg].selector;
  }
}

// Memory operand of an x87 data instruction: bytes and direction for opcode
// D8+op, ModRM.reg (0 = not a data form).
struct X87MemForm {
  uint8_t bytes;
  bool store;
};
X87MemForm x87_mem_form(unsigned op, unsigned reg);

#if PC64_X87_HOST
// Insn::imm = stub index (x87_stub_index), Insn::aux = bytes | 0x80 for stores.
void x87_host_reg(Core& c, const Insn& i);
void x87_host_mem(Core& c, const Insn& i);
unsigned x87_stub_index(unsigned opcode, unsigned modrm);
#endif

// Portable path: returns false if the form is not implemented there yet.
bool x87_soft_build(Insn& i, const Decoded& d, unsigned opcode, unsigned modrm);

}  // namespace pc64
