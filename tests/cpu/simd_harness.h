// Differential harness for SIMD/FPU instructions: one instruction runs
// natively in the test process (a generated stub on an RWX page loads the
// XMM/MMX registers, RAX/RCX/RDX, RFLAGS and MXCSR from a state image, runs
// the instruction with RSI pointing at a 64-byte data buffer, and stores
// everything back) and through pc64's decoder + handler on a Core in flat
// 64-bit mode. Only non-faulting, all-exceptions-masked cases run natively,
// so no fork is needed.
#pragma once
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/decoder.h"
#include "cpu_test_util.h"

namespace pc64::test {

struct alignas(64) SimdState {
  Xmm xmm[16];          // 0
  uint64_t mm[8];       // 256
  uint64_t gpr[3];      // 320: RAX, RCX, RDX
  uint64_t flags;       // 344
  uint32_t mxcsr;       // 352
  uint32_t host_mxcsr;  // 356
  uint8_t pad[24];      // 360
  uint8_t mem[64];      // 384: [RSI]
};
static_assert(offsetof(SimdState, mm) == 256 && offsetof(SimdState, gpr) == 320 &&
              offsetof(SimdState, flags) == 344 && offsetof(SimdState, mxcsr) == 352 &&
              offsetof(SimdState, mem) == 384);

class NativeRunner {
 public:
  NativeRunner() {
    page_ = static_cast<uint8_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (page_ == MAP_FAILED) page_ = nullptr;
  }
  ~NativeRunner() {
    if (page_) munmap(page_, 4096);
  }
  bool ok() const { return page_ != nullptr; }

  // Runs `insn` natively on `st` (in place). `mmx` also loads/stores MM0-7
  // and ends with EMMS.
  void run(const uint8_t* insn, size_t n, SimdState& st, bool mmx) {
    code_.clear();
    mem_op({0x0F, 0xAE}, 3, 356);  // stmxcsr host
    mem_op({0x0F, 0xAE}, 2, 352);  // ldmxcsr guest
    for (unsigned k = 0; k < 16; ++k) xmm_op(0x6F, k, 16 * k);
    if (mmx)
      for (unsigned k = 0; k < 8; ++k) mem_op({0x0F, 0x6F}, k, 256 + 8 * k);
    for (unsigned k = 0; k < 3; ++k) mem_op({0x48, 0x8B}, k, 320 + 8 * k);
    mem_op({0x48, 0x8D}, 6, 384);  // lea rsi, [rdi+384]
    mem_op({0xFF}, 6, 344);        // push qword [rdi+344]
    code_.push_back(0x9D);         // popfq
    code_.insert(code_.end(), insn, insn + n);
    code_.push_back(0x9C);    // pushfq
    mem_op({0x8F}, 0, 344);   // pop qword [rdi+344]
    mem_op({0x0F, 0xAE}, 3, 352);
    mem_op({0x0F, 0xAE}, 2, 356);
    for (unsigned k = 0; k < 16; ++k) xmm_op(0x7F, k, 16 * k);
    if (mmx) {
      for (unsigned k = 0; k < 8; ++k) mem_op({0x0F, 0x7F}, k, 256 + 8 * k);
      code_.insert(code_.end(), {0x0F, 0x77});
    }
    for (unsigned k = 0; k < 3; ++k) mem_op({0x48, 0x89}, k, 320 + 8 * k);
    code_.push_back(0xC3);
    std::memcpy(page_, code_.data(), code_.size());
    reinterpret_cast<void (*)(SimdState*)>(page_)(&st);
  }

 private:
  void modrm_disp(unsigned reg, int32_t disp) {
    code_.push_back(static_cast<uint8_t>(0x80 | ((reg & 7) << 3) | 7));  // [rdi + disp32]
    for (int b = 0; b < 4; ++b) code_.push_back(static_cast<uint8_t>(disp >> (8 * b)));
  }
  void mem_op(std::initializer_list<uint8_t> op, unsigned reg, int32_t disp) {
    code_.insert(code_.end(), op);
    modrm_disp(reg, disp);
  }
  void xmm_op(uint8_t op, unsigned k, int32_t disp) {
    code_.push_back(0xF3);
    if (k >= 8) code_.push_back(0x44);
    code_.insert(code_.end(), {0x0F, op});
    modrm_disp(k, disp);
  }
  uint8_t* page_ = nullptr;
  std::vector<uint8_t> code_;
};

// pc64 side: a long-mode machine whose Core runs single decoded instructions.
class Pc64Runner {
 public:
  static constexpr uint64_t kData = 0x200000;
  Pc64Runner() {
    m_.long_mode(0x300000);
    Core& c = core();
    c.s.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    c.s.cr0 = (c.s.cr0 | CR0_MP | CR0_NE) & ~uint64_t(CR0_EM | CR0_TS);
  }
  Core& core() { return m_.cpu.core(); }
  Machine& machine() { return m_; }

