// Soft TLB: fill from walks, per-access tags, invalidation semantics.
#include "mem/tlb.h"

#include <doctest/doctest.h>

#include <memory>

#include "page_tables_fixture.h"

using namespace pc64;
using namespace pc64::test;

namespace {
constexpr AccessKind Rd = AccessKind::Read, Wr = AccessKind::Write, Ex = AccessKind::Execute;

// A CPU-like miss handler: walk, then fill from the (A20-masked) page.
struct Mmu {
  PageTables& t;
  PagingControl pc;
  SoftTlb tlb;
  Mmu(PageTables& tables, PagingControl control) : t(tables), pc(control) {}
  bool fill(uint64_t lin, AccessKind k, bool user) {
    WalkResult w = walk_page_tables(t.mem, pc, lin, k, user);
    if (!w.ok) return false;
    auto page = t.mem.page((w.paddr & t.mem.a20_mask()) & PhysicalMemory::kPageMask);
    tlb.fill(lin, w, page, user, pc.cr0 & CR0_WP);
    return true;
  }
};
}  // namespace

TEST_CASE("TLB hit and miss; host pointer is RAM + offset; page-crossing misses") {
  PageTables t;
  t.map4k_4level(0x40'0000'3000ULL, 0x0010'5000, P | RW | US | D);
  auto m = std::make_unique<Mmu>(t, t.long_mode());
  CHECK(m->tlb.lookup(0x40'0000'3010ULL, 4, Rd, false) == nullptr);
  REQUIRE(m->fill(0x40'0000'3010ULL, Rd, false));
  uint8_t* p = m->tlb.lookup(0x40'0000'3010ULL, 4, Rd, false);
  CHECK(p == t.mem.ram_pointer(0x0010'5010));
  CHECK(m->tlb.lookup(0x40'0000'3FF8ULL, 8, Rd, false) == t.mem.ram_pointer(0x0010'5FF8));
  CHECK(m->tlb.lookup(0x40'0000'3FFEULL, 4, Rd, false) == nullptr);  // crosses into the next page
  CHECK(m->tlb.lookup(0x40'0000'4010ULL, 4, Rd, false) == nullptr);  // another page
  // Same index, different page (aliases in a direct-mapped TLB).
  CHECK(m->tlb.lookup(0x40'0000'3010ULL + SoftTlb::kEntries * 4096, 4, Rd, false) == nullptr);
  // The other privilege set is separate.
  CHECK(m->tlb.lookup(0x40'0000'3010ULL, 4, Rd, true) == nullptr);
  CHECK(m->tlb.fills == 1);
}

TEST_CASE("TLB: stale translation until INVLPG or CR3 load") {
  PageTables t;
  auto path = t.map4k_4level(0x5000, 0x0010'5000, P | RW);
  auto m = std::make_unique<Mmu>(t, t.long_mode());
  REQUIRE(m->fill(0x5000, Rd, false));
  t.w64(path.pte, 0x0010'6000 | P | RW);  // guest remaps without invalidating
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) == t.mem.ram_pointer(0x0010'5000));  // stale, as allowed
  m->tlb.invalidate_page(0x5FFF);
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) == nullptr);
  REQUIRE(m->fill(0x5000, Rd, false));
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) == t.mem.ram_pointer(0x0010'6000));

  // INVLPG of another page leaves this one.
  m->tlb.invalidate_page(0x6000);
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) != nullptr);
  // CR3 load drops non-global entries.
  m->tlb.flush_non_global();
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) == nullptr);
}

TEST_CASE("TLB: global pages survive CR3 loads but not INVLPG or a full flush") {
  PageTables t;
  t.map4k_4level(0x5000, 0x0010'5000, P | RW | G);
  t.map4k_4level(0x6000, 0x0010'6000, P | RW);
  auto m = std::make_unique<Mmu>(t, t.long_mode(CR4_PGE));
  REQUIRE(m->fill(0x5000, Rd, false));
  REQUIRE(m->fill(0x6000, Rd, false));
  m->tlb.flush_non_global();
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) != nullptr);
  CHECK(m->tlb.lookup(0x6000, 1, Rd, false) == nullptr);
  m->tlb.invalidate_page(0x5000);
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) == nullptr);
  REQUIRE(m->fill(0x5000, Rd, false));
  m->tlb.flush_all();  // CR4.PGE toggled
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) == nullptr);

  // Without CR4.PGE the G bit means nothing.
  m->pc.cr4 &= ~CR4_PGE;
  REQUIRE(m->fill(0x5000, Rd, false));
  m->tlb.flush_non_global();
  CHECK(m->tlb.lookup(0x5000, 1, Rd, false) == nullptr);
}

