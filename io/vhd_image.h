// Microsoft Virtual Hard Disk images (VHD specification v1.0, "Virtual Hard
// Disk Image Format Specification", October 2006), fixed and dynamic, read
// and write. QEMU calls the format "vpc".
//
// Fixed: the disk's bytes, then a 512-byte footer. Dynamic: a footer copy at
// offset 0, a dynamic header, the Block Allocation Table (BAT: one big-endian
// sector number per block, 0xFFFFFFFF = unallocated), blocks of
// [sector bitmap][data] and the footer at the end. Unallocated blocks and
// sectors whose bitmap bit is clear read as zeros. A block is allocated where
// the footer was; the footer is rewritten after it, then the BAT entry.
//
// Differencing disks (type 4) are refused with a clear message.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/block_device.h"
#include "io/host_file.h"

namespace pc64 {

class VhdImage final : public BlockDevice {
 public:
  VhdImage(const std::string& path, bool writable);

  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* buf, size_t len) override;
  void write(uint64_t offset, const void* buf, size_t len) override;
  void flush() override { file_.sync(); }
  bool read_only() const override { return !file_.writable(); }
  const char* format_name() const override { return "vpc"; }
  std::string path() const override { return file_.path(); }

  bool dynamic() const { return dynamic_; }
  uint32_t block_size() const { return block_size_; }

  // True if the first/last 512 bytes of a file look like a VHD footer.
  static bool has_cookie(const uint8_t* sector);

 private:
  static constexpr uint32_t kUnallocated = 0xFFFFFFFF;
  [[noreturn]] void corrupt(const std::string& what);
  std::vector<uint8_t>& bitmap(uint64_t block);
  void allocate_block(uint64_t block);
  // Whole-sector write inside the disk (offset and len multiples of 512).
  void write_sectors(uint64_t offset, const uint8_t* src, size_t len);

  HostFile file_;
  uint64_t size_ = 0;
  bool dynamic_ = false;
  bool damaged_ = false;
  std::vector<uint8_t> footer_;     // 512 bytes, rewritten after each allocation
  uint64_t footer_pos_ = 0;         // where the trailing footer lives
  uint32_t block_size_ = 0;
  uint64_t bitmap_bytes_ = 0;       // sector bitmap size, padded to 512
  uint64_t bat_offset_ = 0;
  std::vector<uint32_t> bat_;
  std::map<uint64_t, std::vector<uint8_t>> bitmaps_;  // block -> bitmap
};

}  // namespace pc64
