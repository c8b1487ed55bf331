// Differential test against the host CPU (DESIGN "Testing"): random sequences
// of user-level integer instructions run natively (in a forked child, on a
// fixed-address RWX page) and in pc64's 64-bit mode; all GPRs, the arithmetic
// flags + DF and a 4 KiB data page must match. Flags the SDM calls undefined
// for the last instruction that wrote them are masked; the generator never
// lets an instruction read an undefined flag (it defines them first).
//
// Harness choice for pc64: flat 64-bit mode at CPL 0 with an identity map of
// the first 16 MiB (Cpu::enter_long_mode_identity), code and data at the same
// addresses as in the child, so RIP-relative operands agree.
//
// PC64_DIFF_SEQUENCES=N (default 100000) and PC64_DIFF_SEED=S (default 1)
// select the run; a failure prints the seed and sequence index plus the
// disassembly, so it can be replayed.
#include <Zydis/Zydis.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

constexpr uint64_t kData = 0x200000;      // 4 KiB data page operands point into
constexpr uint64_t kDataMid = kData + 0x800;
constexpr uint64_t kState = 0x201000;     // register image in / out, saved host RSP, stack
constexpr uint64_t kStackTop = kState + 0xF00;
constexpr uint64_t kCode = 0x300000;      // sequence page
constexpr unsigned kMaxCode = 4096;

constexpr uint64_t fCF = 1, fPF = 4, fAF = 0x10, fZF = 0x40, fSF = 0x80, fOF = 0x800, fDF = 0x400;
constexpr uint64_t fAll = fCF | fPF | fAF | fZF | fSF | fOF;

// One generated case: input registers/flags/data and the instruction bytes.
struct Case {
  uint64_t regs[16];
  uint64_t flags;
  uint8_t data[4096];
  uint8_t code[512];
  uint32_t code_len;
  uint64_t undefined_flags;  // masked in the comparison
};

struct Result {
  uint64_t regs[16];
  uint64_t flags;
  uint8_t data[4096];
  int status;  // 0 ok, else signal number
};

// ---------------------------------------------------------------- generator

const uint8_t kPool[] = {RAX, RCX, RDX, RSI, RDI, RBP, R8, R9, R10, R11, R12, R13, R14, R15};

struct Gen {
  std::mt19937_64 rng;
  std::vector<uint8_t> code;
  uint64_t undef = 0;
  explicit Gen(uint64_t seed) : rng(seed) {}

  uint64_t r64() { return rng(); }
  unsigned below(unsigned n) { return static_cast<unsigned>(rng() % n); }
  bool chance(unsigned pct) { return below(100) < pct; }

