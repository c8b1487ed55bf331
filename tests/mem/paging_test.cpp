// Page walks in every paging mode against hand-built page tables.
#include "mem/paging.h"

#include <doctest/doctest.h>

#include <vector>

#include "page_tables_fixture.h"

using namespace pc64;
using namespace pc64::test;

namespace {
constexpr uint32_t kP = kPfPresent, kW = kPfWrite, kU = kPfUser, kR = kPfReserved, kI = kPfFetch;
WalkResult walk(PageTables& t, const PagingControl& pc, uint64_t lin, AccessKind k, bool user = false,
                bool set_ad = true) {
  return walk_page_tables(t.mem, pc, lin, k, user, set_ad);
}
}  // namespace

TEST_CASE("paging off: identity, 32-bit linear, full rights") {
  PageTables t;
  PagingControl pc;
  pc.cr0 = 1;  // PE only
  auto r = walk(t, pc, 0x1234'5678, AccessKind::Write, true);
  CHECK(r.ok);
  CHECK(r.paddr == 0x1234'5678);
  CHECK(r.writable);
  CHECK(r.user);
  CHECK(r.executable);
  CHECK(r.dirty);
  CHECK(walk(t, pc, 0x1'0000'1000ULL, AccessKind::Read).paddr == 0x1000);
}

TEST_CASE("is_canonical48") {
  CHECK(is_canonical48(0));
  CHECK(is_canonical48(0x0000'7FFF'FFFF'FFFFULL));
  CHECK_FALSE(is_canonical48(0x0000'8000'0000'0000ULL));
  CHECK(is_canonical48(0xFFFF'8000'0000'0000ULL));
  CHECK_FALSE(is_canonical48(0xFFFF'7FFF'FFFF'FFFFULL));
  CHECK_FALSE(is_canonical48(0x0001'0000'0000'0000ULL));
}

// ---------------------------------------------------------------- 32-bit paging

TEST_CASE("32-bit paging: 4 KiB page, A on both levels, D only on the PTE for a write") {
  PageTables t;
  uint64_t pd = t.alloc();
  PagingControl pc;
  pc.cr0 = CR0_PG | 1;
  pc.cr3 = pd;
  uint64_t pde = pd + (0x0040'1000 >> 22) * 4;
  uint64_t pt = t.table_at32(pde, P | RW | US);
  uint64_t pte = pt + ((0x0040'1000 >> 12) & 0x3FF) * 4;
  t.w32(pte, 0x0012'3000 | P | RW | US);

  auto r = walk(t, pc, 0x0040'1ABC, AccessKind::Read, true);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x0012'3ABC);
  CHECK(r.page_size == 4096);
  CHECK(r.executable);  // no XD in 32-bit paging
  CHECK((t.r32(pde) & A));
  CHECK((t.r32(pte) & A));
  CHECK_FALSE((t.r32(pte) & D));
  CHECK_FALSE(r.dirty);

  r = walk(t, pc, 0x0040'1ABC, AccessKind::Write, true);
  REQUIRE(r.ok);
  CHECK(r.dirty);
  CHECK((t.r32(pte) & D));
  CHECK_FALSE((t.r32(pde) & D));  // D is ignored in a PDE that points to a table

  // Upper 32 bits of the linear address are ignored outside long mode.
  CHECK(walk(t, pc, 0x5'0040'1ABCULL, AccessKind::Read).paddr == 0x0012'3ABC);
  // Not present: error code has P=0.
  r = walk(t, pc, 0x0040'2000, AccessKind::Write, true);
  CHECK_FALSE(r.ok);
  CHECK(r.error_code == (kW | kU));
  r = walk(t, pc, 0x0080'0000, AccessKind::Read, false);
  CHECK_FALSE(r.ok);
  CHECK(r.error_code == 0);
}

TEST_CASE("32-bit paging: 4 MiB pages need CR4.PSE; PSE-36 upper bits; bit 21 reserved") {
  PageTables t;
  uint64_t pd = t.alloc();
  PagingControl pc;
  pc.cr0 = CR0_PG | 1;
  pc.cr3 = pd;
  pc.cr4 = CR4_PSE;
  uint64_t pde = pd + 2 * 4;  // linear 0x00800000
  t.w32(pde, 0x01C0'0000 | P | RW | PS);

  auto r = walk(t, pc, 0x0081'2345, AccessKind::Write);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x01C1'2345);
  CHECK(r.page_size == (4u << 20));
  CHECK((t.r32(pde) & (A | D)) == (A | D));

  // Without CR4.PSE the PS bit is ignored: the PDE points to a page table at
  // 0x01C00000, which is all zero -> not present.
  pc.cr4 = 0;
  r = walk(t, pc, 0x0081'2345, AccessKind::Read);
  CHECK_FALSE(r.ok);
  CHECK(r.error_code == 0);

  // PSE-36: PDE bits 20:13 are physical address bits 39:32.
  pc.cr4 = CR4_PSE;
  t.w32(pde, 0x0040'0000 | (0xABu << 13) | P | PS);
  r = walk(t, pc, 0x0080'0010, AccessKind::Read);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0xAB'0040'0010ULL);

  t.w32(pde, 0x0040'0000 | (1u << 21) | P | PS | US);
  r = walk(t, pc, 0x0080'0010, AccessKind::Write, true);
  CHECK_FALSE(r.ok);
  CHECK(r.error_code == (kP | kR | kW | kU));
}

TEST_CASE("32-bit paging: I/D is reported only with SMEP (NXE does not apply without PAE)") {
  PageTables t;
  uint64_t pd = t.alloc();
  PagingControl pc;
  pc.cr0 = CR0_PG | 1;
  pc.cr3 = pd;
  pc.cr4 = CR4_PSE;
  pc.efer = EFER_NXE;
  t.w32(pd, 0 | P | RW | PS);  // supervisor 4 MiB page at 0
  auto r = walk(t, pc, 0x1000, AccessKind::Execute, true);
  CHECK(r.error_code == (kP | kU));
  pc.cr4 |= CR4_SMEP;
  r = walk(t, pc, 0x1000, AccessKind::Execute, true);
  CHECK(r.error_code == (kP | kU | kI));
}

TEST_CASE("A20 masks the page-table fetches too") {
  PageTables t;
  // Two page directories that differ only in bit 20 of their address.
  for (uint64_t base : {0x0ULL, 0x10'0000ULL}) {
    t.w32(base + 0x1000, static_cast<uint32_t>(base + 0x3000) | P | RW);  // PDE 0
    t.w32(base + 0x3000 + 4, static_cast<uint32_t>(base ? 0xBB000 : 0xAA000) | P | RW);  // PTE 1
  }
  PagingControl pc;
  pc.cr0 = CR0_PG | 1;
  pc.cr3 = 0x10'1000;
  CHECK(walk(t, pc, 0x1010, AccessKind::Read).paddr == 0xBB010);
  t.mem.set_a20(false);
  CHECK(walk(t, pc, 0x1010, AccessKind::Read).paddr == 0xAA010);
  CHECK((t.r32(0x3004) & A));
}

// ---------------------------------------------------------------- PAE paging

namespace {
struct Pae {
  PageTables t;
  uint64_t pdpt = t.alloc();
  PagingControl pc;
  Pae(bool nxe = true) {
    pc.cr0 = CR0_PG | CR0_WP | 1;
    pc.cr3 = pdpt;
    pc.cr4 = CR4_PAE;
    pc.efer = nxe ? EFER_NXE : 0;
  }
  uint64_t pd(unsigned i) {
    uint64_t e = t.r64(pdpt + i * 8);
    if (e & P) return e & 0xFFFFF000ULL;
    uint64_t d = t.alloc();
    t.w64(pdpt + i * 8, d | P);
    return d;
  }
  // Returns the PTE address.
  uint64_t map4k(uint64_t lin, uint64_t pa, uint64_t flags) {
    uint64_t pde = pd(static_cast<unsigned>(lin >> 30)) + ((lin >> 21) & 511) * 8;
    uint64_t pt = t.table_at(pde, P | RW | US);
    uint64_t pte = pt + ((lin >> 12) & 511) * 8;
    t.w64(pte, pa | flags);
    return pte;
  }
  uint64_t map2m(uint64_t lin, uint64_t pa, uint64_t flags) {
    uint64_t pde = pd(static_cast<unsigned>(lin >> 30)) + ((lin >> 21) & 511) * 8;
    t.w64(pde, pa | flags | PS);
    return pde;
  }
};
}  // namespace

TEST_CASE("PAE paging: 4 KiB and 2 MiB pages, A/D, PDPTE untouched") {
  Pae p;
  uint64_t pte = p.map4k(0x0060'1000, 0x0034'5000, P | RW);
  auto r = walk(p.t, p.pc, 0x0060'1234, AccessKind::Write);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x0034'5234);
  CHECK((p.t.r64(pte) & (A | D)) == (A | D));
  CHECK(p.t.r64(p.pdpt) == (p.pd(0) | P));  // PDPTEs have no A bit to set

  uint64_t pde = p.map2m(0x4020'0000, 0x0A00'0000, P | RW | US);
  r = walk(p.t, p.pc, 0x4021'2345, AccessKind::Read, true);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x0A01'2345);
  CHECK(r.page_size == (2u << 20));
  CHECK((p.t.r64(pde) & (A | D)) == A);

  // 2 MiB page above 4 GiB (PAE reaches MAXPHYADDR).
  p.map2m(0x4040'0000, 0xFF'FFE0'0000ULL, P);
  CHECK(walk(p.t, p.pc, 0x4040'0001, AccessKind::Read).paddr == 0xFF'FFE0'0001ULL);
}

TEST_CASE("PAE paging: NX with NXE, XD reserved without it, bits 62:40 reserved") {
  Pae p;
  p.map4k(0x1000, 0x5000, P | RW | XD);
  CHECK(walk(p.t, p.pc, 0x1000, AccessKind::Read).ok);
  auto r = walk(p.t, p.pc, 0x1000, AccessKind::Execute);
  CHECK_FALSE(r.ok);
  CHECK(r.error_code == (kP | kI));
  CHECK_FALSE(walk(p.t, p.pc, 0x1000, AccessKind::Read).executable);

  Pae q(false);
  q.map4k(0x1000, 0x5000, P | RW | XD);
  r = walk(q.t, q.pc, 0x1000, AccessKind::Read);
  CHECK_FALSE(r.ok);
  CHECK(r.error_code == (kP | kR));
  // Fetch without NXE or SMEP: no I/D.
  r = walk(q.t, q.pc, 0x1000, AccessKind::Execute);
  CHECK(r.error_code == (kP | kR));

  p.map4k(0x2000, 0x5000 | (1ULL << 40), P);
  CHECK(walk(p.t, p.pc, 0x2000, AccessKind::Read).error_code == (kP | kR));
  p.map4k(0x3000, 0x5000 | (1ULL << 52), P);  // reserved in PAE (ignored in 4-level)
  CHECK(walk(p.t, p.pc, 0x3000, AccessKind::Read).error_code == (kP | kR));
  p.map2m(0x0040'0000, 0x0080'0000 | (1ULL << 13), P);  // bits 20:13 of a 2 MiB PDE
  CHECK(walk(p.t, p.pc, 0x0040'0000, AccessKind::Read).error_code == (kP | kR));
  p.map2m(0x0060'0000, 0x0080'0000 | (1ULL << 12), P);  // bit 12 is PAT, not reserved
  CHECK(walk(p.t, p.pc, 0x0060'0000, AccessKind::Read).ok);
}

TEST_CASE("PAE PDPTEs: reserved bits, load_pae_pdptes, cached copies") {
  Pae p;
  p.map4k(0x1000, 0x5000, P | RW);
  uint64_t cached[4];
  REQUIRE(load_pae_pdptes(p.t.mem, p.pc.cr3, cached));
  CHECK(cached[0] == p.t.r64(p.pdpt));

  // A reserved bit (R/W does not exist in a PAE PDPTE) -> #GP at load, RSVD at walk.
  p.t.w64(p.pdpt, p.t.r64(p.pdpt) | RW);
  uint64_t dummy[4];
  CHECK_FALSE(load_pae_pdptes(p.t.mem, p.pc.cr3, dummy));
  CHECK(walk(p.t, p.pc, 0x1000, AccessKind::Read).error_code == (kP | kR));
  // A non-present PDPTE may hold anything.
  p.t.w64(p.pdpt + 8, 0xFFFF'FFFF'FFFF'FFFEULL);
  p.t.w64(p.pdpt, p.t.r64(p.pdpt) & ~RW);
  CHECK(load_pae_pdptes(p.t.mem, p.pc.cr3, dummy));
  CHECK(walk(p.t, p.pc, 0x4000'0000, AccessKind::Read).error_code == 0);

  // With cached PDPTEs, a later change in memory is not seen (SDM 4.4.1).
  p.t.w64(p.pdpt, 0);
  CHECK(walk(p.t, p.pc, 0x1000, AccessKind::Read).error_code == 0);
  p.pc.pae_pdptes = cached;
  auto r = walk(p.t, p.pc, 0x1000, AccessKind::Read);
  CHECK(r.ok);
  CHECK(r.paddr == 0x5000);
}

// ---------------------------------------------------------------- 4-level paging

TEST_CASE("4-level paging: 4 KiB page, A on all four entries, D on the PTE only") {
  PageTables t;
  const uint64_t lin = 0x0000'7F12'3456'7000ULL;
  auto path = t.map4k_4level(lin, 0x0ABC'D000, P | RW | US);
  auto pc = t.long_mode();
  auto r = walk(t, pc, lin + 0x89, AccessKind::Read, true);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x0ABC'D089);
  for (uint64_t e : {path.pml4e, path.pdpte, path.pde, path.pte}) CHECK((t.r64(e) & (A | D)) == A);
  r = walk(t, pc, lin, AccessKind::Write, true);
  REQUIRE(r.ok);
  CHECK(r.dirty);
  CHECK((t.r64(path.pte) & D));
  for (uint64_t e : {path.pml4e, path.pdpte, path.pde}) CHECK_FALSE((t.r64(e) & D));

  // Higher half.
  const uint64_t hi = 0xFFFF'8000'0010'0000ULL;
  t.map4k_4level(hi, 0x0030'0000, P | RW);
  CHECK(walk(t, pc, hi + 5, AccessKind::Read).paddr == 0x0030'0005);
}

TEST_CASE("4-level paging: 2 MiB and 1 GiB pages") {
  PageTables t;
  auto p2 = t.map2m_4level(0x4020'0000, 0x1'2340'0000ULL, P | RW);
  auto p1 = t.map1g_4level(0x80'0000'0000ULL, 0x40'0000'0000ULL, P | RW | US);
  auto pc = t.long_mode();

  auto r = walk(t, pc, 0x4021'2345, AccessKind::Write);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x1'2341'2345ULL);
  CHECK(r.page_size == (2u << 20));
  CHECK((t.r64(p2.pde) & (A | D)) == (A | D));

  r = walk(t, pc, 0x80'1234'5678ULL, AccessKind::Write, true);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x40'1234'5678ULL);
  CHECK(r.page_size == (1ULL << 30));
  CHECK((t.r64(p1.pdpte) & (A | D)) == (A | D));
  CHECK((t.r64(p1.pml4e) & (A | D)) == A);
}

TEST_CASE("4-level paging: reserved bits give RSVD, with the access bits in the error code") {
  struct Case {
    const char* name;
    int level;  // 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE; which entry gets `bits`
    int size;   // 0 = 4 KiB, 2 = 2 MiB, 1 = 1 GiB
    uint64_t bits;
    bool nxe;
    bool ok;
  };
  const Case cases[] = {
      {"PTE bit 40 (above MAXPHYADDR)", 1, 0, 1ULL << 40, true, false},
      {"PTE bit 51", 1, 0, 1ULL << 51, true, false},
      {"PTE bit 52 ignored", 1, 0, 1ULL << 52, true, true},
      {"PTE bit 62 ignored (protection key)", 1, 0, 1ULL << 62, true, true},
      {"PTE XD without NXE", 1, 0, XD, false, false},
      {"PTE XD with NXE", 1, 0, XD, true, true},
      {"PDE bit 45", 2, 0, 1ULL << 45, true, false},
      {"PDPTE bit 40", 3, 0, 1ULL << 40, true, false},
      {"PML4E bit 40", 4, 0, 1ULL << 40, true, false},
      {"PML4E PS", 4, 0, PS, true, false},
      {"PML4E XD without NXE", 4, 0, XD, false, false},
      {"2 MiB page bit 13", 2, 2, 1ULL << 13, true, false},
      {"2 MiB page bit 20", 2, 2, 1ULL << 20, true, false},
      {"2 MiB page bit 12 (PAT)", 2, 2, 1ULL << 12, true, true},
      {"1 GiB page bit 13", 3, 1, 1ULL << 13, true, false},
      {"1 GiB page bit 29", 3, 1, 1ULL << 29, true, false},
      {"1 GiB page bit 12 (PAT)", 3, 1, 1ULL << 12, true, true},
      {"1 GiB page XD without NXE", 3, 1, XD, false, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    PageTables t;
    const uint64_t lin = 0x40'4060'0000ULL;
    PageTables::Path4 path = c.size == 0   ? t.map4k_4level(lin, 0x10'0000, P | RW | US)
                             : c.size == 2 ? t.map2m_4level(lin, 0x20'0000, P | RW | US)
                                           : t.map1g_4level(lin, 0x4000'0000, P | RW | US);
    uint64_t at = c.level == 4 ? path.pml4e : c.level == 3 ? path.pdpte : c.level == 2 ? path.pde : path.pte;
    t.w64(at, t.r64(at) | c.bits);
    auto pc = t.long_mode(0, c.nxe ? EFER_NXE : 0);
    auto r = walk(t, pc, lin, AccessKind::Write, true);
    CHECK(r.ok == c.ok);
    if (!c.ok) {
      CHECK(r.error_code == (kP | kR | kW | kU));
      // No entry gets A or D when the walk faults.
      for (uint64_t e : {path.pml4e, path.pdpte, path.pde, path.pte})
        if (e) CHECK_FALSE((t.r64(e) & (A | D)));
    }
  }
}

TEST_CASE("4-level paging: not-present at each level; error code; nothing set") {
  for (int level = 1; level <= 4; ++level) {
    CAPTURE(level);
    PageTables t;
    const uint64_t lin = 0x1234'5000;
    auto path = t.map4k_4level(lin, 0x10'0000, P | RW | US);
    uint64_t at = level == 4 ? path.pml4e : level == 3 ? path.pdpte : level == 2 ? path.pde : path.pte;
    t.w64(at, t.r64(at) & ~P);
    auto pc = t.long_mode(CR4_SMEP);
    auto r = walk(t, pc, lin, AccessKind::Execute, true);
    CHECK_FALSE(r.ok);
    CHECK(r.error_code == (kU | kI));
    for (uint64_t e : {path.pml4e, path.pdpte, path.pde, path.pte}) CHECK_FALSE((t.r64(e) & A));
  }
}

TEST_CASE("4-level paging: set_ad=false leaves entries alone; global needs CR4.PGE") {
  PageTables t;
  auto path = t.map4k_4level(0x5000, 0x9000, P | RW | G);
  auto pc = t.long_mode();
  auto r = walk(t, pc, 0x5000, AccessKind::Write, false, false);
  REQUIRE(r.ok);
  CHECK_FALSE(r.dirty);
  CHECK_FALSE(r.global);
  for (uint64_t e : {path.pml4e, path.pdpte, path.pde, path.pte}) CHECK_FALSE((t.r64(e) & A));
  pc.cr4 |= CR4_PGE;
  CHECK(walk(t, pc, 0x5000, AccessKind::Read).global);
}

TEST_CASE("4-level paging: a protection fault sets no accessed bits") {
  PageTables t;
  auto path = t.map4k_4level(0x5000, 0x9000, P | RW);  // supervisor page
  auto r = walk(t, t.long_mode(), 0x5000, AccessKind::Read, true);
  CHECK_FALSE(r.ok);
  CHECK(r.error_code == (kP | kU));
  for (uint64_t e : {path.pml4e, path.pdpte, path.pde, path.pte}) CHECK_FALSE((t.r64(e) & A));
}

TEST_CASE("permission table: U/S, R/W, NX, WP, CPL, SMEP, SMAP") {
  struct Case {
    const char* name;
    uint64_t leaf, upper;
    bool user;
    AccessKind kind;
    bool wp;
    uint64_t cr4;
    bool nxe, ac;
    bool ok;
    uint32_t ec;
  };
  const uint64_t URW = P | RW | US, URO = P | US, SRW = P | RW, SRO = P;
  const AccessKind Rd = AccessKind::Read, Wr = AccessKind::Write, Ex = AccessKind::Execute;
  const Case cases[] = {
      {"user read user page", URW, URW, true, Rd, true, 0, true, false, true, 0},
      {"user read supervisor leaf", SRW, URW, true, Rd, true, 0, true, false, false, kP | kU},
      {"user read supervisor upper", URW, SRW, true, Rd, true, 0, true, false, false, kP | kU},
      {"user write RO leaf", URO, URW, true, Wr, true, 0, true, false, false, kP | kW | kU},
      {"user write RO upper", URW, URO, true, Wr, true, 0, true, false, false, kP | kW | kU},
      {"user write RO, WP=0 still faults", URO, URW, true, Wr, false, 0, true, false, false, kP | kW | kU},
      {"user write supervisor RW", SRW, URW, true, Wr, true, 0, true, false, false, kP | kW | kU},
      {"user write user RW", URW, URW, true, Wr, true, 0, true, false, true, 0},
      {"sup write RO, WP=1", SRO, SRW, false, Wr, true, 0, true, false, false, kP | kW},
      {"sup write RO upper, WP=1", SRW, SRO, false, Wr, true, 0, true, false, false, kP | kW},
      {"sup write RO, WP=0", SRO, SRO, false, Wr, false, 0, true, false, true, 0},
      {"sup write user RO, WP=0", URO, URW, false, Wr, false, 0, true, false, true, 0},
      {"sup read user page", URW, URW, false, Rd, true, 0, true, false, true, 0},
      {"user fetch XD leaf", URW | XD, URW, true, Ex, true, 0, true, false, false, kP | kU | kI},
      {"user fetch XD upper", URW, URW | XD, true, Ex, true, 0, true, false, false, kP | kU | kI},
      {"sup fetch XD", SRW | XD, SRW, false, Ex, true, 0, true, false, false, kP | kI},
      {"user read XD page", URW | XD, URW, true, Rd, true, 0, true, false, true, 0},
      {"sup fetch user page, SMEP", URW, URW, false, Ex, true, CR4_SMEP, true, false, false, kP | kI},
      {"sup fetch user page, no SMEP", URW, URW, false, Ex, true, 0, true, false, true, 0},
      {"sup fetch sup page, SMEP", SRW, URW, false, Ex, true, CR4_SMEP, true, false, true, 0},
      {"sup fetch leaf-user under sup upper, SMEP", URW, SRW, false, Ex, true, CR4_SMEP, true, false, true, 0},
      {"user fetch user page, SMEP", URW, URW, true, Ex, true, CR4_SMEP, true, false, true, 0},
      {"user fetch sup page, no NXE no SMEP: no I/D", SRW, URW, true, Ex, true, 0, false, false, false, kP | kU},
      {"user fetch sup page, SMEP, no NXE: I/D", SRW, URW, true, Ex, true, CR4_SMEP, false, false, false,
       kP | kU | kI},
      {"sup read user page, SMAP, AC=0", URW, URW, false, Rd, true, CR4_SMAP, true, false, false, kP},
      {"sup read user page, SMAP, AC=1", URW, URW, false, Rd, true, CR4_SMAP, true, true, true, 0},
      {"sup write user page, SMAP, AC=0", URW, URW, false, Wr, true, CR4_SMAP, true, false, false, kP | kW},
      {"sup write user page, SMAP, AC=1", URW, URW, false, Wr, true, CR4_SMAP, true, true, true, 0},
      {"sup write user RO page, SMAP AC=1 WP=1", URO, URW, false, Wr, true, CR4_SMAP, true, true, false, kP | kW},
      {"sup write user RO page, SMAP AC=0 WP=0", URO, URW, false, Wr, false, CR4_SMAP, true, false, false,
       kP | kW},
      {"sup read sup page, SMAP", SRW, URW, false, Rd, true, CR4_SMAP, true, false, true, 0},
      {"sup fetch user page, SMAP only", URW, URW, false, Ex, true, CR4_SMAP, true, false, true, 0},
      {"user read user page, SMAP", URW, URW, true, Rd, true, CR4_SMAP, true, false, true, 0},
      {"not present, user write", 0, URW, true, Wr, true, 0, true, false, false, kW | kU},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    PageTables t;
    const uint64_t lin = 0x7000'1000;
    t.map4k_4level(lin, 0x30'0000, c.leaf, c.upper);
    auto pc = t.long_mode(c.cr4, c.nxe ? EFER_NXE : 0);
    if (!c.wp) pc.cr0 &= ~CR0_WP;
    pc.ac = c.ac;
    auto r = walk(t, pc, lin, c.kind, c.user);
    CHECK(r.ok == c.ok);
    CHECK(r.error_code == (c.ok ? 0u : c.ec));
  }
}

TEST_CASE("recursive PML4 slot: an entry used at two levels keeps both A and D") {
  PageTables t;
  t.map4k_4level(0x1000, 0x9000, P | RW);
  // PML4[511] points at the PML4 itself; linear 0xFFFF'FFFF'FFFF'F000 then
  // maps the PML4 page, using PML4[511] at all four levels.
  t.w64(t.pml4 + 511 * 8, t.pml4 | P | RW);
  auto r = walk(t, t.long_mode(), 0xFFFF'FFFF'FFFF'F008ULL, AccessKind::Write);
  REQUIRE(r.ok);
  CHECK(r.paddr == t.pml4 + 8);
  CHECK((t.r64(t.pml4 + 511 * 8) & (A | D)) == (A | D));
}

TEST_CASE("page-table entries: A/D stores into a code page are reported; entries under MMIO come from the device") {
  struct Listener : CodeWriteListener {
    std::vector<uint64_t> pages;
    void code_page_written(uint64_t p) override { pages.push_back(p); }
  } l;
  PageTables t;
  t.mem.set_code_write_listener(&l);
  PagingControl pc;
  pc.cr0 = CR0_PG | 1;
  pc.cr4 = CR4_PAE;
  pc.efer = EFER_LME | EFER_LMA;
  auto p = t.map4k_4level(0x40'0000'1000ULL, 0x0012'3000, P | RW | US);
  pc.cr3 = t.pml4;
  const uint64_t pt_page = p.pte & ~0xFFFULL;
  t.mem.mark_code_page(pt_page);
  auto r = walk(t, pc, 0x40'0000'1008ULL, AccessKind::Write, true);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x0012'3008);
  CHECK((t.r64(p.pte) & (A | D)) == (A | D));
  REQUIRE(l.pages.size() == 1);
  CHECK(l.pages[0] == pt_page);
  t.mem.set_code_write_listener(nullptr);

  // A device mapped over the page-table page answers the PTE read.
  struct PteDevice : MmioHandler {
    uint64_t mmio_read(uint64_t, unsigned size) override {
      uint64_t v = 0x0045'6000 | P | RW | US | A | D;
      return size == 8 ? v : v & 0xFFFFFFFFu;
    }
    void mmio_write(uint64_t, unsigned, uint64_t) override {}
  } dev;
  t.mem.map_mmio(pt_page, 0x1000, &dev, "pt");
  r = walk(t, pc, 0x40'0000'1008ULL, AccessKind::Read, true);
  REQUIRE(r.ok);
  CHECK(r.paddr == 0x0045'6008);
}
