// Linear framebuffer store speed: benchmarks/lfb_fill.asm fills a
// 1024x768x32 frame with dword stores, in 64-bit mode, (a) through the
// std-vga BAR0 as the PCI function maps it (tracked RAM: TLB host pointers,
// dirty bits for the renderer) and (b) through the same VRAM behind an MMIO
// handler (the LFB before the fast path: one device call per store), and
// (c) plain guest RAM for reference.
// Reports guest MIPS and frames per host second for each, with the renderer
// taking the dirty set once per frame as the SDL window does at 60 Hz.
//   pc64_lfb_bench [instructions per run]   (default 100 million)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "benchmarks/bench_util.h"
#include "cpu/cpu.h"
#include "io/pci_bus.h"
#include "io/std_vga_pci.h"
#include "mem/physical_memory.h"

namespace {

constexpr uint64_t kBar0 = 0xE0000000, kMmioAlias = 0xD0000000, kRam = 0x1000000;
constexpr uint64_t kInsnsPerFrame = 4ull * 1024 * 768;  // 4 instructions per pixel

double run(const std::vector<uint8_t>& code, uint64_t target, uint64_t budget, const char* what) {
  pc64::PhysicalMemory mem(64ull << 20);
  pc64::PortBus ports;
  pc64::VirtualClock clock;
  pc64::PciBus bus(ports, mem);
  pc64::StdVgaPci vga(bus, clock, {}, 16u << 20);
  vga.reset();
  bus.config_write(2, 0, 0x10, 4, static_cast<uint32_t>(kBar0));
  bus.config_write(2, 0, 0x04, 2, pc64::pci::kCommandMemory);
  if (target == kMmioAlias) mem.map_mmio(kMmioAlias, 16u << 20, &vga.vbe().lfb(), "lfb as mmio");
  pc64::Cpu cpu(mem, ports);
  mem.write_bytes(0x10000, code.data(), code.size());
  cpu.enter_long_mode_identity(0x100000, 4ull << 30);
  cpu.state().rip = 0x10000;
  cpu.state().gpr[pc64::RDI] = target;
  cpu.state().gpr[pc64::RSP] = 0x80000;
  std::vector<uint64_t> dirty;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t done = 0, frames = 0;
  while (done < budget) {
    uint64_t n = cpu.run(std::min(budget - done, kInsnsPerFrame));
    if (n == 0) break;
    done += n;
    if (!std::getenv("PC64_BENCH_NO_RENDER")) vga.vga().take_dirty(dirty);  // what the window's renderer does each frame
    ++frames;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint32_t px = 0;
  std::memcpy(&px, vga.vga().vram() + 4 * 1000, 4);
  std::printf("%-34s %llu instructions in %.3f s = %6.1f MIPS, %6.1f frames/s (pixel %#x)\n", what,
              static_cast<unsigned long long>(done), secs, done / secs / 1e6, done / secs / kInsnsPerFrame, px);
  return done / secs;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t budget = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 100000000ull;
  std::vector<uint8_t> code = pc64::bench::assemble(PC64_BENCH_DIR "/lfb_fill.asm", "pc64_lfb_bench");
  double fast = run(code, kBar0, budget, "LFB BAR0 (tracked RAM):");
  double slow = run(code, kMmioAlias, budget, "same VRAM as MMIO (per-store call):");
  run(code, kRam, budget, "guest RAM (reference):");
  std::printf("speed-up %.1fx\n", fast / slow);
  return 0;
}
