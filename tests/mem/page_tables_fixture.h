// Hand-built page tables in a PhysicalMemory, for the paging and TLB tests.
#pragma once
#include <cstdint>

#include "mem/paging.h"
#include "mem/physical_memory.h"

namespace pc64::test {

// Entry bits (SDM 4.3-4.5).
constexpr uint64_t P = 1, RW = 2, US = 4, A = 1 << 5, D = 1 << 6, PS = 1 << 7, G = 1 << 8;
constexpr uint64_t XD = 1ULL << 63;
constexpr uint64_t CR0_PG = 1ULL << 31, CR0_WP = 1ULL << 16;
constexpr uint64_t CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_PGE = 1 << 7, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
constexpr uint64_t EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

struct PageTables {
  PhysicalMemory mem{64ULL << 20};
  uint64_t next = 0x200000;  // tables are allocated from 2 MiB upward

  uint64_t alloc() {
    uint64_t p = next;
    next += 0x1000;
    return p;
  }
  uint64_t r64(uint64_t a) { return mem.read(a, 8); }
  uint32_t r32(uint64_t a) { return static_cast<uint32_t>(mem.read(a, 4)); }
  void w64(uint64_t a, uint64_t v) { mem.write(a, 8, v); }
  void w32(uint64_t a, uint32_t v) { mem.write(a, 4, v); }

  // 4-level: returns addresses of the entries it wrote, leaf last.
  struct Path4 {
    uint64_t pml4e, pdpte, pde, pte;
  };
  uint64_t pml4 = 0;
  // Maps a 4 KiB page with `leaf` flags; upper levels get `upper` flags.
  Path4 map4k_4level(uint64_t linear, uint64_t paddr, uint64_t leaf, uint64_t upper = P | RW | US) {
    if (!pml4) pml4 = alloc();
    Path4 p{};
    p.pml4e = pml4 + ((linear >> 39) & 511) * 8;
    uint64_t pdpt = table_at(p.pml4e, upper);
    p.pdpte = pdpt + ((linear >> 30) & 511) * 8;
    uint64_t pd = table_at(p.pdpte, upper);
    p.pde = pd + ((linear >> 21) & 511) * 8;
    uint64_t pt = table_at(p.pde, upper);
    p.pte = pt + ((linear >> 12) & 511) * 8;
    w64(p.pte, paddr | leaf);
    return p;
  }
  Path4 map2m_4level(uint64_t linear, uint64_t paddr, uint64_t leaf, uint64_t upper = P | RW | US) {
    if (!pml4) pml4 = alloc();
    Path4 p{};
    p.pml4e = pml4 + ((linear >> 39) & 511) * 8;
    uint64_t pdpt = table_at(p.pml4e, upper);
    p.pdpte = pdpt + ((linear >> 30) & 511) * 8;
    uint64_t pd = table_at(p.pdpte, upper);
    p.pde = pd + ((linear >> 21) & 511) * 8;
    w64(p.pde, paddr | leaf | PS);
    return p;
  }
  Path4 map1g_4level(uint64_t linear, uint64_t paddr, uint64_t leaf, uint64_t upper = P | RW | US) {
    if (!pml4) pml4 = alloc();
    Path4 p{};
    p.pml4e = pml4 + ((linear >> 39) & 511) * 8;
    uint64_t pdpt = table_at(p.pml4e, upper);
    p.pdpte = pdpt + ((linear >> 30) & 511) * 8;
    w64(p.pdpte, paddr | leaf | PS);
    return p;
  }
  PagingControl long_mode(uint64_t extra_cr4 = 0, uint64_t extra_efer = EFER_NXE) const {
    PagingControl pc;
    pc.cr0 = CR0_PG | CR0_WP | 1;
    pc.cr3 = pml4;
    pc.cr4 = CR4_PAE | extra_cr4;
    pc.efer = EFER_LME | EFER_LMA | extra_efer;
    return pc;
  }

  // Existing table pointed to by the 8-byte entry at `entry_addr`, or a new one.
  uint64_t table_at(uint64_t entry_addr, uint64_t flags) {
    uint64_t e = r64(entry_addr);
    if (e & P) return e & 0x000FFFFFFFFFF000ULL;
    uint64_t t = alloc();
    w64(entry_addr, t | flags);
    return t;
  }
  uint64_t table_at32(uint64_t entry_addr, uint32_t flags) {
    uint32_t e = r32(entry_addr);
    if (e & P) return e & 0xFFFFF000u;
    uint64_t t = alloc();
    w32(entry_addr, static_cast<uint32_t>(t) | flags);
    return t;
  }
};

}  // namespace pc64::test