  unsigned pick_reg() { return kPool[below(sizeof kPool)]; }
  static ZydisRegister gpr(unsigned id, unsigned size) {
    switch (size) {
      case 1: return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR8, static_cast<ZyanU8>(id < 4 ? id : id + 4));
      case 2: return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR16, static_cast<ZyanU8>(id));
      case 4: return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR32, static_cast<ZyanU8>(id));
      default: return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR64, static_cast<ZyanU8>(id));
    }
  }
  ZydisRegister rand_reg(unsigned size) {
    if (size == 1 && chance(15)) {
      static const ZyanU8 high[] = {4, 5, 6};  // AH CH DH (BH is part of the fixed RBX)
      return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR8, high[below(3)]);
    }
    return gpr(pick_reg(), size);
  }
  unsigned rand_size() {
    static const unsigned s[] = {1, 2, 4, 8};
    return s[below(4)];
  }
  uint64_t rand_imm(unsigned bytes) {
    uint64_t v;
    switch (below(4)) {
      case 0: v = below(4); break;
      case 1: v = ~uint64_t(below(4)); break;
      case 2: v = uint64_t(1) << below(64); break;
      default: v = r64(); break;
    }
    return bytes >= 8 ? v : v & ((uint64_t(1) << (8 * bytes)) - 1);
  }

  void set_reg(ZydisEncoderOperand& o, ZydisRegister r) {
    o.type = ZYDIS_OPERAND_TYPE_REGISTER;
    o.reg.value = r;
  }
  // A memory operand in the data page: [rbx+disp], [ebx+disp] or [rip+disp].
  void set_mem(ZydisEncoderRequest& rq, ZydisEncoderOperand& o, unsigned size, unsigned align = 1) {
    o.type = ZYDIS_OPERAND_TYPE_MEMORY;
    o.mem.size = static_cast<ZyanU16>(size);
    int64_t disp = static_cast<int64_t>(below(224)) - 112;
    disp &= ~int64_t(align - 1);
    unsigned k = below(10);
    if (k < 6) {
      o.mem.base = ZYDIS_REGISTER_RBX;
      o.mem.displacement = disp;
    } else if (k < 8) {
      o.mem.base = ZYDIS_REGISTER_EBX;
      o.mem.displacement = disp;
      rq.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
    } else {
      o.mem.base = ZYDIS_REGISTER_RIP;
      o.mem.displacement = static_cast<int64_t>(kDataMid) + disp;  // absolute; encoder makes it relative
    }
  }
  void set_imm(ZydisEncoderOperand& o, uint64_t v) {
    o.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    o.imm.u = v;
  }
  static ZydisEncoderRequest req(ZydisMnemonic m, unsigned n) {
    ZydisEncoderRequest r;
    std::memset(&r, 0, sizeof r);
    r.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    r.mnemonic = m;
    r.operand_count = static_cast<ZyanU8>(n);
    return r;
  }
  // Encodes at the current end of the code; false if Zydis rejects the form.
  bool emit(ZydisEncoderRequest& r) {
    uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
    ZyanUSize len = sizeof buf;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&r, buf, &len, kCode + code.size()))) return false;
    code.insert(code.end(), buf, buf + len);
    return true;
  }
  void raw(std::initializer_list<uint8_t> b) { code.insert(code.end(), b); }

  // Flag bookkeeping: `reads` must be defined; afterwards `def` are defined
  // and `undef_out` undefined.
  void before(uint64_t reads) {
    if (reads & undef) {
      raw({0x48, 0x39, 0xC8});  // cmp rax, rcx: defines all six
      undef = 0;
    }
  }
  void after(uint64_t def, uint64_t undef_out) { undef = (undef & ~def & ~undef_out) | undef_out; }

  // ---------------------------------------------------------------- forms
  static ZydisMnemonic cc_mnemonic(const ZydisMnemonic* table, unsigned cc) { return table[cc]; }
  static uint64_t cc_reads(unsigned cc) {
    switch (cc >> 1) {
      case 0: return fOF;
      case 1: return fCF;
      case 2: return fZF;
      case 3: return fCF | fZF;
      case 4: return fSF;
      case 5: return fPF;
      case 6: return fSF | fOF;
      default: return fZF | fSF | fOF;
    }
  }

  bool alu2() {
    static const ZydisMnemonic m[] = {ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR,  ZYDIS_MNEMONIC_ADC,
                                      ZYDIS_MNEMONIC_SBB, ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB,
                                      ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP, ZYDIS_MNEMONIC_TEST};
    unsigned op = below(9);
    unsigned size = rand_size();
    auto r = req(m[op], 2);
    unsigned form = below(5);
    if (op == 8 && form == 2) form = 1;  // TEST r, m is TEST m, r
    switch (form) {
      case 0: set_reg(r.operands[0], rand_reg(size)); set_reg(r.operands[1], rand_reg(size)); break;
      case 1: set_mem(r, r.operands[0], size); set_reg(r.operands[1], rand_reg(size)); break;
      case 2: set_reg(r.operands[0], rand_reg(size)); set_mem(r, r.operands[1], size); break;
      case 3: set_reg(r.operands[0], rand_reg(size)); set_imm(r.operands[1], rand_imm(size > 4 ? 4 : size)); break;
      default: set_mem(r, r.operands[0], size); set_imm(r.operands[1], rand_imm(size > 4 ? 4 : size)); break;
    }
    if (size == 8 && (form >= 3)) {  // imm32 sign-extended
      r.operands[1].imm.s = static_cast<int32_t>(r.operands[1].imm.u);
    }
    if ((form == 1 || form == 4) && op != 7 && op != 8 && chance(20)) r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
    before((op == 2 || op == 3) ? fCF : 0);
    if (!emit(r)) return false;
    bool logic = op == 1 || op == 4 || op == 6 || op == 8;
    after(logic ? fAll & ~fAF : fAll, logic ? fAF : 0);
    return true;
  }

  bool unary() {
    static const ZydisMnemonic m[] = {ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_DEC, ZYDIS_MNEMONIC_NEG, ZYDIS_MNEMONIC_NOT};
    unsigned op = below(4);
    unsigned size = rand_size();
    auto r = req(m[op], 1);
    if (chance(50)) set_reg(r.operands[0], rand_reg(size));
    else {
      set_mem(r, r.operands[0], size);
      if (chance(20)) r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
    }
    if (!emit(r)) return false;
    if (op < 2) after(fAll & ~fCF, 0);
    else if (op == 2) after(fAll, 0);
    return true;
  }

  void set_cl(unsigned v) { raw({0xB1, static_cast<uint8_t>(v)}); }  // mov cl, imm8

  bool shift() {
    static const ZydisMnemonic m[] = {ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_RCL, ZYDIS_MNEMONIC_RCR,
                                      ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR};
    unsigned op = below(7);
    unsigned size = rand_size();
    unsigned bits = size * 8;
    unsigned count;
    unsigned kind = below(3);  // 0: by 1, 1: CL, 2: imm8
    if (kind == 0) count = 1;
    else count = chance(30) ? below(4) : below(70);
    auto r = req(m[op], 2);
    ZydisRegister dst = rand_reg(size);
    if (kind == 1 && (dst == ZYDIS_REGISTER_CL || dst == ZYDIS_REGISTER_CH || dst == ZYDIS_REGISTER_CX ||
                      dst == ZYDIS_REGISTER_ECX || dst == ZYDIS_REGISTER_RCX))
      dst = gpr(RAX, size);
    if (chance(60)) set_reg(r.operands[0], dst);
    else set_mem(r, r.operands[0], size);
    if (kind == 1) {
      set_reg(r.operands[1], ZYDIS_REGISTER_CL);
    } else {
      set_imm(r.operands[1], count);
    }
    unsigned masked = count & (bits == 64 ? 63 : 31);
    bool through_cf = op == 2 || op == 3;
    // RCL/RCR read CF only if they rotate.
    unsigned eff = masked;
    if (through_cf && bits < 32) eff = masked % (bits + 1);
    before(through_cf && masked ? fCF : 0);
    if (kind == 1) set_cl(count);
    if (!emit(r)) return false;
    if (masked == 0) return true;  // no flags change
    if (op <= 3) {
      // Rotates: CF and OF only; OF undefined unless the count is 1.
      uint64_t und = (masked == 1) ? 0 : fOF;
      if (through_cf && eff == 0) und = fOF;  // a full-period RCL/RCR
      after(fCF | (fOF & ~und), und);
    } else {
      uint64_t und = fAF;
      if (masked != 1) und |= fOF;
      if (masked >= bits) und |= fCF;  // SHL/SHR of 8/16-bit operands by >= size
      after(fAll & ~und, und);
    }
    return true;
  }

  bool shiftd() {
    ZydisMnemonic mn = chance(50) ? ZYDIS_MNEMONIC_SHLD : ZYDIS_MNEMONIC_SHRD;
    static const unsigned sizes[] = {2, 4, 8};
    unsigned size = sizes[below(3)];
    unsigned bits = size * 8;
    unsigned count = below(bits == 16 ? 17 : 70);  // 16-bit counts above 16 are undefined
    bool cl = chance(50);
    auto r = req(mn, 3);
    ZydisRegister src;
    do src = rand_reg(size); while (cl && ZydisRegisterGetId(src) == RCX);
    ZydisRegister dst;
    do dst = rand_reg(size); while (cl && ZydisRegisterGetId(dst) == RCX);
    if (chance(60)) set_reg(r.operands[0], dst);
    else set_mem(r, r.operands[0], size);
    set_reg(r.operands[1], src);
    if (cl) set_reg(r.operands[2], ZYDIS_REGISTER_CL);
    else set_imm(r.operands[2], count);
    if (cl) set_cl(count);
    if (!emit(r)) return false;
    unsigned masked = count & (bits == 64 ? 63 : 31);
    if (masked == 0) return true;
    uint64_t und = fAF | (masked != 1 ? fOF : 0);
    after(fAll & ~und, und);
    return true;
  }

  bool muldiv() {
    unsigned size = rand_size();
    unsigned k = below(6);
    if (k <= 1) {  // MUL / IMUL r/m
      auto r = req(k == 0 ? ZYDIS_MNEMONIC_MUL : ZYDIS_MNEMONIC_IMUL, 1);
      if (chance(50)) set_reg(r.operands[0], rand_reg(size));
      else set_mem(r, r.operands[0], size);
      if (!emit(r)) return false;
      after(fCF | fOF, fSF | fZF | fAF | fPF);
      return true;
    }
    if (k == 2) {  // IMUL r, r/m (, imm)
      if (size == 1) size = 4;
      bool three = chance(50);
      auto r = req(ZYDIS_MNEMONIC_IMUL, three ? 3 : 2);
      set_reg(r.operands[0], rand_reg(size));
      if (chance(50)) set_reg(r.operands[1], rand_reg(size));
      else set_mem(r, r.operands[1], size);
      if (three) {
        uint64_t imm = rand_imm(size >= 4 ? 4 : size);
        set_imm(r.operands[2], imm);
        if (size == 8) r.operands[2].imm.s = static_cast<int32_t>(imm);
      }
      if (!emit(r)) return false;
      after(fCF | fOF, fSF | fZF | fAF | fPF);
      return true;
    }
    // DIV / IDIV with a divisor that cannot fault.
    bool sgn = k >= 4;
    unsigned d;
    do d = pick_reg(); while (d == RAX || d == RDX);
    ZydisRegister dr = gpr(d, size);
    if (!sgn) {
      // Dividend high part 0, divisor odd (never 0).
      if (size == 1) raw({0x0F, 0xB6, 0xC0});  // movzx eax, al (AH = 0)
      else raw({0x31, 0xD2});                  // xor edx, edx
      auto o = req(ZYDIS_MNEMONIC_OR, 2);
      set_reg(o.operands[0], dr);
      set_imm(o.operands[1], 1);
      if (!emit(o)) return false;
    } else {
      // Sign-extend the dividend; make the divisor positive and >= 2.
      switch (size) {
        case 1: raw({0x66, 0x98}); break;  // cbw
        case 2: raw({0x66, 0x99}); break;  // cwd
        case 4: raw({0x99}); break;        // cdq
        default: raw({0x48, 0x99}); break; // cqo
      }
      if (size == 8) {
        auto b = req(ZYDIS_MNEMONIC_BTR, 2);
        set_reg(b.operands[0], dr);
        set_imm(b.operands[1], 63);
        if (!emit(b)) return false;
      } else {
        auto a = req(ZYDIS_MNEMONIC_AND, 2);
        set_reg(a.operands[0], dr);
        set_imm(a.operands[1], size == 1 ? 0x7F : size == 2 ? 0x7FFF : 0x7FFFFFFF);
        if (!emit(a)) return false;
      }
      auto o = req(ZYDIS_MNEMONIC_OR, 2);
      set_reg(o.operands[0], dr);
      set_imm(o.operands[1], 2);
      if (!emit(o)) return false;
    }
    after(fAll, 0);
    auto r = req(sgn ? ZYDIS_MNEMONIC_IDIV : ZYDIS_MNEMONIC_DIV, 1);
    set_reg(r.operands[0], dr);
    if (!emit(r)) return false;
    after(0, fAll);
    return true;
  }

  bool bits_() {
    unsigned k = below(4);
    static const unsigned sizes[] = {2, 4, 8};
    unsigned size = sizes[below(3)];
    if (k == 0) {  // BT family
      static const ZydisMnemonic m[] = {ZYDIS_MNEMONIC_BT, ZYDIS_MNEMONIC_BTS, ZYDIS_MNEMONIC_BTR, ZYDIS_MNEMONIC_BTC};
      unsigned op = below(4);
      auto r = req(m[op], 2);
      unsigned form = below(4);
      if (form == 3) {
        // m, r: keep the bit offset register within +-1024 bits of the operand.
        unsigned off;
        do off = pick_reg(); while (false);
        auto a = req(ZYDIS_MNEMONIC_AND, 2);
        set_reg(a.operands[0], gpr(off, 4));
        set_imm(a.operands[1], 0x7FF);
        if (!emit(a)) return false;
        auto s = req(ZYDIS_MNEMONIC_SUB, 2);
        set_reg(s.operands[0], gpr(off, 8));
        set_imm(s.operands[1], 0x400);
        if (!emit(s)) return false;
        after(fAll, 0);
        set_mem(r, r.operands[0], size);
        set_reg(r.operands[1], gpr(off, size));
      } else if (form == 2) {
        set_mem(r, r.operands[0], size);
        set_imm(r.operands[1], below(256));
      } else {
        set_reg(r.operands[0], rand_reg(size));
        if (form == 0) set_reg(r.operands[1], rand_reg(size));
        else set_imm(r.operands[1], below(256));
      }
      if (op && r.operands[0].type == ZYDIS_OPERAND_TYPE_MEMORY && chance(20)) r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
      if (!emit(r)) return false;
      after(fCF, fOF | fSF | fAF | fPF);
      return true;
    }
    static const ZydisMnemonic m[] = {ZYDIS_MNEMONIC_BSF, ZYDIS_MNEMONIC_BSR, ZYDIS_MNEMONIC_POPCNT,
                                      ZYDIS_MNEMONIC_LZCNT};
    unsigned op = below(4);
    auto r = req(m[op], 2);
    set_reg(r.operands[0], rand_reg(size));
    if (chance(50)) set_reg(r.operands[1], rand_reg(size));
    else set_mem(r, r.operands[1], size);
    if (!emit(r)) return false;
    if (op < 2) after(fZF, fCF | fOF | fSF | fAF | fPF);
    else if (op == 2) after(fAll, 0);
    else after(fCF | fZF, fOF | fSF | fAF | fPF);
    return true;
  }

  bool move() {
    unsigned k = below(12);
    unsigned size = rand_size();
    switch (k) {
      case 0: {  // MOV
        auto r = req(ZYDIS_MNEMONIC_MOV, 2);
        unsigned form = below(5);
        if (form == 0) { set_reg(r.operands[0], rand_reg(size)); set_reg(r.operands[1], rand_reg(size)); }
        else if (form == 1) { set_reg(r.operands[0], rand_reg(size)); set_mem(r, r.operands[1], size); }
        else if (form == 2) { set_mem(r, r.operands[0], size); set_reg(r.operands[1], rand_reg(size)); }
        else if (form == 3) { set_reg(r.operands[0], rand_reg(size)); set_imm(r.operands[1], rand_imm(size)); }
        else {
          set_mem(r, r.operands[0], size);
          uint64_t imm = rand_imm(size > 4 ? 4 : size);
          set_imm(r.operands[1], imm);
          if (size == 8) r.operands[1].imm.s = static_cast<int32_t>(imm);
        }
        return emit(r);
      }
      case 1: {  // MOVZX / MOVSX / MOVSXD
        unsigned src = below(3) == 0 ? 2 : 1;
        unsigned dst = src == 1 ? (below(3) + 1) * 2 : (below(2) + 1) * 4;
        if (dst == 6) dst = 8;
        ZydisMnemonic mn = chance(50) ? ZYDIS_MNEMONIC_MOVZX : ZYDIS_MNEMONIC_MOVSX;
        if (chance(25)) { mn = ZYDIS_MNEMONIC_MOVSXD; src = 4; dst = 8; }
        auto r = req(mn, 2);
        set_reg(r.operands[0], rand_reg(dst));
        if (chance(50)) set_reg(r.operands[1], rand_reg(src));
        else set_mem(r, r.operands[1], src);
        return emit(r);
      }
      case 2: {  // LEA with assorted address forms
        auto r = req(ZYDIS_MNEMONIC_LEA, 2);
        static const unsigned sizes[] = {2, 4, 8};
        set_reg(r.operands[0], rand_reg(sizes[below(3)]));
        auto& o = r.operands[1];
        o.type = ZYDIS_OPERAND_TYPE_MEMORY;
        o.mem.size = 0;
        bool a32 = chance(30);
        o.mem.base = gpr(pick_reg(), a32 ? 4 : 8);
        if (chance(60)) {
          o.mem.index = gpr(pick_reg(), a32 ? 4 : 8);
          static const uint8_t sc[] = {1, 2, 4, 8};
          o.mem.scale = sc[below(4)];
        }
        o.mem.displacement = static_cast<int32_t>(rand_imm(4));
        if (a32) r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
        return emit(r);
      }
      case 3: {  // XCHG
        auto r = req(ZYDIS_MNEMONIC_XCHG, 2);
        set_reg(r.operands[0], rand_reg(size));
        if (chance(50)) set_reg(r.operands[1], rand_reg(size));
        else set_mem(r, r.operands[1], size);
        return emit(r);
      }
      case 4: {  // XADD
        auto r = req(ZYDIS_MNEMONIC_XADD, 2);
        if (chance(50)) set_reg(r.operands[0], rand_reg(size));
        else {
          set_mem(r, r.operands[0], size);
          if (chance(30)) r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
        }
        set_reg(r.operands[1], rand_reg(size));
        if (!emit(r)) return false;
        after(fAll, 0);
        return true;
      }
      case 5: {  // CMPXCHG (accumulator sometimes made equal)
        auto r = req(ZYDIS_MNEMONIC_CMPXCHG, 2);
        if (chance(50)) set_reg(r.operands[0], rand_reg(size));
        else {
          set_mem(r, r.operands[0], size);
          if (chance(30)) r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
        }
        set_reg(r.operands[1], rand_reg(size));
        if (!emit(r)) return false;
        after(fAll, 0);
        return true;
      }
      case 6: {  // CMPXCHG8B / 16B
        bool wide = chance(50);
        auto r = req(wide ? ZYDIS_MNEMONIC_CMPXCHG16B : ZYDIS_MNEMONIC_CMPXCHG8B, 1);
        set_mem(r, r.operands[0], wide ? 16 : 8, wide ? 16 : 1);
        if (chance(30)) r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
        if (!emit(r)) return false;
        after(fZF, 0);
        return true;
      }
      case 7: {  // BSWAP / MOVBE
        if (chance(50)) {
          auto r = req(ZYDIS_MNEMONIC_BSWAP, 1);
          set_reg(r.operands[0], rand_reg(chance(50) ? 4 : 8));
          return emit(r);
        }
        static const unsigned sizes[] = {2, 4, 8};
        unsigned sz = sizes[below(3)];
        auto r = req(ZYDIS_MNEMONIC_MOVBE, 2);
        if (chance(50)) { set_reg(r.operands[0], rand_reg(sz)); set_mem(r, r.operands[1], sz); }
        else { set_mem(r, r.operands[0], sz); set_reg(r.operands[1], rand_reg(sz)); }
        return emit(r);
      }
      case 8: {  // CMOVcc
        static const ZydisMnemonic m[16] = {
            ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB, ZYDIS_MNEMONIC_CMOVNB,
            ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ, ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
            ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP, ZYDIS_MNEMONIC_CMOVNP,
            ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE};
        unsigned cc = below(16);
        static const unsigned sizes[] = {2, 4, 8};
        unsigned sz = sizes[below(3)];
        auto r = req(m[cc], 2);
        set_reg(r.operands[0], rand_reg(sz));
        if (chance(50)) set_reg(r.operands[1], rand_reg(sz));
        else set_mem(r, r.operands[1], sz);
        before(cc_reads(cc));
        return emit(r);
      }
      case 9: {  // SETcc
        static const ZydisMnemonic m[16] = {
            ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB, ZYDIS_MNEMONIC_SETNB,
            ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE,
            ZYDIS_MNEMONIC_SETS, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP, ZYDIS_MNEMONIC_SETNP,
            ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE};
        unsigned cc = below(16);
        auto r = req(m[cc], 1);
        if (chance(50)) set_reg(r.operands[0], rand_reg(1));
        else set_mem(r, r.operands[0], 1);
        before(cc_reads(cc));
        return emit(r);
      }
      case 10: {  // CBW family, flag instructions
        unsigned w = below(10);
        switch (w) {
          case 0: raw({0x66, 0x98}); break;
          case 1: raw({0x98}); break;
          case 2: raw({0x48, 0x98}); break;
          case 3: raw({0x66, 0x99}); break;
          case 4: raw({0x99}); break;
          case 5: raw({0x48, 0x99}); break;
          case 6: raw({0xF8}); after(fCF, 0); break;  // clc
          case 7: raw({0xF9}); after(fCF, 0); break;  // stc
          case 8: before(fCF); raw({0xF5}); break;    // cmc
          default:
            if (chance(50)) { before(fAll); raw({0x9F}); }  // lahf
            else { raw({0x9E}); after(fSF | fZF | fAF | fPF | fCF, 0); }  // sahf
            break;
        }
        return true;
      }
      default: {  // XLAT, NOPs
        if (chance(50)) raw({0xD7});
        else if (chance(50)) raw({0x0F, 0x1F, 0x44, 0x00, 0x00});
        else raw({0x66, 0x90});
        return true;
      }
    }
  }

  // REP string instructions over the data page.
  bool strings() {
    static const uint8_t ops[] = {0xA4, 0xA6, 0xAA, 0xAC, 0xAE};  // movs cmps stos lods scas (byte forms)
    unsigned op = below(5);
    unsigned size = rand_size();
    bool down = chance(30);
    unsigned count = below(12);
    // lea rsi, [rbx+X]; lea rdi, [rbx+Y]; mov ecx, count; cld/std
    int32_t x = static_cast<int32_t>(below(200)) - 100, y = static_cast<int32_t>(below(200)) - 100;
    auto lea = [&](uint8_t reg, int32_t d) {
      raw({0x48, 0x8D, static_cast<uint8_t>(0x83 | (reg << 3))});
      for (int k = 0; k < 4; ++k) code.push_back(static_cast<uint8_t>(d >> (8 * k)));
    };
    lea(RSI, x);
    lea(RDI, y);
    raw({0xB9, static_cast<uint8_t>(count), 0, 0, 0});
    raw({static_cast<uint8_t>(down ? 0xFD : 0xFC)});
    unsigned rep = below(3);  // none, F3, F2
    if (op != 1 && op != 4 && rep == 2) rep = 1;
    if (rep == 1) code.push_back(0xF3);
    if (rep == 2) code.push_back(0xF2);
    if (size == 2) code.push_back(0x66);
    if (size == 8) code.push_back(0x48);
    code.push_back(static_cast<uint8_t>(ops[op] + (size > 1 ? 1 : 0)));
    raw({0xFC});  // cld again
    if ((op == 1 || op == 4) && (count > 0 || rep == 0)) after(fAll, 0);
    return true;
  }

  // A forward conditional jump / LOOP / JRCXZ over the next instruction.
  bool branch() {
    std::vector<uint8_t> saved = code;
    uint64_t saved_undef = undef;
    unsigned cc = below(16);
    unsigned kind = below(4);  // 0-1 jcc, 2 loop, 3 jrcxz
    if (kind < 2) before(cc_reads(cc));
    size_t at = code.size();
    code.push_back(0);
    code.push_back(0);
    uint64_t undef_before_skip = undef;
    if (!alu2()) {
      code = saved;
      undef = saved_undef;
      return false;
    }
    size_t skip = code.size() - at - 2;
    code[at] = kind < 2 ? static_cast<uint8_t>(0x70 + cc) : kind == 2 ? 0xE2 : 0xE3;
    code[at + 1] = static_cast<uint8_t>(skip);
    // The skipped instruction may or may not run: its defined flags are only
    // "maybe" defined, so they count as undefined if it defined fewer.
    undef |= undef_before_skip;
    return true;
  }

  // Balanced stack use: PUSH/POP of registers, memory and immediates,
  // PUSHF/POPF, CALL/RET, ENTER/LEAVE (RSP is compared afterwards).
  bool stack() {
    unsigned k = below(7);
    auto pushpop = [&](bool push, unsigned size, bool mem) {
      auto r = req(push ? ZYDIS_MNEMONIC_PUSH : ZYDIS_MNEMONIC_POP, 1);
      if (mem) set_mem(r, r.operands[0], size);
      else set_reg(r.operands[0], gpr(pick_reg(), size));
      return emit(r);
    };
    switch (k) {
      case 0:
      case 1: {  // push r/m/imm ; pop r/m (16- or 64-bit)
        unsigned size = chance(20) ? 2 : 8;
        if (k == 1 && chance(50)) {
          auto r = req(ZYDIS_MNEMONIC_PUSH, 1);
          set_imm(r.operands[0], rand_imm(size == 2 ? 2 : 4));
          if (size == 2) r.operand_size_hint = ZYDIS_OPERAND_SIZE_HINT_16;
          else r.operands[0].imm.s = static_cast<int32_t>(r.operands[0].imm.u);
          if (!emit(r)) return false;
        } else if (!pushpop(true, size, chance(40))) {
          return false;
        }
        return pushpop(false, size, chance(30));
      }
      case 2:  // pushfq ; pop r  /  push r ; popfq (arithmetic flags and DF only)
        if (chance(50)) {
          before(fAll);
          raw({0x9C});
          return pushpop(false, 8, false);
        } else {
          unsigned r = pick_reg();
          // and r, 0x8D5 | DF... keep only arithmetic flags and bit 1; then popfq
          auto a = req(ZYDIS_MNEMONIC_AND, 2);
          set_reg(a.operands[0], gpr(r, 8));
          set_imm(a.operands[1], 0x8D5);
          if (!emit(a)) return false;
          auto o = req(ZYDIS_MNEMONIC_OR, 2);
          set_reg(o.operands[0], gpr(r, 8));
          set_imm(o.operands[1], 0x202);
          if (!emit(o)) return false;
          auto p = req(ZYDIS_MNEMONIC_PUSH, 1);
          set_reg(p.operands[0], gpr(r, 8));
          if (!emit(p)) return false;
          raw({0x9D});
          after(fAll, 0);
          return true;
        }
      case 3: {  // call next ; pop r  (reads RIP)
        raw({0xE8, 0, 0, 0, 0});
        return pushpop(false, 8, false);
      }
      case 4: {  // call over a RET: call +1 ; jmp +1 ; ret  -> returns to the JMP
        raw({0xE8, 0x02, 0, 0, 0, 0xEB, 0x01, 0xC3});
        return true;
      }
      case 5: {  // enter N, L ; leave
        uint16_t size = static_cast<uint16_t>(below(64) * 8);
        uint8_t level = static_cast<uint8_t>(below(3));
        // RBP must point into the stack page for nested levels: use RSP.
        raw({0x48, 0x89, 0xE5});  // mov rbp, rsp
        raw({0xC8, static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8), level});
        raw({0xC9});
        return true;
      }
      default: {  // xchg with the stack top, and xadd to it
        auto r = req(ZYDIS_MNEMONIC_PUSH, 1);
        set_reg(r.operands[0], gpr(pick_reg(), 8));
        if (!emit(r)) return false;
        auto x = req(ZYDIS_MNEMONIC_XCHG, 2);
        x.operands[0].type = ZYDIS_OPERAND_TYPE_MEMORY;
        x.operands[0].mem.base = ZYDIS_REGISTER_RSP;
        x.operands[0].mem.size = 8;
        set_reg(x.operands[1], gpr(pick_reg(), 8));
        if (!emit(x)) return false;
        return pushpop(false, 8, false);
      }
    }
  }

  bool one() {
    if (chance(6)) return stack();
    switch (below(16)) {
      case 0: case 1: case 2: case 3: return alu2();
      case 4: return unary();
      case 5: case 6: return shift();
      case 7: return shiftd();
      case 8: return muldiv();
      case 9: return bits_();
      case 10: case 11: case 12: return move();
      case 13: return strings();
      default: return branch();
    }
  }
};

