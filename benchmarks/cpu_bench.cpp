// Interpreter speed: runs benchmarks/cpu_loop.asm (integer) and
// benchmarks/sse2_loop.asm (SSE2 doubles), assembled with nasm at start-up,
// in 64-bit mode for a fixed instruction budget each and reports guest MIPS
// (instructions retired per host CPU-second) for both.
//   pc64_cpu_bench [instructions] [dr]   (default 300 million per loop; "dr"
//   adds cpu_loop with a guest DR0 execution breakpoint armed)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmarks/bench_util.h"
#include "cpu/cpu.h"
#include "mem/physical_memory.h"

namespace {

struct NoPorts : pc64::PortIo {
  uint32_t port_read(uint16_t, unsigned) override { return ~0u; }
  void port_write(uint16_t, unsigned, uint32_t) override {}
};

// Runs one loop for `budget` instructions and prints its MIPS; false on a CPU shutdown.
// `dr_exec`: the guest has a DR0 execution breakpoint armed at an address the
// loop never reaches (costs nothing: only that address's offset is checked).
bool bench(const char* file, const char* what, uint64_t budget, bool dr_exec = false) {
  std::vector<uint8_t> code = pc64::bench::assemble(std::string(PC64_BENCH_DIR "/") + file, "pc64_cpu_bench");
  pc64::PhysicalMemory mem(64ull << 20);
  NoPorts ports;
  pc64::Cpu cpu(mem, ports);
  mem.write_bytes(0x10000, code.data(), code.size());
  cpu.enter_long_mode_identity(0x100000, 16ull << 20);
  cpu.state().cr4 |= pc64::CR4_OSFXSR | pc64::CR4_OSXMMEXCPT;  // SSE enabled, as any OS does
  cpu.state().rip = 0x10000;
  cpu.state().gpr[pc64::RSP] = 0x80000;
  if (dr_exec) {
    cpu.state().dr[0] = 0xFFF123;
    cpu.state().dr[7] = 0x401;  // L0, R/W 00: execution
  }
  cpu.run(1000000);  // warm up: decode the blocks
  auto t0 = std::chrono::steady_clock::now();
  const double c0 = pc64::bench::cpu_seconds();
  uint64_t done = 0;
  while (done < budget) {
    uint64_t n = cpu.run(std::min<uint64_t>(budget - done, 10000000));
    if (n == 0) break;
    done += n;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // CPU time as well: on a shared, loaded host wall time says little.
  double cpu_secs = pc64::bench::cpu_seconds() - c0;
  std::printf("%s, interpreter: %llu instructions in %.3f s = %.1f MIPS (%.1f MIPS per CPU-second)\n", what,
              static_cast<unsigned long long>(done), secs, done / secs / 1e6, done / cpu_secs / 1e6);
  return !cpu.shutdown();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t budget = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 300000000ull;
#if defined(PC64_SOFT_SSE) || !defined(__x86_64__)
  const char* sse = "sse2_loop (Mandelbrot in SSE2 doubles, portable path)";
#else
  const char* sse = "sse2_loop (Mandelbrot in SSE2 doubles, host FPU path)";
#endif
  // An optional second argument picks one loop ("cpu" or "sse2"), e.g. to
  // profile just one under callgrind; "dr" runs cpu_loop with a guest DR0
  // execution breakpoint armed at an address the loop never reaches.
  const std::string only = argc > 2 ? argv[2] : "";
  bool ok = true;
  if (only.empty() || only == "cpu") ok = bench("cpu_loop.asm", "cpu_loop (64-bit integer/load/store/branch/call)", budget);
  if (only.empty() || only == "sse2") ok = bench("sse2_loop.asm", sse, budget) && ok;
  if (only == "dr")
    ok = bench("cpu_loop.asm", "cpu_loop with a guest DR0 execution breakpoint armed elsewhere", budget, true) && ok;
  return ok ? 0 : 1;
}
