#include "io/host_file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "io/block_device.h"

namespace pc64 {

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw DiskImageError("'" + path + "': " + what + ": " + std::strerror(err));
}
}  // namespace

HostFile::HostFile(const std::string& path, bool writable, Lock lock) : writable_(writable), path_(path) {
  fd_ = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd_ < 0) fail(path, writable ? "cannot open for writing" : "cannot open", errno);
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    fail(path, "cannot stat", e);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw DiskImageError("'" + path + "': is a directory, not a disk image");
  }
  if (lock != Lock::None) {
    if (::flock(fd_, (lock == Lock::Shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
      int e = errno;
      ::close(fd_);
      fd_ = -1;
      if (e == EWOULDBLOCK)
        throw DiskImageError("'" + path + "': in use by another process (" +
                             (lock == Lock::Shared ? "it is open for writing" : "it is locked") + ")");
      fail(path, "cannot lock", e);
    }
  }
}

HostFile HostFile::create(const std::string& path) {
  HostFile f;
  f.path_ = path;
  f.writable_ = true;
  f.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (f.fd_ < 0) fail(path, "cannot create", errno);
  if (::flock(f.fd_, LOCK_EX | LOCK_NB) != 0) fail(path, "cannot lock", errno);
  return f;
}

HostFile::~HostFile() {
  if (fd_ >= 0) ::close(fd_);
}

HostFile::HostFile(HostFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), writable_(o.writable_), path_(std::move(o.path_)) {}

HostFile& HostFile::operator=(HostFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    writable_ = o.writable_;
    path_ = std::move(o.path_);
  }
  return *this;
}

uint64_t HostFile::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) fail(path_, "cannot stat", errno);
  if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (::ioctl(fd_, BLKGETSIZE64, &bytes) != 0) fail(path_, "cannot get block device size", errno);
    return bytes;
  }
  return static_cast<uint64_t>(st.st_size);
}

size_t HostFile::read_at(uint64_t offset, void* buf, size_t n) const {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(path_, "read error at offset " + std::to_string(offset + done), errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

void HostFile::read_exact(uint64_t offset, void* buf, size_t n, const char* what) const {
  if (read_at(offset, buf, n) != n)
    throw DiskImageError("'" + path_ + "': " + what + " at offset " + std::to_string(offset) +
                         " lies past the end of the file (truncated image?)");
}

void HostFile::read_zero_fill(uint64_t offset, void* buf, size_t n) const {
  size_t got = read_at(offset, buf, n);
  if (got < n) std::memset(static_cast<uint8_t*>(buf) + got, 0, n - got);
}

void HostFile::write_at(uint64_t offset, const void* buf, size_t n) {
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(path_, "write error at offset " + std::to_string(offset + done), errno);
    }
    done += static_cast<size_t>(r);
  }
}

void HostFile::sync() {
  if (fd_ >= 0 && writable_ && ::fdatasync(fd_) != 0) fail(path_, "flush failed", errno);
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string resolve_relative(const std::string& name, const std::string& relative_to) {
  if (name.empty() || name[0] == '/') return name;
  return directory_of(relative_to) + "/" + name;
}

}  // namespace pc64
