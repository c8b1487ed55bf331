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
  // 16 GPRs + rip (8) + eflags/6 segs (4) + 8 x 10 + 8 x 4 + 16 x 16 + mxcsr 4 + 2 x 8 bytes, hex.
  CHECK(g.size() == 2 * (17 * 8 + 7 * 4 + 80 + 32 + 256 + 4 + 16));
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
