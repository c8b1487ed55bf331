// The decoded-instruction record the interpreter runs (DESIGN "Decode once,
// run many"). The decoder fills it from Zydis once per instruction; handlers
// read only these fields, never Zydis structures.
#pragma once
#include <cstdint>

namespace pc64 {

class Core;
struct Insn;
using Handler = void (*)(Core&, const Insn&);

enum InsnFlags : uint8_t {
  kInsnRep = 1,       // F3 on a string instruction (REP / REPE)
  kInsnRepne = 2,     // F2 on a string instruction
  kInsnLock = 4,
  kInsnRipRel = 8,    // memory operand is RIP-relative: add the next RIP
  kInsnEndsBlock = 16,
  kInsnHasMem = 32,
  // The handler reads or sets RIP (Core::s.rip is the instruction's own RIP,
  // Core::next_rip the one after it): branches, anything ending a block,
  // RIP-relative operands, string instructions (a REP yields by restarting
  // itself), x87 (records FIP). Within a block RIP lives in
  // Core::rip_sync and is stored to s.rip only before these (cpu/dispatch.h).
  kInsnNeedsRip = 64,
  // CALL or JMP with a relative target (E8, E9, EB; not CALL/JMP [RIP+disp]):
  // the block may continue at the target (decode_block).
  kInsnDirectBranch = 128,
};

struct Insn {
  Handler handler = nullptr;
  // The threaded entry that runs `handler` and continues with the next
  // record (cpu/dispatch.h); set by the block builder.
  Handler thread = nullptr;
  uint64_t imm = 0;    // first immediate (sign-extended to 64 bits where the ISA does)
  int64_t disp = 0;    // memory displacement
  uint32_t imm2 = 0;   // second immediate (ENTER level, far pointer selector)
  uint8_t len = 0;     // instruction length in bytes
  uint8_t r0 = 0;      // register operands: operand 0 and 1 (GPR number, or an
  uint8_t r1 = 0;      //   8-bit register code, see Core::reg8_offset), segment or CR/DR number
  uint8_t base = kRegZeroIdx, index = kRegZeroIdx, scale = 0;  // memory operand, scale as shift
  uint8_t seg = 3;     // segment of the memory operand (DS by default)
  uint8_t asize = 0;   // address size: 0 = 16, 1 = 32, 2 = 64 bit
  uint8_t osize = 0;   // operand size: log2 bytes (0..3), for handlers that are not templated
  uint8_t flags = 0;   // InsnFlags
  uint8_t aux = 0;     // handler-specific (condition code, extra register, ...)
  // Set by the block builder: bytes from the block's last RIP sync point (its
  // start, or the end of the last kInsnNeedsRip record) to this record, so
  // the interpreter can tell a record's RIP without adding up lengths.
  uint8_t rip_pre = 0;
  // Room for the FPU/SSE engineer: XMM/x87 register operands go in r0/r1/aux;
  // nothing here is integer-only.
  static constexpr uint8_t kRegZeroIdx = 16;
};
static_assert(sizeof(Insn) == 48, "keep the record compact: four per three cache lines");

}  // namespace pc64