void make_case(uint64_t seed, Case& c) {
  Gen g(seed);
  for (unsigned r = 0; r < 16; ++r) c.regs[r] = g.rand_imm(8);
  c.regs[RSP] = kStackTop;
  c.regs[RBX] = kDataMid;
  c.flags = 0x202 | (g.r64() & fAll);
  for (unsigned k = 0; k < sizeof c.data; ++k) c.data[k] = static_cast<uint8_t>(g.r64());
  unsigned n = 1 + g.below(8);
  for (unsigned k = 0; k < n && g.code.size() < 400;) {
    if (g.one()) ++k;
  }
  std::memcpy(c.code, g.code.data(), g.code.size());
  c.code_len = static_cast<uint32_t>(g.code.size());
  c.undefined_flags = g.undef;
}

// ---------------------------------------------------------------- native side

// The code page for the native run: the sequence sits at kCode exactly (so
// RIP-relative operands match pc64's), followed by a JMP to the epilogue.
// Prologue (entry, at kCode+0x800): save callee-saved registers and the host
// RSP, load the guest image from kState (pop order RAX..R15 without RSP, then
// RFLAGS), switch to the guest stack, JMP to kCode. Epilogue (kCode+0xC00):
// push RFLAGS and R15..RAX below kStackTop, restore the host stack, return.
constexpr uint64_t kPrologue = kCode + 0x800, kEpilogue = kCode + 0xC00;

