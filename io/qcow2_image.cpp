#include "io/qcow2_image.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace pc64 {

namespace {

constexpr uint32_t kMagic = 0x514649FB;  // "QFI\xfb"
constexpr uint64_t kOffsetMask = 0x00FFFFFFFFFFFE00ULL;  // bits 9-55 of L1/L2 entries
constexpr uint64_t kCopied = 1ULL << 63;
constexpr uint64_t kCompressed = 1ULL << 62;
constexpr uint64_t kZero = 1ULL << 0;  // v3 "reads as zeros"

// Incompatible feature bits (qcow2.txt, header bytes 72-79).
constexpr uint64_t kIncompatDirty = 1ULL << 0;
constexpr uint64_t kIncompatCorrupt = 1ULL << 1;
constexpr uint64_t kIncompatKnown = kIncompatDirty | kIncompatCorrupt;

// Header extension types.
constexpr uint32_t kExtEnd = 0;
constexpr uint32_t kExtBackingFormat = 0xE2792ACA;

constexpr uint64_t kMaxL1Bytes = 32ULL << 20;         // as QEMU: bigger is nonsense
constexpr uint64_t kMaxRefTableBytes = 8ULL << 20;
constexpr uint64_t kMaxImageSize = 1ULL << 56;         // offsets are 56-bit
constexpr size_t kMaxCacheTables = 4096;

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
void put_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
uint64_t div_up(uint64_t v, uint64_t d) { return (v + d - 1) / d; }
std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

// ------------------------------------------------------------------ open

Qcow2Image::Qcow2Image(const std::string& path, bool writable, const BackingOpener& open_backing)
    : file_(path, writable, writable ? HostFile::Lock::Exclusive : HostFile::Lock::Shared) {
  file_size_ = file_.size();
  uint8_t h[112] = {};
  if (file_size_ < 72) throw DiskImageError("'" + path + "': not a qcow2 image (file is too short for a header)");
  file_.read_exact(0, h, std::min<uint64_t>(sizeof h, file_size_), "qcow2 header");
  if (be32(h) != kMagic) throw DiskImageError("'" + path + "': not a qcow2 image (bad magic)");
  version_ = be32(h + 4);
  if (version_ != 2 && version_ != 3)
    throw DiskImageError("'" + path + "': unsupported qcow2 version " + std::to_string(version_) + " (2 and 3 are supported)");
  uint64_t backing_offset = be64(h + 8);
  uint32_t backing_size = be32(h + 16);
  cluster_bits_ = be32(h + 20);
  size_ = be64(h + 24);
  uint32_t crypt = be32(h + 32);
  uint32_t l1_size = be32(h + 36);
  l1_offset_ = be64(h + 40);
  refcount_table_offset_ = be64(h + 48);
  refcount_table_clusters_ = be32(h + 56);
  uint32_t header_length = 72;
  uint64_t incompat = 0;
  unsigned refcount_order = 4;
  if (version_ == 3) {
    if (file_size_ < 104) throw DiskImageError("'" + path + "': qcow2 v3 header is truncated");
    incompat = be64(h + 72);
    refcount_order = be32(h + 96);
    header_length = be32(h + 100);
    if (header_length < 104 || header_length > 4096)
      throw DiskImageError("'" + path + "': corrupt qcow2 header (header length " + std::to_string(header_length) + ")");
  }

  if (cluster_bits_ < 9 || cluster_bits_ > 21)
    throw DiskImageError("'" + path + "': unsupported qcow2 cluster size 2^" + std::to_string(cluster_bits_));
  cluster_size_ = 1ULL << cluster_bits_;
  l2_entries_ = cluster_size_ / 8;
  csize_shift_ = 62 - (cluster_bits_ - 8);
  if (crypt != 0) throw DiskImageError("'" + path + "': encrypted qcow2 images are not supported");
  if (incompat & ~kIncompatKnown)
    throw DiskImageError("'" + path + "': qcow2 image uses unsupported incompatible features " +
                         hex(incompat & ~kIncompatKnown) +
                         " (external data file, zstd compression or extended L2 entries)");
  if (writable && (incompat & kIncompatDirty))
    throw DiskImageError("'" + path + "': qcow2 image was not closed cleanly (dirty); run `qemu-img check -r all` first");
  if (writable && (incompat & kIncompatCorrupt))
    throw DiskImageError("'" + path + "': qcow2 image is marked corrupt; refusing to write to it");
  if (refcount_order > 6)
    throw DiskImageError("'" + path + "': invalid qcow2 refcount order " + std::to_string(refcount_order));
  refcount_bits_ = 1u << refcount_order;
  refcount_block_entries_ = cluster_size_ * 8 / refcount_bits_;
  if (size_ > kMaxImageSize) throw DiskImageError("'" + path + "': qcow2 image size " + std::to_string(size_) + " is too large");

  // ---- L1 table ----
  uint64_t needed_l1 = div_up(size_, cluster_size_ * l2_entries_);
  if (l1_size < needed_l1)
    throw DiskImageError("'" + path + "': corrupt qcow2 image: L1 table (" + std::to_string(l1_size) +
                         " entries) is too small for the disk size");
  if (uint64_t(l1_size) * 8 > kMaxL1Bytes) throw DiskImageError("'" + path + "': corrupt qcow2 image: L1 table is too large");
  if (l1_size) {
    if (l1_offset_ % cluster_size_ || l1_offset_ > file_size_ || uint64_t(l1_size) * 8 > file_size_ - l1_offset_)
      throw DiskImageError("'" + path + "': corrupt qcow2 image: L1 table at " + hex(l1_offset_) +
                           " lies outside the file");
    std::vector<uint8_t> raw(uint64_t(l1_size) * 8);
    file_.read_exact(l1_offset_, raw.data(), raw.size(), "qcow2 L1 table");
    l1_.resize(l1_size);
    for (uint32_t i = 0; i < l1_size; ++i) {
      uint64_t e = be64(&raw[i * 8]);
      uint64_t off = e & kOffsetMask;
      if (off && (off % cluster_size_ || off >= file_size_ || cluster_size_ > file_size_ - off))
        throw DiskImageError("'" + path + "': corrupt qcow2 image: L1 entry " + std::to_string(i) +
                             " points to an L2 table at " + hex(off) + " outside the file");
      l1_[i] = e;
    }
  }

  // ---- refcount table ----
  uint64_t rt_bytes = uint64_t(refcount_table_clusters_) * cluster_size_;
  if (rt_bytes == 0 || rt_bytes > kMaxRefTableBytes || refcount_table_offset_ % cluster_size_ ||
      refcount_table_offset_ > file_size_ || rt_bytes > file_size_ - refcount_table_offset_)
    throw DiskImageError("'" + path + "': corrupt qcow2 image: refcount table at " + hex(refcount_table_offset_) +
                         " (" + std::to_string(refcount_table_clusters_) + " clusters) lies outside the file");
  {
    std::vector<uint8_t> raw(rt_bytes);
    file_.read_exact(refcount_table_offset_, raw.data(), raw.size(), "qcow2 refcount table");
    refcount_table_.resize(rt_bytes / 8);
    for (size_t i = 0; i < refcount_table_.size(); ++i) {
      uint64_t off = be64(&raw[i * 8]) & ~(cluster_size_ - 1);  // low bits are reserved
      if (off && (off >= file_size_ || cluster_size_ > file_size_ - off))
        throw DiskImageError("'" + path + "': corrupt qcow2 image: refcount table entry " + std::to_string(i) +
                             " points outside the file");
      refcount_table_[i] = off;
    }
  }

  // ---- header extensions (skipped unless understood), backing file ----
  std::string backing_format;
  {
    uint64_t ext_end = std::min<uint64_t>(cluster_size_, file_size_);
    if (version_ == 2 && backing_offset && backing_offset < ext_end) ext_end = backing_offset;
    uint64_t pos = header_length;
    while (pos + 8 <= ext_end) {
      uint8_t eh[8];
      file_.read_exact(pos, eh, 8, "qcow2 header extension");
      uint32_t type = be32(eh), len = be32(eh + 4);
      pos += 8;
      if (type == kExtEnd) break;
      if (len > ext_end - pos) throw DiskImageError("'" + path + "': corrupt qcow2 image: header extension overruns the first cluster");
      if (type == kExtBackingFormat && len < 64) {
        backing_format.resize(len);
        file_.read_exact(pos, backing_format.data(), len, "qcow2 backing format");
      }
      pos += align_up(len, 8);
    }
  }
  if (backing_offset) {
    if (backing_size == 0 || backing_size > 1023 || backing_offset > file_size_ || backing_size > file_size_ - backing_offset)
      throw DiskImageError("'" + path + "': corrupt qcow2 image: bad backing file name field");
    backing_name_.resize(backing_size);
    file_.read_exact(backing_offset, backing_name_.data(), backing_size, "qcow2 backing file name");
  }

  alloc_end_ = align_up(file_size_, cluster_size_);

  if (writable && version_ == 3) {
    // Autoclear bits describe extensions a writer that does not maintain them
    // must invalidate (qcow2.txt): we maintain none, so clear them all.
    uint64_t autoclear = be64(h + 88);
    if (autoclear) write_be64(88, 0);
  }

  if (!backing_name_.empty()) {
    std::string resolved = resolve_relative(backing_name_, path);
    if (!open_backing) throw DiskImageError("'" + path + "': has a backing file ('" + backing_name_ + "') but none may be opened here");
    try {
      backing_ = open_backing(resolved, backing_format);
    } catch (const DiskImageError& e) {
      throw DiskImageError("'" + path + "': cannot open its backing file '" + backing_name_ + "': " + e.what());
    }
  }
}

Qcow2Image::~Qcow2Image() = default;

void Qcow2Image::corrupt(const std::string& what) {
  damaged_ = true;
  throw DiskImageError("'" + file_.path() + "': corrupt qcow2 image: " + what);
}

void Qcow2Image::check_writable() {
  if (damaged_) throw DiskImageError("'" + file_.path() + "': corrupt qcow2 image: refusing to write to it");
}

// ------------------------------------------------------------------ lookup

const std::vector<uint64_t>& Qcow2Image::l2_table(uint64_t offset) {
  auto it = l2_cache_.find(offset);
  if (it != l2_cache_.end()) return it->second;
  if (l2_cache_.size() >= kMaxCacheTables) l2_cache_.clear();
  std::vector<uint8_t> raw(cluster_size_);
  file_.read_zero_fill(offset, raw.data(), raw.size());
  std::vector<uint64_t> t(l2_entries_);
  for (uint64_t i = 0; i < l2_entries_; ++i) t[i] = be64(&raw[i * 8]);
  return l2_cache_.emplace(offset, std::move(t)).first->second;
}

Qcow2Image::Mapping Qcow2Image::lookup(uint64_t cluster_index) {
  Mapping m;
  uint64_t l1_index = cluster_index / l2_entries_;
  if (l1_index >= l1_.size()) return m;
  uint64_t l2_off = l1_[l1_index] & kOffsetMask;
  if (!l2_off) return m;
  uint64_t e = l2_table(l2_off)[cluster_index % l2_entries_];
  if (e & kCompressed) {
    m.kind = Kind::Compressed;
    m.host = e & ((1ULL << csize_shift_) - 1);
    uint64_t sectors = ((e & ~(kCopied | kCompressed)) >> csize_shift_) + 1;
    m.csize = sectors * 512 - (m.host & 511);
    if (m.host >= file_size_)
      corrupt("compressed cluster " + std::to_string(cluster_index) + " points past the end of the file");
    return m;
  }
  m.host = e & kOffsetMask;
  m.copied = (e & kCopied) != 0;
  if (version_ == 3 && (e & kZero)) {
    m.kind = Kind::Zero;
  } else if (m.host) {
    m.kind = Kind::Normal;
  } else {
    return m;
  }
  if (m.host && (m.host % cluster_size_ || m.host >= file_size_))
    corrupt("L2 entry for guest cluster " + std::to_string(cluster_index) + " points to " + hex(m.host) +
            (m.host % cluster_size_ ? " (not cluster aligned)" : " (past the end of the file)"));
  return m;
}

void Qcow2Image::read_backing(uint64_t offset, uint8_t* dst, size_t len) {
  uint64_t have = backing_ ? backing_->size() : 0;
  size_t from_backing = offset >= have ? 0 : static_cast<size_t>(std::min<uint64_t>(len, have - offset));
  if (from_backing) backing_->read(offset, dst, from_backing);
  std::memset(dst + from_backing, 0, len - from_backing);
}

void Qcow2Image::decompress(const Mapping& m, uint8_t* dst) {
  if (decompressed_host_ == m.host) {
    std::memcpy(dst, decompressed_.data(), cluster_size_);
    return;
  }
  uint64_t avail = std::min<uint64_t>(m.csize, file_size_ - m.host);
  std::vector<uint8_t> in(avail);
  file_.read_exact(m.host, in.data(), in.size(), "qcow2 compressed cluster");
  z_stream z{};
  // Raw deflate (no zlib header); QEMU compresses with a 4 KiB window, any
  // window up to 32 KiB decodes it.
  if (inflateInit2(&z, -15) != Z_OK) throw DiskImageError("'" + file_.path() + "': zlib initialisation failed");
  z.next_in = in.data();
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = dst;
  z.avail_out = static_cast<uInt>(cluster_size_);
  int rc = inflate(&z, Z_FINISH);
  bool full = z.avail_out == 0;
  inflateEnd(&z);
  // The stored size is rounded up to sectors, so the input may hold trailing
  // bytes (Z_BUF_ERROR with a full output is fine).
  if (!full || (rc != Z_STREAM_END && rc != Z_BUF_ERROR && rc != Z_OK))
    corrupt("compressed cluster at " + hex(m.host) + " does not decompress to a full cluster");
  decompressed_.assign(dst, dst + cluster_size_);
  decompressed_host_ = m.host;
}

void Qcow2Image::read_cluster(const Mapping& m, uint64_t cluster_index, uint8_t* dst) {
  switch (m.kind) {
    case Kind::Unallocated:
      read_backing(cluster_index * cluster_size_, dst, cluster_size_);
      break;
    case Kind::Zero:
      std::memset(dst, 0, cluster_size_);
      break;
    case Kind::Normal:
      file_.read_zero_fill(m.host, dst, cluster_size_);
      break;
    case Kind::Compressed:
      decompress(m, dst);
      break;
  }
}

void Qcow2Image::read(uint64_t offset, void* buf, size_t len) {
  check_range(offset, len, false);
  auto* out = static_cast<uint8_t*>(buf);
  // Contiguous runs (in the file, or unallocated -> backing) go out as one
  // host read each.
  enum class Run { None, Host, Backing } run = Run::None;
  uint64_t run_src = 0;
  uint8_t* run_dst = nullptr;
  size_t run_len = 0;
  auto flush_run = [&] {
    if (run == Run::Host) file_.read_zero_fill(run_src, run_dst, run_len);
    if (run == Run::Backing) read_backing(run_src, run_dst, run_len);
    run = Run::None;
    run_len = 0;
  };
  std::vector<uint8_t> tmp;
  while (len) {
    uint64_t ci = offset >> cluster_bits_;
    uint64_t in = offset & (cluster_size_ - 1);
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, cluster_size_ - in));
    Mapping m = lookup(ci);
    Run want = m.kind == Kind::Normal ? Run::Host : m.kind == Kind::Unallocated ? Run::Backing : Run::None;
    uint64_t src = want == Run::Host ? m.host + in : offset;
    if (want != Run::None && run == want && run_src + run_len == src) {
      run_len += n;
    } else {
      flush_run();
      if (want != Run::None) {
        run = want;
        run_src = src;
        run_dst = out;
        run_len = n;
      } else if (m.kind == Kind::Zero) {
        std::memset(out, 0, n);
      } else {
        tmp.resize(cluster_size_);
        decompress(m, tmp.data());
        std::memcpy(out, tmp.data() + in, n);
      }
    }
    out += n;
    offset += n;
    len -= n;
  }
  flush_run();
}

