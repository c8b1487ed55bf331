// Helpers for the disk image tests: a scratch directory, random data, shell
// commands (qemu-img / qemu-io are the reference implementation) and files.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace pc64_test {

struct ScratchDir {
  std::string path;
  ScratchDir() {
    char tmpl[] = "/tmp/pc64-img-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~ScratchDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// Runs `cmd`, returns its stdout; sets *status to the exit status.
inline std::string run_output(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Random bytes with some all-zero 64 KiB stretches (so converters leave
// clusters unallocated) and some repetitive ones (so compression helps).
inline std::vector<uint8_t> random_disk(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> d(size);
  for (size_t i = 0; i < size; i += 65536) {
    size_t n = std::min<size_t>(65536, size - i);
    int kind = rng() % 4;
    for (size_t j = 0; j < n; ++j) d[i + j] = kind == 0 ? 0 : kind == 1 ? static_cast<uint8_t>(j / 512) : static_cast<uint8_t>(rng());
  }
  return d;
}

inline void patch(const std::string& path, uint64_t offset, const std::vector<uint8_t>& bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> be64_bytes(uint64_t v) {
  std::vector<uint8_t> b(8);
  for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v);
  return b;
}
inline std::vector<uint8_t> be32_bytes(uint32_t v) {
  std::vector<uint8_t> b(4);
  for (int i = 3; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v);
  return b;
}
inline uint64_t be64_at(const std::vector<uint8_t>& d, size_t off) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | d[off + i];
  return v;
}

}  // namespace pc64_test
