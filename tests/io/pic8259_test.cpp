#include <doctest/doctest.h>

#include <vector>

#include "io/pic8259.h"

using namespace pc64;

namespace {
struct PicRig {
  PortBus ports;
  Pic8259 pic{ports};
  PicRig() {
    // The PC/AT initialisation every BIOS does: edge, cascade, ICW4, 8086 mode.
    out(0x20, 0x11); out(0x21, 0x08); out(0x21, 0x04); out(0x21, 0x01);
    out(0xA0, 0x11); out(0xA1, 0x70); out(0xA1, 0x02); out(0xA1, 0x01);
    out(0x21, 0x00); out(0xA1, 0x00);
  }
  void out(uint16_t p, uint8_t v) { ports.port_write(p, 1, v); }
  uint8_t in(uint16_t p) { return static_cast<uint8_t>(ports.port_read(p, 1)); }
  void pulse(unsigned irq) { pic.set_irq(irq, true); pic.set_irq(irq, false); }
  void eoi_master() { out(0x20, 0x20); }
  void eoi_slave() { out(0xA0, 0x20); }
};
}  // namespace

TEST_CASE("8259: fully nested priority, edge latching and non-specific EOI") {
  PicRig r;
  CHECK(r.pic.initialized(0));
  CHECK(r.pic.vector_base(1) == 0x70);
  CHECK_FALSE(r.pic.intr_pending());
  r.pulse(5);
  r.pulse(3);
  CHECK(r.pic.irr(0) == 0x28);  // edges stay latched after the line drops
  REQUIRE(r.pic.intr_pending());
  CHECK(r.pic.acknowledge() == 0x0B);  // IR3 outranks IR5
  CHECK(r.pic.isr(0) == 0x08);
  CHECK(r.pic.irr(0) == 0x20);
  CHECK_FALSE(r.pic.intr_pending());  // IR5 is held off by IR3 in service
  r.pulse(1);
  REQUIRE(r.pic.intr_pending());  // a higher level nests
  CHECK(r.pic.acknowledge() == 0x09);
  CHECK(r.pic.isr(0) == 0x0A);
  r.eoi_master();  // clears the highest in service: IR1
  CHECK(r.pic.isr(0) == 0x08);
  CHECK_FALSE(r.pic.intr_pending());
  r.eoi_master();
  REQUIRE(r.pic.intr_pending());
  CHECK(r.pic.acknowledge() == 0x0D);
  r.out(0x20, 0x65);  // specific EOI for IR5
  CHECK(r.pic.isr(0) == 0);
}

TEST_CASE("8259: masking via OCW1, reading IRR and ISR via OCW3") {
  PicRig r;
  r.out(0x21, 0xFF);
  CHECK(r.in(0x21) == 0xFF);
  r.pulse(4);
  CHECK_FALSE(r.pic.intr_pending());
  CHECK(r.in(0x20) == 0x10);  // IRR is the default read
  r.out(0x21, 0xEF);
  REQUIRE(r.pic.intr_pending());
  r.pic.acknowledge();
  r.out(0x20, 0x0B);  // OCW3: read ISR
  CHECK(r.in(0x20) == 0x10);
  r.out(0x20, 0x0A);  // OCW3: read IRR
  CHECK(r.in(0x20) == 0x00);
  // ICW1 clears IMR and ISR and restarts the sequence.
  r.out(0x20, 0x11);
  CHECK(r.in(0x21) == 0x00);
  CHECK(r.pic.isr(0) == 0);
}