// ------------------------------------------------------------------ refcounts

std::vector<uint8_t>& Qcow2Image::refcount_block(uint64_t offset) {
  auto it = refblock_cache_.find(offset);
  if (it != refblock_cache_.end()) return it->second;
  if (refblock_cache_.size() >= kMaxCacheTables) refblock_cache_.clear();
  std::vector<uint8_t> raw(cluster_size_);
  file_.read_zero_fill(offset, raw.data(), raw.size());
  return refblock_cache_.emplace(offset, std::move(raw)).first->second;
}

void Qcow2Image::write_be64(uint64_t offset, uint64_t v) {
  uint8_t b[8];
  put_be64(b, v);
  file_.write_at(offset, b, 8);
  file_size_ = std::max(file_size_, offset + 8);
}

void Qcow2Image::update_refcount(uint64_t host_offset, int delta) {
  uint64_t cluster = host_offset >> cluster_bits_;
  uint64_t rt_index = cluster / refcount_block_entries_;
  uint64_t index = cluster % refcount_block_entries_;
  if (rt_index >= refcount_table_.size()) {
    if (delta < 0) corrupt("freeing cluster " + hex(host_offset) + " that has no refcount");
    grow_refcount_table(rt_index);
  }
  if (refcount_table_[rt_index] == 0) {
    if (delta < 0) corrupt("freeing cluster " + hex(host_offset) + " that has no refcount block");
    // New refcount block at the end of the file; it counts itself (possibly
    // through another new block, hence the recursion, which ends because each
    // new block lands after the one that needed it).
    uint64_t block = alloc_end_;
    alloc_end_ += cluster_size_;
    std::vector<uint8_t> zeros(cluster_size_, 0);
    file_.write_at(block, zeros.data(), zeros.size());
    file_size_ = std::max(file_size_, block + cluster_size_);
    refblock_cache_[block] = std::move(zeros);
    refcount_table_[rt_index] = block;
    write_be64(refcount_table_offset_ + rt_index * 8, block);
    update_refcount(block, +1);
  }
  uint64_t block = refcount_table_[rt_index];
  std::vector<uint8_t>& rb = refcount_block(block);
  uint64_t max = refcount_bits_ == 64 ? ~0ULL : (1ULL << refcount_bits_) - 1;
  uint64_t v = 0, byte_off = 0;
  size_t nbytes = 1;
  if (refcount_bits_ >= 8) {
    nbytes = refcount_bits_ / 8;
    byte_off = index * nbytes;
    for (size_t i = 0; i < nbytes; ++i) v = v << 8 | rb[byte_off + i];
  } else {
    // Sub-byte refcounts are packed starting at the least significant bit.
    byte_off = index * refcount_bits_ / 8;
    unsigned shift = (index * refcount_bits_) % 8;
    v = (rb[byte_off] >> shift) & max;
  }
  if (delta > 0 && v == max) corrupt("refcount overflow for cluster " + hex(host_offset));
  if (delta < 0 && v == 0) corrupt("refcount underflow for cluster " + hex(host_offset));
  v = delta > 0 ? v + 1 : v - 1;
  if (refcount_bits_ >= 8) {
    for (size_t i = nbytes; i-- > 0;) {
      rb[byte_off + i] = static_cast<uint8_t>(v);
      v >>= 8;
    }
  } else {
    unsigned shift = (index * refcount_bits_) % 8;
    rb[byte_off] = static_cast<uint8_t>((rb[byte_off] & ~(max << shift)) | (v << shift));
  }
  file_.write_at(block + byte_off, &rb[byte_off], nbytes);
}

