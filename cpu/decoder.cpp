// Zydis -> Insn. Runs once per instruction when a block is built.
#include "cpu/decoder.h"

#include <array>

#include "cpu/core.h"

namespace pc64 {

namespace {

struct TableEntry {
  Builder build = nullptr;
  unsigned param = 0;
};

// The instruction table, indexed by Zydis mnemonic (insn_table.def).
const std::array<TableEntry, ZYDIS_MNEMONIC_MAX_VALUE + 1>& table() {
  static const auto t = [] {
    std::array<TableEntry, ZYDIS_MNEMONIC_MAX_VALUE + 1> a{};
#define PC64_INSN(mnemonic, builder, param) a[ZYDIS_MNEMONIC_##mnemonic] = {&builder, param};
#include "cpu/insn_table.def"
#include "cpu/insn_table_fpu.def"
#undef PC64_INSN
    return a;
  }();
  return t;
}

struct Decoders {
  ZydisDecoder d[3];
  Decoders() {
    ZydisDecoderInit(&d[0], ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
    ZydisDecoderInit(&d[1], ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    ZydisDecoderInit(&d[2], ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  }
};

unsigned log2_bits(unsigned bits) {
  switch (bits) {
    case 8: return 0;
    case 16: return 1;
    case 32: return 2;
    default: return 3;
  }
}

bool ends_block(const ZydisDecodedInstruction& zi) {
  if (zi.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE) return true;
  switch (zi.meta.category) {
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_RET:
    case ZYDIS_CATEGORY_INTERRUPT:
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_SYSRET:
    case ZYDIS_CATEGORY_SYSTEM:
      return true;
    default:
      return false;
  }
}

// Instructions whose register forms can neither fault nor stop the block in
// pc64 (no memory access, no privilege or I/O check, no #DE), so only their
// own flag reads count for dead-flag elimination.
bool never_faults(const Decoded& d) {
  switch (d.zi.mnemonic) {
    case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_ADC: case ZYDIS_MNEMONIC_SBB:
    case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_CMP:
    case ZYDIS_MNEMONIC_TEST: case ZYDIS_MNEMONIC_INC: case ZYDIS_MNEMONIC_DEC: case ZYDIS_MNEMONIC_NEG:
    case ZYDIS_MNEMONIC_NOT: case ZYDIS_MNEMONIC_MOV: case ZYDIS_MNEMONIC_MOVZX: case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOVSXD: case ZYDIS_MNEMONIC_LEA: case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR:
    case ZYDIS_MNEMONIC_RCL: case ZYDIS_MNEMONIC_RCR: case ZYDIS_MNEMONIC_SHL: case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SHLD: case ZYDIS_MNEMONIC_SHRD: case ZYDIS_MNEMONIC_IMUL:
    case ZYDIS_MNEMONIC_MUL: case ZYDIS_MNEMONIC_XCHG: case ZYDIS_MNEMONIC_BSWAP: case ZYDIS_MNEMONIC_BT:
    case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC: case ZYDIS_MNEMONIC_BSF:
    case ZYDIS_MNEMONIC_BSR: case ZYDIS_MNEMONIC_POPCNT: case ZYDIS_MNEMONIC_LZCNT: case ZYDIS_MNEMONIC_TZCNT:
    case ZYDIS_MNEMONIC_CBW: case ZYDIS_MNEMONIC_CWDE: case ZYDIS_MNEMONIC_CDQE: case ZYDIS_MNEMONIC_CWD:
    case ZYDIS_MNEMONIC_CDQ: case ZYDIS_MNEMONIC_CQO: case ZYDIS_MNEMONIC_CLC: case ZYDIS_MNEMONIC_STC:
    case ZYDIS_MNEMONIC_CMC: case ZYDIS_MNEMONIC_NOP:
      break;
    default:
      if (d.zi.meta.category == ZYDIS_CATEGORY_CMOV || d.zi.meta.category == ZYDIS_CATEGORY_SETCC) break;
      return false;
  }
  // General registers and immediates only (MOV to a segment or control
  // register faults); LEA's memory operand is an address, not an access.
  for (unsigned k = 0; k < d.nvis(); ++k) {
    const ZydisDecodedOperand& o = d.op[k];
    if (o.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) continue;
    if (o.type == ZYDIS_OPERAND_TYPE_MEMORY && o.mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
    if (o.type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
    switch (ZydisRegisterGetClass(o.reg.value)) {
      case ZYDIS_REGCLASS_GPR8: case ZYDIS_REGCLASS_GPR16: case ZYDIS_REGCLASS_GPR32: case ZYDIS_REGCLASS_GPR64:
        break;
      default:
        return false;
    }
  }
  return true;
}

FlagUse flag_use(const Decoded& d, const Insn& out) {
  FlagUse u;  // reads all six
  if (!d.zi.cpu_flags || out.handler == &h_undefined ||
      (out.flags & (kInsnLock | kInsnRep | kInsnRepne | kInsnEndsBlock | kInsnNeedsRip)) || !never_faults(d))
    return u;
  const ZydisAccessedFlags& f = *d.zi.cpu_flags;
  u.quiet = true;
  u.reads = static_cast<uint16_t>(f.tested & kArithFlags);
  u.may_write = static_cast<uint16_t>((f.modified | f.set_0 | f.set_1 | f.undefined) & kArithFlags);
  // "Always written" leaves out undefined flags (a handler may keep them) and
  // shifts whose count may be 0 after masking (no flag changes then).
  u.writes = static_cast<uint16_t>((f.modified | f.set_0 | f.set_1) & ~f.undefined & kArithFlags);
  switch (d.zi.mnemonic) {
    // pc64 defines the flags the SDM leaves undefined for these (AF = 0 after
    // a logical operation, a multiply or a shift: see cpu/alu.cpp,
    // cpu/muldiv.cpp, cpu/shift.cpp), so they write all six.
    case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_TEST:
    case ZYDIS_MNEMONIC_IMUL: case ZYDIS_MNEMONIC_MUL:
      u.writes = kArithFlags;
      break;
    case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR: case ZYDIS_MNEMONIC_SHL: case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_SHR: {
      const unsigned mask = d.zi.operand_width == 64 ? 63 : 31;
      const ZydisDecodedOperand& cnt = d.op[1];
      if (d.nvis() < 2 || cnt.type != ZYDIS_OPERAND_TYPE_IMMEDIATE || (cnt.imm.value.u & mask) == 0) u.writes = 0;
      else if (d.zi.mnemonic != ZYDIS_MNEMONIC_ROL && d.zi.mnemonic != ZYDIS_MNEMONIC_ROR) u.writes = kArithFlags;
      break;
    }
    case ZYDIS_MNEMONIC_RCL: case ZYDIS_MNEMONIC_RCR: case ZYDIS_MNEMONIC_SHLD: case ZYDIS_MNEMONIC_SHRD:
      u.writes = 0;
      break;
    default:
      break;
  }
  return u;
}

}  // namespace

unsigned Decoded::osize() const { return log2_bits(zi.operand_width); }
unsigned Decoded::op_size(unsigned k) const { return log2_bits(op[k].size); }

Form form_of(const Decoded& d) {
  auto kind = [&](unsigned k) -> char {
    if (k >= d.nvis()) return 0;
    switch (d.op[k].type) {
      case ZYDIS_OPERAND_TYPE_REGISTER: return 'R';
      case ZYDIS_OPERAND_TYPE_MEMORY: return 'M';
      case ZYDIS_OPERAND_TYPE_IMMEDIATE: return 'I';
      default: return '?';
    }
  };
  char a = kind(0), b = kind(1);
  if (a == 0) return Form::None;
  if (b == 0) return a == 'R' ? Form::R : a == 'M' ? Form::M : a == 'I' ? Form::I : Form::Other;
  if (a == 'R' && b == 'R') return Form::RR;
  if (a == 'R' && b == 'M') return Form::RM;
  if (a == 'M' && b == 'R') return Form::MR;
  if (a == 'R' && b == 'I') return Form::RI;
  if (a == 'M' && b == 'I') return Form::MI;
  return Form::Other;
}

uint8_t gpr_code(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_R15B) {
    unsigned k = r - ZYDIS_REGISTER_AL;  // AL CL DL BL AH CH DH BH SPL BPL SIL DIL R8B..R15B
    if (k < 4) return static_cast<uint8_t>(k * 8);
    if (k < 8) return static_cast<uint8_t>((k - 4) * 8 + 1);
    return static_cast<uint8_t>((k - 4) * 8);
  }
  int id = ZydisRegisterGetId(r);
  return id < 0 ? kRegZero : static_cast<uint8_t>(id);
}

// In 64-bit mode Zydis already drops CS/DS/ES/SS override prefixes (they are
// ignored, SDM Vol. 1 3.3.7.1) and reports SS only for an RSP/RBP base, which
// is what picks #SS over #GP for a non-canonical address
// (tests/cpu/canonical_fault_diff_test.cpp checks this against the host).
uint8_t seg_code(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS) return static_cast<uint8_t>(r - ZYDIS_REGISTER_ES);
  return DS;
}

void set_mem(Insn& i, const Decoded& d, unsigned k) {
  const ZydisDecodedOperand& o = d.op[k];
  i.flags |= kInsnHasMem;
  i.base = kRegZero;
  i.index = kRegZero;
  i.scale = 0;
  if (o.mem.base == ZYDIS_REGISTER_RIP || o.mem.base == ZYDIS_REGISTER_EIP) {
    i.flags |= kInsnRipRel;
  } else if (o.mem.base != ZYDIS_REGISTER_NONE) {
    i.base = static_cast<uint8_t>(ZydisRegisterGetId(o.mem.base));
  }
  if (o.mem.index != ZYDIS_REGISTER_NONE) {
    i.index = static_cast<uint8_t>(ZydisRegisterGetId(o.mem.index));
    i.scale = o.mem.scale == 8 ? 3 : o.mem.scale == 4 ? 2 : o.mem.scale == 2 ? 1 : 0;
  }
  i.disp = o.mem.disp.has_displacement ? o.mem.disp.value : 0;
  i.seg = seg_code(o.mem.segment);
  i.asize = static_cast<uint8_t>(d.zi.address_width == 16 ? 0 : d.zi.address_width == 32 ? 1 : 2);
}

uint8_t string_segment(const Decoded& d) {
  const auto a = d.zi.attributes;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_ES) return ES;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_CS) return CS;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_SS) return SS;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_FS) return FS;
  if (a & ZYDIS_ATTRIB_HAS_SEGMENT_GS) return GS;
  return DS;
}

