#include "io/memory_overlay.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace pc64 {

MemoryOverlay::MemoryOverlay(std::unique_ptr<BlockDevice> base) : base_(std::move(base)) {}

void MemoryOverlay::read(uint64_t offset, void* buf, size_t len) {
  check_range(offset, len, false);
  auto* out = static_cast<uint8_t*>(buf);
  // Unwritten stretches go to the base in one read each.
  uint64_t base_start = offset;
  uint8_t* base_dst = out;
  size_t base_len = 0;
  while (len) {
    uint64_t idx = offset / kChunk, within = offset % kChunk;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kChunk - within));
    auto it = chunks_.find(idx);
    if (it == chunks_.end()) {
      if (!base_len) base_start = offset, base_dst = out;
      base_len += n;
    } else {
      if (base_len) base_->read(base_start, base_dst, base_len), base_len = 0;
      std::memcpy(out, it->second.data() + within, n);
    }
    out += n;
    offset += n;
    len -= n;
  }
  if (base_len) base_->read(base_start, base_dst, base_len);
}

void MemoryOverlay::write(uint64_t offset, const void* buf, size_t len) {
  check_range(offset, len, true);
  const auto* in = static_cast<const uint8_t*>(buf);
  while (len) {
    uint64_t idx = offset / kChunk, within = offset % kChunk;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kChunk - within));
    auto it = chunks_.find(idx);
    if (it == chunks_.end()) {
      std::vector<uint8_t> c(kChunk, 0);
      uint64_t start = idx * kChunk;
      size_t have = static_cast<size_t>(std::min<uint64_t>(kChunk, size() - start));
      if (n != kChunk) base_->read(start, c.data(), have);
      it = chunks_.emplace(idx, std::move(c)).first;
    }
    std::memcpy(it->second.data() + within, in, n);
    in += n;
    offset += n;
    len -= n;
  }
}

void MemoryOverlay::serialize(StateSerializer& s) {
  s.tag(0x4D4F564C);  // "MOVL"
  uint64_t disk_size = size();
  s(disk_size);
  if (s.loading() && disk_size != size()) throw StateError("memory overlay: disk size differs from the saved state");
  uint64_t count = chunks_.size();
  s(count);
  if (s.loading()) {
    chunks_.clear();
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t idx = 0;
      std::vector<uint8_t> data;
      s(idx);
      s(data);
      if (data.size() != kChunk || idx * kChunk >= disk_size) throw StateError("memory overlay: bad chunk in saved state");
      chunks_[idx] = std::move(data);
    }
  } else {
    // Sorted so equal states give equal bytes.
    std::map<uint64_t, std::vector<uint8_t>*> sorted;
    for (auto& [idx, data] : chunks_) sorted[idx] = &data;
    for (auto& [idx, data] : sorted) {
      uint64_t i = idx;
      s(i);
      s(*data);
    }
  }
}

}  // namespace pc64