void Qcow2Image::grow_refcount_table(uint64_t min_index) {
  uint64_t per_block_bytes = refcount_block_entries_ * cluster_size_;
  uint64_t entries = std::max<uint64_t>(refcount_table_.size() * 2, min_index + 1);
  uint64_t clusters = 0;
  for (;;) {
    clusters = div_up(entries * 8, cluster_size_);
    // The new table and the blocks that will count it must be covered too.
    uint64_t end = alloc_end_ + (clusters + 4) * cluster_size_;
    uint64_t need = div_up(end, per_block_bytes) + 1;
    if (need <= entries) break;
    entries = need;
  }
  if (clusters * cluster_size_ > kMaxRefTableBytes) corrupt("refcount table would exceed its size limit");
  uint64_t new_off = alloc_end_;
  alloc_end_ += clusters * cluster_size_;
  std::vector<uint64_t> table(clusters * cluster_size_ / 8, 0);
  std::copy(refcount_table_.begin(), refcount_table_.end(), table.begin());
  std::vector<uint8_t> raw(clusters * cluster_size_, 0);
  for (size_t i = 0; i < table.size(); ++i) put_be64(&raw[i * 8], table[i]);
  file_.write_at(new_off, raw.data(), raw.size());
  file_size_ = std::max(file_size_, new_off + raw.size());
  // Switch the header to the new table in one write (offset and size together).
  uint8_t h[12];
  put_be64(h, new_off);
  put_be32(h + 8, static_cast<uint32_t>(clusters));
  file_.write_at(48, h, sizeof h);
  uint64_t old_off = refcount_table_offset_;
  uint32_t old_clusters = refcount_table_clusters_;
  refcount_table_ = std::move(table);
  refcount_table_offset_ = new_off;
  refcount_table_clusters_ = static_cast<uint32_t>(clusters);
  for (uint64_t i = 0; i < clusters; ++i) update_refcount(new_off + i * cluster_size_, +1);
  for (uint64_t i = 0; i < old_clusters; ++i) update_refcount(old_off + i * cluster_size_, -1);
}