TEST_CASE("TLB: write tag only for dirty, writable, directly writable pages") {
  PageTables t;
  t.map4k_4level(0x1000, 0x0010'1000, P | RW);       // clean
  t.map4k_4level(0x2000, 0x0010'2000, P | RW | D);   // dirty
  t.map4k_4level(0x3000, 0x0010'3000, P | D);        // read-only, dirty
  t.map4k_4level(0x4000, 0x0010'4000, P | RW | D);   // will become a code page
  auto m = std::make_unique<Mmu>(t, t.long_mode());

  // Clean page: a read fill must not allow direct writes (D would be skipped).
  REQUIRE(m->fill(0x1000, Rd, false));
  CHECK(m->tlb.lookup(0x1000, 4, Rd, false) != nullptr);
  CHECK(m->tlb.lookup(0x1000, 4, Wr, false) == nullptr);
  REQUIRE(m->fill(0x1000, Wr, false));  // the write walk sets D
  CHECK(m->tlb.lookup(0x1000, 4, Wr, false) == t.mem.ram_pointer(0x0010'1000));

  REQUIRE(m->fill(0x2000, Rd, false));
  CHECK(m->tlb.lookup(0x2000, 4, Wr, false) != nullptr);

  // Read-only page: no write tag with CR0.WP=1; a supervisor may write with WP=0.
  REQUIRE(m->fill(0x3000, Rd, false));
  CHECK(m->tlb.lookup(0x3000, 4, Wr, false) == nullptr);
  m->pc.cr0 &= ~CR0_WP;
  REQUIRE(m->fill(0x3000, Rd, false));
  CHECK(m->tlb.lookup(0x3000, 4, Wr, false) != nullptr);

  // Code page: reads and fetches direct, writes slow (self-modifying code).
  t.mem.mark_code_page(0x0010'4000);
  REQUIRE(m->fill(0x4000, Rd, false));
  CHECK(m->tlb.lookup(0x4000, 4, Rd, false) != nullptr);
  CHECK(m->tlb.lookup(0x4000, 4, Ex, false) != nullptr);
  CHECK(m->tlb.lookup(0x4000, 4, Wr, false) == nullptr);
}

TEST_CASE("TLB: ROM has no write tag, MMIO no tags at all (paging off)") {
  PageTables t;
  t.mem.map_rom(0xFFFF'0000, std::vector<uint8_t>(0x10000, 0x90), "bios");
  struct Dev : MmioHandler {
    uint64_t mmio_read(uint64_t, unsigned) override { return 0; }
    void mmio_write(uint64_t, unsigned, uint64_t) override {}
  } dev;
  t.mem.map_mmio(0xFEE0'0000, 0x1000, &dev, "lapic");
  PagingControl pc;  // no paging
  auto m = std::make_unique<Mmu>(t, pc);
  REQUIRE(m->fill(0xFFFF'F000, Rd, false));
  uint8_t* p = m->tlb.lookup(0xFFFF'FFF0, 1, Ex, false);
  REQUIRE(p != nullptr);
  CHECK(*p == 0x90);
  CHECK(m->tlb.lookup(0xFFFF'FFF0, 1, Wr, false) == nullptr);
  REQUIRE(m->fill(0xFEE0'0000, Rd, false));
  CHECK(m->tlb.lookup(0xFEE0'0020, 4, Rd, false) == nullptr);
  CHECK(m->tlb.lookup(0xFEE0'0020, 4, Wr, false) == nullptr);
  // Plain RAM with paging off: all three tags.
  REQUIRE(m->fill(0x7000, Rd, false));
  CHECK(m->tlb.lookup(0x7000, 4, Wr, false) == t.mem.ram_pointer(0x7000));
  CHECK(m->tlb.lookup(0x7000, 4, Ex, false) == t.mem.ram_pointer(0x7000));
}

TEST_CASE("TLB: PAM read-ROM/write-RAM page keeps writes on the slow path") {
  PageTables t;
  t.mem.map_rom(0xF0000, std::vector<uint8_t>(0x10000, 0xAA), "bios-low");
  t.mem.set_legacy_routing(0xF0000, 0x10000, false, true);
  auto m = std::make_unique<Mmu>(t, PagingControl{});
  REQUIRE(m->fill(0xF0000, Rd, false));
  uint8_t* p = m->tlb.lookup(0xF0000, 1, Rd, false);
  REQUIRE(p != nullptr);
  CHECK(*p == 0xAA);
  CHECK(m->tlb.lookup(0xF0000, 1, Wr, false) == nullptr);
}

TEST_CASE("TLB: execute tag follows NX and SMEP; SMAP keeps supervisor data access slow") {
  PageTables t;
  t.map4k_4level(0x1000, 0x0010'1000, P | RW | D | XD);
  t.map4k_4level(0x2000, 0x0010'2000, P | RW | US | D);
  auto m = std::make_unique<Mmu>(t, t.long_mode(CR4_SMEP | CR4_SMAP));
  REQUIRE(m->fill(0x1000, Rd, false));
  CHECK(m->tlb.lookup(0x1000, 1, Rd, false) != nullptr);
  CHECK(m->tlb.lookup(0x1000, 1, Ex, false) == nullptr);

  // User page, supervisor set: SMEP forbids fetch, SMAP depends on AC -> slow.
  m->pc.ac = true;
  REQUIRE(m->fill(0x2000, Rd, false));  // allowed with AC=1...
  CHECK(m->tlb.lookup(0x2000, 1, Rd, false) == nullptr);  // ...but never cached
  CHECK(m->tlb.lookup(0x2000, 1, Wr, false) == nullptr);
  CHECK(m->tlb.lookup(0x2000, 1, Ex, false) == nullptr);
  // User set: everything direct.
  REQUIRE(m->fill(0x2000, Rd, true));
  CHECK(m->tlb.lookup(0x2000, 1, Rd, true) != nullptr);
  CHECK(m->tlb.lookup(0x2000, 1, Wr, true) != nullptr);
  CHECK(m->tlb.lookup(0x2000, 1, Ex, true) != nullptr);
  // Without SMEP/SMAP the supervisor set caches the user page too.
  m->pc.cr4 &= ~(CR4_SMEP | CR4_SMAP);
  REQUIRE(m->fill(0x2000, Rd, false));
  CHECK(m->tlb.lookup(0x2000, 1, Rd, false) != nullptr);
  CHECK(m->tlb.lookup(0x2000, 1, Ex, false) != nullptr);
}

TEST_CASE("TLB: user set gets no tags a supervisor page would need") {
  PageTables t;
  t.map4k_4level(0x1000, 0x0010'1000, P | RW | D);       // supervisor
  t.map4k_4level(0x2000, 0x0010'2000, P | US | D);       // user read-only
  auto m = std::make_unique<Mmu>(t, t.long_mode());
  // The CPU fills the user set only after a successful user walk, but fill()
  // itself must not open a supervisor page to CPL 3.
  WalkResult w = walk_page_tables(t.mem, m->pc, 0x1000, Rd, false);
  m->tlb.fill(0x1000, w, t.mem.page(0x0010'1000), true, true);
  CHECK(m->tlb.lookup(0x1000, 1, Rd, true) == nullptr);
  CHECK(m->tlb.lookup(0x1000, 1, Wr, true) == nullptr);
  CHECK(m->tlb.lookup(0x1000, 1, Ex, true) == nullptr);
  // User read-only page: WP=0 does not let CPL 3 write.
  m->pc.cr0 &= ~CR0_WP;
  REQUIRE(m->fill(0x2000, Rd, true));
  CHECK(m->tlb.lookup(0x2000, 1, Rd, true) != nullptr);
  CHECK(m->tlb.lookup(0x2000, 1, Wr, true) == nullptr);
}

TEST_CASE("TLB: INVLPG anywhere in a large page drops every cached piece") {
  PageTables t;
  t.map2m_4level(0x4000'0000, 0x0020'0000, P | RW | D);
  t.map2m_4level(0x4060'0000, 0x0040'0000, P | RW | D | G);
  t.map4k_4level(0x7000, 0x0010'7000, P | RW | G);
  auto m = std::make_unique<Mmu>(t, t.long_mode(CR4_PGE));
  REQUIRE(m->fill(0x4000'1000, Rd, false));
  REQUIRE(m->fill(0x4000'5000, Rd, false));
  REQUIRE(m->fill(0x4060'3000, Rd, false));
  REQUIRE(m->fill(0x7000, Rd, false));
  CHECK(m->tlb.lookup(0x4000'5008, 8, Rd, false) == t.mem.ram_pointer(0x0020'5008));
  m->tlb.invalidate_page(0x401F'F000);  // last 4 KiB of the first large page
  CHECK(m->tlb.lookup(0x4000'1000, 1, Rd, false) == nullptr);
  CHECK(m->tlb.lookup(0x4000'5000, 1, Rd, false) == nullptr);
  CHECK(m->tlb.lookup(0x4060'3000, 1, Rd, false) != nullptr);  // other large page kept
  CHECK(m->tlb.lookup(0x7000, 1, Rd, false) != nullptr);       // unrelated global kept
  // A global large page is dropped too.
  m->tlb.invalidate_page(0x4070'0000);
  CHECK(m->tlb.lookup(0x4060'3000, 1, Rd, false) == nullptr);
  // After a CR3 load that keeps a global large piece, INVLPG still finds it.
  REQUIRE(m->fill(0x4060'3000, Rd, false));
  m->tlb.flush_non_global();
  CHECK(m->tlb.lookup(0x4060'3000, 1, Rd, false) != nullptr);
  m->tlb.invalidate_page(0x4060'0000);
  CHECK(m->tlb.lookup(0x4060'3000, 1, Rd, false) == nullptr);
}

TEST_CASE("TLB: invalidate_physical drops every linear alias of a physical page") {
  PageTables t;
  t.map4k_4level(0x1000, 0x0010'5000, P | RW | D);
  t.map4k_4level(0x9000, 0x0010'5000, P | RW | D | US);
  t.map4k_4level(0x2000, 0x0010'6000, P | RW | D);
  auto m = std::make_unique<Mmu>(t, t.long_mode());
  REQUIRE(m->fill(0x1000, Wr, false));
  REQUIRE(m->fill(0x9000, Wr, true));
  REQUIRE(m->fill(0x2000, Wr, false));
  m->tlb.invalidate_physical(0x0010'5000);
  CHECK(m->tlb.lookup(0x1000, 1, Wr, false) == nullptr);
  CHECK(m->tlb.lookup(0x9000, 1, Wr, true) == nullptr);
  CHECK(m->tlb.lookup(0x2000, 1, Wr, false) != nullptr);
}

TEST_CASE("TLB: with A20 off, invalidate_physical also finds the unmasked alias") {
  PageTables t;
  auto m = std::make_unique<Mmu>(t, PagingControl{});
  t.mem.set_a20(false);
  REQUIRE(m->fill(0x10'5000, Wr, false));  // wraps to physical 0x5000
  CHECK(m->tlb.lookup(0x10'5000, 1, Wr, false) == t.mem.ram_pointer(0x5000));
  m->tlb.invalidate_physical(0x5000);
  CHECK(m->tlb.lookup(0x10'5000, 1, Wr, false) == nullptr);
}