void put_rel32(std::vector<uint8_t>& b, uint64_t from_end, uint64_t to) {
  int32_t rel = static_cast<int32_t>(static_cast<int64_t>(to - from_end));
  for (int k = 0; k < 4; ++k) b.push_back(static_cast<uint8_t>(rel >> (8 * k)));
}

void native_page(const Case& c, uint8_t* page) {
  static const uint8_t pops[15][2] = {{0, 0x58}, {0, 0x59}, {0, 0x5A}, {0, 0x5B}, {0, 0x5D}, {0, 0x5E},
                                      {0, 0x5F}, {0x41, 0x58}, {0x41, 0x59}, {0x41, 0x5A}, {0x41, 0x5B},
                                      {0x41, 0x5C}, {0x41, 0x5D}, {0x41, 0x5E}, {0x41, 0x5F}};
  std::vector<uint8_t> seq(c.code, c.code + c.code_len);
  seq.push_back(0xE9);
  put_rel32(seq, kCode + seq.size() + 4, kEpilogue);
  std::memcpy(page, seq.data(), seq.size());

  std::vector<uint8_t> b = {0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57};  // push rbx rbp r12-r15
  b.insert(b.end(), {0x48, 0x89, 0xE0});                                                     // mov rax, rsp
  b.insert(b.end(), {0x48, 0xA3});                                                           // mov [kState+0xFF8], rax
  for (int k = 0; k < 8; ++k) b.push_back(static_cast<uint8_t>((kState + 0xFF8) >> (8 * k)));
  b.insert(b.end(), {0x48, 0xC7, 0xC4});  // mov rsp, kState
  for (int k = 0; k < 4; ++k) b.push_back(static_cast<uint8_t>(kState >> (8 * k)));
  for (auto& p : pops) {
    if (p[0]) b.push_back(p[0]);
    b.push_back(p[1]);
  }
  b.push_back(0x9D);  // popfq
  b.insert(b.end(), {0x48, 0xC7, 0xC4});  // mov rsp, kStackTop (flags unaffected)
  for (int k = 0; k < 4; ++k) b.push_back(static_cast<uint8_t>(kStackTop >> (8 * k)));
  b.push_back(0xE9);
  put_rel32(b, kPrologue + b.size() + 4, kCode);
  std::memcpy(page + 0x800, b.data(), b.size());

  std::vector<uint8_t> e = {0x9C};  // pushfq
  for (int k = 14; k >= 0; --k) {
    if (pops[k][0]) e.push_back(0x41);
    e.push_back(static_cast<uint8_t>(pops[k][1] - 8));  // push
  }
  e.insert(e.end(), {0x48, 0xA1});  // mov rax, [kState+0xFF8]
  for (int k = 0; k < 8; ++k) e.push_back(static_cast<uint8_t>((kState + 0xFF8) >> (8 * k)));
  e.insert(e.end(), {0x48, 0x89, 0xC4});                                                    // mov rsp, rax
  e.insert(e.end(), {0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B, 0xC3});  // pops, ret
  std::memcpy(page + 0xC00, e.data(), e.size());
}

