#include "io/vhd_image.h"

#include <algorithm>
#include <cstring>

namespace pc64 {

namespace {

constexpr uint32_t kTypeFixed = 2, kTypeDynamic = 3, kTypeDifferencing = 4;
constexpr uint64_t kMaxChs = 65535ULL * 16 * 255;

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

// One's complement of the byte sum with the checksum field counted as zero
// (VHD spec, "Checksum").
uint32_t vhd_checksum(const uint8_t* p, size_t n, size_t checksum_at) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; ++i)
    if (i < checksum_at || i >= checksum_at + 4) sum += p[i];
  return ~sum;
}

}  // namespace

bool VhdImage::has_cookie(const uint8_t* s) { return std::memcmp(s, "conectix", 8) == 0; }

VhdImage::VhdImage(const std::string& path, bool writable)
    : file_(path, writable, writable ? HostFile::Lock::Exclusive : HostFile::Lock::Shared) {
  uint64_t fsize = file_.size();
  auto fail = [&](const std::string& what) -> void { throw DiskImageError("'" + path + "': " + what); };
  if (fsize < 512) fail("not a VHD image (file is shorter than a footer)");
  footer_.resize(512);
  uint8_t head[512];
  file_.read_exact(0, head, 512, "VHD footer copy");
  file_.read_exact(fsize - 512, footer_.data(), 512, "VHD footer");
  footer_pos_ = fsize - 512;
  if (!has_cookie(footer_.data())) {
    if (has_cookie(head))
      fail("corrupt VHD image: the footer at the end of the file is missing (truncated image?)");
    fail("not a VHD image (no \"conectix\" footer)");
  }
  if (be32(&footer_[64]) != vhd_checksum(footer_.data(), 512, 64)) fail("corrupt VHD image: footer checksum mismatch");
  uint32_t version = be32(&footer_[12]);
  if (version >> 16 != 1) fail("unsupported VHD file format version " + std::to_string(version >> 16));
  uint32_t type = be32(&footer_[60]);
  if (type == kTypeDifferencing) fail("differencing VHD images are not supported (convert it with qemu-img first)");
  if (type != kTypeFixed && type != kTypeDynamic) fail("unsupported VHD disk type " + std::to_string(type));
  dynamic_ = type == kTypeDynamic;

  // Disk size. Virtual PC and QEMU's "qemu" creator derive it from the CHS
  // geometry, Hyper-V and others from Current Size; like QEMU (block/vpc.c)
  // use the geometry except for the creators known to use the size field, or
  // when the geometry is the maximum (the size would be truncated).
  uint64_t chs = uint64_t(be16(&footer_[56])) * footer_[58] * footer_[59];
  uint64_t current = be64(&footer_[48]);
  const char* app = reinterpret_cast<const char*>(&footer_[28]);
  bool size_field = !std::memcmp(app, "win ", 4) || !std::memcmp(app, "qem2", 4) || !std::memcmp(app, "d2v ", 4) ||
                    !std::memcmp(app, "CTXS", 4) || !std::memcmp(app, "tap", 3);
  size_ = (size_field || chs >= kMaxChs) ? current / 512 * 512 : chs * 512;

  if (!dynamic_) {
    if (size_ > footer_pos_) fail("truncated fixed VHD image: disk size " + std::to_string(size_) + " exceeds the data in the file");
    return;
  }

  if (!has_cookie(head)) fail("corrupt VHD image: dynamic disk without the footer copy at offset 0");
  uint64_t hdr_off = be64(&footer_[16]);
  if (hdr_off > fsize || 1024 > fsize - hdr_off) fail("corrupt VHD image: dynamic header lies outside the file");
  uint8_t dh[1024];
  file_.read_exact(hdr_off, dh, sizeof dh, "VHD dynamic header");
  if (std::memcmp(dh, "cxsparse", 8) != 0) fail("corrupt VHD image: bad dynamic header cookie");
  if (be32(dh + 36) != vhd_checksum(dh, sizeof dh, 36)) fail("corrupt VHD image: dynamic header checksum mismatch");
  if (be32(dh + 24) >> 16 != 1) fail("unsupported VHD dynamic header version");
  bat_offset_ = be64(dh + 16);
  uint32_t entries = be32(dh + 28);
  block_size_ = be32(dh + 32);
  if (block_size_ < 512 || (block_size_ & (block_size_ - 1)) || block_size_ > (256u << 20))
    fail("corrupt VHD image: bad block size " + std::to_string(block_size_));
  if (uint64_t(entries) * block_size_ < size_) fail("corrupt VHD image: the BAT does not cover the disk size");
  if (bat_offset_ > fsize || uint64_t(entries) * 4 > fsize - bat_offset_) fail("corrupt VHD image: BAT lies outside the file");
  bitmap_bytes_ = (uint64_t(block_size_) / 512 / 8 + 511) / 512 * 512;
  std::vector<uint8_t> raw(uint64_t(entries) * 4);
  file_.read_exact(bat_offset_, raw.data(), raw.size(), "VHD BAT");
  bat_.resize(entries);
  for (uint32_t i = 0; i < entries; ++i) {
    uint32_t e = be32(&raw[i * 4]);
    if (e != kUnallocated) {
      uint64_t start = uint64_t(e) * 512;
      if (start > footer_pos_ || bitmap_bytes_ + block_size_ > footer_pos_ - start)
        fail("corrupt VHD image: BAT entry " + std::to_string(i) + " points past the end of the file");
    }
    bat_[i] = e;
  }
}

