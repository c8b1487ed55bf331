#include "io/raw_image.h"

namespace pc64 {

RawImage::RawImage(const std::string& path, bool writable)
    : file_(path, writable, writable ? HostFile::Lock::Exclusive : HostFile::Lock::Shared), size_(file_.size()) {}

void RawImage::read(uint64_t offset, void* buf, size_t len) {
  check_range(offset, len, false);
  // The file may shrink under us (another process); what is gone reads as zeros.
  file_.read_zero_fill(offset, buf, len);
}

void RawImage::write(uint64_t offset, const void* buf, size_t len) {
  check_range(offset, len, true);
  file_.write_at(offset, buf, len);
}

}  // namespace pc64
