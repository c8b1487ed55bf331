// The soft TLB keeps supervisor and user translations apart, and the memory
// fast path uses the set of the current CPL, which Core keeps rather than
// testing CPL per access. Every instruction that changes CPL must switch it:
// a CPL 3 access to a supervisor page whose translation the supervisor set
// holds must still #PF after each way down to ring 3.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

constexpr uint64_t kSupervisorPage = 0x400000;  // a 2 MiB page made supervisor-only
constexpr uint64_t kIdt = 0x200000, kTss = 0x201000;

// mov rax, [0x400000]: -1 at CPL 0; #PF(P, U) at CPL 3.
int read_supervisor_page(Core& c, uint32_t* error = nullptr) {
  return run_insn64(c, {0x48, 0x8B, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00}, error);
}

void write_stack(Machine& m, uint64_t rsp, std::initializer_list<uint64_t> qwords) {
  for (uint64_t q : qwords) {
    m.mem.write(rsp, 8, q);
    rsp += 8;
  }
}

}  // namespace

TEST_CASE("privilege: the TLB set follows CPL through SYSRET, SYSCALL, IRETQ, INT, RETF, SYSEXIT, SYSENTER") {
  Machine m;
  m.long_mode(0x1000);
  Core& c = m.cpu.core();
  // PD entry 2 (4-6 MiB): present, writable, 2 MiB, not user.
  m.mem.write(0x103000 + 8 * 2, 8, kSupervisorPage | 0x83);
  // Ring 3 code/data are GDT entries 0x28/0x20 (Cpu::enter_long_mode_identity);
  // INT 0x80 is a DPL 3 interrupt gate to ring 0 with RSP0 from the TSS.
  auto& st = m.s();
  st.efer |= EFER_SCE;
  st.star = (0x18ull << 48) | (0x08ull << 32);
  st.lstar = 0x1000;
  st.sysenter_cs = 0x08;
  st.sysenter_esp = 0x60000;
  st.sysenter_eip = 0x1000;
  st.idtr = {kIdt, 0xFFF};
  const uint64_t gate = kIdt + 16 * 0x80, handler = 0x3000;
  m.mem.write(gate, 4, (0x08u << 16) | (handler & 0xFFFF));
  m.mem.write(gate + 4, 4, (handler & 0xFFFF0000) | 0x8000 | (3u << 13) | (0xEu << 8));
  m.mem.write(gate + 8, 8, 0);
  st.tr.selector = 0x30;
  st.tr.base = kTss;
  st.tr.limit = 0x67;
  st.tr.attr = 0x8B;
  m.mem.write(kTss + 4, 8, 0x60000);  // RSP0
  m.cpu.state_changed();
  st.gpr[RSP] = 0x70000;

  auto at_ring3_faults = [&](const char* how) {
    INFO("after " << std::string(how));
    CHECK(c.s.cpl == 3);
    uint32_t err = 0;
    CHECK(read_supervisor_page(c, &err) == kPF);
    CHECK(err == 5);  // present, read, user
  };
  auto at_ring0_reads = [&](const char* how) {
    INFO("after " << std::string(how));
    CHECK(c.s.cpl == 0);
    CHECK(read_supervisor_page(c) == -1);
  };

  at_ring0_reads("start");  // the supervisor set now holds the page
  st.gpr[RCX] = 0x1000;
  st.gpr[R11] = 0x202;
  CHECK(run_insn64(c, {0x48, 0x0F, 0x07}) == -1);  // sysretq
  at_ring3_faults("SYSRET");

  CHECK(run_insn64(c, {0x0F, 0x05}) == -1);  // syscall
  at_ring0_reads("SYSCALL");

  st.gpr[RSP] = 0x70000;
  write_stack(m, 0x70000, {0x1000, 0x2B, 0x202, 0x70000, 0x23});
  CHECK(run_insn64(c, {0x48, 0xCF}) == -1);  // iretq
  at_ring3_faults("IRETQ");

  CHECK(run_insn64(c, {0xCD, 0x80}) == -1);  // int 0x80
  CHECK(c.next_rip == handler);
  at_ring0_reads("INT");

  st.gpr[RSP] = 0x70000;
  write_stack(m, 0x70000, {0x1000, 0x2B, 0x70000, 0x23});
  CHECK(run_insn64(c, {0x48, 0xCB}) == -1);  // retfq to ring 3
  at_ring3_faults("RETF");

  CHECK(run_insn64(c, {0xCD, 0x80}) == -1);
  at_ring0_reads("INT");
  st.gpr[RDX] = 0x1000;
  st.gpr[RCX] = 0x70000;
  CHECK(run_insn64(c, {0x48, 0x0F, 0x35}) == -1);  // sysexitq
  at_ring3_faults("SYSEXIT");

  CHECK(run_insn64(c, {0x0F, 0x34}) == -1);  // sysenter
  at_ring0_reads("SYSENTER");
}
