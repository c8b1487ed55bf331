// QEMU copy-on-write v2 disk images, versions 2 and 3, read and write
// (format reference: QEMU docs/interop/qcow2.txt).
//
// Guest offset -> L1 entry -> L2 table (one cluster) -> data cluster. Clusters
// are reference-counted in refcount blocks found through the refcount table;
// every allocation here updates the refcounts at once (no lazy refcounts, no
// dirty bit), so `qemu-img check` is clean after any sequence of writes.
// New clusters are always appended at the end of the file; clusters whose
// refcount is above one (shared with an internal snapshot: COPIED flag
// clear) and compressed clusters are copied on write, never modified.
//
// Reads of unallocated clusters go to the backing file (if any, resolved
// relative to the image's directory) or read as zeros.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/block_device.h"
#include "io/host_file.h"

namespace pc64 {

class Qcow2Image final : public BlockDevice {
 public:
  // Opens the backing file named in the header: (resolved path, format name
  // from the backing-format extension or "" when absent) -> read-only device.
  using BackingOpener = std::function<std::unique_ptr<BlockDevice>(const std::string&, const std::string&)>;

  // Throws DiskImageError naming the file and the problem for anything this
  // code cannot read exactly (bad magic, version, features, corrupt tables).
  // Writable opens refuse images marked dirty or corrupt.
  Qcow2Image(const std::string& path, bool writable, const BackingOpener& open_backing);
  ~Qcow2Image() override;

  // Creates a version 3 image of `size` bytes with 2^cluster_bits clusters.
  // `backing` (may be empty) is stored as given; `backing_format` goes into
  // the backing-format header extension so nothing probes a raw base.
  static void create(const std::string& path, uint64_t size, const std::string& backing = "",
                     const std::string& backing_format = "", unsigned cluster_bits = 16);

  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* buf, size_t len) override;
  void write(uint64_t offset, const void* buf, size_t len) override;
  void flush() override;
  bool read_only() const override { return !file_.writable(); }
  const char* format_name() const override { return "qcow2"; }
  std::string path() const override { return file_.path(); }

  unsigned version() const { return version_; }
  uint64_t cluster_size() const { return cluster_size_; }
  // Backing file name exactly as stored in the header ("" if none).
  const std::string& backing_file_name() const { return backing_name_; }
  BlockDevice* backing() const { return backing_.get(); }

 private:
  enum class Kind { Unallocated, Zero, Normal, Compressed };
  struct Mapping {
    Kind kind = Kind::Unallocated;
    uint64_t host = 0;       // Normal/Zero: cluster offset; Compressed: byte offset
    uint64_t csize = 0;      // Compressed: bytes of compressed data
    bool copied = false;     // refcount is exactly one (may be written in place)
  };

  [[noreturn]] void corrupt(const std::string& what);
  void check_writable();
  Mapping lookup(uint64_t cluster_index);
  const std::vector<uint64_t>& l2_table(uint64_t offset);
  std::vector<uint8_t>& refcount_block(uint64_t offset);
  void read_cluster(const Mapping& m, uint64_t cluster_index, uint8_t* dst);  // whole guest cluster
  void decompress(const Mapping& m, uint8_t* dst);
  void read_backing(uint64_t offset, uint8_t* dst, size_t len);

  // ---- allocation and metadata updates (write path) ----
  uint64_t allocate_cluster();
  void update_refcount(uint64_t host_offset, int delta);
  void grow_refcount_table(uint64_t min_index);
  void release(const Mapping& m);
  void set_l2_entry(uint64_t cluster_index, uint64_t entry);
  void write_be64(uint64_t offset, uint64_t v);

  HostFile file_;
  std::unique_ptr<BlockDevice> backing_;
  std::string backing_name_;
  unsigned version_ = 0;
  unsigned cluster_bits_ = 0;
  uint64_t cluster_size_ = 0;
  uint64_t size_ = 0;
  uint64_t l2_entries_ = 0;
  uint64_t l1_offset_ = 0;
  std::vector<uint64_t> l1_;
  uint64_t refcount_table_offset_ = 0;
  uint32_t refcount_table_clusters_ = 0;
  std::vector<uint64_t> refcount_table_;
  unsigned refcount_bits_ = 16;
  uint64_t refcount_block_entries_ = 0;
  unsigned csize_shift_ = 0;     // compressed descriptor: bits below are the offset
  uint64_t file_size_ = 0;       // bytes of the host file we know of
  uint64_t alloc_end_ = 0;       // next free cluster (cluster-aligned end of file)
  bool damaged_ = false;         // corruption seen: no further writes
  std::map<uint64_t, std::vector<uint64_t>> l2_cache_;   // host offset -> entries
  std::map<uint64_t, std::vector<uint8_t>> refblock_cache_;
  uint64_t decompressed_host_ = ~0ULL;  // last decompressed cluster (sequential reads)
  std::vector<uint8_t> decompressed_;
};

}  // namespace pc64