uint64_t Qcow2Image::allocate_cluster() {
  uint64_t off = alloc_end_;
  alloc_end_ += cluster_size_;
  update_refcount(off, +1);
  return off;
}

void Qcow2Image::release(const Mapping& m) {
  if (m.kind == Kind::Compressed) {
    // Compressed data counts once in every cluster its sectors touch.
    uint64_t start = m.host & ~511ULL;
    uint64_t end = start + align_up(m.csize + (m.host & 511), 512);
    for (uint64_t c = start & ~(cluster_size_ - 1); c < end; c += cluster_size_) update_refcount(c, -1);
  } else if ((m.kind == Kind::Normal || m.kind == Kind::Zero) && m.host) {
    update_refcount(m.host, -1);
  }
}

void Qcow2Image::set_l2_entry(uint64_t cluster_index, uint64_t entry) {
  uint64_t l1_index = cluster_index / l2_entries_;
  if (l1_index >= l1_.size()) corrupt("guest cluster beyond the L1 table");
  uint64_t l1e = l1_[l1_index];
  uint64_t l2_off = l1e & kOffsetMask;
  if (!l2_off || !(l1e & kCopied)) {
    // New L2 table, or a private copy of one shared with a snapshot (its data
    // clusters' refcounts already count both references).
    std::vector<uint64_t> table(l2_entries_, 0);
    if (l2_off) table = l2_table(l2_off);
    uint64_t fresh = allocate_cluster();
    std::vector<uint8_t> raw(cluster_size_, 0);
    for (uint64_t i = 0; i < l2_entries_; ++i) put_be64(&raw[i * 8], table[i]);
    file_.write_at(fresh, raw.data(), raw.size());
    file_size_ = std::max(file_size_, fresh + cluster_size_);
    l2_cache_[fresh] = std::move(table);
    l1_[l1_index] = fresh | kCopied;
    write_be64(l1_offset_ + l1_index * 8, l1_[l1_index]);
    if (l2_off) update_refcount(l2_off, -1);
    l2_off = fresh;
  }
  auto& t = const_cast<std::vector<uint64_t>&>(l2_table(l2_off));
  t[cluster_index % l2_entries_] = entry;
  write_be64(l2_off + (cluster_index % l2_entries_) * 8, entry);
}

