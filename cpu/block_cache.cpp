#include "cpu/block_cache.h"

namespace pc64 {

Block* BlockCache::insert(std::unique_ptr<Block> b) {
  Block* raw = b.get();
  auto& slot = map_[raw->key];
  if (slot) {  // replaced (e.g. decoded again after a mode-only difference)
    ++epoch_;
    auto& v = pages_[slot->page].blocks;
    std::erase(v, slot.get());
    retired_.push_back(std::move(slot));
  }
  slot = std::move(b);
  PageBlocks& pb = pages_[raw->page];
  pb.blocks.push_back(raw);
  if (raw->bytes) {
    uint64_t first = raw->offset >> 6, last = (raw->offset + raw->bytes - 1) >> 6;
    for (uint64_t c = first; c <= last && c < 64; ++c) pb.chunks |= 1ull << c;
  }
  fast_[fast_index(raw->key)] = {raw->key, raw};
  return raw;
}

bool BlockCache::invalidate_page(uint64_t page) {
  auto it = pages_.find(page);
  if (it == pages_.end()) return false;
  ++epoch_;
  for (Block* b : it->second.blocks) {
    FastEntry& f = fast_[fast_index(b->key)];
    if (f.block == b) f = {};
    auto m = map_.find(b->key);
    if (m != map_.end()) {
      retired_.push_back(std::move(m->second));
      map_.erase(m);
    }
  }
  pages_.erase(it);
  return true;
}

void BlockCache::clear() {
  ++epoch_;
  for (auto& f : fast_) f = {};
  for (auto& [k, b] : map_) retired_.push_back(std::move(b));
  map_.clear();
  pages_.clear();
}

}  // namespace pc64
