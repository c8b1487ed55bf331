// Decoded blocks, cached by where their code lives (DESIGN "Block lookup: a
// small direct-mapped cache in front of a map"). The key is the host address
// of the first byte (unique per physical RAM/ROM byte, and distinct for a
// shadowed vs. ROM legacy page) plus the decode mode; blocks never cross a
// page, and each is listed under its physical page so a write to that page
// drops them (self-modifying code).
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cpu/insn.h"

namespace pc64 {

struct Block {
  uintptr_t key = 0;       // host address of the first byte | mode
  uint64_t page = 0;       // physical page the block came from
  uint32_t offset = 0;     // of the first code byte within the page
  uint32_t bytes = 0;      // page bytes from there the code came from (with
                           // followed jumps, the hull of its ranges)
  // The records, then a sentinel whose threaded entry ends the block
  // (cpu/dispatch.h): begin() .. end() are the instructions.
  std::vector<Insn> insns;
  const Insn* begin() const { return insns.data(); }
  const Insn* end() const { return insns.data() + count; }
  uint32_t count = 0;     // instructions (without the sentinel)
  // Bytes from the last RIP sync point to the end of the last instruction:
  // what Core::rip_sync advances by when the block runs to its end.
  uint32_t rip_tail = 0;
  // Chaining: the blocks that followed this one lately, by RIP, valid
  // while both epochs (Core::chain_epoch, BlockCache::epoch) are unchanged;
  // `epoch` holds their sum (both only grow). Four: a block ending in a
  // conditional branch has two successors, and each conditional branch
  // taken from its middle one more.
  struct Link {
    uint64_t rip = ~0ull;
    Block* block = nullptr;
    uint64_t epoch = 0;
  } links[4];
  uint8_t next_link = 0;
  Block* successor(uint64_t rip, uint64_t epoch) const {
    for (const Link& l : links)
      if (l.rip == rip && l.epoch == epoch) return l.block;
    return nullptr;
  }
};

class BlockCache {
 public:
  static constexpr unsigned kFastBits = 12;

  // `mode` is Core::code_mode (0..2); `flat` a flat code segment, whose
  // blocks may follow direct jumps, so they are kept apart from the blocks
  // of the same bytes decoded under a CS limit.
  static uintptr_t make_key(const uint8_t* host, unsigned mode, bool flat) {
    return (reinterpret_cast<uintptr_t>(host) << 3) | (flat ? 4u : 0u) | mode;
  }
  Block* find(uintptr_t key) {
    FastEntry& f = fast_[fast_index(key)];
    if (f.key == key) return f.block;
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    f = {key, it->second.get()};
    return f.block;
  }
  Block* insert(std::unique_ptr<Block> b);
  // Drops every block of physical page `page`. Blocks still running are kept
  // alive until release_retired() is called at a block boundary.
  bool invalidate_page(uint64_t page);
  void release_retired() {
    if (!retired_.empty()) retired_.clear();
  }
  uint64_t epoch() const { return epoch_; }
  void clear();
  size_t size() const { return map_.size(); }
  bool page_has_blocks(uint64_t page) const { return pages_.count(page) != 0; }
  // True if [paddr, paddr+size) touches bytes that a cached block of that
  // page was decoded from (tracked in 64-byte chunks). Writes elsewhere on a
  // code page leave its blocks alone, so code and data may share a page.
  bool overlaps_code(uint64_t paddr, unsigned size) const {
    auto it = pages_.find(paddr & ~uint64_t(4095));
    if (it == pages_.end()) return false;
    uint64_t first = (paddr & 4095) >> 6, last = ((paddr & 4095) + size - 1) >> 6;
    if (last > 63) last = 63;  // a write crossing the page end: the next page is checked separately
    uint64_t m = (last == 63 ? ~0ull : ((1ull << (last + 1)) - 1)) & ~((1ull << first) - 1);
    if ((it->second.chunks & m) == 0) return false;
    // Same chunk: compare exact byte ranges (data right after code is common).
    uint64_t lo = paddr & 4095, hi = lo + size;
    for (const Block* b : it->second.blocks)
      if (lo < b->offset + b->bytes && b->offset < hi) return true;
    return false;
  }

 private:
  struct FastEntry {
    uintptr_t key = 0;
    Block* block = nullptr;
  };
  static unsigned fast_index(uintptr_t key) { return (key ^ (key >> 14)) & ((1u << kFastBits) - 1); }
  FastEntry fast_[1u << kFastBits];
  std::unordered_map<uintptr_t, std::unique_ptr<Block>> map_;
  struct PageBlocks {
    std::vector<Block*> blocks;
    uint64_t chunks = 0;  // 64-byte chunks of the page holding decoded code
  };
  std::unordered_map<uint64_t, PageBlocks> pages_;
  std::vector<std::unique_ptr<Block>> retired_;
  uint64_t epoch_ = 1;
};

}  // namespace pc64
