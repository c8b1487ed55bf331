// PAE paging's PDPTE registers (SDM Vol. 3A 4.4.1): loaded by MOV to CR3
// (and by the CR0/CR4 writes that enter PAE paging), used by page walks
// instead of memory until the next load, and #GP(0) with CR3 unchanged when
// a present PDPTE has reserved bits set.
#include <doctest/doctest.h>

#include "cpu/cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

constexpr uint64_t kPdpt = 0x10000, kPdA = 0x11000, kPdB = 0x12000;

// Walks `lin` afresh (the soft TLB would hide a PDPTE change).
uint64_t walk(Core& c, uint64_t lin) {
  c.tlb.flush_all();
  return c.translate(lin, AccessKind::Read, false);
}

int fault_of(auto f) {
  try {
    f();
  } catch (const GuestFault& g) {
    return g.vector;
  }
  return -1;
}

}  // namespace

TEST_CASE("PAE PDPTE registers: loaded at MOV CR3 / CR0.PG, stale until reloaded, #GP on reserved bits") {
  PhysicalMemory mem(16ull << 20);
  TestPorts ports;
  Cpu cpu(mem, ports);
  Core& c = cpu.core();
  // PDPTE 0 -> PD A (2 MiB page at 2 MiB); PD B maps the same linear 2 MiB at 4 MiB.
  mem.write(kPdpt, 8, kPdA | 1);
  for (unsigned k = 1; k < 4; ++k) mem.write(kPdpt + 8 * k, 8, 0);
  mem.write(kPdA, 8, 0x200000 | 0x83);
  mem.write(kPdB, 8, 0x400000 | 0x83);

  c.s.cr0 |= CR0_PE;
  c.s.cr3 = kPdpt;
  c.write_cr4(CR4_PAE);
  c.write_cr0(c.s.cr0 | CR0_PG);  // enters PAE paging: loads the PDPTEs
  REQUIRE(c.pae_paging());
  CHECK(walk(c, 0x1234) == 0x201234);

  // The PDPT changes in memory; the registers do not (until CR3 is loaded).
  mem.write(kPdpt, 8, kPdB | 1);
  CHECK(walk(c, 0x1234) == 0x201234);
  c.write_cr3(kPdpt);
  CHECK(walk(c, 0x1234) == 0x401234);

  // A present PDPTE with a reserved bit (bit 1): MOV CR3 raises #GP(0), CR3
  // and the loaded registers stay as they were.
  mem.write(kPdpt + 8, 8, kPdA | 1 | 2);
  mem.write(kPdpt, 8, kPdA | 1);
  CHECK(fault_of([&] { c.write_cr3(kPdpt); }) == kGP);
  CHECK(c.s.cr3 == kPdpt);
  CHECK(walk(c, 0x1234) == 0x401234);
  // A not-present PDPTE's other bits are not checked.
  mem.write(kPdpt + 8, 8, 2);
  c.write_cr3(kPdpt);
  CHECK(walk(c, 0x1234) == 0x201234);

  // Entering PAE paging with a bad PDPTE: MOV CR0 faults, paging stays off.
  c.write_cr0(c.s.cr0 & ~uint64_t(CR0_PG));
  mem.write(kPdpt + 16, 8, kPdA | 1 | (1ull << 5));
  CHECK(fault_of([&] { c.write_cr0(c.s.cr0 | CR0_PG); }) == kGP);
  CHECK((c.s.cr0 & CR0_PG) == 0);
}
