#include "frontend/options.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
// --keys texts may contain commas: repeated options, never comma lists.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

#include "bios/firmware.h"
#include "io/disk_image_open.h"

namespace pc64 {

namespace {

constexpr uint64_t kMinRam = 2ULL << 20;    // SeaBIOS needs more than 1 MiB
constexpr uint64_t kMaxRam = 256ULL << 30;  // host memory is reserved lazily, but keep it sane

void require_readable(const std::string& path, const char* option) {
  if (path.empty()) throw UsageError(std::string(option) + ": empty file name");
  if (access(path.c_str(), R_OK) != 0)
    throw UsageError(std::string(option) + ": cannot read '" + path + "': " + std::strerror(errno));
}

}  // namespace

uint64_t parse_size(const std::string& text, const char* option) {
  auto bad = [&] {
    return UsageError(std::string(option) + ": '" + text + "' is not a size (use e.g. 512M or 2G)");
  };
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t d = static_cast<uint64_t>(text[i] - '0');
    if (n > (UINT64_MAX - d) / 10) throw bad();
    n = n * 10 + d;
    ++i;
  }
  if (i == 0) throw bad();
  unsigned shift = 20;  // no suffix: MiB
  if (i < text.size()) {
    switch (std::toupper(static_cast<unsigned char>(text[i]))) {
      case 'B': shift = 0; break;
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      default: throw bad();
    }
    ++i;
    if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) ++i;  // "MiB"
    if (i < text.size() && (text[i] == 'b' || text[i] == 'B') && shift) ++i;
    if (i != text.size()) throw bad();
  }
  if (n > (UINT64_MAX >> shift)) throw bad();
  return n << shift;
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  cxxopts::Options opts("pc64", "pc64 - an x86-64 PC emulator");
  opts.custom_help("[options]");
  opts.add_options()
    ("m,memory", "guest RAM size, e.g. 512M or 2G (default 512M)", cxxopts::value<std::string>())
    ("hda", "first IDE hard disk: PATH[,rw|snapshot][,format=raw|qcow2|vhd][,overlay=FILE] (writes go to PATH.pc64-overlay.qcow2 unless rw)", cxxopts::value<std::string>())
    ("hdb", "second IDE hard disk image", cxxopts::value<std::string>())
    ("cdrom", "CD-ROM image (ISO)", cxxopts::value<std::string>())
    ("snapshot", "hard-disk writes stay in memory and are dropped at exit")
    ("boot", "boot order: c = hard disk, d = CD-ROM (e.g. dc)", cxxopts::value<std::string>())
    ("kernel", "boot this Linux bzImage or multiboot kernel directly", cxxopts::value<std::string>())
    ("initrd", "initial ramdisk for --kernel", cxxopts::value<std::string>())
    ("append", "kernel command line for --kernel", cxxopts::value<std::string>())
    ("headless", "no window: run with the serial port on stdout")
    ("serial", "first serial port: stdio (with --headless, stdin is its input, a line at a time), file:PATH, "
               "tcp:PORT (listen on 127.0.0.1:PORT and wait for a client before starting; tcp:PORT,nowait "
               "starts at once) or none (default stdio)", cxxopts::value<std::string>())
    ("debugcon", "write the firmware debug console (port 0x402) to FILE", cxxopts::value<std::string>())
    ("bios", "system BIOS image (default /usr/share/seabios/bios-256k.bin)", cxxopts::value<std::string>())
    ("max-instructions", "stop after N guest instructions (exit code 3)", cxxopts::value<std::string>())
    ("ips", "guest instructions per second of virtual time (default 1000000000)", cxxopts::value<std::string>())
    ("rtc", "RTC start time: fixed (2026-01-01, repeatable runs; default) or host", cxxopts::value<std::string>())
    ("triple-fault", "on guest triple fault: stop (exit code 4) or reset (default stop)", cxxopts::value<std::string>())
    ("screenshot", "when pc64 stops, write the screen to FILE.png", cxxopts::value<std::string>())
    ("screen-text", "when pc64 stops, write the text screen to FILE as UTF-8", cxxopts::value<std::string>())
    ("keys", "SECONDS:TEXT: type TEXT on the PS/2 keyboard at SECONDS of virtual time (repeatable; "
             "\\n Enter, \\t Tab, \\e Esc, \\b Backspace, \\\\ and \\< the characters, <f12> <up> ... named keys)",
     cxxopts::value<std::vector<std::string>>())
    ("monitor", "stdio or tcp:PORT (127.0.0.1): the built-in monitor (type help; Ctrl-C or p pauses the guest)", cxxopts::value<std::string>())
    ("gdb", "tcp:PORT (127.0.0.1; default port 1234 with 'tcp'): gdb can attach; the guest stops while it is attached", cxxopts::value<std::string>())
    ("gdb-arch", "the register layout gdb gets: auto (i386:x86-64 if the guest is in long mode when gdb connects, "
                 "else i386; default), x86-64 or i386", cxxopts::value<std::string>())
    ("paused", "start stopped before the first instruction: wait for gdb (--gdb) or the monitor's c (--monitor)")
    ("debug", "log debug messages (unimplemented instructions, unclaimed ports) to stderr")
    ("h,help", "show this help")
    ("version", "show the version");

  CommandLine cl;
  cl.help_text = opts.help();
  cxxopts::ParseResult r;
  try {
    r = opts.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(std::string(e.what()) + " (see pc64 --help)");
  }
  if (!r.unmatched().empty()) throw UsageError("unexpected argument '" + r.unmatched()[0] + "' (see pc64 --help)");
  cl.show_help = r.count("help") > 0;
  cl.show_version = r.count("version") > 0;
  cl.debug = r.count("debug") > 0;
  if (cl.show_help || cl.show_version) return cl;

  MachineConfig& c = cl.config;
  if (r.count("memory")) {
    c.ram_bytes = parse_size(r["memory"].as<std::string>(), "--memory");
    if (c.ram_bytes < kMinRam || c.ram_bytes > kMaxRam)
      throw UsageError("--memory: '" + r["memory"].as<std::string>() + "' is out of range (2M to 256G)");
  }
  auto file_opt = [&](const char* name, std::string& out) {
    if (!r.count(name)) return;
    out = r[name].as<std::string>();
    require_readable(out, (std::string("--") + name).c_str());
  };
  auto drive_opt = [&](const char* name, std::string& out, DiskWriteMode mode) {
    if (!r.count(name)) return;
    out = r[name].as<std::string>();
    std::string opt = std::string("--") + name;
    DiskSpec d;
    try {
      d = parse_disk_spec(out, mode);
    } catch (const std::exception& e) {
      throw UsageError(opt + ": " + e.what());
    }
    require_readable(d.path, opt.c_str());
  };
  drive_opt("hda", c.hda, DiskWriteMode::Overlay);
  drive_opt("hdb", c.hdb, DiskWriteMode::Overlay);
  drive_opt("cdrom", c.cdrom, DiskWriteMode::ReadOnly);
  c.snapshot = r.count("snapshot") > 0;
  file_opt("kernel", c.kernel);
  if (r.count("initrd")) {
    // Linux: one file. Multiboot: "file [string],file [string],...": each
    // module's path is the item up to its first space.
    c.initrd = r["initrd"].as<std::string>();
    size_t start = 0;
    while (start <= c.initrd.size()) {
      size_t comma = c.initrd.find(',', start);
      std::string item = c.initrd.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      require_readable(item.substr(0, item.find(' ')), "--initrd");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (r.count("append")) c.append = r["append"].as<std::string>();
  if ((!c.initrd.empty() || !c.append.empty()) && c.kernel.empty())
    throw UsageError(std::string(c.initrd.empty() ? "--append" : "--initrd") + ": needs --kernel");

  if (r.count("boot")) {
    c.boot_order = r["boot"].as<std::string>();
    if (c.boot_order.empty()) throw UsageError("--boot: empty boot order (use letters c and d, e.g. dc)");
    for (char ch : c.boot_order)
      if (ch != 'c' && ch != 'd')
        throw UsageError(std::string("--boot: unknown boot device '") + ch + "' (use c = hard disk, d = CD-ROM)");
  }
  c.headless = r.count("headless") > 0;
  if (r.count("screenshot")) cl.screenshot = r["screenshot"].as<std::string>();
  if (r.count("screen-text")) cl.screen_text = r["screen-text"].as<std::string>();
  // "tcp:PORT" for --monitor / --gdb; the listener binds 127.0.0.1 only.
  auto tcp_port = [](const std::string& opt, const std::string& v, int dflt) {
    std::string num = v == "tcp" ? std::to_string(dflt) : v.substr(4);
    if (v != "tcp" && v.rfind("tcp:", 0) != 0) throw UsageError("--" + opt + ": '" + v + "' is not supported (use tcp:PORT)");
    char* end = nullptr;
    long p = std::strtol(num.c_str(), &end, 10);
    // Port 0: any free port, printed when listening (tests).
    if (num.empty() || *end || p < 0 || p > 65535)
      throw UsageError("--" + opt + ": bad port '" + num + "' (1..65535)");
    return static_cast<uint16_t>(p);
  };
  if (r.count("keys")) {
    for (const std::string& script : r["keys"].as<std::vector<std::string>>()) {
      try {
        std::vector<KeyEvent> ev = parse_key_script(script);
        cl.keys.insert(cl.keys.end(), ev.begin(), ev.end());
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--keys: ") + e.what());
      }
    }
  }
  if (r.count("monitor")) {
    std::string v = r["monitor"].as<std::string>();
    if (v != "stdio") {
      cl.monitor_tcp = true;
      cl.monitor_port = tcp_port("monitor", v, 4444);
    }
    cl.monitor = true;
  }
  if (r.count("gdb")) {
    cl.gdb = true;
    cl.gdb_port = tcp_port("gdb", r["gdb"].as<std::string>(), 1234);
  }
  if (r.count("gdb-arch")) {
    std::string a = r["gdb-arch"].as<std::string>();
    if (a == "auto") cl.gdb_arch = GdbStub::Arch::Auto;
    else if (a == "x86-64") cl.gdb_arch = GdbStub::Arch::X86_64;
    else if (a == "i386") cl.gdb_arch = GdbStub::Arch::I386;
    else throw UsageError("--gdb-arch: '" + a + "' is not auto, x86-64 or i386");
    if (!cl.gdb) throw UsageError("--gdb-arch: needs --gdb");
  }
  cl.paused = r.count("paused") > 0;
  if (cl.paused && !cl.gdb && !cl.monitor) throw UsageError("--paused: needs --gdb or --monitor (something to resume the guest)");
  if (cl.monitor && cl.gdb) throw UsageError("--monitor and --gdb cannot be used together (gdb's 'monitor' command reaches the monitor)");
  if (r.count("serial")) {
    std::string s = r["serial"].as<std::string>();
    if (s == "stdio") {
      c.serial = SerialMode::Stdio;
    } else if (s == "none") {
      c.serial = SerialMode::None;
    } else if (s.rfind("file:", 0) == 0 && s.size() > 5) {
      c.serial = SerialMode::File;
      c.serial_path = s.substr(5);
    } else if (s.rfind("tcp:", 0) == 0) {
      std::string port = s.substr(4);
      c.serial_tcp_wait = true;
      if (size_t comma = port.find(','); comma != std::string::npos) {
        if (port.substr(comma + 1) != "nowait")
          throw UsageError("--serial: '" + s + "': the only tcp option is ',nowait'");
        c.serial_tcp_wait = false;
        port.resize(comma);
      }
      char* end = nullptr;
      unsigned long v = std::strtoul(port.c_str(), &end, 10);
      if (port.empty() || *end || v == 0 || v > 65535)
        throw UsageError("--serial: '" + port + "' is not a TCP port (1-65535)");
      c.serial = SerialMode::Tcp;
      c.serial_tcp_port = static_cast<uint16_t>(v);
    } else {
      throw UsageError("--serial: '" + s + "' is not stdio, none, file:PATH or tcp:PORT");
    }
  }
  // Headless with the serial port on the terminal: what the user types goes
  // to the guest (not with the monitor, which reads stdin itself).
  c.serial_stdin = c.headless && c.serial == SerialMode::Stdio && !cl.monitor;
  if (r.count("debugcon")) {
    c.debugcon_path = r["debugcon"].as<std::string>();
    if (c.debugcon_path.empty()) throw UsageError("--debugcon: empty file name");
  }
  c.bios_path = kDefaultBiosPath;
  c.vga_bios_path = kDefaultVgaBiosPath;
  if (r.count("bios")) {
    c.bios_path = r["bios"].as<std::string>();
    require_readable(c.bios_path, "--bios");
  }
  auto count_opt = [&](const char* name) -> uint64_t {
    std::string s = r[name].as<std::string>();
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (s.empty() || s[0] == '-' || *end || errno == ERANGE || v == 0)
      throw UsageError(std::string("--") + name + ": '" + s + "' is not a positive whole number");
    return v;
  };
  if (r.count("max-instructions")) c.max_instructions = count_opt("max-instructions");
  if (r.count("ips")) c.instructions_per_second = count_opt("ips");
  if (r.count("rtc")) {
    std::string s = r["rtc"].as<std::string>();
    if (s == "host") c.rtc_start_time = static_cast<int64_t>(std::time(nullptr));
    else if (s != "fixed") throw UsageError("--rtc: '" + s + "' is not fixed or host");
  }
  if (r.count("triple-fault")) {
    std::string s = r["triple-fault"].as<std::string>();
    if (s == "stop") c.on_triple_fault = TripleFaultAction::Stop;
    else if (s == "reset") c.on_triple_fault = TripleFaultAction::Reset;
    else throw UsageError("--triple-fault: '" + s + "' is not stop or reset");
  }
  return cl;
}

}  // namespace pc64