TEST_CASE("8259: cascade through IR2, and spurious IRQ7/IRQ15") {
  PicRig r;
  r.pulse(10);
  CHECK(r.pic.irr(1) == 0x04);
  CHECK(r.pic.irr(0) == 0x04);  // the slave's INT reaches master IR2
  REQUIRE(r.pic.intr_pending());
  CHECK(r.pic.acknowledge() == 0x72);
  CHECK(r.pic.isr(0) == 0x04);
  CHECK(r.pic.isr(1) == 0x04);
  r.eoi_slave();
  r.eoi_master();
  CHECK(r.pic.isr(0) == 0);
  CHECK(r.pic.isr(1) == 0);

  // A level request that goes away before INTA: spurious IR7, no ISR bit.
  r.out(0x4D0, 0x08);  // IRQ3 level-triggered
  r.pic.set_irq(3, true);
  REQUIRE(r.pic.intr_pending());
  r.pic.set_irq(3, false);
  CHECK(r.pic.acknowledge() == 0x0F);
  CHECK(r.pic.isr(0) == 0);
  // Masked after INT rose but before INTA: still spurious, vector of IR7.
  r.out(0x4D0, 0x00);
  r.pulse(5);
  REQUIRE(r.pic.intr_pending());
  r.out(0x21, 0x20);
  CHECK(r.pic.acknowledge() == 0x0F);
  CHECK(r.pic.isr(0) == 0);
}

TEST_CASE("8259: ELCR selects level triggering; reserved bits read 0") {
  PicRig r;
  r.out(0x4D0, 0xFF);
  r.out(0x4D1, 0xFF);
  CHECK(r.in(0x4D0) == 0xF8);  // IRQ0-2 always edge
  CHECK(r.in(0x4D1) == 0xDE);  // IRQ8 and IRQ13 always edge
  r.out(0x4D0, 0x00);
  r.out(0x4D1, 0x02);  // IRQ9 level
  r.pic.set_irq(9, true);
  REQUIRE(r.pic.intr_pending());
  CHECK(r.pic.acknowledge() == 0x71);
  r.eoi_slave();
  r.eoi_master();
  // Still high: it requests again after EOI.
  REQUIRE(r.pic.intr_pending());
  CHECK(r.pic.acknowledge() == 0x71);
  r.pic.set_irq(9, false);
  r.eoi_slave();
  r.eoi_master();
  CHECK_FALSE(r.pic.intr_pending());
  CHECK(r.pic.irr(1) == 0);
  // An edge input needs a new rising edge: holding it high requests once.
  r.pic.set_irq(4, true);
  CHECK(r.pic.acknowledge() == 0x0C);
  r.eoi_master();
  CHECK_FALSE(r.pic.intr_pending());
  r.pic.set_irq(4, false);
  r.pic.set_irq(4, true);
  CHECK(r.pic.intr_pending());
}

TEST_CASE("8259: poll command reads and acknowledges the highest request") {
  PicRig r;
  r.out(0x21, 0xFF);
  r.out(0x20, 0x0C);  // OCW3 poll
  CHECK(r.in(0x21) == 0x00);  // nothing unmasked requested: I bit clear
  r.out(0x21, 0x00);
  r.pulse(6);
  r.pulse(7);
  r.out(0x20, 0x0C);
  CHECK(r.in(0x20) == 0x86);  // I=1, level 6
  CHECK(r.pic.isr(0) == 0x40);
  CHECK(r.pic.irr(0) == 0x80);
  CHECK(r.in(0x20) == 0x80);  // poll is one-shot: the next read is IRR again
  r.eoi_master();
  r.out(0x20, 0x0C);
  CHECK(r.in(0x20) == 0x87);
}

TEST_CASE("8259: special mask mode lets lower levels through") {
  PicRig r;
  r.pulse(3);
  CHECK(r.pic.acknowledge() == 0x0B);
  r.pulse(5);
  CHECK_FALSE(r.pic.intr_pending());
  r.out(0x21, 0x08);  // mask the level in service
  CHECK_FALSE(r.pic.intr_pending());  // masking alone does not help
  r.out(0x20, 0x68);  // OCW3: set special mask
  REQUIRE(r.pic.intr_pending());
  CHECK(r.pic.acknowledge() == 0x0D);
  CHECK(r.pic.isr(0) == 0x28);
  r.out(0x20, 0x48);  // reset special mask
  r.out(0x20, 0x65);
  r.out(0x20, 0x63);
  CHECK(r.pic.isr(0) == 0);
}