// ------------------------------------------------------------------ write

void Qcow2Image::write(uint64_t offset, const void* buf, size_t len) {
  check_range(offset, len, true);
  check_writable();
  const auto* in = static_cast<const uint8_t*>(buf);
  // In-place writes to contiguous host clusters are merged into one pwrite.
  uint64_t run_host = 0;
  const uint8_t* run_src = nullptr;
  size_t run_len = 0;
  auto flush_run = [&] {
    if (run_len) file_.write_at(run_host, run_src, run_len);
    run_len = 0;
  };
  std::vector<uint8_t> tmp;
  while (len) {
    uint64_t ci = offset >> cluster_bits_;
    uint64_t within = offset & (cluster_size_ - 1);
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, cluster_size_ - within));
    Mapping m = lookup(ci);
    if (m.kind == Kind::Normal && m.copied) {
      uint64_t host = m.host + within;
      if (run_len && run_host + run_len == host) {
        run_len += n;
      } else {
        flush_run();
        run_host = host;
        run_src = in;
        run_len = n;
      }
    } else {
      flush_run();
      // Copy on write: a fresh cluster holds what the guest saw plus the new
      // bytes; the L2 entry moves only after the data is in place.
      const uint8_t* data = in;
      if (n != cluster_size_) {
        tmp.resize(cluster_size_);
        read_cluster(m, ci, tmp.data());
        std::memcpy(tmp.data() + within, in, n);
        data = tmp.data();
      }
      uint64_t fresh = allocate_cluster();
      file_.write_at(fresh, data, cluster_size_);
      file_size_ = std::max(file_size_, fresh + cluster_size_);
      set_l2_entry(ci, fresh | kCopied);
      release(m);
      if (m.kind == Kind::Compressed && m.host == decompressed_host_) decompressed_host_ = ~0ULL;
    }
    in += n;
    offset += n;
    len -= n;
  }
  flush_run();
}

