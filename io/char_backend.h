// Where a character device's output goes on the host and where its input
// comes from: the serial ports and the debug console write here, and
// SerialInputPump moves host input into a UART.
// Guest output is never lost: the stdio backend writes through at once; the
// file backend buffers in stdio and is flushed by flush(), by its destructor,
// and by exit() (stdio flushes open streams).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace pc64 {

class CharBackend {
 public:
  virtual ~CharBackend() = default;
  virtual void write(const uint8_t* data, size_t n) = 0;
  void write(uint8_t byte) { write(&byte, 1); }
  virtual void flush() {}
  // Host input, never blocking: up to `max` bytes that have arrived (0: none yet).
  virtual size_t read(uint8_t* /*buf*/, size_t /*max*/) { return 0; }
  // False when no input can ever come (output-only backends, stdin at EOF):
  // nobody needs to ask read() again.
  virtual bool has_input() const { return false; }
};

// Discards everything ("--serial none").
class NullCharBackend final : public CharBackend {
 public:
  using CharBackend::write;
  void write(const uint8_t*, size_t) override {}
};

// The process's stdout (or another stream it does not own), written through;
// with `in_fd` >= 0 also input from that descriptor (stdin for `--headless
// --serial stdio`: the terminal stays in line mode, so a line reaches the
// guest when Enter is pressed and Ctrl-C still stops pc64).
class StdioCharBackend final : public CharBackend {
 public:
  explicit StdioCharBackend(std::FILE* out = stdout, int in_fd = -1) : out_(out), in_fd_(in_fd) {}
  using CharBackend::write;
  void write(const uint8_t* data, size_t n) override;
  void flush() override { std::fflush(out_); }
  size_t read(uint8_t* buf, size_t max) override;
  bool has_input() const override { return in_fd_ >= 0; }

 private:
  std::FILE* out_;
  int in_fd_;
};

// A host file, created or truncated (or appended to). Throws
// std::runtime_error naming the file if it cannot be opened.
class FileCharBackend final : public CharBackend {
 public:
  explicit FileCharBackend(const std::string& path, bool append = false);
  ~FileCharBackend() override;
  FileCharBackend(const FileCharBackend&) = delete;
  FileCharBackend& operator=(const FileCharBackend&) = delete;
  using CharBackend::write;
  void write(const uint8_t* data, size_t n) override;
  void flush() override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool write_error_reported_ = false;
};

// Collects output in memory: for tests and for guest tests that assert on
// what the guest printed.
class MemoryCharBackend final : public CharBackend {
 public:
  using CharBackend::write;
  void write(const uint8_t* data, size_t n) override { data_.append(reinterpret_cast<const char*>(data), n); }
  const std::string& data() const { return data_; }
  void clear() { data_.clear(); }

 private:
  std::string data_;
};

}  // namespace pc64
