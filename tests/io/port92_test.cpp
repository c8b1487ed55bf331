#include <doctest/doctest.h>

#include "io/port92.h"

using namespace pc64;

TEST_CASE("port 0x92 drives A20 and resets on a 0->1 edge of bit 0") {
  PortBus ports;
  int a20_calls = 0, resets = 0;
  bool a20 = false;
  Port92 p(ports, [&](bool on) { a20 = on; ++a20_calls; }, [&] { ++resets; });
  p.reset();
  CHECK(ports.port_read(0x92, 1) == 0);
  ports.port_write(0x92, 1, 0x02);
  CHECK(a20);
  CHECK(a20_calls == 1);
  ports.port_write(0x92, 1, 0x02);  // no change, no call
  CHECK(a20_calls == 1);
  CHECK(ports.port_read(0x92, 1) == 0x02);
  ports.port_write(0x92, 1, 0x03);
  CHECK(resets == 1);
  ports.port_write(0x92, 1, 0x03);  // still set: no second reset
  CHECK(resets == 1);
  ports.port_write(0x92, 1, 0x00);
  CHECK_FALSE(a20);
  ports.port_write(0x92, 1, 0x01);
  CHECK(resets == 2);
}
