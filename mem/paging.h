// Page-table walks for every x86 paging mode (Intel SDM Vol. 3A ch. 4):
// none, 32-bit (4 KiB / 4 MiB with PSE, PSE-36), PAE (4 KiB / 2 MiB, NX) and
// 4-level IA-32e (4 KiB / 2 MiB / 1 GiB). The walker sets accessed/dirty bits
// as hardware does and reports faults as a #PF error code; it never throws.
#pragma once
#include <cstdint>

#include "mem/physical_memory.h"

namespace pc64 {

// The control-register bits that shape a walk, copied from the CPU.
struct PagingControl {
  uint64_t cr0 = 0;   // PG (bit 31), WP (bit 16)
  uint64_t cr3 = 0;
  uint64_t cr4 = 0;   // PSE (4), PAE (5), PGE (7), SMEP (20), SMAP (21)
  uint64_t efer = 0;  // LMA (10), NXE (11)
  bool ac = false;    // RFLAGS.AC, for SMAP
  // PAE paging only: the four PDPTEs the CPU loaded when CR3 was written (see
  // load_pae_pdptes). Real hardware reads PDPTEs at MOV CR3 / CR0 / CR4 time
  // and does not see later changes to them in memory until the next load
  // (SDM 4.4.1). When this is null the walker reads the PDPTE from memory at
  // walk time instead, which differs only if the guest edits a live PDPT
  // without reloading CR3.
  const uint64_t* pae_pdptes = nullptr;
};

enum class AccessKind : uint8_t { Read = 0, Write = 1, Execute = 2 };

// #PF error-code bits (SDM 4.7).
enum PfError : uint32_t {
  kPfPresent = 1u << 0,   // P: the fault was a protection violation (page present)
  kPfWrite = 1u << 1,     // W/R
  kPfUser = 1u << 2,      // U/S: access from CPL 3
  kPfReserved = 1u << 3,  // RSVD: a reserved bit was set in a paging entry
  kPfFetch = 1u << 4,     // I/D: instruction fetch (only with NX or SMEP enabled)
};

struct WalkResult {
  bool ok = false;
  uint64_t paddr = 0;        // translated address (not A20-masked)
  uint64_t page_size = 4096; // 4 KiB, 2 MiB, 4 MiB or 1 GiB
  uint32_t error_code = 0;   // #PF error code when !ok
  // Effective permissions of the whole path, so a TLB can cache them:
  bool writable = true;      // R/W combined across levels
  bool user = true;          // U/S combined across levels
  bool executable = true;    // no NX bit on the path (or NXE off)
  bool global = false;       // G bit of the final entry (with CR4.PGE)
  bool dirty = false;        // D bit of the final entry is set (after this walk)
  // CR4.SMEP / CR4.SMAP as seen by this walk, so a TLB fill can keep the
  // accesses they restrict (supervisor fetch / data access to a user page) on
  // the slow path.
  bool smep = false;
  bool smap = false;
};

// Translates `linear` for an access of `kind` at the given privilege
// (`user` = CPL 3 data/fetch, false for supervisor and for implicit
// supervisor accesses such as descriptor-table reads). With `set_ad`, sets
// accessed bits along the path and the dirty bit on a write, as hardware does;
// a fault sets nothing it would not have set. `linear` must already be
// canonical in IA-32e mode (the CPU raises #GP/#SS for that, not #PF).
//
// SMAP (SDM 4.6.1): an explicit supervisor data access to a user page is
// allowed when `pc.ac` is set. Implicit supervisor accesses (GDT/IDT/TSS
// reads, also at CPL 3) are always checked: pass `user` = false and
// `pc.ac` = false for those.
//
// Paging mode: CR0.PG=0 -> none (linear truncated to 32 bits, identity);
// EFER.LMA=1 -> 4-level; else CR4.PAE=1 -> PAE; else 32-bit paging.
// MAXPHYADDR is kMaxPhysAddrBits; PSE-36 and 1 GiB pages are supported.
// Paging-structure entries are fetched through `mem` with its A20 mask applied.
WalkResult walk_page_tables(PhysicalMemory& mem, const PagingControl& pc, uint64_t linear, AccessKind kind,
                            bool user, bool set_ad = true);

// Paging mode helpers.
inline bool paging_enabled(const PagingControl& pc) { return pc.cr0 & (1ULL << 31); }

// The physical-address width pc64 reports in CPUID 0x80000008 (and the width
// reserved-bit checks use).
constexpr unsigned kMaxPhysAddrBits = 40;

// Bits 63:47 all equal (SDM 3.3.7.1). The CPU raises #GP/#SS, never #PF, for
// a non-canonical address in 64-bit mode.
inline bool is_canonical48(uint64_t linear) {
  return static_cast<uint64_t>(static_cast<int64_t>(linear << 16) >> 16) == linear;
}

// PAE paging: reads the four PDPTEs at CR3[31:5] into `out`, as the CPU does
// on MOV CR3 (and on the CR0/CR4 writes that enter PAE paging). Returns false
// if a present PDPTE has a reserved bit set; the CPU must then raise #GP(0)
// and leave CR3 unchanged (SDM 4.4.1).
bool load_pae_pdptes(PhysicalMemory& mem, uint64_t cr3, uint64_t out[4]);

}  // namespace pc64
