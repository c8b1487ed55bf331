#include "io/char_backend.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

void StdioCharBackend::write(const uint8_t* data, size_t n) {
  std::fwrite(data, 1, n, out_);
  std::fflush(out_);  // interactive output: a prompt without newline must show
}

FileCharBackend::FileCharBackend(const std::string& path, bool append) : path_(path) {
  file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (!file_) throw std::runtime_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
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
