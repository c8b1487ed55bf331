// Soft-TLB speed (issue 4): what a translated guest access costs on a hit and
// on a miss (page walk + fill), what flushes cost (MOV CR3, INVLPG with and
// without large pages cached), and a guest load/store loop over working sets
// smaller and larger than the TLB, reported as MIPS with the TLB hit rate.
// Times are host CPU time (the host is shared; wall time is noise), except
// single flushes, timed one by one (median of many) with the monotonic clock.
//   pc64_tlb_bench [guest instructions per loop run]   (default 50 million)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmarks/bench_util.h"
#include "cpu/core.h"
#include "cpu/cpu.h"
#include "mem/physical_memory.h"

namespace {

using namespace pc64;

struct NoPorts : PortIo {
  uint32_t port_read(uint16_t, unsigned) override { return ~0u; }
  void port_write(uint16_t, unsigned, uint32_t) override {}
};

constexpr uint64_t kRam = 160ull << 20;
constexpr uint64_t kTables = 0x100000;     // GDT + 2 MiB identity tables (enter_long_mode_identity)
constexpr uint64_t k4kTables = 0x200000;   // our 4 KiB tables: PDPT, PD, then page tables
constexpr uint64_t kData = 32ull << 20;    // working sets start here
constexpr uint64_t kMapped = 128ull << 20; // mapped with 4 KiB pages from 0

// Replaces the identity map by one made of 4 KiB pages (so each miss walks
// four levels, as most guest accesses do), or keeps the 2 MiB one.
void map_4k(Cpu& cpu, PhysicalMemory& mem) {
  CpuState& s = cpu.state();
  const uint64_t pml4 = s.cr3 & ~0xFFFull;
  const uint64_t pdpt = k4kTables, pd = pdpt + 0x1000, pt = pd + 0x1000;
  for (uint64_t k = 0; k < 512; ++k) mem.write(pdpt + 8 * k, 8, 0);
  mem.write(pml4, 8, pdpt | 7);
  mem.write(pdpt, 8, pd | 7);
  for (uint64_t k = 0; k < 512; ++k) {
    const uint64_t base = k << 21;
    mem.write(pd + 8 * k, 8, base < kMapped ? ((pt + 0x1000 * k) | 7) : 0);
    if (base < kMapped)
      for (uint64_t e = 0; e < 512; ++e) mem.write(pt + 0x1000 * k + 8 * e, 8, (base + (e << 12)) | 7);
  }
  cpu.state_changed();
}

// ns per access through Core::read (segmentation + TLB, walk on a miss).
double ns_per_read(Core& c, uint64_t base, uint64_t pages, uint64_t stride, uint64_t reads, bool flush_each_pass) {
  uint64_t sum = 0;
  const double t0 = bench::cpu_seconds();
  uint64_t done = 0;
  while (done < reads) {
    if (flush_each_pass) c.tlb.flush_all();
    for (uint64_t p = 0; p < pages && done < reads; ++p, ++done) sum += c.read<uint64_t>(DS, base + p * stride);
  }
  const double t = bench::cpu_seconds() - t0;
  if (sum == 42) std::printf(" ");  // keep the loads
  return t / reads * 1e9;
}

void guest_loop(Cpu& cpu, const std::vector<uint8_t>& code, PhysicalMemory& mem, uint64_t ws_bytes, uint64_t budget,
                const char* what) {
  Core& c = cpu.core();
  mem.write_bytes(0x10000, code.data(), code.size());
  CpuState& s = cpu.state();
  s.rip = 0x10000;
  s.gpr[RSP] = 0x80000;
  s.gpr[R8] = kData;
  s.gpr[R9] = kData + ws_bytes;
  s.gpr[R10] = 4096 + 64;  // a new page every step, offsets moving through it
  cpu.run(1000000);       // warm up: decode, first touch (A/D bits)
  const uint64_t fills0 = c.tlb.fills;
  const double t0 = bench::cpu_seconds();
  uint64_t done = 0;
  while (done < budget) {
    uint64_t n = cpu.run(std::min<uint64_t>(budget - done, 10000000));
    if (n == 0) break;
    done += n;
  }
  const double t = bench::cpu_seconds() - t0;
  const uint64_t fills = c.tlb.fills - fills0;
  const double accesses = done * 2.0 / 6.0;  // 2 of every 6 instructions access memory
  std::printf("guest loop, %-32s %6.1f MIPS, TLB hit rate %5.1f%% (%llu fills / %.0f accesses)\n", what,
              done / t / 1e6, 100.0 * (1.0 - fills / accesses), static_cast<unsigned long long>(fills), accesses);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t budget = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 50000000ull;
  const std::vector<uint8_t> code = bench::assemble(PC64_BENCH_DIR "/tlb_loop.asm", "pc64_tlb_bench");
  PhysicalMemory mem(kRam);
  NoPorts ports;
  Cpu cpu(mem, ports);
  cpu.enter_long_mode_identity(kTables, kMapped);
  map_4k(cpu, mem);
  Core& c = cpu.core();
  std::printf("soft TLB: %u entries per privilege set, 4 KiB pages, 4-level walks\n", SoftTlb::kEntries);

  // ---- one translated access ----
  const uint64_t kReads = 20000000;
  // 256 pages < 1024 entries: every access after the first pass hits.
  double hit = ns_per_read(c, kData, 256, 4096 + 8, kReads, false);
  // 16384 pages, 4 passes wrap the TLB: every access misses and walks.
  double miss = ns_per_read(c, kData, 16384, 4096 + 8, kReads / 20, false);
  std::printf("read, TLB hit:                   %6.2f ns per access\n", hit);
  std::printf("read, TLB miss (walk + fill):    %6.2f ns per access\n", miss);

  // ---- flushes ----
  constexpr uint64_t kLargeLinear = 0x40000000;
  auto fill_tlb = [&](bool large, uint64_t entries) {
    // `entries` supervisor entries from 4 KiB pages, and when asked the
    // first 4 KiB piece of a (pretend) 2 MiB page.
    for (uint64_t p = 0; p < entries; ++p) c.read<uint64_t>(DS, kData + p * 4096);
    if (large) {
      WalkResult w;
      w.ok = true;
      w.paddr = kData;
      w.writable = w.user = w.executable = w.dirty = true;
      w.page_size = 2ull << 20;
      c.tlb.fill(kLargeLinear, w, mem.page(kData), false, true);
    }
  };
  // Operations that need a refilled TLB each time are timed one by one with
  // the monotonic clock (its own cost subtracted) and reported as the median,
  // which a preemption on this shared host does not move.
  auto per_op = [&](unsigned n, auto setup, auto op) {
    std::vector<double> empty, t;
    for (unsigned k = 0; k < n; ++k) {
      setup(k);
      auto a = std::chrono::steady_clock::now();
      auto b = std::chrono::steady_clock::now();
      op(k);
      auto e = std::chrono::steady_clock::now();
      empty.push_back(std::chrono::duration<double, std::nano>(b - a).count());
      t.push_back(std::chrono::duration<double, std::nano>(e - b).count());
    }
    std::sort(empty.begin(), empty.end());
    std::sort(t.begin(), t.end());
    return std::max(0.0, t[n / 2] - empty[n / 2]);
  };
  for (bool large : {false, true}) {
    for (uint64_t filled : {uint64_t(64), uint64_t(SoftTlb::kEntries)}) {
      const unsigned kN = 400;
      auto refill = [&](unsigned) {
        c.tlb.flush_all();
        fill_tlb(large, filled);
      };
      double cr3 = per_op(kN, refill, [&](unsigned) { c.write_cr3(c.s.cr3); });
      c.tlb.flush_all();
      fill_tlb(large, filled);
      const unsigned kInv = 1000000;
      double t0 = bench::cpu_seconds();
      for (unsigned k = 0; k < kInv; ++k) c.tlb.invalidate_page(kData + ((k * 7) % SoftTlb::kEntries) * 4096);
      double inv4k = (bench::cpu_seconds() - t0) / kInv * 1e9;
      std::printf("%4llu entries filled%s: MOV CR3 %6.0f ns; INVLPG of a 4 KiB page %5.1f ns",
                  static_cast<unsigned long long>(filled), large ? ", a 2 MiB page cached" : ", 4 KiB pages only   ",
                  cr3, inv4k);
      if (large) {
        double inv2m = per_op(
            kN, [&](unsigned) { fill_tlb(true, 0); }, [&](unsigned) { c.tlb.invalidate_page(kLargeLinear + 0x1000); });
        std::printf("; INVLPG in the 2 MiB page %5.0f ns", inv2m);
      }
      std::printf("\n");
    }
  }

  // ---- guest loops ----
  guest_loop(cpu, code, mem, 256 * (4096 + 64), budget, "256 pages (fits the TLB):");
  guest_loop(cpu, code, mem, 16384 * (4096 + 64), budget, "16384 pages (16x the TLB):");
  return 0;
}