void VhdImage::corrupt(const std::string& what) {
  damaged_ = true;
  throw DiskImageError("'" + file_.path() + "': corrupt VHD image: " + what);
}

std::vector<uint8_t>& VhdImage::bitmap(uint64_t block) {
  auto it = bitmaps_.find(block);
  if (it != bitmaps_.end()) return it->second;
  if (bitmaps_.size() > 4096) bitmaps_.clear();
  std::vector<uint8_t> bm(bitmap_bytes_);
  file_.read_exact(uint64_t(bat_[block]) * 512, bm.data(), bm.size(), "VHD sector bitmap");
  return bitmaps_.emplace(block, std::move(bm)).first->second;
}

void VhdImage::read(uint64_t offset, void* buf, size_t len) {
  check_range(offset, len, false);
  auto* out = static_cast<uint8_t*>(buf);
  if (!dynamic_) {
    file_.read_exact(offset, out, len, "VHD data");
    return;
  }
  while (len) {
    uint64_t block = offset / block_size_;
    uint64_t within = offset % block_size_;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, block_size_ - within));
    if (bat_[block] == kUnallocated) {
      std::memset(out, 0, n);
    } else {
      const std::vector<uint8_t>& bm = bitmap(block);
      uint64_t data = uint64_t(bat_[block]) * 512 + bitmap_bytes_;
      // Runs of sectors with the same bitmap bit: present ones in one read.
      size_t done = 0;
      while (done < n) {
        uint64_t pos = within + done;
        uint64_t sector = pos / 512;
        bool present = bm[sector / 8] & (0x80 >> (sector % 8));  // MSB = first sector
        size_t run = 0;
        while (done + run < n) {
          uint64_t s = (pos + run) / 512;
          if (bool(bm[s / 8] & (0x80 >> (s % 8))) != present) break;
          run += static_cast<size_t>(std::min<uint64_t>(n - done - run, 512 - (pos + run) % 512));
        }
        if (present)
          file_.read_exact(data + pos, out + done, run, "VHD data block");
        else
          std::memset(out + done, 0, run);
        done += run;
      }
    }
    out += n;
    offset += n;
    len -= n;
  }
}

void VhdImage::allocate_block(uint64_t block) {
  uint64_t start = footer_pos_;
  if (start % 512) corrupt("file size is not a multiple of 512; cannot allocate");
  if (start / 512 >= kUnallocated) throw DiskImageError("'" + file_.path() + "': VHD image is full (2 TiB limit)");
  // Bitmap all clear: sectors become present as they are written.
  std::vector<uint8_t> bm(bitmap_bytes_, 0);
  uint64_t new_footer = start + bitmap_bytes_ + block_size_;
  file_.write_at(new_footer, footer_.data(), 512);  // extends the file; the data area reads as zeros
  file_.write_at(start, bm.data(), bm.size());
  footer_pos_ = new_footer;
  bat_[block] = static_cast<uint32_t>(start / 512);
  uint8_t e[4];
  put_be32(e, bat_[block]);
  file_.write_at(bat_offset_ + block * 4, e, 4);
  bitmaps_[block] = std::move(bm);
}

void VhdImage::write_sectors(uint64_t offset, const uint8_t* src, size_t len) {
  while (len) {
    uint64_t block = offset / block_size_;
    uint64_t within = offset % block_size_;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, block_size_ - within));
    if (bat_[block] == kUnallocated) allocate_block(block);
    uint64_t base = uint64_t(bat_[block]) * 512;
    file_.write_at(base + bitmap_bytes_ + within, src, n);
    std::vector<uint8_t>& bm = bitmap(block);
    uint64_t first = within / 512, last = (within + n) / 512;  // [first, last)
    bool changed = false;
    for (uint64_t s = first; s < last; ++s) {
      uint8_t bit = static_cast<uint8_t>(0x80 >> (s % 8));
      if (!(bm[s / 8] & bit)) bm[s / 8] |= bit, changed = true;
    }
    if (changed) {
      uint64_t lo = first / 8 / 512 * 512, hi = ((last - 1) / 8 / 512 + 1) * 512;
      file_.write_at(base + lo, bm.data() + lo, hi - lo);
    }
    src += n;
    offset += n;
    len -= n;
  }
}

void VhdImage::write(uint64_t offset, const void* buf, size_t len) {
  check_range(offset, len, true);
  if (damaged_) throw DiskImageError("'" + file_.path() + "': corrupt VHD image: refusing to write to it");
  const auto* in = static_cast<const uint8_t*>(buf);
  if (!dynamic_) {
    file_.write_at(offset, in, len);
    return;
  }
  // Partial sectors: read-modify-write so bitmap bits always mean whole sectors.
  uint64_t head = offset % 512;
  if (head || len < 512) {
    uint8_t sec[512];
    uint64_t s = offset - head;
    read(s, sec, 512);
    size_t n = std::min<size_t>(len, 512 - head);
    std::memcpy(sec + head, in, n);
    write_sectors(s, sec, 512);
    in += n;
    offset += n;
    len -= n;
  }
  size_t whole = len / 512 * 512;
  if (whole) write_sectors(offset, in, whole);
  in += whole;
  offset += whole;
  len -= whole;
  if (len) {
    uint8_t sec[512];
    read(offset, sec, 512);
    std::memcpy(sec, in, len);
    write_sectors(offset, sec, 512);
  }
}

}  // namespace pc64
