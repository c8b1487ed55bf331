#include <doctest/doctest.h>

#include "ps2_rig.h"

using namespace pc64;
using namespace pc64::test;

namespace {
struct MouseRig : Ps2Rig {
  Bytes send(std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes) to_mouse(b);
    std::vector<bool> aux;
    Bytes out = drain(&aux);
    for (bool a : aux) CHECK(a);  // every byte came from the aux port
    return out;
  }
};
}  // namespace

TEST_CASE("PS/2 mouse: reset, ID, status, sample rate, resolution, scaling") {
  MouseRig m;
  CHECK(m.send({0xFF}) == Bytes{0xFA, 0xAA, 0x00});
  CHECK(m.send({0xF2}) == Bytes{0xFA, 0x00});
  CHECK(m.send({0xE9}) == Bytes{0xFA, 0x00, 0x02, 100});
  CHECK(m.send({0xF3, 40}) == Bytes{0xFA, 0xFA});
  CHECK(m.send({0xE8, 0x03}) == Bytes{0xFA, 0xFA});
  CHECK(m.send({0xE7}) == Bytes{0xFA});
  CHECK(m.send({0xF4}) == Bytes{0xFA});
  CHECK(m.send({0xE9}) == Bytes{0xFA, 0x30, 0x03, 40});  // enabled, 2:1
  CHECK(m.send({0xF6}) == Bytes{0xFA});
  CHECK(m.send({0xE9}) == Bytes{0xFA, 0x00, 0x02, 100});
  CHECK(m.send({0x42}) == Bytes{0xFE});
}

TEST_CASE("PS/2 mouse: stream packets, signs, splitting, buttons") {
  MouseRig m;
  m.send({0xF4});
  m.kbc.mouse_event(5, -3, 0, Ps2Mouse::kLeft);  // right 5, up 3
  CHECK(m.drain() == Bytes{0x09, 0x05, 0x03});
  CHECK(m.irq.rises[12] >= 1);
  m.kbc.mouse_event(-5, 3, 0, 0);  // left 5, down 3
  CHECK(m.drain() == Bytes{0x38, 0xFB, 0xFD});
  m.kbc.mouse_event(0, 0, 0, Ps2Mouse::kRight | Ps2Mouse::kMiddle);  // a button alone sends a packet
  CHECK(m.drain() == Bytes{0x0E, 0x00, 0x00});
  m.kbc.mouse_event(600, 0, 0, 0);  // split into in-range packets, nothing lost
  CHECK(m.drain() == Bytes{0x08, 0xFF, 0x00, 0x08, 0xFF, 0x00, 0x08, 90, 0x00});
  // Disabled: no packets.
  m.send({0xF5});
  m.kbc.mouse_event(1, 1, 0, 0);
  CHECK(m.drain().empty());
}

TEST_CASE("PS/2 mouse: 2:1 scaling applies to stream packets") {
  MouseRig m;
  m.send({0xE7, 0xF4});
  m.kbc.mouse_event(4, 0, 0, 0);
  CHECK(m.drain() == Bytes{0x08, 6, 0});
  m.kbc.mouse_event(10, 0, 0, 0);
  CHECK(m.drain() == Bytes{0x08, 20, 0});
}

TEST_CASE("PS/2 mouse: remote mode and read data") {
  MouseRig m;
  m.send({0xF0, 0xF4});
  m.kbc.mouse_event(7, 0, 0, 0);
  CHECK(m.drain().empty());
  CHECK(m.send({0xEB}) == Bytes{0xFA, 0x08, 0x07, 0x00});
  CHECK(m.send({0xEB}) == Bytes{0xFA, 0x08, 0x00, 0x00});
  CHECK(m.send({0xE9})[1] == 0x60);  // remote, enabled
}

TEST_CASE("PS/2 mouse: wrap mode echoes until reset-wrap") {
  MouseRig m;
  CHECK(m.send({0xEE}) == Bytes{0xFA});
  CHECK(m.send({0x12, 0xF2}) == Bytes{0x12, 0xF2});
  CHECK(m.send({0xEC}) == Bytes{0xFA});
  CHECK(m.send({0xF2}) == Bytes{0xFA, 0x00});
}

TEST_CASE("PS/2 mouse: IntelliMouse knocks give ID 3 (wheel) and ID 4 (5 buttons)") {
  MouseRig m;
  m.send({0xF3, 200, 0xF3, 200, 0xF3, 80});  // the ID 4 knock first does nothing
  CHECK(m.send({0xF2}) == Bytes{0xFA, 0x00});
  m.send({0xF3, 200, 0xF3, 100, 0xF3, 80});
  CHECK(m.send({0xF2}) == Bytes{0xFA, 0x03});
  m.send({0xF4});
  m.kbc.mouse_event(1, 0, 2, 0);  // wheel towards the user
  CHECK(m.drain() == Bytes{0x08, 0x01, 0x00, 0x02});
  m.kbc.mouse_event(0, 0, -1, 0);
  CHECK(m.drain() == Bytes{0x08, 0x00, 0x00, 0xFF});
  m.send({0xF3, 200, 0xF3, 200, 0xF3, 80});
  CHECK(m.send({0xF2}) == Bytes{0xFA, 0x04});
  m.kbc.mouse_event(0, 0, -2, Ps2Mouse::kButton4 | Ps2Mouse::kButton5);
  CHECK(m.drain() == Bytes{0x08, 0x00, 0x00, 0x3E});
  m.kbc.mouse_event(0, 0, 20, 0);  // wheel beyond 4 bits: split
  CHECK(m.drain() == Bytes{0x08, 0, 0, 0x07, 0x08, 0, 0, 0x07, 0x08, 0, 0, 0x06});
  // Reset returns to a plain mouse.
  CHECK(m.send({0xFF}) == Bytes{0xFA, 0xAA, 0x00});
  CHECK(m.kbc.mouse().device_id() == 0);
}

TEST_CASE("PS/2 mouse: motion beyond the queue waits and is not lost") {
  MouseRig m;
  m.send({0xF4});
  m.kbc.mouse_event(255 * 40, 0, 0, 0);  // 40 packets' worth, more than the queue holds
  Bytes got = m.drain();
  REQUIRE(got.size() == 40 * 3);
  int total = 0;
  for (size_t i = 0; i < got.size(); i += 3) total += got[i + 1];
  CHECK(total == 255 * 40);
}
