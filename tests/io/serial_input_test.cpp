// Host input into COM1: the pump's flow control against the UART FIFO, and
// the TCP backend end to end over a loopback socket.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "io/serial_input_pump.h"
#include "io/tcp_char_backend.h"
#include "io/uart16550.h"

using namespace pc64;

namespace {
struct NoIrq final : IrqSink {
  void set_irq(unsigned, bool) override {}
};

// Input that the test scripts: `data` is delivered in one read().
struct ScriptedInput final : CharBackend {
  std::string data;
  bool open = true;
  using CharBackend::write;
  void write(const uint8_t*, size_t) override {}
  size_t read(uint8_t* buf, size_t max) override {
    size_t n = std::min(max, data.size());
    std::copy(data.begin(), data.begin() + static_cast<long>(n), buf);
    data.erase(0, n);
    return n;
  }
  bool has_input() const override { return open; }
};

struct Rig {
  PortBus ports;
  VirtualClock clock;
  NoIrq irq;
  MemoryCharBackend out;
  Uart16550 uart{ports, clock, 0x3F8, IrqLine(&irq, 4), &out};
  uint8_t in(uint8_t reg) { return static_cast<uint8_t>(ports.port_read(static_cast<uint16_t>(0x3F8 + reg), 1)); }
  void outb(uint8_t reg, uint8_t v) { ports.port_write(static_cast<uint16_t>(0x3F8 + reg), 1, v); }
  std::string drain() {
    std::string s;
    while (in(5) & Uart16550::kDr) s += static_cast<char>(in(0));
    return s;
  }
};

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}
}  // namespace

TEST_CASE("serial input: the pump fills the FIFO without overrun and keeps the rest for later") {
  Rig r;
  r.outb(2, 0x01);  // FIFO on: 16 bytes
  ScriptedInput host;
  host.data = "0123456789abcdefXYZ";  // 19 bytes: 3 more than the FIFO holds
  SerialInputPump pump(r.clock, host, r.uart);
  r.clock.advance_to(SerialInputPump::kPollNs);  // the timer polls once
  CHECK((r.in(5) & Uart16550::kOe) == 0);
  CHECK(r.drain() == "0123456789abcdef");
  r.clock.advance_to(2 * SerialInputPump::kPollNs);
  CHECK(r.drain() == "XYZ");
  CHECK((r.in(5) & Uart16550::kOe) == 0);
  // Input that ends stops the polling: no timer stays armed for it.
  host.open = false;
  r.clock.advance_to(3 * SerialInputPump::kPollNs);
  CHECK(r.clock.next_deadline() == VirtualClock::kNever);
}

TEST_CASE("serial input: without host input there is no polling") {
  Rig r;
  MemoryCharBackend output_only;
  SerialInputPump pump(r.clock, output_only, r.uart);
  CHECK(r.clock.next_deadline() == VirtualClock::kNever);
}

TEST_CASE("serial tcp: a client sees the guest's output and its bytes reach the UART") {
  TcpCharBackend tcp(0, false);  // port 0: any free port
  REQUIRE(tcp.port() != 0);
  CHECK(!tcp.connected());
  tcp.write(reinterpret_cast<const uint8_t*>("lost"), 4);  // no client yet: dropped
  int c = connect_to(tcp.port());
  Rig r;
  SerialInputPump pump(r.clock, tcp, r.uart);
  pump.poll();  // accepts the client
  CHECK(tcp.connected());
  tcp.write(reinterpret_cast<const uint8_t*>("login: "), 7);
  char buf[16] = {};
  CHECK(::recv(c, buf, sizeof buf, 0) == 7);
  CHECK(std::string(buf) == "login: ");
  REQUIRE(::send(c, "ls\r", 3, 0) == 3);
  std::string got;
  for (int i = 0; i < 1000 && got.size() < 3; ++i) {
    pump.poll();
    got += r.drain();
    if (got.size() < 3) ::usleep(1000);
  }
  CHECK(got == "ls\r");
  // The client leaves; output does not fail, and a new client is accepted.
  ::close(c);
  for (int i = 0; i < 1000 && tcp.connected(); ++i) {
    pump.poll();
    if (tcp.connected()) ::usleep(1000);
  }
  CHECK(!tcp.connected());
  tcp.write(reinterpret_cast<const uint8_t*>("x"), 1);
  int c2 = connect_to(tcp.port());
  pump.poll();
  CHECK(tcp.connected());
  ::close(c2);
}

TEST_CASE("serial tcp: a port that is taken is a clear error") {
  TcpCharBackend first(0, false);
  try {
    TcpCharBackend second(first.port(), false);
    FAIL("bound twice");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("tcp:" + std::to_string(first.port())) != std::string::npos);
  }
}

TEST_CASE("serial stdin: StdioCharBackend reads what arrives on its descriptor, and stops at EOF") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  StdioCharBackend b(stdout, fds[0]);
  CHECK(b.has_input());
  uint8_t buf[16];
  CHECK(b.read(buf, sizeof buf) == 0);  // nothing yet: does not block
  REQUIRE(::write(fds[1], "ls\n", 3) == 3);
  REQUIRE(b.read(buf, sizeof buf) == 3);
  CHECK(std::string(reinterpret_cast<char*>(buf), 3) == "ls\n");
  ::close(fds[1]);
  CHECK(b.read(buf, sizeof buf) == 0);
  CHECK_FALSE(b.has_input());  // EOF: the pump stops polling
  ::close(fds[0]);
  CHECK_FALSE(StdioCharBackend().has_input());  // output-only by default
}
