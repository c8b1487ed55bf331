#include "io/char_backend.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

void StdioCharBackend::write(const uint8_t* data, size_t n) {
  std::fwrite(data, 1, n, out_);
  std::fflush(out_);  // interactive output: a prompt without newline must show
}

size_t StdioCharBackend::read(uint8_t* buf, size_t max) {
  if (in_fd_ < 0 || max == 0) return 0;
  pollfd p{in_fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) return 0;
  ssize_t n = ::read(in_fd_, buf, max);
  if (n > 0) return static_cast<size_t>(n);
  if (n == 0 || (errno != EINTR && errno != EAGAIN)) in_fd_ = -1;  // EOF or a dead descriptor: stop asking
  return 0;
}

FileCharBackend::FileCharBackend(const std::string& path, bool append) : path_(path) {
  file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (!file_) throw std::runtime_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
  // Line-buffered: a script watching the log (tail -f, a test waiting for a
  // marker) sees each line as the guest completes it.
  std::setvbuf(file_, nullptr, _IOLBF, 1 << 16);
}

FileCharBackend::~FileCharBackend() {
  if (file_) std::fclose(file_);
}

void FileCharBackend::write(const uint8_t* data, size_t n) {
  if (std::fwrite(data, 1, n, file_) != n && !write_error_reported_) {
    write_error_reported_ = true;
    PC64_LOG(LogLevel::Error, "chardev", "writing to '%s' failed: %s", path_.c_str(), std::strerror(errno));
  }
}

void FileCharBackend::flush() { std::fflush(file_); }

}  // namespace pc64
