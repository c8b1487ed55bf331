#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "frontend/options.h"

using namespace pc64;

TEST_CASE("parse_size accepts QEMU-style sizes") {
  CHECK(parse_size("512M", "-m") == 512ULL << 20);
  CHECK(parse_size("2G", "-m") == 2ULL << 30);
  CHECK(parse_size("2g", "-m") == 2ULL << 30);
  CHECK(parse_size("1024K", "-m") == 1ULL << 20);
  CHECK(parse_size("64", "-m") == 64ULL << 20);  // no suffix: MiB
  CHECK(parse_size("3GiB", "-m") == 3ULL << 30);
  CHECK(parse_size("16G", "-m") == 16ULL << 30);
}

TEST_CASE("parse_size rejects malformed sizes with the option named") {
  for (const char* bad : {"", "M", "12Q", "1.5G", "-1G", "12MM", "99999999999999999999", "17179869184T"}) {
    CAPTURE(bad);
    try {
      parse_size(bad, "--memory");
      FAIL("accepted");
    } catch (const UsageError& e) {
      CHECK(std::string(e.what()).rfind("--memory: '", 0) == 0);
    }
  }
}

TEST_CASE("command line fills the machine config") {
  const char* argv[] = {"pc64", "-m", "1G", "--headless", "--serial", "file:/tmp/x.log", "--boot", "dc",
                        "--max-instructions", "1000", "--triple-fault", "reset"};
  CommandLine cl = parse_command_line(12, argv);
  CHECK(cl.config.ram_bytes == 1ULL << 30);
  CHECK(cl.config.headless);
  CHECK(cl.config.serial == SerialMode::File);
  CHECK(cl.config.serial_path == "/tmp/x.log");
  CHECK(cl.config.boot_order == "dc");
  CHECK(cl.config.max_instructions == 1000);
  CHECK(cl.config.on_triple_fault == TripleFaultAction::Reset);
}

TEST_CASE("command line errors name the option") {
  auto err = [](std::initializer_list<const char*> args) {
    std::vector<const char*> v{"pc64"};
    v.insert(v.end(), args);
    try {
      parse_command_line(static_cast<int>(v.size()), v.data());
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(err({"--frobnicate"}).find("frobnicate") != std::string::npos);
  CHECK(err({"-m", "1k"}).find("--memory") == 0);
  CHECK(err({"--hda", "/nonexistent/disk.img"}).find("--hda: cannot read '/nonexistent/disk.img'") == 0);
  CHECK(err({"--serial", "udp:1"}).find("--serial") == 0);
  CHECK(err({"--ips", "0"}).find("--ips") == 0);
}

TEST_CASE("--initrd takes multiboot modules with strings; each module's file must be readable") {
  const char* ok[] = {"pc64", "--kernel", "/dev/null", "--initrd", "/dev/null first arg,/dev/zero"};
  CHECK(parse_command_line(5, ok).config.initrd == "/dev/null first arg,/dev/zero");
  const char* bad[] = {"pc64", "--kernel", "/dev/null", "--initrd", "/dev/null x,/nonexistent/mod y"};
  try {
    parse_command_line(5, bad);
    FAIL("accepted");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("--initrd: cannot read '/nonexistent/mod'") == 0);
  }
}

TEST_CASE("--serial tcp:PORT[,nowait], stdin input only when headless, --keys scripts") {
  auto parse = [](std::vector<const char*> v) {
    v.insert(v.begin(), "pc64");
    return parse_command_line(static_cast<int>(v.size()), v.data());
  };
  CommandLine t = parse({"--serial", "tcp:4555"});
  CHECK(t.config.serial == SerialMode::Tcp);
  CHECK(t.config.serial_tcp_port == 4555);
  CHECK(t.config.serial_tcp_wait);
  CHECK_FALSE(parse({"--serial", "tcp:4555,nowait"}).config.serial_tcp_wait);
  for (const char* bad : {"tcp:", "tcp:0", "tcp:65536", "tcp:12x", "tcp:80,wait"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse({"--serial", bad}), UsageError);
  }
  CHECK(parse({"--headless"}).config.serial_stdin);
  CHECK_FALSE(parse({}).config.serial_stdin);  // the window's terminal is not the guest's
  CHECK_FALSE(parse({"--headless", "--serial", "none"}).config.serial_stdin);
  CHECK_FALSE(parse({"--headless", "--monitor", "stdio"}).config.serial_stdin);  // stdin is the monitor's

  // Two scripts, one with a comma (not split), merged in order.
  CommandLine k = parse({"--keys", "1:a,b", "--keys", "2:c"});
  CHECK(k.keys.size() == 3 * 2 + 2);  // a , b: press + release each (comma unshifted); c
  CHECK(k.keys.front().at_ns == 1'000'000'000ULL);
  CHECK(k.keys.back().at_ns >= 2'000'000'000ULL);
  CHECK_THROWS_AS(parse({"--keys", "soon:x"}), UsageError);
}