void Qcow2Image::flush() { file_.sync(); }

// ------------------------------------------------------------------ create

void Qcow2Image::create(const std::string& path, uint64_t size, const std::string& backing,
                        const std::string& backing_format, unsigned cluster_bits) {
  if (cluster_bits < 9 || cluster_bits > 21) throw DiskImageError("'" + path + "': bad qcow2 cluster size");
  if (size > kMaxImageSize) throw DiskImageError("'" + path + "': disk size too large for qcow2");
  if (backing.size() > 1023) throw DiskImageError("'" + path + "': backing file name is too long");
  uint64_t cs = 1ULL << cluster_bits;
  uint64_t l1_size = std::max<uint64_t>(1, div_up(size, cs * (cs / 8)));
  uint64_t l1_clusters = div_up(l1_size * 8, cs);
  uint64_t meta_clusters = 3 + l1_clusters;  // header, refcount table, refcount block, L1
  if (meta_clusters > cs * 8 / 16 || l1_size * 8 > kMaxL1Bytes)
    throw DiskImageError("'" + path + "': disk size too large for this cluster size");

  std::vector<uint8_t> img(meta_clusters * cs, 0);
  uint8_t* h = img.data();
  put_be32(h, kMagic);
  put_be32(h + 4, 3);
  put_be32(h + 20, cluster_bits);
  put_be64(h + 24, size);
  put_be32(h + 36, static_cast<uint32_t>(l1_size));
  put_be64(h + 40, 3 * cs);
  put_be64(h + 48, cs);
  put_be32(h + 56, 1);
  put_be32(h + 96, 4);    // refcount_order: 16-bit refcounts
  put_be32(h + 100, 112); // header length (byte 104: compression type 0 = zlib)
  uint64_t pos = 112;
  if (!backing_format.empty()) {
    put_be32(h + pos, kExtBackingFormat);
    put_be32(h + pos + 4, static_cast<uint32_t>(backing_format.size()));
    std::memcpy(h + pos + 8, backing_format.data(), backing_format.size());
    pos += 8 + align_up(backing_format.size(), 8);
  }
  pos += 8;  // end-of-extensions marker (zeros)
  if (!backing.empty()) {
    if (pos + backing.size() > cs) throw DiskImageError("'" + path + "': backing file name does not fit the header");
    put_be64(h + 8, pos);
    put_be32(h + 16, static_cast<uint32_t>(backing.size()));
    std::memcpy(h + pos, backing.data(), backing.size());
  }
  put_be64(img.data() + cs, 2 * cs);  // refcount table entry 0 -> block at cluster 2
  for (uint64_t c = 0; c < meta_clusters; ++c) img[2 * cs + c * 2 + 1] = 1;  // 16-bit big-endian refcount 1

  HostFile f = HostFile::create(path);
  try {
    f.write_at(0, img.data(), img.size());
    f.sync();
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
}

}  // namespace pc64
