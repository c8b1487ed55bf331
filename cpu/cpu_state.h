// Architectural state of one x86-64 logical processor: general registers,
// segment registers with their hidden descriptor caches, control/debug
// registers, EFER and the MSRs pc64 implements, plus the lazy-flags record.
// Names follow the Intel SDM (Vol. 3A ch. 2-3, Vol. 1 ch. 3).
#pragma once
#include <cstdint>

#include "cpu/fpu_state.h"

namespace pc64 {

// Register numbers as encoded in ModRM/REX (SDM Vol. 2 table 2-2).
enum Gpr : uint8_t { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
// Slot 16 of the register file always reads 0: an absent base/index register
// in a memory operand points here, so effective addresses need no branch.
constexpr uint8_t kRegZero = 16;
constexpr uint8_t kRegNone = 0xFF;

enum SegReg : uint8_t { ES, CS, SS, DS, FS, GS, kSegCount };

// RFLAGS bits (SDM Vol. 1 3.4.3).
inline constexpr uint64_t CF = 1u << 0;
inline constexpr uint64_t kFlagsFixed1 = 1u << 1;
inline constexpr uint64_t PF = 1u << 2;
inline constexpr uint64_t AF = 1u << 4;
inline constexpr uint64_t ZF = 1u << 6;
inline constexpr uint64_t SF = 1u << 7;
inline constexpr uint64_t TF = 1u << 8;
inline constexpr uint64_t IF = 1u << 9;
inline constexpr uint64_t DF = 1u << 10;
inline constexpr uint64_t OF = 1u << 11;
inline constexpr uint64_t IOPL = 3u << 12;
inline constexpr uint64_t NT = 1u << 14;
inline constexpr uint64_t RF = 1u << 16;
inline constexpr uint64_t VM = 1u << 17;
inline constexpr uint64_t AC = 1u << 18;
inline constexpr uint64_t VIF = 1u << 19;
inline constexpr uint64_t VIP = 1u << 20;
inline constexpr uint64_t ID = 1u << 21;
constexpr uint64_t kArithFlags = CF | PF | AF | ZF | SF | OF;

// CR0 / CR4 / EFER bits (SDM Vol. 3A 2.5, 2.2.1).
inline constexpr uint64_t CR0_PE = 1u << 0;
inline constexpr uint64_t CR0_MP = 1u << 1;
inline constexpr uint64_t CR0_EM = 1u << 2;
inline constexpr uint64_t CR0_TS = 1u << 3;
inline constexpr uint64_t CR0_ET = 1u << 4;
inline constexpr uint64_t CR0_NE = 1u << 5;
inline constexpr uint64_t CR0_WP = 1u << 16;
inline constexpr uint64_t CR0_AM = 1u << 18;
inline constexpr uint64_t CR0_NW = 1u << 29;
inline constexpr uint64_t CR0_CD = 1u << 30;
inline constexpr uint64_t CR0_PG = 1u << 31;
inline constexpr uint64_t CR4_VME = 1u << 0;
inline constexpr uint64_t CR4_PVI = 1u << 1;
inline constexpr uint64_t CR4_TSD = 1u << 2;
inline constexpr uint64_t CR4_DE = 1u << 3;
inline constexpr uint64_t CR4_PSE = 1u << 4;
inline constexpr uint64_t CR4_PAE = 1u << 5;
inline constexpr uint64_t CR4_MCE = 1u << 6;
inline constexpr uint64_t CR4_PGE = 1u << 7;
inline constexpr uint64_t CR4_PCE = 1u << 8;
inline constexpr uint64_t CR4_OSFXSR = 1u << 9;
inline constexpr uint64_t CR4_OSXMMEXCPT = 1u << 10;
inline constexpr uint64_t CR4_OSXSAVE = 1u << 18;
inline constexpr uint64_t EFER_SCE = 1u << 0;
inline constexpr uint64_t EFER_LME = 1u << 8;
inline constexpr uint64_t EFER_LMA = 1u << 10;
inline constexpr uint64_t EFER_NXE = 1u << 11;

// A segment register and its hidden part (SDM Vol. 3A 3.4.3). `attr` packs
// descriptor bits 40-47 (type, S, DPL, P) into bits 0-7 and bits 52-55
// (AVL, L, D/B, G) into bits 12-15, the layout VMX uses for access rights.
struct Segment {
  uint16_t selector = 0;
  uint16_t attr = 0;
  uint32_t limit = 0;  // byte-granular (G already applied)
  uint64_t base = 0;

