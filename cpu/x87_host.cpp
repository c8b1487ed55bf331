// The x87 data instructions (everything in opcodes D8-DF except the control
// group in x87_control.cpp) on x86-64 hosts: the guest's whole x87 state is
// loaded into the host FPU with FRSTOR, the very same x87 instruction runs
// (its memory operand redirected to a host buffer), and FNSAVE brings the
// state back. Results, C0-C3, stack faults, precision/rounding control,
// deferred unmasked exceptions (FSW.ES, reported as #MF at the next waiting
// instruction) are the hardware's by construction. FNSAVE leaves the host FPU
// initialised, the state the x86-64 ABI expects between calls.
//
// The stubs are generated once per process into an executable page: for each
// opcode D8-DF, one per register ModRM (64) and one per memory /reg (8):
//   push [rdx]; popfq; frstor [rsi]; <op>; pushfq; pop [rdx]; fnsave [rsi]; ret
// with rdi = memory operand buffer, rsi = state image, rdx = RFLAGS (FCMOVcc
// reads it, FCOMI/FUCOMI write it).
#include "cpu/x87.h"

#if PC64_X87_HOST
#include <sys/mman.h>


namespace pc64 {

namespace {

using Stub = void (*)(void* mem, void* image, uint64_t* flags);
constexpr unsigned kSlot = 16;
constexpr unsigned kStubs = 8 * (64 + 8);

const uint8_t* stub_page() {
  static const uint8_t* page = [] {
    size_t bytes = (kStubs * kSlot + 4095) & ~size_t(4095);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return static_cast<const uint8_t*>(nullptr);
    auto* b = static_cast<uint8_t*>(p);
    for (unsigned op = 0; op < 8; ++op) {
      for (unsigned k = 0; k < 72; ++k) {
        uint8_t* s = b + (op * 72 + k) * kSlot;
        uint8_t modrm = k < 64 ? static_cast<uint8_t>(0xC0 | k) : static_cast<uint8_t>(((k - 64) << 3) | 7);
        const uint8_t code[kSlot] = {0xFF, 0x32,                            // push qword [rdx]
                                     0x9D,                                  // popfq
                                     0xDD, 0x26,                            // frstor [rsi]
                                     static_cast<uint8_t>(0xD8 + op), modrm,  // the instruction
                                     0x9C,                                  // pushfq
                                     0x8F, 0x02,                            // pop qword [rdx]
                                     0xDD, 0x36,                            // fnsave [rsi]
                                     0xC3,                                  // ret
                                     0xCC, 0xCC, 0xCC};
        std::memcpy(s, code, kSlot);
      }
    }
    if (mprotect(p, bytes, PROT_READ | PROT_EXEC) != 0) return static_cast<const uint8_t*>(nullptr);
    return static_cast<const uint8_t*>(p);
  }();
  return page;
}

// FNSAVE/FRSTOR image in the 32-bit protected-mode layout (SDM Vol. 1 fig. 8-10, 8-12).
struct alignas(16) SaveImage {
  uint8_t b[108];
};

void to_image(const FpuState& f, SaveImage& im) {
  std::memset(im.b, 0, sizeof im.b);
  uint16_t fsw = f.fsw & ~(FSW_ES | FSW_B);  // a pending exception must not trap on the host
  // Only reached with one pending when CR0.NE = 0 (FERR# path, the
  // instruction proceeds): the host FPU re-derives "pending" from unmasked
  // sticky flags after FRSTOR, so those flags are masked for this one
  // instruction (run_stub re-derives ES from the guest's own FCW afterwards).
  uint16_t fcw = f.fcw | (f.fsw & ~f.fcw & kFswExceptions);
  uint16_t tag = f.full_tag();
  std::memcpy(im.b + 0, &fcw, 2);
  std::memcpy(im.b + 4, &fsw, 2);
  std::memcpy(im.b + 8, &tag, 2);
  for (unsigned k = 0; k < 8; ++k) {
    const Float80& r = f.r[(f.top() + k) & 7];
    std::memcpy(im.b + 28 + 10 * k, &r.mant, 8);
    std::memcpy(im.b + 36 + 10 * k, &r.se, 2);
  }
}

void from_image(FpuState& f, const SaveImage& im) {
  uint16_t tag;
  std::memcpy(&f.fsw, im.b + 4, 2);
  std::memcpy(&tag, im.b + 8, 2);
  f.set_full_tag(tag);
  for (unsigned k = 0; k < 8; ++k) {
    Float80& r = f.r[(f.top() + k) & 7];
    std::memcpy(&r.mant, im.b + 28 + 10 * k, 8);
    std::memcpy(&r.se, im.b + 36 + 10 * k, 2);
  }
}

void run_stub(Core& c, unsigned index, void* mem) {
  const uint8_t* page = stub_page();
  if (!page) c.ud();  // no executable memory for the host path
  SaveImage im;
  to_image(c.s.fpu, im);
  uint64_t fl = (c.rflags() & kArithFlags) | kFlagsFixed1;
  reinterpret_cast<Stub>(const_cast<uint8_t*>(page + index * kSlot))(mem, im.b, &fl);
  from_image(c.s.fpu, im);
  if (c.s.fpu.fsw & ~c.s.fpu.fcw & kFswExceptions) c.s.fpu.fsw |= FSW_ES;  // see to_image
  if (c.s.fpu.fsw & FSW_ES) c.s.fpu.fsw |= FSW_B;
  c.set_flags(kArithFlags, fl);  // unchanged unless FCOMI/FUCOMI(P) wrote them
}

}  // namespace

void x87_host_reg(Core& c, const Insn& i) {
  check_fpu_wait(c);
  x87_note_insn(c, i, false);
  run_stub(c, static_cast<unsigned>(i.imm), nullptr);
}

void x87_host_mem(Core& c, const Insn& i) {
  check_fpu_wait(c);
  unsigned bytes = i.aux & 0x1F;
  bool store = i.aux & 0x80;
  uint8_t buf[16] = {};
  uint64_t off = c.ea(i);
  if (store) {
    // Probe for write first so the #PF error code is a write's; then keep
    // the old bytes in the buffer: an unmasked exception leaves memory as it was.
    uint64_t lin = c.linear(i.seg, off, bytes, true);
    c.probe_write(lin, bytes, c.user());
  }
  for (unsigned k = 0; k < bytes; k += 2) {
    uint16_t v = c.read<uint16_t>(i.seg, (off + k) & Core::kAddrMask[i.asize]);
    std::memcpy(buf + k, &v, 2);
  }
  x87_note_insn(c, i, true);
  run_stub(c, static_cast<unsigned>(i.imm), buf);
  if (store) {
    for (unsigned k = 0; k < bytes; k += 2) {
      uint16_t v;
      std::memcpy(&v, buf + k, 2);
      c.write<uint16_t>(i.seg, (off + k) & Core::kAddrMask[i.asize], v);
    }
  }
}

unsigned x87_stub_index(unsigned opcode, unsigned modrm) {
  unsigned op = opcode & 7;
  if ((modrm >> 6) == 3) return op * 72 + (modrm & 63);
  return op * 72 + 64 + ((modrm >> 3) & 7);
}

}  // namespace pc64

#endif
