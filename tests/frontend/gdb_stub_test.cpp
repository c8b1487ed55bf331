// gdb stub packets (payloads without framing) against a bare 64-bit guest.
// The real-gdb end-to-end test is tests/cli/gdb_test.sh.
#include <doctest/doctest.h>

#include <string>

#include "frontend/gdb_stub.h"

using namespace pc64;

namespace {

struct Rig {
  Machine m{[] {
    MachineConfig c;
    c.pc_board = false;
    c.ram_bytes = 16 << 20;
    return c;
  }()};
  GdbStub stub{m};
  static constexpr uint64_t kCode = 0x200000;
  Rig() {
    m.cpu().enter_long_mode_identity(0x10000, 16 << 20);
    // mov eax, 1 ; mov [0x300000], eax ; inc eax ; hlt
    const uint8_t code[] = {0xB8, 0x01, 0x00, 0x00, 0x00, 0x89, 0x04, 0x25, 0x00, 0x00, 0x30, 0x00, 0xFF, 0xC0, 0xF4};
    m.memory().write_bytes(kCode, code, sizeof code);
    m.cpu().state().rip = kCode;
    m.cpu().state().gpr[RBX] = 0x1122334455667788ULL;
    m.cpu().state_changed();
  }
};

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("gdb stub: registers, memory, target description") {
  Rig r;
  CHECK(has(r.stub.handle("qSupported:multiprocess+;swbreak+"), "qXfer:features:read+"));
  std::string xml = r.stub.handle("qXfer:features:read:target.xml:0,ffff");
  CHECK(xml[0] == 'l');
  CHECK(has(xml, "<architecture>i386:x86-64</architecture>"));
  CHECK(has(xml, "org.gnu.gdb.i386.core"));
  CHECK(has(xml, "name=\"fs_base\""));
  CHECK(r.stub.handle("qXfer:features:read:target.xml:0,10")[0] == 'm');  // more to come
  std::string g = r.stub.handle("g");
  // 16 GPRs + rip (8) + eflags/6 segs (4) + 8 x 10 + 8 x 4 + 16 x 16 + mxcsr 4 + 2 x 8 bytes
  // (fs_base, gs_base) + k_gs_base, cr0, cr2, cr3, cr4, cr8, efer (7 x 8), hex.
  CHECK(g.size() == 2 * (17 * 8 + 7 * 4 + 80 + 32 + 256 + 4 + 16 + 56));
  CHECK(g.substr(16, 16) == "8877665544332211");             // rbx is gdb register 1
  CHECK(r.stub.handle("p10") == "0000200000000000");         // rip
  CHECK(r.stub.handle("p12") == "08000000");                 // cs
  CHECK(r.stub.handle("P0=efbeadde00000000") == "OK");
  CHECK(r.m.cpu().state().gpr[RAX] == 0xDEADBEEF);
  CHECK(r.stub.handle("P12=10000000") == "E01");             // selectors are read-only
  CHECK(r.stub.handle("p99") == "E01");
  CHECK(r.stub.handle("m200000,5") == "b801000000");
  CHECK(r.stub.handle("M300010,2:abcd") == "OK");
  CHECK(r.stub.handle("m300010,2") == "abcd");
  CHECK(r.stub.handle("mdeadbeef000,4") == "E14");
  CHECK(r.stub.handle("mzz,4") == "E01");
  CHECK(r.stub.handle("M300010,2:abc") == "E01");
  CHECK(r.stub.handle("qAttached") == "1");
  CHECK(r.stub.handle("vMustReplyEmpty").empty());
}

TEST_CASE("gdb stub: breakpoints, watchpoints, step and continue") {
  Rig r;
  CHECK(r.stub.handle("s").starts_with("T05"));
  CHECK(r.m.cpu().state().rip == Rig::kCode + 5);
  CHECK(r.stub.handle("Z2,300000,4") == "OK");
  CHECK(r.stub.handle("c") == "T05watch:300000;thread:01;");
  CHECK(r.m.cpu().state().rip == Rig::kCode + 12);  // after the store
  CHECK(r.stub.handle("z2,300000,4") == "OK");
  CHECK(r.stub.handle("Z0,20000e,1") == "OK");
  CHECK(r.stub.handle("vCont;c").starts_with("T05swbreak"));
  CHECK(r.m.cpu().state().rip == Rig::kCode + 14);
  CHECK(r.stub.handle("z0,20000e,1") == "OK");
  CHECK(r.stub.handle("Z9,0,1").empty());
  CHECK(r.stub.handle("Z2,300000,0") == "E01");
  r.stub.handle("c");
  CHECK(r.m.cpu().halted());
  CHECK(has(r.stub.handle("qRcmd,7220"), "OK"));  // "r " through the monitor
}

TEST_CASE("gdb stub: x86-64 system registers, x87 and SSE through p/P") {
  Rig r;
  r.stub.handle("qSupported");
  std::string xml = r.stub.handle("qXfer:features:read:target.xml:0,ffff");
  for (const char* name : {"k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer", "mxcsr", "st0", "xmm15"})
    CHECK(has(xml, "name=\"" + std::string(name) + "\""));
  CHECK(has(xml, "<union id=\"vec128\">"));
  // gdb numbers: 59 k_gs_base, 60 cr0, 61 cr2, 62 cr3, 63 cr4, 64 cr8, 65 efer.
  CpuState& s = r.m.cpu().state();
  s.kernel_gs_base = 0xFFFF800000001000ULL;
  CHECK(r.stub.handle("p3b") == "001000000080ffff");
  CHECK(r.stub.handle("p3c") == "1100008000000000");  // CR0: PG | ET | PE, as enter_long_mode_identity sets
  CHECK(r.stub.handle("p3e") == "0010010000000000");  // CR3 = PML4 at 0x11000
  CHECK(r.stub.handle("p41").substr(0, 4) == "0005");  // EFER: LME | LMA
  CHECK(r.stub.handle("P3d=0000adde00000000") == "OK");
  CHECK(s.cr2 == 0xDEAD0000);
  CHECK(r.stub.handle("P3b=0100000000000000") == "OK");
  CHECK(s.kernel_gs_base == 1);
  // xmm1 (41) and st0 (24) written, mxcsr (56) read back; bad MXCSR bits refused.
  CHECK(r.stub.handle("P29=00112233445566778899aabbccddeeff") == "OK");
  CHECK(s.fpu.xmm[1].u8[15] == 0xFF);
  CHECK(r.stub.handle("p29") == "00112233445566778899aabbccddeeff");
  CHECK(r.stub.handle("P18=0000000000000080ff3f") == "OK");  // 1.0
  CHECK(r.stub.handle("p18") == "0000000000000080ff3f");
  CHECK(r.stub.handle("p38") == "801f0000");
  CHECK(r.stub.handle("P38=ffffffff") == "E01");
  CHECK(r.stub.handle("p42") == "E01");  // past efer
}

TEST_CASE("gdb stub: i386 description for a guest outside long mode") {
  Machine m{[] {
    MachineConfig c;
    c.pc_board = false;
    c.ram_bytes = 1 << 20;
    return c;
  }()};
  GdbStub stub{m};  // at reset: real mode, CS:IP f000:fff0
  m.cpu().state().gpr[RCX] = 0x1234567887654321ULL;
  m.cpu().state().cr0 = 0x60000010;
  stub.handle("qSupported");
  std::string xml = stub.handle("qXfer:features:read:target.xml:0,ffff");
  CHECK(has(xml, "<architecture>i386</architecture>"));
  CHECK(has(xml, "name=\"eax\""));
  CHECK(!has(xml, "name=\"rax\""));
  CHECK(!has(xml, "name=\"xmm8\""));
  CHECK(!has(xml, "k_gs_base"));
  // gdb's i386 order: eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es
  // fs gs, st0-7, 8 FPU words, xmm0-7, mxcsr, fs_base gs_base, cr0 cr2 cr3 cr4, efer.
  std::string g = stub.handle("g");
  CHECK(g.size() == 2 * (10 * 4 + 6 * 4 + 80 + 32 + 128 + 4 + 8 + 16 + 8));
  CHECK(g.substr(8, 8) == "21436587");  // ecx: the low half
  CHECK(stub.handle("p8") == "f0ff0000");  // eip
  CHECK(stub.handle("pa") == "00f00000");  // cs
  CHECK(stub.handle("p2b") == "10000060");  // cr0 (43, after fs_base and gs_base)
  // A 32-bit write keeps the upper half of the 64-bit register.
  CHECK(stub.handle("P1=efbeadde") == "OK");
  CHECK(m.cpu().state().gpr[RCX] == 0x12345678DEADBEEFULL);
  CHECK(stub.handle("P1=efbeaddeefbeadde") == "E01");  // wrong size
}
