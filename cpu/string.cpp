// String instructions MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE.
// A REP instruction updates RCX/RSI/RDI after every iteration, so a fault in
// the middle leaves a state it resumes from (SDM Vol. 1 7.3.9.2); it also
// yields after a chunk of iterations so interrupts are not held off.
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

constexpr unsigned kChunk = 4096;  // iterations before a REP yields to the dispatch loop

template <unsigned AS> inline uint64_t idx(Core& c, unsigned r) { return c.s.gpr[r] & Core::kAddrMask[AS]; }
template <unsigned AS> inline void set_idx(Core& c, unsigned r, uint64_t v) {
  if constexpr (AS == 2) c.s.gpr[r] = v;
  else if constexpr (AS == 1) c.s.gpr[r] = v & 0xFFFFFFFF;
  else c.s.gpr[r] = (c.s.gpr[r] & ~0xFFFFull) | (v & 0xFFFF);
}

// OP: 0 movs, 1 cmps, 2 stos, 3 lods, 4 scas, 5 ins, 6 outs. REP: 0 none, 1 rep/repe, 2 repne.
template <unsigned OP, unsigned AS, unsigned REP> struct Str {
  template <class T> static bool once(Core& c, const Insn& i, int64_t step) {
    constexpr unsigned sz = size_log2<T>();
    switch (OP) {
      case 0: {
        T v = c.read<T>(i.seg, idx<AS>(c, RSI));
        c.write<T>(ES, idx<AS>(c, RDI), v);
        set_idx<AS>(c, RSI, idx<AS>(c, RSI) + step);
        set_idx<AS>(c, RDI, idx<AS>(c, RDI) + step);
        return true;
      }
      case 1: {
        T a = c.read<T>(i.seg, idx<AS>(c, RSI));
        T b = c.read<T>(ES, idx<AS>(c, RDI));
        c.set_lazy(FlagOp::Sub, sz, static_cast<T>(a - b), a, b);
        set_idx<AS>(c, RSI, idx<AS>(c, RSI) + step);
        set_idx<AS>(c, RDI, idx<AS>(c, RDI) + step);
        return REP == 1 ? a == b : a != b;
      }
      case 2:
        c.write<T>(ES, idx<AS>(c, RDI), c.reg<T>(0));
        set_idx<AS>(c, RDI, idx<AS>(c, RDI) + step);
        return true;
      case 3:
        c.set_reg<T>(0, c.read<T>(i.seg, idx<AS>(c, RSI)));
        set_idx<AS>(c, RSI, idx<AS>(c, RSI) + step);
        return true;
      case 4: {
        T a = c.reg<T>(0);
        T b = c.read<T>(ES, idx<AS>(c, RDI));
        c.set_lazy(FlagOp::Sub, sz, static_cast<T>(a - b), a, b);
        set_idx<AS>(c, RDI, idx<AS>(c, RDI) + step);
        return REP == 1 ? a == b : a != b;
      }
      case 5: {
        uint16_t port = static_cast<uint16_t>(c.s.gpr[RDX]);
        // Probe the destination first so a fault does not lose the port read.
        uint64_t lin = c.linear(ES, idx<AS>(c, RDI), sizeof(T), true);
        c.probe_write(lin, sizeof(T), c.user());
        if (c.dbg.events()) c.dbg.on_port(c, port, sizeof(T));
        T v = static_cast<T>(c.io.port_read(port, sizeof(T)));
        c.write_lin<T>(lin, v);
        set_idx<AS>(c, RDI, idx<AS>(c, RDI) + step);
        return true;
      }
      default: {
        uint16_t port = static_cast<uint16_t>(c.s.gpr[RDX]);
        T v = c.read<T>(i.seg, idx<AS>(c, RSI));
        if (c.dbg.events()) c.dbg.on_port(c, port, sizeof(T));
        c.io.port_write(port, sizeof(T), v);
        set_idx<AS>(c, RSI, idx<AS>(c, RSI) + step);
        return true;
      }
    }
  }

  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 8 && (OP == 5 || OP == 6)) return;  // no 64-bit port I/O
    else {
      if (OP == 5 || OP == 6) c.check_io(static_cast<uint16_t>(c.s.gpr[RDX]), sizeof(T));
      const int64_t step = (c.s.rflags & DF) ? -int64_t(sizeof(T)) : int64_t(sizeof(T));
      if constexpr (REP == 0) {
        once<T>(c, i, step);
      } else {
        uint64_t count = idx<AS>(c, RCX);
        unsigned n = 0;
        while (count) {
          bool go_on = once<T>(c, i, step);
          --count;
          set_idx<AS>(c, RCX, count);
          if ((OP == 1 || OP == 4) && !go_on) break;
          // A debugger watchpoint hit (DebugTraps::hit sets exit_block) stops
          // after the iteration that touched it, with RCX/RSI/RDI telling
          // which, as a data breakpoint does (SDM Vol. 3B 18.3.1.2).
          if ((++n == kChunk || c.exit_block) && count) {
            // Yield: re-execute this instruction from the next dispatch.
            c.next_rip = c.s.rip;
            c.exit_block = true;
            return;
          }
        }
      }
    }
  }
};

template <unsigned OP, unsigned AS> Handler str_rep(unsigned rep, unsigned sz) {
  switch (rep) {
    case 0: return by_size_plain<Str<OP, AS, 0>>(sz);
    case 1: return by_size_plain<Str<OP, AS, 1>>(sz);
    default: return by_size_plain<Str<OP, AS, 2>>(sz);
  }
}
template <unsigned OP> Handler str_as(unsigned as, unsigned rep, unsigned sz) {
  switch (as) {
    case 0: return str_rep<OP, 0>(rep, sz);
    case 1: return str_rep<OP, 1>(rep, sz);
    default: return str_rep<OP, 2>(rep, sz);
  }
}

}  // namespace

bool build_string(Insn& i, const Decoded& d, unsigned op) {
  // MOVSD/CMPSD are also SSE2 mnemonics: those have XMM operands.
  for (unsigned k = 0; k < d.zi.operand_count; ++k)
    if (d.op[k].type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(d.op[k].reg.value) == ZYDIS_REGCLASS_XMM)
      return false;
  // Element size from the memory operand (hidden operands included).
  unsigned sz = 0;
  for (unsigned k = 0; k < d.zi.operand_count; ++k)
    if (d.op[k].type == ZYDIS_OPERAND_TYPE_MEMORY) {
      sz = d.op_size(k);
      break;
    }
  i.seg = string_segment(d);
  unsigned rep = 0;
  if (i.flags & kInsnRep) rep = 1;
  else if (i.flags & kInsnRepne) rep = (op == 1 || op == 4) ? 2 : 1;
  unsigned as = i.asize;
  switch (op) {
    case 0: i.handler = str_as<0>(as, rep, sz); break;
    case 1: i.handler = str_as<1>(as, rep, sz); break;
    case 2: i.handler = str_as<2>(as, rep, sz); break;
    case 3: i.handler = str_as<3>(as, rep, sz); break;
    case 4: i.handler = str_as<4>(as, rep, sz); break;
    case 5: i.handler = str_as<5>(as, rep, sz); break;
    default: i.handler = str_as<6>(as, rep, sz); break;
  }
  return true;
}

}  // namespace pc64
