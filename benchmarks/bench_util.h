// Helpers shared by the benchmarks that run a nasm-assembled guest loop.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace pc64::bench {

// Assembles `src` with nasm into a flat binary and returns its bytes; on a
// nasm failure prints "<tool>: nasm failed on <src>" and exits 1.
inline std::vector<uint8_t> assemble(const std::string& src, const char* tool) {
  std::string out = std::string("/tmp/") + tool + "-" + std::to_string(getpid()) + ".bin";
  std::string cmd = "nasm -f bin -o " + out + " " + src;
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "%s: nasm failed on %s\n", tool, src.c_str());
    std::exit(1);
  }
  std::ifstream f(out, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::remove(out.c_str());
  return b;
}

// User + system CPU time of this process.
inline double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace pc64::bench
