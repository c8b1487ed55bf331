// A host file opened for a disk image: positioned reads and writes that
// retry on EINTR and short transfers, advisory locking so several pc64
// processes can share a read-only base while a writable file has one owner,
// and errors as DiskImageError naming the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace pc64 {

class HostFile {
 public:
  enum class Lock { None, Shared, Exclusive };

  HostFile() = default;
  // Opens an existing file. `lock` is taken with flock() without waiting: a
  // conflicting holder makes this throw ("in use by another process").
  HostFile(const std::string& path, bool writable, Lock lock);
  ~HostFile();
  HostFile(HostFile&& o) noexcept;
  HostFile& operator=(HostFile&& o) noexcept;
  HostFile(const HostFile&) = delete;
  HostFile& operator=(const HostFile&) = delete;

  // Creates a new file (fails if it exists), opened read-write with an exclusive lock.
  static HostFile create(const std::string& path);

  bool is_open() const { return fd_ >= 0; }
  bool writable() const { return writable_; }
  const std::string& path() const { return path_; }
  // Current size (for block devices: the device size).
  uint64_t size() const;

  // Reads up to n bytes; returns fewer only at end of file.
  size_t read_at(uint64_t offset, void* buf, size_t n) const;
  // Reads exactly n bytes or throws "<what> is truncated".
  void read_exact(uint64_t offset, void* buf, size_t n, const char* what) const;
  // Reads n bytes, zero-filling whatever lies past the end of the file.
  void read_zero_fill(uint64_t offset, void* buf, size_t n) const;
  void write_at(uint64_t offset, const void* buf, size_t n);
  void sync();

 private:
  int fd_ = -1;
  bool writable_ = false;
  std::string path_;
};

// Directory part of `path` ("." if none), for resolving relative backing files.
std::string directory_of(const std::string& path);
// `name` if absolute, else directory_of(relative_to) + "/" + name.
std::string resolve_relative(const std::string& name, const std::string& relative_to);

}  // namespace pc64
