// A copy-on-write layer held in host memory (`--snapshot`): writes land in
// 64 KiB chunks here, reads fall through to the read-only base for chunks
// never written. Everything is dropped with the object; the base file is
// never written.
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "io/block_device.h"
#include "mem/state.h"

namespace pc64 {

class MemoryOverlay final : public BlockDevice {
 public:
  static constexpr uint64_t kChunk = 64 * 1024;
  explicit MemoryOverlay(std::unique_ptr<BlockDevice> base);

  uint64_t size() const override { return base_->size(); }
  void read(uint64_t offset, void* buf, size_t len) override;
  void write(uint64_t offset, const void* buf, size_t len) override;
  void flush() override {}
  bool read_only() const override { return false; }
  const char* format_name() const override { return "memory"; }
  std::string path() const override { return ""; }

  BlockDevice& base() { return *base_; }
  size_t chunks_written() const { return chunks_.size(); }
  // The written chunks (machine snapshots carry them; the base is not saved).
  void serialize(StateSerializer& s);

 private:
  std::unique_ptr<BlockDevice> base_;
  std::unordered_map<uint64_t, std::vector<uint8_t>> chunks_;  // chunk index -> bytes
};

}  // namespace pc64
