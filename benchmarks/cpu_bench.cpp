// Interpreter speed: runs benchmarks/cpu_loop.asm (assembled with nasm at
// start-up) in 64-bit mode for a fixed instruction budget and reports guest
// MIPS (instructions retired per host CPU-second).
//   pc64_cpu_bench [instructions]   (default 300 million)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "mem/physical_memory.h"

namespace {

struct NoPorts : pc64::PortIo {
  uint32_t port_read(uint16_t, unsigned) override { return ~0u; }
  void port_write(uint16_t, unsigned, uint32_t) override {}
};

std::vector<uint8_t> assemble(const std::string& src) {
  std::string out = "/tmp/pc64-bench-" + std::to_string(getpid()) + ".bin";
  std::string cmd = "nasm -f bin -o " + out + " " + src;
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "pc64_cpu_bench: nasm failed on %s\n", src.c_str());
    std::exit(1);
  }
  std::ifstream f(out, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::remove(out.c_str());
  return b;
}

// User + system CPU time of this process.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t budget = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 300000000ull;
  std::vector<uint8_t> code = assemble(PC64_BENCH_DIR "/cpu_loop.asm");
  pc64::PhysicalMemory mem(64ull << 20);
  NoPorts ports;
  pc64::Cpu cpu(mem, ports);
  mem.write_bytes(0x10000, code.data(), code.size());
  cpu.enter_long_mode_identity(0x100000, 16ull << 20);
  cpu.state().rip = 0x10000;
  cpu.state().gpr[pc64::RSP] = 0x80000;
  cpu.run(1000000);  // warm up: decode the blocks
  auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  uint64_t done = 0;
  while (done < budget) {
    uint64_t n = cpu.run(std::min<uint64_t>(budget - done, 10000000));
    if (n == 0) break;
    done += n;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu_secs = cpu_seconds() - c0;
  // CPU time is the figure to quote: on a shared, loaded host wall time
  // measures the other processes as much as pc64.
  std::printf("cpu_loop (64-bit integer/load/store/branch/call), interpreter: %llu instructions, "
              "%.3f s CPU = %.1f MIPS (wall %.3f s = %.1f MIPS)\n",
              static_cast<unsigned long long>(done), cpu_secs, done / cpu_secs / 1e6, secs, done / secs / 1e6);
  return cpu.shutdown() ? 1 : 0;
}
