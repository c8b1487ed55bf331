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

SoftTlb::SoftTlb() {
  // Every entry starts empty; from then on only entries marked in used_ can
  // be anything else, which is what lets flushes skip the rest.
  for (auto& set : sets_)
    for (TlbEntry& e : set) clear(e);
}

void SoftTlb::clear_entry(unsigned set, unsigned idx) {
  clear(sets_[set][idx]);
  used_[set][idx / 64] &= ~(1ull << (idx % 64));
}

template <class F> void SoftTlb::for_each_used(F f) {
  for (unsigned set = 0; set < 2; ++set)
    for (unsigned w = 0; w < kWords; ++w)
      for (uint64_t bits = used_[set][w]; bits; bits &= bits - 1)
        f(set, w * 64 + static_cast<unsigned>(__builtin_ctzll(bits)));
}

void SoftTlb::note_large(uint64_t base, uint64_t mask) {
  for (unsigned k = 0; k < nlarge_; ++k)
    if (large_[k].base == base && large_[k].mask == mask) return;
  if (nlarge_ == kMaxLarge) {
    large_overflow_ = true;
    return;
  }
  large_[nlarge_++] = {base, mask};
}

void SoftTlb::fill(uint64_t linear, const WalkResult& w, const PhysicalMemory::Page& host, bool user, bool cr0_wp) {
  const uint64_t vpage = linear & PhysicalMemory::kPageMask;
  TlbEntry& e = sets_[user][index(linear)];
  clear(e);
  used_[user][index(linear) / 64] |= 1ull << (index(linear) % 64);

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
  if (w.page_size > PhysicalMemory::kPageSize) note_large(vpage & e.vmask, e.vmask);
  ++fills;
}

void SoftTlb::invalidate_page(uint64_t linear) {
  const uint64_t vpage = linear & PhysicalMemory::kPageMask;
  for (unsigned set = 0; set < 2; ++set)
    if (sets_[set][index(linear)].vpage == vpage) clear_entry(set, index(linear));
  if (large_overflow_) {
    for_each_used([&](unsigned set, unsigned idx) {
      const TlbEntry& e = sets_[set][idx];
      if (((e.vpage ^ linear) & e.vmask) == 0) clear_entry(set, idx);
    });
    return;
  }
  for (unsigned k = 0; k < nlarge_;) {
    const LargePage lp = large_[k];
    if ((linear & lp.mask) != lp.base) {
      ++k;
      continue;
    }
    // Drop every piece of this large page, global or not: its pieces sit at
    // the indexes of its 4 KiB pages (all of them for pages >= 4 MiB).
    const uint64_t pieces = (~lp.mask + 1) >> 12;
    const unsigned first = index(lp.base);
    const unsigned count = pieces >= kEntries ? kEntries : static_cast<unsigned>(pieces);
    for (unsigned set = 0; set < 2; ++set)
      for (unsigned n = 0; n < count; ++n) {
        const unsigned idx = (first + n) & (kEntries - 1);
        const TlbEntry& e = sets_[set][idx];
        if (e.vpage != kInvalidTag && (e.vpage & lp.mask) == lp.base) clear_entry(set, idx);
      }
    large_[k] = large_[--nlarge_];
  }
}

void SoftTlb::flush_non_global() {
  nlarge_ = 0;
  large_overflow_ = false;
  for_each_used([&](unsigned set, unsigned idx) {
    const TlbEntry& e = sets_[set][idx];
    if (!e.global) clear_entry(set, idx);
    else if (e.vmask != PhysicalMemory::kPageMask) note_large(e.vpage & e.vmask, e.vmask);
  });
}

void SoftTlb::flush_all() {
  for_each_used([&](unsigned set, unsigned idx) { clear(sets_[set][idx]); });
  for (auto& set : used_)
    for (uint64_t& w : set) w = 0;
  nlarge_ = 0;
  large_overflow_ = false;
}

void SoftTlb::invalidate_physical(uint64_t paddr) {
  // Bit 20 is ignored in the compare: with A20 off, an entry may record the
  // unmasked physical address of the page it actually reaches. Dropping an
  // extra entry is harmless; missing one would hide a code-page write.
  const uint64_t mask = PhysicalMemory::kPageMask & ~(1ULL << 20);
  for_each_used([&](unsigned set, unsigned idx) {
    if (((sets_[set][idx].paddr ^ paddr) & mask) == 0) clear_entry(set, idx);
  });
}

}  // namespace pc64