  unsigned type() const { return attr & 0xF; }
  bool s() const { return attr & 0x10; }
  unsigned dpl() const { return (attr >> 5) & 3; }
  bool present() const { return attr & 0x80; }
  bool l() const { return attr & 0x2000; }
  bool db() const { return attr & 0x4000; }
  bool g() const { return attr & 0x8000; }
  bool is_code() const { return s() && (attr & 8); }
  bool conforming() const { return is_code() && (attr & 4); }
  bool readable() const { return !is_code() || (attr & 2); }
  bool writable() const { return s() && !(attr & 8) && (attr & 2); }
  bool expand_down() const { return s() && !(attr & 8) && (attr & 4); }
};

struct DescriptorTable {
  uint64_t base = 0;
  uint16_t limit = 0;
};

// What the interpreter checks per segment on every memory access: the offset
// range [lo, hi] an access must stay within and whether it may read/write.
// `flat` short-cuts all of it (base + offset, no checks) for the common case.
struct SegmentCheck {
  uint64_t base = 0;  // effective base (0 for ES/CS/SS/DS in 64-bit mode)
  uint64_t lo = 0, hi = 0;
  bool flat = false;
  bool readable = false;
  bool writable = false;
};

// Lazy arithmetic flags (DESIGN "Lazy flags"): the last flag-setting
// operation's kind, size and operands; CF/PF/AF/ZF/SF/OF are computed when
// read. kind None means the six flags live in `rflags` itself. Kind Szp
// keeps ZF/SF/PF lazy (from `res`) while CF/AF/OF are already known and held
// as RFLAGS bits in `src`: shifts, rotates, multiplies and bit tests produce
// those cheaply, and a rotate or BT after an ADD then only has to work out
// AF/OF/CF of the ADD, not fold all six into rflags.
enum class FlagOp : uint8_t { None, Add, Adc, Sub, Sbb, Logic, Inc, Dec, Szp };

struct LazyFlags {
  uint64_t res = 0;  // result, truncated to the operation size
  uint64_t dst = 0;  // first operand
  uint64_t src = 0;  // second operand (kind Szp: CF/AF/OF as RFLAGS bits)
  uint8_t aux = 0;   // carry in (ADC/SBB) or preserved CF (INC/DEC)
  FlagOp op = FlagOp::None;
  uint8_t size = 0;  // log2 of the operand size in bytes
};

struct CpuState {
  uint64_t gpr[17] = {};  // 16 GPRs + the always-zero slot
  uint64_t rip = 0;
  uint64_t rflags = kFlagsFixed1;  // arithmetic bits valid only when lazy.op == None
  LazyFlags lazy;
  Segment seg[kSegCount];
  Segment ldtr, tr;
  DescriptorTable gdtr, idtr;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
  uint64_t dr[8] = {};
  uint64_t efer = 0;
  unsigned cpl = 0;
  // MSRs (SDM Vol. 4). Stored and read back; behaviour where noted.
  uint64_t tsc_offset = 0;  // IA32_TSC writes move the TSC relative to virtual time
  uint64_t apic_base = 0xFEE00900;  // BSP, enabled, default base
  uint64_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
  uint64_t star = 0, lstar = 0, cstar = 0, sfmask = 0;
  uint64_t kernel_gs_base = 0;
  uint64_t pat = 0x0007040600070406ULL;
  uint64_t mtrr_def_type = 0;
  uint64_t mtrr_fixed[11] = {};
  uint64_t mtrr_var[16] = {};  // base/mask pairs for 8 variable ranges
  uint64_t misc_enable = 1;    // fast strings
  uint64_t tsc_aux = 0;
  uint64_t bios_sign = 0;
  FpuState fpu;  // x87/MMX/SSE state (cpu/fpu_state.h)
};

}  // namespace pc64
