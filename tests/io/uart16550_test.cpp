#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "io/uart16550.h"

using namespace pc64;

namespace {
struct LevelSink final : IrqSink {
  bool level = false;
  int rises = 0;
  void set_irq(unsigned, bool l) override {
    if (l && !level) ++rises;
    level = l;
  }
};

struct UartRig {
  PortBus ports;
  VirtualClock clock;
  LevelSink irq;
  MemoryCharBackend host;
  Uart16550 uart{ports, clock, 0x3F8, IrqLine(&irq, 4), &host};
  void out(uint8_t reg, uint8_t v) { ports.port_write(static_cast<uint16_t>(0x3F8 + reg), 1, v); }
  uint8_t in(uint8_t reg) { return static_cast<uint8_t>(ports.port_read(static_cast<uint16_t>(0x3F8 + reg), 1)); }
  void set_115200_8n1() {
    out(3, 0x83);
    out(0, 1);
    out(1, 0);
    out(3, 0x03);
  }
};
}  // namespace

TEST_CASE("16550: reset state, DLAB and divisor latch, scratch register") {
  UartRig r;
  CHECK(r.in(2) == 0x01);  // IIR: no interrupt, FIFOs off
  CHECK(r.in(5) == 0x60);  // THRE, TEMT
  CHECK(r.in(6) == 0xB0);  // CTS, DSR, DCD from an attached terminal
  r.out(3, 0x83);
  r.out(0, 0x30);
  r.out(1, 0x01);
  CHECK(r.in(0) == 0x30);
  CHECK(r.in(1) == 0x01);
  CHECK(r.uart.divisor() == 0x130);
  r.out(3, 0x03);
  CHECK(r.in(1) == 0x00);  // IER again
  CHECK(r.in(3) == 0x03);
  r.out(7, 0x5A);
  CHECK(r.in(7) == 0x5A);
  // The divisor and scratch survive a master reset.
  r.uart.reset();
  CHECK(r.uart.divisor() == 0x130);
  CHECK(r.in(7) == 0x5A);
  CHECK(r.in(3) == 0x00);
}

TEST_CASE("16550: transmit goes to the backend at once; THRE interrupt") {
  UartRig r;
  for (char c : std::string("hello\n")) r.out(0, static_cast<uint8_t>(c));
  CHECK(r.host.data() == "hello\n");
  CHECK((r.in(5) & 0x60) == 0x60);

  r.out(4, 0x08);  // OUT2 routes INTR to the IRQ line
  r.out(1, 0x02);  // ETBEI with THR empty: THRE interrupt at once
  CHECK(r.irq.level);
  CHECK(r.in(2) == 0x02);
  CHECK_FALSE(r.irq.level);  // reading IIR cleared it
  CHECK(r.in(2) == 0x01);
  int rises = r.irq.rises;
  r.out(0, 'x');  // THR write: THRE comes back, with a fresh edge
  CHECK(r.irq.level);
  CHECK(r.irq.rises == rises + 1);
  CHECK(r.in(2) == 0x02);
  // Re-enabling ETBEI re-asserts THRE (the test Linux's 8250 driver makes).
  r.out(1, 0x00);
  r.out(1, 0x02);
  CHECK(r.in(2) == 0x02);
  // Without OUT2 the line stays low though IIR reports the interrupt.
  r.out(4, 0x00);
  r.out(0, 'y');
  CHECK_FALSE(r.irq.level);
  CHECK(r.in(2) == 0x02);
}

TEST_CASE("16550: receive without FIFO, overrun and line-status priority") {
  UartRig r;
  r.out(4, 0x08);
  r.out(1, 0x05);  // ERBFI, ELSI
  r.uart.receive('a');
  CHECK(r.irq.level);
  CHECK(r.in(2) == 0x04);
  CHECK((r.in(5) & 0x01) == 0x01);
  CHECK(r.in(0) == 'a');
  CHECK((r.in(5) & 0x01) == 0x00);
  CHECK(r.in(2) == 0x01);
  CHECK_FALSE(r.irq.level);
  r.uart.receive('b');
  CHECK_FALSE(r.uart.can_receive());
  r.uart.receive('c');  // overrun: replaces the holding register
  CHECK(r.in(2) == 0x06);  // receiver line status outranks data available
  uint8_t lsr = r.in(5);
  CHECK((lsr & 0x03) == 0x03);  // OE, DR
  CHECK((r.in(5) & 0x02) == 0);  // OE cleared by the read
  CHECK(r.in(2) == 0x04);
  CHECK(r.in(0) == 'c');
  // A break: BI and a zero byte.
  r.uart.receive_break();
  CHECK(r.in(2) == 0x06);
  CHECK((r.in(5) & 0x10) == 0x10);
  CHECK(r.in(0) == 0x00);
}

TEST_CASE("16550: FIFO trigger levels") {
  const unsigned levels[4] = {1, 4, 8, 14};
  for (unsigned t = 0; t < 4; ++t) {
    CAPTURE(t);
    UartRig r;
    r.set_115200_8n1();
    r.out(4, 0x08);
    r.out(2, static_cast<uint8_t>((t << 6) | 0x07));  // enable, clear both FIFOs, trigger
    r.out(1, 0x01);
    CHECK((r.in(2) & 0xC0) == 0xC0);  // FIFOs enabled
    for (unsigned i = 0; i + 1 < levels[t]; ++i) r.uart.receive(static_cast<uint8_t>('0' + i));
    CHECK(r.in(2) == 0xC1);
    CHECK_FALSE(r.irq.level);
    r.uart.receive('!');
    CHECK(r.in(2) == 0xC4);
    CHECK(r.irq.level);
    r.in(0);  // below the trigger again
    if (levels[t] > 1) {
      CHECK(r.in(2) == 0xC1);
    }
  }
  // 16 bytes fit, the 17th overruns and is lost.
  UartRig f;
  f.out(2, 0x01);
  for (unsigned i = 0; i < 16; ++i) f.uart.receive(static_cast<uint8_t>(i));
  CHECK_FALSE(f.uart.can_receive());
  f.uart.receive(0xEE);
  CHECK((f.in(5) & 0x02) == 0x02);
  for (unsigned i = 0; i < 16; ++i) CHECK(f.in(0) == i);
  CHECK((f.in(5) & 0x01) == 0);
  // FCR bit 1 clears the receive FIFO.
  f.uart.receive(1);
  f.out(2, 0x03);
  CHECK((f.in(5) & 0x01) == 0);
}

