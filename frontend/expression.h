// Monitor expressions: register names (rax, eax, ax, al, ah, r8d, r8w, r8b,
// rip, rflags, cr0/2/3/4/8, efer, dr0-7, segment selectors), numbers (0x...
// hex, otherwise decimal), `$` before a register is accepted (QEMU style),
// and + - * with parentheses and unary minus; for breakpoint conditions also
// == != < <= > >= (unsigned, 1 or 0), & | and && ||. Arithmetic wraps at 64 bits.
// Evaluation never throws and never changes the guest.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cpu/cpu.h"
#include "frontend/symbols.h"

namespace pc64 {

// A named architectural register, or a slice of one (al = bits 0-7 of RAX,
// ah = bits 8-15, eax = bits 0-31, ...).
struct RegisterRef {
  enum class Kind : uint8_t { Gpr, Rip, Rflags, Cr0, Cr2, Cr3, Cr4, Cr8, Efer, Dr, SegSelector };
  Kind kind = Kind::Gpr;
  uint8_t index = 0;  // GPR number, DR number or SegReg
  uint8_t bits = 64;  // width of the slice
  uint8_t shift = 0;  // bit position of the slice
};

// Case-insensitive; a leading '$' is allowed. nullopt if not a register.
std::optional<RegisterRef> find_register(std::string_view name);

uint64_t read_register(Cpu& cpu, const RegisterRef& r);
// Replaces just the slice (`set eax=1` keeps RAX[63:32], unlike a guest MOV).
// Calls cpu.state_changed() for registers that shape the mode. Returns false
// with `error` set for read-only registers (segment selectors: loading one
// needs a descriptor fetch the monitor does not do).
bool write_register(Cpu& cpu, const RegisterRef& r, uint64_t value, std::string& error);

// Evaluates `text`; on failure returns nullopt and sets `error` to a one-line
// message naming what was wrong.
// Names that are not registers are looked up in `symbols` (if given).
std::optional<uint64_t> evaluate_expression(std::string_view text, Cpu& cpu, std::string& error,
                                            const SymbolTable* symbols = nullptr);

}  // namespace pc64
