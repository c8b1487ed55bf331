// Differential test against the host CPU: which exception a non-canonical
// memory reference raises in 64-bit mode. #SS(0) when the reference uses SS,
// #GP(0) otherwise (SDM Vol. 3A 6.15 "Interrupt 12" / "Interrupt 13"); in
// 64-bit mode the CS, DS, ES and SS override prefixes are ignored, so the
// segment is SS exactly when the base register is RSP or RBP and there is no
// FS/GS override: DS:[RBP] is an SS reference, SS:[RBX] is not (SDM Vol. 1
// 3.3.7.1 "Canonical Addressing"). AMD behaves the same.
//
// The host tells #SS from #GP in user mode: Linux sends SIGBUS for #SS and
// SIGSEGV for #GP. Each instruction runs in a forked child after RBX, RBP,
// RSI and RDI are set to a non-canonical value (RCX = 0), and in pc64 with
// an IDT whose handlers report their vector.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

constexpr uint64_t kNonCanonical = 0x8000000000000000ull;
constexpr int kNoFault = -1;

struct Probe {
  const char* text;
  std::vector<uint8_t> bytes;
};

// MOV RBX/RBP/RSI/RDI, kNonCanonical; XOR ECX, ECX; then the probe.
std::vector<uint8_t> with_prologue(const std::vector<uint8_t>& probe) {
  std::vector<uint8_t> code;
  for (uint8_t op : {0xBB, 0xBD, 0xBE, 0xBF}) {
    code.insert(code.end(), {0x48, op});
    for (int k = 0; k < 8; ++k) code.push_back(static_cast<uint8_t>(kNonCanonical >> (8 * k)));
  }
  code.insert(code.end(), {0x31, 0xC9});
  code.insert(code.end(), probe.begin(), probe.end());
  return code;
}

// The vector the host raised (12, 13) or kNoFault; other outcomes as 100+signal.
int run_host(const std::vector<uint8_t>& probe) {
  std::vector<uint8_t> code = with_prologue(probe);
  code.insert(code.end(), {0x0F, 0x0B});  // UD2 (SIGILL): the probe did not fault
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE}) signal(sig, SIG_DFL);
    void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) _exit(99);
    std::memcpy(page, code.data(), code.size());
    __builtin___clear_cache(static_cast<char*>(page), static_cast<char*>(page) + code.size());
    reinterpret_cast<void (*)()>(page)();
    _exit(98);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status)) return 200 + WEXITSTATUS(status);
  switch (WTERMSIG(status)) {
    case SIGBUS: return kSS;
    case SIGSEGV: return kGP;
    case SIGILL: return kNoFault;
    default: return 100 + WTERMSIG(status);
  }
}

// pc64 in flat 64-bit mode: vectors 0-31 go to stubs that OUT their number
// to port 0xF4 and halt; the probe is followed by OUT 0xFFFFFFFF; HLT.
int run_pc64(Machine& m, const std::vector<uint8_t>& probe) {
  constexpr uint64_t kIdt = 0x8000, kStubs = 0x9000, kCode = 0x10000;
  m.long_mode(kCode);
  for (uint32_t v = 0; v < 32; ++v) {
    const uint64_t stub = kStubs + 16 * v;
    const uint8_t s[] = {0xB8, static_cast<uint8_t>(v), 0, 0, 0, 0xE7, 0xF4, 0xF4};  // mov eax, v; out; hlt
    m.mem.write_bytes(stub, s, sizeof s);
    const uint64_t gate[2] = {(stub & 0xFFFF) | (0x08ull << 16) | (0x8E00ull << 32) | ((stub >> 16 & 0xFFFF) << 48),
                              stub >> 32};
    m.mem.write_bytes(kIdt + 16 * v, gate, sizeof gate);
  }
  m.s().idtr = {kIdt, 32 * 16 - 1};
  std::vector<uint8_t> code = with_prologue(probe);
  code.insert(code.end(), {0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0xE7, 0xF4, 0xF4});
  m.load(kCode, code);
  m.ports.results.clear();
  m.run(1000);
  if (m.ports.results.size() != 1) return 300;
  return m.ports.results[0] == 0xFFFFFFFFu ? kNoFault : static_cast<int>(m.ports.results[0]);
}

std::string name(int v) {
  return v == kSS ? "#SS" : v == kGP ? "#GP" : v == kNoFault ? "no fault" : "other " + std::to_string(v);
}

}  // namespace

TEST_CASE("differential: non-canonical references fault #SS only through an RSP/RBP base, as on the host") {
  const std::vector<Probe> probes = {
      {"mov rax, [rbx]", {0x48, 0x8B, 0x03}},
      {"mov rax, ss:[rbx]", {0x36, 0x48, 0x8B, 0x03}},
      {"mov rax, [rbp]", {0x48, 0x8B, 0x45, 0x00}},
      {"mov rax, ds:[rbp]", {0x3E, 0x48, 0x8B, 0x45, 0x00}},
      {"mov rax, es:[rbp]", {0x26, 0x48, 0x8B, 0x45, 0x00}},
      {"mov rax, cs:[rbp]", {0x2E, 0x48, 0x8B, 0x45, 0x00}},
      {"mov rax, fs:[rbp]", {0x64, 0x48, 0x8B, 0x45, 0x00}},
      {"mov rax, gs:[rbp]", {0x65, 0x48, 0x8B, 0x45, 0x00}},
      {"mov rax, [rsp + rbx]", {0x48, 0x8B, 0x04, 0x1C}},
      {"mov rax, ds:[rsp + rbx]", {0x3E, 0x48, 0x8B, 0x04, 0x1C}},
      {"mov rax, [rcx + rbp] (RBP as index)", {0x48, 0x8B, 0x04, 0x29}},
      {"mov rax, ss:[rcx + rbp]", {0x36, 0x48, 0x8B, 0x04, 0x29}},
      {"mov rax, [rbp + rcx]", {0x48, 0x8B, 0x44, 0x0D, 0x00}},
      {"mov rax, ss:[rcx*2 + rbx]", {0x36, 0x48, 0x8B, 0x04, 0x4B}},
      {"mov [rbp], al", {0x88, 0x45, 0x00}},
      {"mov ss:[rdi], al", {0x36, 0x88, 0x07}},
      {"add [rbp], al", {0x00, 0x45, 0x00}},
      {"add ss:[rbx], al", {0x36, 0x00, 0x03}},
      {"push qword [rbp]", {0xFF, 0x75, 0x00}},
      {"push qword ss:[rbx]", {0x36, 0xFF, 0x33}},
      {"bt ds:[rbp], ecx", {0x3E, 0x0F, 0xA3, 0x4D, 0x00}},
      {"ss: lodsq", {0x36, 0x48, 0xAD}},
      {"ss: movsb", {0x36, 0xA4}},
      {"ss: stosb (ES:RDI, no override)", {0x36, 0xAA}},
      {"ss: cmpsb", {0x36, 0xA6}},
      {"mov rax, ss:[moffs64]", {0x36, 0x48, 0xA1, 0, 0, 0, 0, 0, 0, 0, 0x80}},
  };
  Machine m;
  for (const Probe& p : probes) {
    const int host = run_host(p.bytes), pc64 = run_pc64(m, p.bytes);
    INFO(std::string(p.text) << ": host " << name(host) << ", pc64 " << name(pc64));
    CHECK(host == pc64);
    CHECK((host == kSS || host == kGP));
  }
}
