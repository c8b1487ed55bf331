#include <doctest/doctest.h>

#include "ps2_rig.h"

using namespace pc64;
using namespace pc64::test;

TEST_CASE("i8042: self-test, interface tests, status SYS and A2 bits") {
  Ps2Rig r;
  CHECK((r.status() & I8042::kObf) == 0);
  CHECK((r.status() & I8042::kSys) == 0);  // cold boot
  r.cmd(0xAA);
  CHECK((r.status() & (I8042::kObf | I8042::kA2)) == (I8042::kObf | I8042::kA2));
  CHECK(r.read() == 0x55);
  CHECK((r.status() & I8042::kSys) != 0);
  CHECK((r.status() & I8042::kObf) == 0);
  r.cmd(0xAB);
  CHECK(r.drain() == Bytes{0x00});
  r.cmd(0xA9);
  CHECK(r.drain() == Bytes{0x00});
  r.data(0xEE);  // a data write clears A2
  CHECK((r.status() & I8042::kA2) == 0);
  CHECK(r.drain() == Bytes{0xEE});
  CHECK(r.read() == 0xEE);  // an empty buffer reads the last byte again
}

TEST_CASE("i8042: command byte read/write, interrupts, port disables") {
  Ps2Rig r;
  r.cmd(0x20);
  CHECK(r.drain() == Bytes{0x03});
  r.set_command_byte(0x00);  // no interrupts
  r.cmd(0x20);
  CHECK_FALSE(r.irq.level[1]);
  CHECK(r.drain() == Bytes{0x00});
  r.set_command_byte(0x01);
  r.cmd(0x20);
  CHECK(r.irq.level[1]);
  CHECK(r.read() == 0x01);
  CHECK_FALSE(r.irq.level[1]);
  // Controller RAM bytes 0x21-0x3F are storage.
  r.cmd(0x65);
  r.data(0xA5);
  r.cmd(0x25);
  CHECK(r.drain() == Bytes{0xA5});
  // Keyboard disabled: its data waits.
  r.set_command_byte(0x13);
  r.kbc.key(0x1C, true);
  CHECK((r.status() & I8042::kObf) == 0);
  r.cmd(0xAE);
  CHECK(r.irq.level[1]);
  CHECK(r.drain() == Bytes{0x1C});
  // Aux disabled (A7) holds mouse data; A8 releases it, on IRQ12 with AUXB.
  r.set_command_byte(0x03);
  r.cmd(0xA7);
  r.cmd(0x20);
  CHECK((r.drain()[0] & 0x20) == 0x20);
  r.to_mouse(0xF2);  // writing to the mouse enables its clock again
  CHECK(r.irq.level[12]);
  CHECK((r.status() & I8042::kAuxb) != 0);
  std::vector<bool> aux;
  CHECK(r.drain(&aux) == Bytes{0xFA, 0x00});
  CHECK(aux == std::vector<bool>{true, true});
  CHECK_FALSE(r.irq.level[12]);
}

TEST_CASE("i8042: each byte of a multi-byte reply raises a fresh IRQ1 edge") {
  Ps2Rig r;
  r.data(0xF2);  // identify: FA AB 83
  CHECK(r.irq.rises[1] == 1);
  r.read();
  CHECK(r.irq.rises[1] == 2);
  r.read();
  CHECK(r.irq.rises[1] == 3);
  CHECK(r.read() == 0x83);
  CHECK_FALSE(r.irq.level[1]);
}

TEST_CASE("i8042: A20 gate and system reset through the output port") {
  Ps2Rig r;
  r.cmd(0xD0);
  uint8_t p = r.drain()[0];
  CHECK((p & 0x03) == 0x03);  // reset inactive, A20 on
  CHECK(r.kbc.a20_enabled());
  r.cmd(0xD1);
  r.data(0xDD);  // A20 off
  CHECK(r.a20_changes == std::vector<bool>{false});
  CHECK_FALSE(r.kbc.a20_enabled());
  r.cmd(0xD1);
  r.data(0xDF);  // A20 on
  CHECK(r.a20_changes == std::vector<bool>{false, true});
  r.cmd(0xD1);
  r.data(0xDF);  // no change, no call
  CHECK(r.a20_changes.size() == 2);
  r.cmd(0xDD);
  r.cmd(0xDF);
  CHECK(r.a20_changes == std::vector<bool>{false, true, false, true});
  CHECK(r.resets == 0);
  r.cmd(0xFF);  // pulse nothing
  CHECK(r.resets == 0);
  r.cmd(0xFE);  // pulse the reset line
  CHECK(r.resets == 1);
  r.cmd(0xD1);
  r.data(0xDE);  // output port bit 0 low: reset
  CHECK(r.resets == 2);
  CHECK((r.kbc.output_port() & 1) == 1);
}

TEST_CASE("i8042: D2/D3 write the output buffer as if from keyboard / mouse") {
  Ps2Rig r;
  r.cmd(0xD2);
  r.data(0x42);
  CHECK(r.irq.level[1]);
  CHECK((r.status() & I8042::kAuxb) == 0);
  CHECK(r.read() == 0x42);
  r.cmd(0xD3);
  r.data(0x99);
  CHECK(r.irq.level[12]);
  CHECK((r.status() & I8042::kAuxb) != 0);
  CHECK(r.read() == 0x99);
  r.cmd(0xD2);
  r.data(0x42);
  r.cmd(0xD0);  // queued behind the byte in the buffer
  Bytes got = r.drain();
  REQUIRE(got.size() == 2);
  CHECK(got[0] == 0x42);
  CHECK((got[1] & 0x30) == 0x10);  // output port bit 4: IRQ1 (buffer full from the keyboard)
}

TEST_CASE("i8042: state survives serialize/restore") {
  Ps2Rig r;
  r.set_command_byte(0x47);
  r.data(0xF2);
  r.read();
  std::vector<uint8_t> blob;
  StateSerializer w(blob);
  r.kbc.serialize(w);
  Ps2Rig b;
  StateSerializer rd(blob.data(), blob.size());
  b.kbc.serialize(rd);
  CHECK(rd.at_end());
  CHECK(b.kbc.command_byte() == 0x47);
  CHECK(b.drain() == Bytes{0xAB, 0x41});
}

#include "port_fuzz.h"

TEST_CASE("i8042: random port traffic and input never break it") {
  Ps2Rig r;
  for (int round = 0; round < 200; ++round) {
    pc64::test::fuzz_ports(r.ports, nullptr, {{0x60, 1}, {0x64, 1}}, 100, static_cast<uint32_t>(round));
    r.kbc.key(static_cast<uint16_t>(round * 37), round & 1);
    r.kbc.key(Ps2Keyboard::kPause, true);
    r.kbc.mouse_event(round * 1000 - 50000, 70000 - round * 999, round - 100, static_cast<unsigned>(round));
  }
}
