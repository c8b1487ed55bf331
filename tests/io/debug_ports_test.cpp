#include <doctest/doctest.h>

#include <vector>

#include "io/debug_ports.h"

using namespace pc64;

TEST_CASE("debug ports: POST code kept, 0x402 and 0xE9 go to the debug console") {
  PortBus ports;
  MemoryCharBackend con;
  DebugPorts dbg(ports, &con);
  ports.port_write(0x80, 1, 0x3A);
  ports.port_write(0x80, 1, 0x55);
  CHECK(dbg.post_code() == 0x55);
  CHECK(dbg.post_writes() == 2);
  CHECK(ports.port_read(0x80, 1) == 0x55);
  for (char c : std::string("SeaBIOS")) ports.port_write(0x402, 1, static_cast<uint8_t>(c));
  ports.port_write(0xE9, 1, '!');
  CHECK(con.data() == "SeaBIOS!");
  CHECK(ports.port_read(0xE9, 1) == 0xE9);
  CHECK(ports.port_read(0x402, 1) == 0xE9);

  std::vector<uint8_t> blob;
  StateSerializer w(blob);
  dbg.serialize(w);
  PortBus p2;
  DebugPorts b(p2, nullptr);
  StateSerializer rd(blob.data(), blob.size());
  b.serialize(rd);
  CHECK(b.post_code() == 0x55);
  p2.port_write(0x402, 1, 'x');  // no console: dropped
}
