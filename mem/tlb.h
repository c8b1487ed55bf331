// The soft TLB: caches linear-page -> host-pointer translations so that a
// guest memory access that hits costs one masked compare and an add.
//
// Two sets of entries, supervisor and user (indexed by CPL==3), so U/S and WP
// checks are folded into what was filled. Each entry has one tag per access
// kind (read, write, execute); a tag holds the page's linear address only if
// that access may use the host pointer directly. Anything else (no host
// pointer: ROM writes, MMIO, code pages; a permission or A/D bit that a walk
// must update) leaves that tag invalid, so the access takes the slow path.
#pragma once
#include <cstdint>
#include <cstring>

#include "mem/paging.h"
#include "mem/physical_memory.h"

namespace pc64 {

struct TlbEntry {
  uint64_t tag[3];     // indexed by AccessKind; kInvalidTag when unusable
  uintptr_t addend;    // host address = linear + addend
  uint64_t paddr;      // physical address of the page
  bool global;
  // Bookkeeping for invalidation (not used by lookup()):
  uint64_t vpage;      // linear address of the 4 KiB page, or kInvalidTag when empty
  uint64_t vmask;      // ~(size - 1) of the page the walk found (4 KiB, 2/4 MiB, 1 GiB)
};

class SoftTlb {
 public:
  static constexpr unsigned kBits = 10;
  static constexpr unsigned kEntries = 1u << kBits;
  static constexpr uint64_t kInvalidTag = 1;  // never equals a page-aligned address

  SoftTlb();

  static unsigned index(uint64_t linear) { return (linear >> 12) & (kEntries - 1); }

  // Fast path: host pointer for an access of `size` bytes at `linear` that
  // lies within one page, or null (miss, not allowed directly, or crosses a
  // page). `user` is CPL==3.
  inline uint8_t* lookup(uint64_t linear, unsigned size, AccessKind kind, bool user) {
    const TlbEntry& e = entry(linear, user);
    // One compare, against the page of the access's LAST byte in the entry
    // chosen by its first byte: an entry only ever holds a page with its own
    // index, and neighbouring pages have different indexes, so an access
    // that crosses the page end (or wraps) can never match.
    const uint64_t last_page = (linear + size - 1) & PhysicalMemory::kPageMask;
    if (__builtin_expect(e.tag[static_cast<int>(kind)] != last_page, 0)) return nullptr;
    return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(linear) + e.addend);
  }

  // The same test split in two, for callers that branch on the hit and then
  // want the pointer without a null check: hits() then host().
  inline bool hits(uint64_t linear, unsigned size, AccessKind kind, bool user) const {
    return entry(linear, user).tag[static_cast<int>(kind)] == ((linear + size - 1) & PhysicalMemory::kPageMask);
  }
  inline uint8_t* host(uint64_t linear, bool user) const {
    return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(linear) + entry(linear, user).addend);
  }

  // The same with the set (supervisor or user) picked once by the caller:
  // Core keeps the set of the current privilege level, so an access does
  // not work out CPL==3 again (set(user) -> hits_in()/host_in()).
  const TlbEntry* set(bool user) const { return sets_[user]; }
  static bool hits_in(const TlbEntry* set, uint64_t linear, unsigned size, AccessKind kind) {
    return entry_in(set, linear).tag[static_cast<int>(kind)] == ((linear + size - 1) & PhysicalMemory::kPageMask);
  }
  static uint8_t* host_in(const TlbEntry* set, uint64_t linear) {
    return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(linear) + entry_in(set, linear).addend);
  }

  // Fills the entry for `linear` after a successful walk (or an identity
  // translation when paging is off: pass a WalkResult with all permissions).
  // `cr0_wp` decides whether supervisor writes honour read-only pages.
  // `host` comes from PhysicalMemory::page() for the (A20-masked) physical page.
  // Tags: read/execute need host.read, write needs host.write equal to it and
  // w.dirty; SMEP/SMAP (from w) keep supervisor accesses to user pages slow.
  // Large pages are cached as the 4 KiB piece holding `linear`.
  void fill(uint64_t linear, const WalkResult& w, const PhysicalMemory::Page& host, bool user, bool cr0_wp);

  // INVLPG: drops the translation for `linear` in both sets, global or not
  // (and every entry covering it for large pages).
  void invalidate_page(uint64_t linear);
  // MOV CR3 (and task switches): drops non-global entries (SDM 4.10.4.1).
  void flush_non_global();
  // Everything, global too: CR4.PGE/PAE/PSE/SMEP/SMAP or CR0.PG/WP changes,
  // EFER.NXE changes, and PhysicalMemory::generation() changes (PAM, A20, map).
  void flush_all();
  // Drops entries that map physical page `paddr` (a page became code, etc.).
  void invalidate_physical(uint64_t paddr);

  // Statistics for the monitor's `count` / benchmarks.
  uint64_t fills = 0;

  // The monitor's `tlb`: calls f(user, entry) for every entry in use,
  // the supervisor set first, each set in index order.
  template <class F> void visit(F f) const {
    for (unsigned set = 0; set < 2; ++set)
      for (unsigned w = 0; w < kWords; ++w)
        for (uint64_t bits = used_[set][w]; bits; bits &= bits - 1)
          f(set == 1, sets_[set][w * 64 + static_cast<unsigned>(__builtin_ctzll(bits))]);
  }

 private:
  // sets_[user][index(linear)], addressed as one byte offset: entries are 64
  // bytes, so the index bits of `linear` (12 and up) shifted right by 6 are
  // already the offset within a set (two host instructions instead of five).
  static_assert(sizeof(TlbEntry) == 64, "entry() assumes 64-byte entries");
  const TlbEntry& entry(uint64_t linear, bool user) const {
    const uintptr_t off = (static_cast<uintptr_t>(user) << (kBits + 6)) + ((linear >> 6) & ((kEntries - 1) << 6));
    return *reinterpret_cast<const TlbEntry*>(reinterpret_cast<const char*>(sets_) + off);
  }
  static const TlbEntry& entry_in(const TlbEntry* set, uint64_t linear) {
    const uintptr_t off = (linear >> 6) & ((kEntries - 1) << 6);
    return *reinterpret_cast<const TlbEntry*>(reinterpret_cast<const char*>(set) + off);
  }
  static constexpr unsigned kWords = kEntries / 64;
  static constexpr unsigned kMaxLarge = 32;
  void clear_entry(unsigned set, unsigned idx);
  // Calls f(set, idx) for every entry in use.
  template <class F> void for_each_used(F f);
  void note_large(uint64_t base, uint64_t mask);

  TlbEntry sets_[2][kEntries];
  // Entries in use, a bit each: flushes and scans visit only these, so a
  // MOV CR3 costs what was filled since the last one, not the TLB's size.
  uint64_t used_[2][kWords] = {};
  // Large pages are cached per 4 KiB piece; INVLPG of an address in a large
  // page must drop every piece (SDM 4.10.4.1). The large pages that have
  // pieces here are listed (base, mask), so INVLPG elsewhere (the common
  // case: 4 KiB user pages) checks one entry per set plus this short list,
  // and INVLPG inside one scans only the entries its pieces can occupy.
  // Past kMaxLarge distinct pages every INVLPG scans the used entries.
  struct LargePage {
    uint64_t base, mask;
  };
  LargePage large_[kMaxLarge];
  unsigned nlarge_ = 0;
  bool large_overflow_ = false;
};

}  // namespace pc64
