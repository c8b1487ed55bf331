// Helpers for CPU tests: a small machine (RAM + recording port bus), nasm
// assembly at test time, and running a snippet in a chosen mode.
#pragma once
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu/core.h"
#include "cpu/cpu.h"
#include "cpu/decoder.h"
#include "mem/physical_memory.h"

namespace pc64::test {

// Port space for tests: port 0xE9 collects bytes (debug console), port 0xF4
// collects 32-bit result words, other ports read as all-ones.
struct TestPorts : PortIo {
  std::string console;
  std::vector<uint32_t> results;
  std::map<uint16_t, uint32_t> last_write;
  uint32_t port_read(uint16_t port, unsigned size) override {
    (void)port;
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
  }
  void port_write(uint16_t port, unsigned size, uint32_t value) override {
    (void)size;
    last_write[port] = value;
    if (port == 0xE9) console.push_back(static_cast<char>(value));
    if (port == 0xF4) results.push_back(value);
  }
};

// Assembles `source` with nasm (flat binary) and returns the bytes; %include
// finds files in `include_dir` (the source is assembled from a temporary copy).
inline std::vector<uint8_t> assemble(const std::string& source, const std::string& include_dir = "") {
  char dir[] = "/tmp/pc64-nasm-XXXXXX";
  if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  std::string src = std::string(dir) + "/t.asm", out = std::string(dir) + "/t.bin",
              log = std::string(dir) + "/t.log";
  {
    std::ofstream f(src);
    f << source;
  }
  std::string inc = include_dir.empty() ? "" : "-i " + include_dir + "/ ";
  std::string cmd = "nasm " + inc + "-f bin -o " + out + " " + src + " 2>" + log;
  int rc = std::system(cmd.c_str());
  std::ifstream lf(log);
  std::string errors((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
  std::ifstream bf(out, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(bf)), std::istreambuf_iterator<char>());
  std::system((std::string("rm -rf ") + dir).c_str());
  if (rc != 0) throw std::runtime_error("nasm failed: " + errors);
  return bytes;
}

inline std::vector<uint8_t> assemble_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t slash = path.rfind('/');  // %include relative to the file, as nasm does for a file it reads
  return assemble(s, slash == std::string::npos ? "." : path.substr(0, slash));
}

// Path of a guest program in tests/cpu/asm/ (this header lives in tests/cpu).
inline std::string asm_source(const char* name) {
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/asm/" + name;
}

// Result words as "1 2 e00d0000 ..." so a failing CHECK shows both sequences.
inline std::string hex_words(const std::vector<uint32_t>& v) {
  std::string out;
  char buf[16];
  for (uint32_t w : v) {
    std::snprintf(buf, sizeof buf, "%x ", w);
    out += buf;
  }
  return out;
}

struct Machine {
  PhysicalMemory mem;
  TestPorts ports;
  Cpu cpu;
  explicit Machine(uint64_t ram = 32ull << 20) : mem(ram), cpu(mem, ports) {}
  CpuState& s() { return cpu.state(); }
  void load(uint64_t paddr, const std::vector<uint8_t>& bytes) { mem.write_bytes(paddr, bytes.data(), bytes.size()); }
  // Real mode, CS:IP = 0:entry, SS:SP = 0:0x7000.
  void real_mode(uint64_t entry) {
    cpu.reset();
    auto& st = s();
    st.seg[CS].selector = 0;
    st.seg[CS].base = 0;
    st.rip = entry;
    st.gpr[RSP] = 0x7000;
    cpu.state_changed();
  }
  // Flat 64-bit mode with identity paging of the first 16 MiB (tables at 1 MiB).
  void long_mode(uint64_t entry) {
    cpu.reset();
    cpu.enter_long_mode_identity(0x100000, 16ull << 20);
    s().rip = entry;
    s().gpr[RSP] = 0x80000;
  }
  uint64_t run(uint64_t budget = 1000000) { return cpu.run(budget); }
  uint64_t& reg(unsigned r) { return s().gpr[r]; }
  uint64_t flags() { return cpu.core().rflags(); }
};

// Runs the one 64-bit instruction `bytes` at RIP 0x1000 straight through its
// handler (no block, no delivery); returns the fault vector (and `error`)
// or -1.
inline int run_insn64(Core& c, std::initializer_list<uint8_t> bytes, uint32_t* error = nullptr) {
  std::vector<uint8_t> b(bytes);
  Insn in;
  REQUIRE(ZYAN_SUCCESS(decode_insn(2, b.data(), b.size(), in)));
  REQUIRE((in.handler != &h_undefined));
  c.s.rip = 0x1000;
  c.next_rip = c.s.rip + in.len;
  try {
    in.handler(c, in);
  } catch (const GuestFault& f) {
    if (error) *error = f.error;
    return f.vector;
  }
  return -1;
}

// Runs guest program tests/cpu/asm/<file> on `m` from 0x1000, started in
// real mode (or flat 64-bit mode with `long_mode`), for at most `budget`
// instructions and checks that it halted having reported exactly `want` on
// port 0xF4.
inline void check_program(Machine& m, const char* file, const std::vector<uint32_t>& want, bool long_mode = false,
                          uint64_t budget = 100000) {
  INFO("guest program " << file);
  m.load(0x1000, assemble_file(asm_source(file)));
  if (long_mode) m.long_mode(0x1000);
  else m.real_mode(0x1000);
  m.run(budget);
  CHECK(m.cpu.halted());
  CHECK_FALSE(m.cpu.shutdown());
  CHECK(hex_words(m.ports.results) == hex_words(want));
}
inline void check_program(const char* file, const std::vector<uint32_t>& want, bool long_mode = false,
                          uint64_t budget = 100000) {
  Machine m;
  check_program(m, file, want, long_mode, budget);
}

}  // namespace pc64::test
