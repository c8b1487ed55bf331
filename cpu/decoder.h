// Decoding: Zydis 4 turns guest bytes into a Decoded view; the instruction
// table (insn_table.def) maps each mnemonic to a builder that picks the
// handler for the operand form and size and fills the Insn record. Only the
// decoder and builders see Zydis; handlers see Insn.
#pragma once
#include <Zydis/Zydis.h>

#include <cstdint>

#include "cpu/cpu_state.h"
#include "cpu/dispatch.h"
#include "cpu/insn.h"

namespace pc64 {

struct Decoded {
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
  unsigned nvis() const { return zi.operand_count_visible; }
  bool is_reg(unsigned k) const { return k < nvis() && op[k].type == ZYDIS_OPERAND_TYPE_REGISTER; }
  bool is_mem(unsigned k) const { return k < nvis() && op[k].type == ZYDIS_OPERAND_TYPE_MEMORY; }
  bool is_imm(unsigned k) const { return k < nvis() && op[k].type == ZYDIS_OPERAND_TYPE_IMMEDIATE; }
  // log2 of the operand size in bytes (0..3) from Zydis' effective operand width.
  unsigned osize() const;
  unsigned op_size(unsigned k) const;  // log2 bytes of operand k
};

// Operand shapes a builder distinguishes (visible operands 0 and 1).
enum class Form : uint8_t { None, R, M, I, RR, RM, MR, RI, MI, Other };
Form form_of(const Decoded& d);

// Register code for Insn::r0/r1: GPR number, or the byte offset into the
// register file for an 8-bit register (see Core::reg).
uint8_t gpr_code(ZydisRegister r);
uint8_t seg_code(ZydisRegister r);  // ES..GS -> 0..5
// Fills Insn memory fields from operand k (must be a memory operand).
void set_mem(Insn& i, const Decoded& d, unsigned k);
// Segment for string instructions' DS-relative operand (override or DS).
uint8_t string_segment(const Decoded& d);
// Fills r0/r1/mem/imm from the visible operands in order.
void set_operands(Insn& i, const Decoded& d);

// A builder returns false when the form is not implemented (#UD).
using Builder = bool (*)(Insn&, const Decoded&, unsigned param);

// Calls f(T{}) with T the operand type of a size (log2 bytes): uint8_t ..
// uint64_t; the _wide form for instructions without an 8-bit form.
template <class F> Handler for_size(unsigned size, F f) {
  switch (size) {
    case 0: return f(uint8_t{});
    case 1: return f(uint16_t{});
    case 2: return f(uint32_t{});
    default: return f(uint64_t{});
  }
}
template <class F> Handler for_size_wide(unsigned size, F f) {
  switch (size) {
    case 1: return f(uint16_t{});
    case 2: return f(uint32_t{});
    default: return f(uint64_t{});
  }
}

// Picks H::fn<T> for a size, with its threaded entries (cpu/dispatch.h).
template <class H> Handler by_size(unsigned size) {
  return for_size(size, [](auto t) { return with_thread<&H::template fn<decltype(t)>>(); });
}
template <class H> Handler by_size_wide(unsigned size) {
  return for_size_wide(size, [](auto t) { return with_thread<&H::template fn<decltype(t)>>(); });
}
// The same for register-only forms, which also get the quiet entry.
template <class H> Handler by_size_quiet(unsigned size) {
  return for_size(size, [](auto t) { return with_thread<&H::template fn<decltype(t)>, true>(); });
}
template <class H> Handler by_size_wide_quiet(unsigned size) {
  return for_size_wide(size, [](auto t) { return with_thread<&H::template fn<decltype(t)>, true>(); });
}
// Register-only forms with a variant NF that leaves the flags alone.
template <class H, class NF> Handler by_size_nf(unsigned size) {
  return for_size(size, [](auto t) {
    using T = decltype(t);
    return with_thread_nf<&H::template fn<T>, &NF::template fn<T>>();
  });
}
template <class H, class NF> Handler by_size_wide_nf(unsigned size) {
  return for_size_wide(size, [](auto t) {
    using T = decltype(t);
    return with_thread_nf<&H::template fn<T>, &NF::template fn<T>>();
  });
}
// Without threaded entries of its own (records then use the generic entry,
// one more indirect call): for handlers whose own work dwarfs the dispatch
// (string instructions, segment loads, port I/O), so as not to inline their
// bodies into entries for nothing.
template <class H> Handler by_size_plain(unsigned size) {
  return for_size(size, [](auto t) -> Handler { return &H::template fn<decltype(t)>; });
}
template <class H> Handler by_size_wide_plain(unsigned size) {
  return for_size_wide(size, [](auto t) -> Handler { return &H::template fn<decltype(t)>; });
}

// Declarations of every builder named in insn_table.def.
#define PC64_INSN(mnemonic, builder, param) bool builder(Insn&, const Decoded&, unsigned);
#include "cpu/insn_table.def"
#include "cpu/insn_table_fpu.def"
#undef PC64_INSN

}  // namespace pc64

namespace pc64 {
// MOV forms that are not plain data movement, built by their group files.
bool build_mov_cr(Insn&, const Decoded&);    // system.cpp (MOV to/from CRn/DRn)
bool build_mov_sreg(Insn&, const Decoded&);  // segment.cpp (MOV to/from Sreg)
bool build_push_sreg(Insn&, const Decoded&, bool pop);  // segment.cpp
bool build_far_branch(Insn&, const Decoded&, unsigned kind);  // control.cpp: 0 jmp, 1 call, 2 ret
// For a Jcc record: the handler of the same Jcc in the middle of a block
// (taken, it sets Core::exit_block = kExitBranch); null for anything else.
Handler jcc_exit_handler(const Insn& i);  // control.cpp

// What an instruction does with the six arithmetic flags (RFLAGS bits), for
// dead-flag elimination in decode_block. An instruction that may fault or
// stop the block "reads" all six: an exception handler, a debugger stop or
// the next block sees RFLAGS there.
struct FlagUse {
  uint16_t reads = kArithFlags;
  uint16_t writes = 0;      // always written (whatever the operands' values)
  uint16_t may_write = 0;   // written in some case (undefined flags included)
  bool quiet = false;       // can neither fault nor stop the block
};

// Decodes one instruction in `mode` (0 = 16, 1 = 32, 2 = 64-bit code) into
// `out`. Returns ZYAN_STATUS_SUCCESS, or Zydis' status; an instruction that
// decodes but is not implemented gets the #UD handler and success.
// `use`, if given, receives the instruction's FlagUse.
ZyanStatus decode_insn(unsigned mode, const uint8_t* bytes, size_t n, Insn& out, FlagUse* use = nullptr);
// Handler that raises #UD (undecodable / unimplemented instructions).
void h_undefined(Core& c, const Insn& i);
}  // namespace pc64