TEST_CASE("16550: character timeout after four character times") {
  UartRig r;
  r.set_115200_8n1();  // 8N1: 10 bits, 86805 ns a character
  r.out(4, 0x08);
  r.out(2, 0xC1);  // trigger 14
  r.out(1, 0x01);
  r.uart.receive('a');
  r.uart.receive('b');
  r.uart.receive('c');
  uint64_t t0 = r.clock.now();
  uint64_t four = 4 * (10 * 1000000000ULL / 115200);
  r.clock.advance_to(t0 + four - 1);
  CHECK(r.in(2) == 0xC1);
  r.clock.advance_to(t0 + four);
  CHECK(r.in(2) == 0xCC);
  CHECK(r.irq.level);
  CHECK(r.in(0) == 'a');  // a read clears the timeout and restarts it
  CHECK(r.in(2) == 0xC1);
  CHECK_FALSE(r.irq.level);
  r.clock.advance_to(r.clock.now() + four);
  CHECK(r.in(2) == 0xCC);
  CHECK(r.in(0) == 'b');
  CHECK(r.in(0) == 'c');
  r.clock.advance_to(r.clock.now() + 10 * four);
  CHECK(r.in(2) == 0xC1);  // empty FIFO: no timeout
}

TEST_CASE("16550: IIR priority order RLS > RDA > CTI > THRE > MS") {
  UartRig r;
  r.out(4, 0x10 | 0x08);  // loopback, OUT2 (DCD follows it)
  r.out(1, 0x0F);
  r.out(0, 'z');  // looped back: data available; THRE re-asserted
  r.uart.receive('q');  // ignored in loopback
  r.out(4, 0x10 | 0x02 | 0x08);  // RTS toggles CTS: modem status delta
  // Loopback: an overrun via a second byte without FIFO.
  r.out(0, 'y');
  CHECK(r.in(2) == 0x06);  // line status (overrun)
  r.in(5);
  CHECK(r.in(2) == 0x04);  // data available
  CHECK(r.in(0) == 'y');
  CHECK(r.in(2) == 0x02);  // THRE (cleared by this read)
  uint8_t msr = r.in(2);
  CHECK(msr == 0x00);  // modem status
  CHECK((r.in(6) & 0x11) == 0x11);  // CTS and its delta
  CHECK(r.in(2) == 0x01);
  CHECK(r.host.data().empty());  // nothing left the chip in loopback
  CHECK_FALSE(r.irq.level);      // nor reached the IRQ line
}

TEST_CASE("16550: loopback modem lines and MSR deltas") {
  UartRig r;
  r.out(4, 0x10);
  CHECK(r.in(6) == (0x0B));  // CTS, DSR, DCD dropped: deltas, no status
  r.out(4, 0x10 | 0x0F);     // DTR, RTS, OUT1, OUT2
  CHECK(r.in(6) == 0xFB);    // all four inputs high; RI rising is not TERI
  r.out(4, 0x10 | 0x0B);     // OUT1 (RI) low: trailing edge
  CHECK(r.in(6) == 0xB4);
  CHECK(r.in(6) == 0xB0);
  r.out(4, 0x00);
  CHECK((r.in(6) & 0xF0) == 0xB0);
}

TEST_CASE("16550: state restores with the timeout timer") {
  UartRig r;
  r.set_115200_8n1();
  r.out(4, 0x08);
  r.out(2, 0x81);
  r.out(1, 0x01);
  r.uart.receive('k');
  std::vector<uint8_t> blob;
  StateSerializer w(blob);
  r.uart.serialize(w);
  UartRig b;
  b.clock.set_now(r.clock.now());
  StateSerializer rd(blob.data(), blob.size());
  b.uart.serialize(rd);
  CHECK(rd.at_end());
  b.clock.advance_to(b.clock.now() + 1000000);
  CHECK(b.in(2) == 0xCC);
  CHECK(b.in(0) == 'k');
}

TEST_CASE("char backends: file written through flush, clear error for a bad path") {
  std::string path = "/tmp/pc64_char_backend_test.txt";
  {
    FileCharBackend f(path);
    f.write(reinterpret_cast<const uint8_t*>("abc"), 3);
    f.write('\n');
    f.flush();
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str() == "abc\n");
  }
  std::remove(path.c_str());
  CHECK_THROWS_AS(FileCharBackend("/nonexistent-dir/x/y"), std::runtime_error);
  NullCharBackend n;
  n.write('x');
}

#include "port_fuzz.h"

TEST_CASE("16550: random port traffic and input never break it") {
  UartRig r;
  for (int round = 0; round < 100; ++round) {
    pc64::test::fuzz_ports(r.ports, &r.clock, {{0x3F8, 8}}, 200, static_cast<uint32_t>(round));
    for (int i = 0; i < 20; ++i) r.uart.receive(static_cast<uint8_t>(i));
  }
}