TEST_CASE("8259: automatic EOI, rotation and set-priority") {
  PicRig r;
  // Re-initialise the master with ICW4.AEOI.
  r.out(0x20, 0x11); r.out(0x21, 0x08); r.out(0x21, 0x04); r.out(0x21, 0x03);
  r.pulse(3);
  r.pulse(5);
  CHECK(r.pic.acknowledge() == 0x0B);
  CHECK(r.pic.isr(0) == 0);  // AEOI: nothing in service
  CHECK(r.pic.acknowledge() == 0x0D);
  // Rotate in AEOI mode: the acknowledged level becomes the lowest.
  r.out(0x20, 0x80);
  r.pulse(1);
  r.pulse(4);
  CHECK(r.pic.acknowledge() == 0x09);  // 1 before 4 (IR7 lowest)
  r.pulse(1);
  CHECK(r.pic.acknowledge() == 0x0C);  // now IR1 is lowest: 4 first
  CHECK(r.pic.acknowledge() == 0x09);
  r.out(0x20, 0x00);  // clear rotate in AEOI

  PicRig n;  // normal EOI
  // Set priority: IR4 lowest, so IR5 is highest.
  n.out(0x20, 0xC4);
  n.pulse(0);
  n.pulse(5);
  CHECK(n.pic.acknowledge() == 0x0D);
  // Rotate on non-specific EOI: IR5 becomes lowest, IR6 highest.
  n.out(0x20, 0xA0);
  n.pulse(6);
  CHECK(n.pic.acknowledge() == 0x0E);
  // Rotate on specific EOI for IR6: IR7 highest.
  n.out(0x20, 0xE6);
  n.pulse(7);
  CHECK(n.pic.acknowledge() == 0x0F);
  CHECK(n.pic.isr(0) == 0x80);
  CHECK(n.pic.irr(0) == 0x01);  // IR0 still waiting, below IR7 now
}

TEST_CASE("8259: special fully nested mode lets the slave nest") {
  PicRig r;
  r.out(0x20, 0x11); r.out(0x21, 0x08); r.out(0x21, 0x04); r.out(0x21, 0x11);  // SFNM
  r.pulse(12);
  CHECK(r.pic.acknowledge() == 0x74);
  r.pulse(9);  // higher on the slave while IR2 is in service on the master
  REQUIRE(r.pic.intr_pending());
  CHECK(r.pic.acknowledge() == 0x71);
  CHECK(r.pic.isr(1) == 0x12);
  // Without SFNM the master would hold it off.
  PicRig f;
  f.pulse(12);
  f.pic.acknowledge();
  f.pulse(9);
  CHECK_FALSE(f.pic.intr_pending());
}

TEST_CASE("8259: state survives serialize/restore") {
  PicRig r;
  r.out(0x4D1, 0x04);
  r.pulse(3);
  r.pulse(12);
  r.pic.set_irq(10, true);
  r.pic.acknowledge();
  r.out(0x21, 0x40);
  std::vector<uint8_t> blob;
  StateSerializer w(blob);
  r.pic.serialize(w);

  PortBus ports2;
  Pic8259 b(ports2);
  StateSerializer rd(blob.data(), blob.size());
  b.serialize(rd);
  CHECK(rd.at_end());
  for (unsigned c = 0; c < 2; ++c) {
    CHECK(b.irr(c) == r.pic.irr(c));
    CHECK(b.isr(c) == r.pic.isr(c));
    CHECK(b.imr(c) == r.pic.imr(c));
    CHECK(b.elcr(c) == r.pic.elcr(c));
  }
  CHECK(b.acknowledge() == r.pic.acknowledge());
}

#include "port_fuzz.h"

TEST_CASE("8259: random port traffic and IRQ changes never break it") {
  PortBus ports;
  Pic8259 pic(ports);
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    pc64::test::fuzz_ports(ports, nullptr, {{0x20, 2}, {0xA0, 2}, {0x4D0, 2}}, 100, static_cast<uint32_t>(round));
    for (int i = 0; i < 20; ++i) pic.set_irq(rng() % 16, rng() & 1);
    for (int i = 0; i < 4 && pic.intr_pending(); ++i) pic.acknowledge();
    pic.acknowledge();  // also when nothing is pending
  }
}
