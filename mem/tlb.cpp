// Soft TLB fill and invalidation. The fast path (lookup) is inline in tlb.h;
// everything here runs on a miss or on a guest TLB-maintenance event.
#include "mem/tlb.h"

namespace pc64 {

namespace {

void clear(TlbEntry& e) {
  e.tag[0] = e.tag[1] = e.tag[2] = SoftTlb::kInvalidTag;
  e.addend = 0;
  e.paddr = 0;
  e.global = false;
  e.vpage = SoftTlb::kInvalidTag;
  e.vmask = PhysicalMemory::kPageMask;
}

}  // namespace

void SoftTlb::fill(uint64_t linear, const WalkResult& w, const PhysicalMemory::Page& host, bool user, bool cr0_wp) {
  const uint64_t vpage = linear & PhysicalMemory::kPageMask;
  TlbEntry& e = sets_[user][index(linear)];
  clear(e);

  // Which accesses at this privilege the path allows without a walk (SDM
  // 4.6.1). A supervisor data access to a user page under SMAP depends on
  // RFLAGS.AC and on explicit/implicit, which the entry cannot encode, so it
  // stays on the slow path; likewise supervisor fetches from user pages under
  // SMEP (they always fault, and the walk reports the right error code).
  bool may_read, may_write, may_exec;
  if (user) {
    may_read = w.user;
    may_write = w.user && w.writable;
    may_exec = w.user && w.executable;
  } else {
    const bool smap_blocked = w.smap && w.user;
    may_read = !smap_blocked;
    may_write = !smap_blocked && (w.writable || !cr0_wp);
    may_exec = w.executable && !(w.smep && w.user);
  }
  // A direct write would skip setting D: only a walk that found (or set) D
  // may enable direct writes (SDM 4.8).
  may_write = may_write && w.dirty;

  if (may_read && host.read) e.tag[static_cast<int>(AccessKind::Read)] = vpage;
  if (may_exec && host.read) e.tag[static_cast<int>(AccessKind::Execute)] = vpage;
  // One addend serves both pointers: for RAM they are equal, for ROM only the
  // read pointer exists. A page whose reads and writes go to different places
  // (PAM: read ROM, write shadow RAM) keeps its write tag off.
  if (may_write && host.write && (!host.read || host.read == host.write))
    e.tag[static_cast<int>(AccessKind::Write)] = vpage;

  uint8_t* base = host.read ? host.read : host.write;
  e.addend = reinterpret_cast<uintptr_t>(base) - static_cast<uintptr_t>(vpage);
  e.paddr = w.paddr & PhysicalMemory::kPageMask;
  e.global = w.global;
  e.vpage = vpage;
  e.vmask = ~(w.page_size - 1);
  if (w.page_size > PhysicalMemory::kPageSize) has_large_ = true;
  ++fills;
}

void SoftTlb::invalidate_page(uint64_t linear) {
  const uint64_t vpage = linear & PhysicalMemory::kPageMask;
  if (has_large_) {
    // Some entry is a 4 KiB piece of a large page; INVLPG of any address in
    // that page must drop every piece (SDM 4.10.4.1), global or not.
    for (auto& set : sets_)
      for (TlbEntry& e : set)
        if (e.vpage != kInvalidTag && ((e.vpage ^ linear) & e.vmask) == 0) clear(e);
    return;
  }
  for (auto& set : sets_) {
    TlbEntry& e = set[index(linear)];
    if (e.vpage == vpage) clear(e);
  }
}

void SoftTlb::flush_non_global() {
  bool large = false;
  for (auto& set : sets_)
    for (TlbEntry& e : set) {
      if (!e.global)
        clear(e);
      else if (e.vmask != PhysicalMemory::kPageMask)
        large = true;
    }
  has_large_ = large;
}

void SoftTlb::flush_all() {
  for (auto& set : sets_)
    for (TlbEntry& e : set) clear(e);
  has_large_ = false;
}

void SoftTlb::invalidate_physical(uint64_t paddr) {
  // Bit 20 is ignored in the compare: with A20 off, an entry may record the
  // unmasked physical address of the page it actually reaches. Dropping an
  // extra entry is harmless; missing one would hide a code-page write.
  const uint64_t mask = PhysicalMemory::kPageMask & ~(1ULL << 20);
  for (auto& set : sets_)
    for (TlbEntry& e : set)
      if (e.vpage != kInvalidTag && ((e.paddr ^ paddr) & mask) == 0) clear(e);
}

}  // namespace pc64
