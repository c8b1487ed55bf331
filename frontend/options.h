// The pc64 command line (QEMU-like where users already know it).
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "frontend/gdb_stub.h"
#include "frontend/key_script.h"
#include "frontend/machine_config.h"

namespace pc64 {

// A command-line mistake: the message names the option and the cause.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "512M", "2G", "1024K", "65536" (no suffix: MiB, as QEMU's -m). Throws
// UsageError naming `option` for anything else or on overflow.
uint64_t parse_size(const std::string& text, const char* option);

struct CommandLine {
  MachineConfig config;
  bool show_help = false;
  bool show_version = false;
  bool debug = false;
  std::string screenshot;   // --screenshot: PNG of the screen when pc64 stops
  std::string screen_text;  // --screen-text: the text screen as UTF-8 when pc64 stops
  bool monitor = false;     // --monitor stdio|tcp:PORT: the built-in monitor on the terminal or a socket
  bool monitor_tcp = false;   // --monitor tcp:PORT (else stdio)
  uint16_t monitor_port = 0;  //   (0: any free port, printed)
  bool gdb = false;           // --gdb tcp:PORT: gdb may attach (stops the guest while attached)
  uint16_t gdb_port = 0;      //   (0: any free port, printed)
  GdbStub::Arch gdb_arch = GdbStub::Arch::Auto;  // --gdb-arch
  bool paused = false;        // --paused: wait for gdb / the monitor's `c` before the first instruction
  std::vector<KeyEvent> keys;  // --keys SECONDS:TEXT (all scripts, merged)
  std::string help_text;
};

// Parses argv. Throws UsageError for unknown options, malformed values and
// missing or unreadable files.
CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace pc64