  // Decodes and runs one instruction on `st`. Returns "" on success, else
  // why not (undecodable, unimplemented, guest fault #n).
  std::string run(const uint8_t* insn, size_t n, SimdState& st, bool mmx) {
    Core& c = core();
    Insn in;
    if (!ZYAN_SUCCESS(decode_insn(2, insn, n, in))) return "undecodable";
    if (in.handler == &h_undefined) return "unimplemented";
    for (unsigned k = 0; k < 16; ++k) c.s.fpu.xmm[k] = st.xmm[k];
    if (mmx)
      for (unsigned k = 0; k < 8; ++k) c.s.fpu.r[k].mant = st.mm[k];
    c.s.gpr[RAX] = st.gpr[0];
    c.s.gpr[RCX] = st.gpr[1];
    c.s.gpr[RDX] = st.gpr[2];
    c.s.gpr[RSI] = kData;
    c.materialize_flags();
    c.s.rflags = st.flags | 2;
    c.s.fpu.mxcsr = st.mxcsr;
    m_.mem.write_bytes(kData, st.mem, 64);
    c.next_rip = c.s.rip + in.len;
    try {
      in.handler(c, in);
    } catch (const GuestFault& f) {
      return "guest fault #" + std::to_string(f.vector);
    }
    for (unsigned k = 0; k < 16; ++k) st.xmm[k] = c.s.fpu.xmm[k];
    if (mmx)
      for (unsigned k = 0; k < 8; ++k) st.mm[k] = c.s.fpu.r[k].mant;
    st.gpr[0] = c.s.gpr[RAX];
    st.gpr[1] = c.s.gpr[RCX];
    st.gpr[2] = c.s.gpr[RDX];
    st.flags = c.rflags();
    st.mxcsr = c.s.fpu.mxcsr;
    m_.mem.read_bytes(kData, st.mem, 64);
    return "";
  }

 private:
  Machine m_;
};

inline std::string hex_bytes(const uint8_t* p, size_t n) {
  std::string s;
  char b[4];
  for (size_t k = 0; k < n; ++k) {
    snprintf(b, sizeof b, "%02x ", p[k]);
    s += b;
  }
  return s;
}

inline std::string disasm(const uint8_t* p, size_t n) {
  ZydisDisassembledInstruction d;
  if (ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, 0, p, n, &d))) return d.text;
  return "?";
}

// Compares two results; returns a description of the first difference.
inline std::string diff(const SimdState& a, const SimdState& b, bool mmx, uint64_t flag_mask) {
  char buf[160];
  for (unsigned k = 0; k < 16; ++k)
    if (std::memcmp(&a.xmm[k], &b.xmm[k], 16)) {
      snprintf(buf, sizeof buf, "xmm%u native %016llx%016llx pc64 %016llx%016llx", k,
               (unsigned long long)a.xmm[k].u64[1], (unsigned long long)a.xmm[k].u64[0],
               (unsigned long long)b.xmm[k].u64[1], (unsigned long long)b.xmm[k].u64[0]);
      return buf;
    }
  if (mmx)
    for (unsigned k = 0; k < 8; ++k)
      if (a.mm[k] != b.mm[k]) {
        snprintf(buf, sizeof buf, "mm%u native %016llx pc64 %016llx", k, (unsigned long long)a.mm[k],
                 (unsigned long long)b.mm[k]);
        return buf;
      }
  for (unsigned k = 0; k < 3; ++k)
    if (a.gpr[k] != b.gpr[k]) {
      snprintf(buf, sizeof buf, "gpr%u native %016llx pc64 %016llx", k, (unsigned long long)a.gpr[k],
               (unsigned long long)b.gpr[k]);
      return buf;
    }
  if ((a.flags ^ b.flags) & flag_mask) {
    snprintf(buf, sizeof buf, "rflags native %llx pc64 %llx", (unsigned long long)(a.flags & flag_mask),
             (unsigned long long)(b.flags & flag_mask));
    return buf;
  }
  if (a.mxcsr != b.mxcsr) {
    snprintf(buf, sizeof buf, "mxcsr native %x pc64 %x", a.mxcsr, b.mxcsr);
    return buf;
  }
  if (std::memcmp(a.mem, b.mem, 64)) return "memory";
  return "";
}

}  // namespace pc64::test