// Runs cases[0..n) natively in a child; fills results. A crash marks the
// case with the signal and the child is restarted after it.
void run_native(const std::vector<Case>& cases, std::vector<Result>& results) {
  const size_t n = cases.size();
  auto* shared = static_cast<Result*>(
      mmap(nullptr, sizeof(Result) * n + 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  REQUIRE(shared != MAP_FAILED);
  auto* progress = reinterpret_cast<volatile size_t*>(reinterpret_cast<uint8_t*>(shared) + sizeof(Result) * n);
  size_t start = 0;
  while (start < n) {
    *progress = start;
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // doctest's crash handlers must not run in the child: a crash there is
      // a result (reported by signal number), not a test failure.
      for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) signal(sig, SIG_DFL);
      void* d = mmap(reinterpret_cast<void*>(kData), 0x2000, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      void* cp = mmap(reinterpret_cast<void*>(kCode), kMaxCode, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      if (d != reinterpret_cast<void*>(kData) || cp != reinterpret_cast<void*>(kCode)) _exit(99);
      for (size_t k = start; k < n; ++k) {
        *progress = k;
        const Case& c = cases[k];
        std::memcpy(d, c.data, sizeof c.data);
        auto* st = reinterpret_cast<uint64_t*>(kState);
        unsigned slot = 0;
        for (unsigned r = 0; r < 16; ++r)
          if (r != RSP) st[slot++] = c.regs[r];
        st[slot] = c.flags;
        native_page(c, static_cast<uint8_t*>(cp));
        __builtin___clear_cache(static_cast<char*>(cp), static_cast<char*>(cp) + kMaxCode);
        reinterpret_cast<void (*)()>(kPrologue)();
        // Saved image below kStackTop: flags at -8, then R15.. down to RAX.
        // (Indexed upward from 16 qwords below the top: GCC's -Warray-bounds
        // dislikes negative indices on a pointer made from a constant.)
        auto* below = reinterpret_cast<uint64_t*>(kStackTop - 16 * sizeof(uint64_t));
        Result& res = shared[k];
        res.flags = below[16 - 1];
        slot = 2;
        for (int r = 15; r >= 0; --r) {
          if (r == RSP) continue;
          res.regs[r] = below[16 - slot];
          ++slot;
        }
        res.regs[RSP] = kStackTop;
        std::memcpy(res.data, d, sizeof res.data);
        res.status = 0;
      }
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) break;
    size_t bad = *progress;
    REQUIRE_MESSAGE(!(WIFEXITED(status) && WEXITSTATUS(status) == 99), "cannot map the fixed test pages");
    shared[bad].status = WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
    start = bad + 1;
  }
  results.assign(shared, shared + n);
  munmap(shared, sizeof(Result) * n + 64);
}

std::string disassemble(const uint8_t* code, size_t len) {
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisFormatter fmt;
  ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
  std::string out;
  size_t off = 0;
  while (off < len) {
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, len - off, &zi, ops))) break;
    char buf[128];
    ZydisFormatterFormatInstruction(&fmt, &zi, ops, zi.operand_count_visible, buf, sizeof buf, kCode + off,
                                    nullptr);
    char line[200];
    std::snprintf(line, sizeof line, "  %06llx  %s\n", static_cast<unsigned long long>(kCode + off), buf);
    out += line;
    off += zi.length;
  }
  return out;
}

