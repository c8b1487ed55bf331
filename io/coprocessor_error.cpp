#include "io/coprocessor_error.h"

namespace pc64 {

CoprocessorError::CoprocessorError(PortBus& ports, IrqLine irq13) : irq13_line_(irq13) {
  ports.map(kPort, 1, this, "coprocessor error (0xf0)");
}

void CoprocessorError::reset() {
  ferr_ = ignne_ = irq13_ = false;
  drive();
}

void CoprocessorError::drive() { irq13_line_.set(irq13_); }

void CoprocessorError::set_ferr(bool asserted) {
  if (asserted) {
    // FERR# while IGNNE# is asserted is not reported again.
    if (!ignne_ && !irq13_) {
      irq13_ = true;
      drive();
    }
  } else {
    ignne_ = false;  // IGNNE# follows FERR#'s negation
  }
  ferr_ = asserted;
}

// Reads of 0xF0 are not decoded by the PIIX3: the bus floats.
uint32_t CoprocessorError::io_read(uint16_t, unsigned) { return 0xFF; }

void CoprocessorError::io_write(uint16_t, unsigned, uint32_t) {
  // Any value: negate IRQ13, and assert IGNNE# if FERR# is active.
  if (irq13_) {
    irq13_ = false;
    drive();
  }
  if (ferr_) ignne_ = true;
}

void CoprocessorError::serialize(StateSerializer& s) {
  s.tag(0x46455252);  // "FERR"
  s(ferr_);
  s(ignne_);
  s(irq13_);  // the router saves the line level itself
}

}  // namespace pc64