void set_operands(Insn& i, const Decoded& d) {
  unsigned nreg = 0;
  bool have_imm = false;
  for (unsigned k = 0; k < d.nvis(); ++k) {
    const ZydisDecodedOperand& o = d.op[k];
    switch (o.type) {
      case ZYDIS_OPERAND_TYPE_REGISTER:
        // Only the first two register operands have slots; a third (the CL
        // count of SHLD/SHRD) is implied by the handler.
        if (nreg < 2) (nreg == 0 ? i.r0 : i.r1) = gpr_code(o.reg.value);
        ++nreg;
        break;
      case ZYDIS_OPERAND_TYPE_MEMORY:
        set_mem(i, d, k);
        break;
      case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        if (!have_imm) {
          i.imm = o.imm.is_signed ? static_cast<uint64_t>(o.imm.value.s) : o.imm.value.u;
          have_imm = true;
        } else {
          i.imm2 = static_cast<uint32_t>(o.imm.value.u);
        }
        break;
      default:
        break;
    }
  }
}

void h_undefined(Core& c, const Insn&) {
  ++c.ud_count;
  c.ud();
}

ZyanStatus decode_insn(unsigned mode, const uint8_t* bytes, size_t n, Insn& out, FlagUse* use) {
  static const Decoders decoders;
  Decoded d;
  ZyanStatus st = ZydisDecoderDecodeFull(&decoders.d[mode], bytes, n, &d.zi, d.op);
  out = Insn{};
  if (!ZYAN_SUCCESS(st)) return st;
  out.len = d.zi.length;
  out.osize = static_cast<uint8_t>(d.osize());
  out.asize = static_cast<uint8_t>(d.zi.address_width == 16 ? 0 : d.zi.address_width == 32 ? 1 : 2);
  if (d.zi.attributes & ZYDIS_ATTRIB_HAS_LOCK) out.flags |= kInsnLock;
  if (d.zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE)) out.flags |= kInsnRep;
  if (d.zi.attributes & ZYDIS_ATTRIB_HAS_REPNE) out.flags |= kInsnRepne;
  const TableEntry& e = table()[d.zi.mnemonic];
  Insn trial = out;
  if (e.build && e.build(trial, d, e.param)) {
    out = trial;
  } else {
    out.handler = &h_undefined;
  }
  if (ends_block(d.zi)) out.flags |= kInsnEndsBlock;
  if ((out.flags & (kInsnEndsBlock | kInsnRipRel | kInsnRep | kInsnRepne)) ||
      d.zi.meta.category == ZYDIS_CATEGORY_STRINGOP || d.zi.meta.category == ZYDIS_CATEGORY_IOSTRINGOP ||
      d.zi.meta.isa_ext == ZYDIS_ISA_EXT_X87 || d.zi.meta.category == ZYDIS_CATEGORY_X87_ALU ||
      d.zi.meta.category == ZYDIS_CATEGORY_FCMOV)
    out.flags |= kInsnNeedsRip;
  // CALL rel / JMP rel (E8, E9, EB) only: test the operand, not
  // ZYDIS_ATTRIB_IS_RELATIVE, which Zydis also sets for a RIP-relative memory
  // operand, so it would mark `call [rip+disp32]` (FF /2, Linux's paravirt
  // calls) and the block would go on at a made-up "target" while the branch
  // really went elsewhere.
  if ((d.zi.mnemonic == ZYDIS_MNEMONIC_CALL || d.zi.mnemonic == ZYDIS_MNEMONIC_JMP) &&
      d.zi.meta.branch_type != ZYDIS_BRANCH_TYPE_FAR && d.is_imm(0) && d.op[0].imm.is_relative &&
      out.handler != &h_undefined)
    out.flags |= kInsnDirectBranch;
  if (use) *use = flag_use(d, out);
  return ZYAN_STATUS_SUCCESS;
}

}  // namespace pc64
