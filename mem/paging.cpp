// Page-table walks (Intel SDM Vol. 3A chapter 4). One generic walk over a
// per-mode description of the levels: each level reads one entry, checks
// P and the reserved bits, combines R/W, U/S and XD, and either descends or
// maps a page. Access rights are decided once the walk reached a page
// (SDM 4.6), and only a walk that succeeds sets accessed/dirty bits (SDM 4.8).
#include "mem/paging.h"

#include <cstring>

namespace pc64 {

namespace {

// Paging-structure entry bits (SDM 4.3 - 4.5, tables 4-4 ... 4-20).
constexpr uint64_t kP = 1ULL << 0;
constexpr uint64_t kRW = 1ULL << 1;
constexpr uint64_t kUS = 1ULL << 2;
constexpr uint64_t kA = 1ULL << 5;
constexpr uint64_t kD = 1ULL << 6;
constexpr uint64_t kPS = 1ULL << 7;
constexpr uint64_t kG = 1ULL << 8;
constexpr uint64_t kXD = 1ULL << 63;

constexpr uint64_t kCr0WP = 1ULL << 16;
constexpr uint64_t kCr4PSE = 1ULL << 4;
constexpr uint64_t kCr4PAE = 1ULL << 5;
constexpr uint64_t kCr4PGE = 1ULL << 7;
constexpr uint64_t kCr4SMEP = 1ULL << 20;
constexpr uint64_t kCr4SMAP = 1ULL << 21;
constexpr uint64_t kEferLMA = 1ULL << 10;
constexpr uint64_t kEferNXE = 1ULL << 11;

// Bits M..51 of a 64-bit entry: physical-address bits above MAXPHYADDR.
constexpr uint64_t kAboveMaxPhys = ((1ULL << 52) - 1) & ~((1ULL << kMaxPhysAddrBits) - 1);
// Bits M-1..12: the address field of a 64-bit entry or of CR3.
constexpr uint64_t kAddr4K = ((1ULL << kMaxPhysAddrBits) - 1) & ~0xFFFULL;

constexpr uint64_t bits(unsigned hi, unsigned lo) { return ((~0ULL) >> (63 - hi)) & ~((1ULL << lo) - 1); }

// PAE PDPTE (table 4-8): bits 2:1, 8:5 and 63:M are reserved; there is no
// R/W, U/S or XD at this level.
constexpr uint64_t kPaePdpteReserved = bits(2, 1) | bits(8, 5) | bits(63, kMaxPhysAddrBits);

// One paging-structure entry the walk used, for the A/D update at the end.
struct UsedEntry {
  uint64_t addr;  // physical address (A20 applied)
};

// Paging-structure entries are almost always in plain RAM: read and update
// them through a host pointer there (one range check), through the physical
// map otherwise (and for stores to pages holding decoded code, which must be
// reported).
inline uint64_t read_entry(PhysicalMemory& mem, uint64_t addr, unsigned size) {
  if (const uint8_t* p = mem.direct_ram(addr)) {
    if (size == 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  return mem.read(addr, size);
}
inline void write_entry_low(PhysicalMemory& mem, uint64_t addr, uint32_t v) {
  if (uint8_t* p = mem.direct_ram_for_write(addr)) std::memcpy(p, &v, 4);
  else mem.write(addr, 4, v);
}

class Walk {
 public:
  Walk(PhysicalMemory& mem, const PagingControl& pc, AccessKind kind, bool user)
      : mem_(mem), pc_(pc), kind_(kind), user_(user) {
    nxe_ = pc.efer & kEferNXE;
  }

  WalkResult run(uint64_t linear, bool set_ad);

 private:
  // Reads an entry (4 or 8 bytes) at `addr`, remembering it for A/D updates.
  uint64_t fetch(uint64_t addr, unsigned size) {
    addr &= mem_.a20_mask();
    used_[n_used_++] = UsedEntry{addr};
    return read_entry(mem_, addr, size);
  }
  // Combines one entry's access-right bits into the path (SDM 4.6: a right
  // is granted only if every entry on the path grants it).
  void combine(uint64_t e, bool has_rights, bool has_xd) {
    if (has_rights) {
      rw_ &= (e & kRW) != 0;
      us_ &= (e & kUS) != 0;
    }
    if (has_xd && nxe_) xd_ |= (e & kXD) != 0;
  }
  WalkResult fault(uint32_t extra) const {
    WalkResult r;
    r.ok = false;
    r.error_code = extra | base_error_code();
    return r;
  }
  uint32_t base_error_code() const {
    uint32_t ec = 0;
    if (kind_ == AccessKind::Write) ec |= kPfWrite;
    if (user_) ec |= kPfUser;
    // I/D (SDM 4.7): only when SMEP is on, or NXE with PAE/4-level paging.
    if (kind_ == AccessKind::Execute &&
        ((pc_.cr4 & kCr4SMEP) || ((pc_.cr4 & kCr4PAE) && nxe_)))
      ec |= kPfFetch;
    return ec;
  }
  bool access_allowed() const;

  WalkResult walk_32bit(uint64_t linear, uint64_t& final_entry);
  WalkResult walk_pae(uint64_t linear, uint64_t& final_entry);
  WalkResult walk_4level(uint64_t linear, uint64_t& final_entry);
  WalkResult walk_pd(uint64_t pd_base, uint64_t linear, uint64_t rsvd, uint64_t& final_entry);

  PhysicalMemory& mem_;
  const PagingControl& pc_;
  AccessKind kind_;
  bool user_;
  bool nxe_ = false;
  bool rw_ = true, us_ = true, xd_ = false;
  UsedEntry used_[4];
  int n_used_ = 0;
};

// SDM 4.6.1: supervisor-mode and user-mode access rights.
bool Walk::access_allowed() const {
  const bool smap = pc_.cr4 & kCr4SMAP;
  const bool smep = pc_.cr4 & kCr4SMEP;
  const bool wp = pc_.cr0 & kCr0WP;
  const bool user_page = us_;  // U/S = 1 in every entry on the path
  switch (kind_) {
    case AccessKind::Read:
      if (user_) return user_page;
      return !(smap && user_page && !pc_.ac);
    case AccessKind::Write:
      if (user_) return user_page && rw_;  // CR0.WP does not matter at CPL 3
      if (smap && user_page && !pc_.ac) return false;
      return rw_ || !wp;
    case AccessKind::Execute:
      if (xd_) return false;
      if (user_) return user_page;
      return !(smep && user_page);
  }
  return false;
}

// 32-bit paging (SDM 4.3): CR3[31:12] -> PD -> (4 MiB page | PT -> 4 KiB page).
WalkResult Walk::walk_32bit(uint64_t linear, uint64_t& final_entry) {
  WalkResult r;
  uint64_t pde = fetch((pc_.cr3 & 0xFFFFF000ULL) + ((linear >> 22) & 0x3FF) * 4, 4);
  if (!(pde & kP)) return fault(0);
  combine(pde, true, false);
  if ((pde & kPS) && (pc_.cr4 & kCr4PSE)) {
    // 4 MiB page (table 4-4). PSE-36: PDE bits 20:13 are physical bits 39:32;
    // bit 21 is reserved.
    if (pde & (1ULL << 21)) return fault(kPfPresent | kPfReserved);
    uint64_t hi = (pde >> 13) & 0xFF;
    r.paddr = (pde & 0xFFC00000ULL) | (hi << 32) | (linear & 0x3FFFFF);
    r.page_size = 4ULL << 20;
    final_entry = pde;
    r.ok = true;
    return r;
  }
  // With CR4.PSE = 0 the PS bit is ignored: the PDE points to a page table.
  uint64_t pte = fetch((pde & 0xFFFFF000ULL) + ((linear >> 12) & 0x3FF) * 4, 4);
  if (!(pte & kP)) return fault(0);
  combine(pte, true, false);
  r.paddr = (pte & 0xFFFFF000ULL) | (linear & 0xFFF);
  r.page_size = 4096;
  final_entry = pte;
  r.ok = true;
  return r;
}

// PAE paging (SDM 4.4): CR3[31:5] -> PDPT (4 entries) -> PD -> (2 MiB | PT).
WalkResult Walk::walk_pae(uint64_t linear, uint64_t& final_entry) {
  WalkResult r;
  const uint64_t xd_rsvd = nxe_ ? 0 : kXD;  // XD is reserved while EFER.NXE = 0
  const uint64_t rsvd = bits(62, kMaxPhysAddrBits) | xd_rsvd;
  unsigned pdpt_index = (linear >> 30) & 3;
  uint64_t pdpte;
  if (pc_.pae_pdptes) {
    pdpte = pc_.pae_pdptes[pdpt_index];
  } else {
    // Read at walk time (see PagingControl::pae_pdptes). PDPTEs have no A
    // bit in PAE paging, so this is not remembered for the A/D update.
    pdpte = mem_.read(((pc_.cr3 & 0xFFFFFFE0ULL) + pdpt_index * 8) & mem_.a20_mask(), 8);
  }
  if (!(pdpte & kP)) return fault(0);
  // Hardware would have raised #GP at the CR3 load; at walk time the best
  // equivalent is a reserved-bit #PF.
  if (pdpte & kPaePdpteReserved) return fault(kPfPresent | kPfReserved);
  return walk_pd(pdpte & kAddr4K, linear, rsvd, final_entry);
}

// 4-level paging (SDM 4.5): CR3 -> PML4 -> PDPT -> (1 GiB | PD -> (2 MiB | PT)).
WalkResult Walk::walk_4level(uint64_t linear, uint64_t& final_entry) {
  WalkResult r;
  const uint64_t rsvd = kAboveMaxPhys | (nxe_ ? 0 : kXD);
  // PML4E (table 4-15): PS (bit 7) is reserved.
  uint64_t pml4e = fetch((pc_.cr3 & kAddr4K) + ((linear >> 39) & 0x1FF) * 8, 8);
  if (!(pml4e & kP)) return fault(0);
  if (pml4e & (rsvd | kPS)) return fault(kPfPresent | kPfReserved);
  combine(pml4e, true, true);

  uint64_t pdpte = fetch((pml4e & kAddr4K) + ((linear >> 30) & 0x1FF) * 8, 8);
  if (!(pdpte & kP)) return fault(0);
  if (pdpte & kPS) {
    // 1 GiB page (table 4-16): bits 29:13 reserved.
    if (pdpte & (rsvd | bits(29, 13))) return fault(kPfPresent | kPfReserved);
    combine(pdpte, true, true);
    r.paddr = (pdpte & bits(kMaxPhysAddrBits - 1, 30)) | (linear & 0x3FFFFFFF);
    r.page_size = 1ULL << 30;
    final_entry = pdpte;
    r.ok = true;
    return r;
  }
  if (pdpte & rsvd) return fault(kPfPresent | kPfReserved);
  combine(pdpte, true, true);

  return walk_pd(pdpte & kAddr4K, linear, rsvd, final_entry);
}

// The page-directory and page-table levels PAE and 4-level paging share
// (SDM tables 4-9/4-11 and 4-18/4-20): a 2 MiB page or a 4 KiB one.
WalkResult Walk::walk_pd(uint64_t pd_base, uint64_t linear, uint64_t rsvd, uint64_t& final_entry) {
  WalkResult r;
  uint64_t pde = fetch(pd_base + ((linear >> 21) & 0x1FF) * 8, 8);
  if (!(pde & kP)) return fault(0);
  if (pde & kPS) {
    // 2 MiB page: bits 20:13 reserved (bit 12 is PAT).
    if (pde & (rsvd | bits(20, 13))) return fault(kPfPresent | kPfReserved);
    combine(pde, true, true);
    r.paddr = (pde & bits(kMaxPhysAddrBits - 1, 21)) | (linear & 0x1FFFFF);
    r.page_size = 2ULL << 20;
    final_entry = pde;
    r.ok = true;
    return r;
  }
  if (pde & rsvd) return fault(kPfPresent | kPfReserved);
  combine(pde, true, true);
  uint64_t pte = fetch((pde & kAddr4K) + ((linear >> 12) & 0x1FF) * 8, 8);
  if (!(pte & kP)) return fault(0);
  if (pte & rsvd) return fault(kPfPresent | kPfReserved);
  combine(pte, true, true);
  r.paddr = (pte & kAddr4K) | (linear & 0xFFF);
  r.page_size = 4096;
  final_entry = pte;
  r.ok = true;
  return r;
}

WalkResult Walk::run(uint64_t linear, bool set_ad) {
  uint64_t final_entry = 0;
  WalkResult r;
  if (pc_.efer & kEferLMA) {
    r = walk_4level(linear, final_entry);
  } else if (pc_.cr4 & kCr4PAE) {
    r = walk_pae(linear & 0xFFFFFFFFULL, final_entry);
  } else {
    r = walk_32bit(linear & 0xFFFFFFFFULL, final_entry);
  }
  if (!r.ok) return r;
  if (!access_allowed()) return fault(kPfPresent);

  const bool write = kind_ == AccessKind::Write;
  if (set_ad) {
    // SDM 4.8: A in every entry used, D in the entry that mapped the page on a
    // write. Read-modify-write of the low dword (A and D are bits 5 and 6), so
    // an entry that appears at two levels (recursive maps) keeps both updates.
    for (int i = 0; i < n_used_; ++i) {
      const bool last = i == n_used_ - 1;
      uint64_t add = kA | (last && write ? kD : 0);
      uint64_t cur = read_entry(mem_, used_[i].addr, 4);
      if ((cur | add) != cur) write_entry_low(mem_, used_[i].addr, static_cast<uint32_t>(cur | add));
    }
    final_entry |= kA | (write ? kD : 0);
  }
  r.writable = rw_;
  r.user = us_;
  r.executable = !xd_;
  r.global = (final_entry & kG) && (pc_.cr4 & kCr4PGE);
  r.dirty = final_entry & kD;
  r.smep = pc_.cr4 & kCr4SMEP;
  r.smap = pc_.cr4 & kCr4SMAP;
  return r;
}

}  // namespace

WalkResult walk_page_tables(PhysicalMemory& mem, const PagingControl& pc, uint64_t linear, AccessKind kind,
                            bool user, bool set_ad) {
  if (!paging_enabled(pc)) {
    // No paging: linear = physical (32-bit; long mode needs paging).
    WalkResult r;
    r.ok = true;
    r.paddr = linear & 0xFFFFFFFFULL;
    r.page_size = 4096;
    r.dirty = true;  // nothing to update: writes may take the fast path
    return r;
  }
  Walk w(mem, pc, kind, user);
  return w.run(linear, set_ad);
}

bool load_pae_pdptes(PhysicalMemory& mem, uint64_t cr3, uint64_t out[4]) {
  uint64_t base = cr3 & 0xFFFFFFE0ULL;
  uint64_t e[4];
  for (unsigned i = 0; i < 4; ++i) {
    e[i] = mem.read((base + i * 8) & mem.a20_mask(), 8);
    if ((e[i] & kP) && (e[i] & kPaePdpteReserved)) return false;
  }
  for (unsigned i = 0; i < 4; ++i) out[i] = e[i];
  return true;
}

}  // namespace pc64
