// gdb remote serial protocol stub (issue 10): `--gdb tcp:PORT` listens on
// 127.0.0.1 only, waits for gdb, and lets it control the machine. It shares
// the breakpoint engine (cpu/debug_trap.h) and run control
// (frontend/debug_control.h) with the monitor; `monitor CMD` in gdb
// (qRcmd) runs a monitor command.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/machine.h"
#include "frontend/monitor.h"

namespace pc64 {

class GdbStub {
 public:
  explicit GdbStub(Machine& m) : m_(m), monitor_(m) {}
  ~GdbStub();
  GdbStub(const GdbStub&) = delete;
  GdbStub& operator=(const GdbStub&) = delete;

  // Binds 127.0.0.1:port (0 = any free port; port() tells which). Throws
  // std::runtime_error naming the cause.
  void listen(uint16_t port);
  uint16_t port() const { return port_; }

  // True if gdb is connecting (serve() will not block waiting for it).
  bool connection_pending() const;

  enum class End { Detached, Killed, Disconnected };
  // Waits for one gdb connection and serves it until gdb detaches (the
  // guest should then run on), kills, or disconnects.
  End serve();

  // One packet's payload in, the reply payload out (no framing). Exposed for
  // unit tests; serve() uses it for everything but c/s/vCont.
  std::string handle(std::string_view packet);

  // Which target description gdb gets: Auto picks it from the guest's mode
  // when gdb connects (long mode: i386:x86-64, else i386).
  enum class Arch { Auto, X86_64, I386 };
  void set_arch(Arch a) { arch_ = configured_arch_ = a; }

  // The target description XML (i386:x86-64 or i386 register layout).
  static std::string target_xml(bool amd64);

 private:
  bool amd64();  // the description of this connection (fixes Auto on first use)
  std::string read_registers();
  bool write_registers(std::string_view hex);
  bool read_register(unsigned n, std::string& out);
  bool write_register(unsigned n, std::string_view hex);
  std::string resume(bool step, std::string_view addr);
  std::string stop_reply(ExitReason r, const DebugStopInfo& stop);
  std::string breakpoint_packet(std::string_view packet, bool insert);
  bool send_packet(const std::string& payload);
  bool read_packet(std::string& payload);  // false: connection closed
  bool interrupt_pending();                // 0x03 arrived on the socket

  Machine& m_;
  Monitor monitor_;
  int listen_fd_ = -1, fd_ = -1;
  uint16_t port_ = 0;
  bool no_ack_ = false;
  Arch configured_arch_ = Arch::Auto, arch_ = Arch::Auto;
  bool interrupted_ = false;
  std::string inbuf_;
  struct Inserted {
    int type;
    uint64_t addr, len;
    int id;
  };
  std::vector<Inserted> inserted_;
  std::string last_stop_ = "S05";
  enum class Pending { None, Detach, Kill } pending_ = Pending::None;
};

}  // namespace pc64
