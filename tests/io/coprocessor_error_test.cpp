// The legacy x87 error path: FERR# -> IRQ13, port 0xF0 -> IRQ13 off + IGNNE#
// (PIIX3 data sheet "Coprocessor Error"; SDM Vol. 1 D.2.1).
#include <doctest/doctest.h>

#include "io/coprocessor_error.h"
#include "mem/state.h"

using namespace pc64;

namespace {
struct Lines final : IrqSink {
  bool level[16] = {};
  int changes = 0;
  void set_irq(unsigned irq, bool l) override {
    if (level[irq] != l) ++changes;
    level[irq] = l;
  }
};
}  // namespace

TEST_CASE("FERR# raises IRQ13 until port 0xF0 is written; IGNNE# holds until FERR# drops") {
  PortBus ports;
  Lines lines;
  CoprocessorError ce(ports, IrqLine(&lines, CoprocessorError::kIrq));
  ce.reset();
  CHECK_FALSE(lines.level[13]);
  ce.set_ferr(true);
  CHECK(lines.level[13]);
  ce.set_ferr(true);  // the next waiting instruction asserts it again: no new edge
  CHECK(lines.changes == 1);
  ports.port_write(0xF0, 1, 0);  // the IRQ13 handler clears the busy latch
  CHECK_FALSE(lines.level[13]);
  CHECK(ce.ignne());
  ce.set_ferr(true);  // FERR# with IGNNE# asserted is ignored
  CHECK_FALSE(lines.level[13]);
  ce.set_ferr(false);  // FNCLEX: FERR# negated, IGNNE# follows
  CHECK_FALSE(ce.ignne());
  ce.set_ferr(true);  // a new exception reaches IRQ13 again
  CHECK(lines.level[13]);
  CHECK(ports.port_read(0xF0, 1) == 0xFF);

  // A write to 0xF0 while FERR# is negated only clears the latch.
  ce.set_ferr(false);
  CHECK(lines.level[13]);  // the latch survives FERR#'s negation
  ports.port_write(0xF0, 1, 0x55);
  CHECK_FALSE(lines.level[13]);
  CHECK_FALSE(ce.ignne());

  // State round trip.
  ce.set_ferr(true);
  std::vector<uint8_t> buf;
  StateSerializer w(buf);
  ce.serialize(w);
  PortBus other_ports;
  CoprocessorError other(other_ports, IrqLine(&lines, 13));
  StateSerializer r(buf.data(), buf.size());
  other.serialize(r);
  CHECK(other.irq13());
  CHECK_FALSE(other.ignne());
  ce.reset();
  CHECK_FALSE(lines.level[13]);
}