uint64_t env_u64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : def;
}

}  // namespace

TEST_CASE("differential: random integer sequences match the host CPU") {
  const uint64_t total = env_u64("PC64_DIFF_SEQUENCES", 100000);
  const uint64_t seed = env_u64("PC64_DIFF_SEED", 1);
  const size_t kBatch = 5000;

  Machine m(32ull << 20);
  m.long_mode(kCode);
  const char* names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                           "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  uint64_t mismatches = 0, crashes = 0;
  std::vector<Case> cases;
  std::vector<Result> native;
  for (uint64_t base = 0; base < total; base += kBatch) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBatch, total - base));
    cases.resize(n);
    for (size_t k = 0; k < n; ++k) make_case(seed * 0x9E3779B97F4A7C15ull + base + k, cases[k]);
    run_native(cases, native);
    for (size_t k = 0; k < n; ++k) {
      const Case& c = cases[k];
      const Result& want = native[k];
      if (want.status != 0) {
        ++crashes;
        if (crashes <= 3)
          MESSAGE("seed " << seed << " case " << base + k << ": native run died (" << want.status << ")\n"
                          << disassemble(c.code, c.code_len));
        continue;
      }
      // pc64 side: same page contents, registers and flags; HLT after the code.
      std::memcpy(m.mem.ram_pointer(kData), c.data, sizeof c.data);
      std::vector<uint8_t> code(c.code, c.code + c.code_len);
      code.push_back(0xF4);
      m.mem.write_bytes(kCode, code.data(), code.size());
      CpuState& st = m.s();
      for (unsigned r = 0; r < 16; ++r) st.gpr[r] = c.regs[r];
      st.rip = kCode;
      st.lazy.op = FlagOp::None;
      st.rflags = c.flags;
      m.cpu.core().halted = false;
      m.cpu.run(10000);
      const bool died = m.cpu.shutdown();
      if (died) {  // an unexpected guest exception (no IDT here): report, then start afresh
        m.long_mode(kCode);
        for (unsigned r = 0; r < 16; ++r) st.gpr[r] = ~want.regs[r];
      }
      uint8_t data[4096];
      std::memcpy(data, m.mem.ram_pointer(kData), sizeof data);
      uint64_t mask = (fAll | fDF) & ~c.undefined_flags;
      uint64_t got_flags = m.flags();
      bool ok = m.cpu.halted() && st.rip == kCode + c.code_len + 1;
      for (unsigned r = 0; r < 16; ++r) ok = ok && st.gpr[r] == want.regs[r];
      ok = ok && ((got_flags ^ want.flags) & mask) == 0;
      ok = ok && std::memcmp(data, want.data, sizeof data) == 0;
      if (!ok) {
        ++mismatches;
        if (mismatches <= 5) {
          std::string msg = "seed " + std::to_string(seed) + " case " + std::to_string(base + k) + " mismatch\n" +
                            disassemble(c.code, c.code_len);
          char line[160];
          std::snprintf(line, sizeof line, "  halted=%d rip=%#llx (want %#llx)\n", m.cpu.halted(),
                        static_cast<unsigned long long>(st.rip),
                        static_cast<unsigned long long>(kCode + c.code_len + 1));
          msg += line;
          for (unsigned r = 0; r < 16; ++r) {
            if (st.gpr[r] == want.regs[r]) continue;
            std::snprintf(line, sizeof line, "  %s: pc64 %016llx host %016llx (in %016llx)\n", names[r],
                          static_cast<unsigned long long>(st.gpr[r]), static_cast<unsigned long long>(want.regs[r]),
                          static_cast<unsigned long long>(c.regs[r]));
            msg += line;
          }
          std::snprintf(line, sizeof line, "  flags: pc64 %04llx host %04llx in %04llx mask %04llx\n",
                        static_cast<unsigned long long>(got_flags & 0xFFF),
                        static_cast<unsigned long long>(want.flags & 0xFFF),
                        static_cast<unsigned long long>(c.flags & 0xFFF), static_cast<unsigned long long>(mask));
          msg += line;
          for (unsigned b = 0; b < sizeof data; ++b)
            if (data[b] != want.data[b]) {
              std::snprintf(line, sizeof line, "  data[%#x]: pc64 %02x host %02x (in %02x)\n", b, data[b],
                            want.data[b], c.data[b]);
              msg += line;
            }
          MESSAGE(msg);
        }
      }
    }
  }
  CHECK(crashes == 0);
  CHECK(mismatches == 0);
  MESSAGE(total << " sequences, seed " << seed << ": " << mismatches << " mismatches, " << crashes << " crashes");
}
