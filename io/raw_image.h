// A raw disk image (also ISO 9660 CD images): guest byte N is file byte N.
#pragma once
#include <memory>
#include <string>

#include "io/block_device.h"
#include "io/host_file.h"

namespace pc64 {

class RawImage final : public BlockDevice {
 public:
  // Read-only images take a shared lock (many readers), writable ones an
  // exclusive lock.
  RawImage(const std::string& path, bool writable);

  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* buf, size_t len) override;
  void write(uint64_t offset, const void* buf, size_t len) override;
  void flush() override { file_.sync(); }
  bool read_only() const override { return !file_.writable(); }
  const char* format_name() const override { return "raw"; }
  std::string path() const override { return file_.path(); }

 private:
  HostFile file_;
  uint64_t size_ = 0;
};

}  // namespace pc64
