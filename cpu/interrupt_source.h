// Where the CPU gets external interrupts from: the interrupt controllers
// (PIC, or LAPIC/IOAPIC) implement this in io/. The CPU polls it between
// blocks and at HLT; devices never call into the CPU.
#pragma once
#include <cstdint>

namespace pc64 {

class InterruptSource {
 public:
  virtual ~InterruptSource() = default;
  // A maskable interrupt (INTR) is waiting. Cheap: called often.
  virtual bool intr_pending() const = 0;
  // The CPU accepts the interrupt (INTA cycle): returns its vector and lets the
  // controller update its in-service state. Only called after intr_pending().
  virtual uint8_t acknowledge_intr() = 0;
  // A non-maskable interrupt is waiting; taking it clears it.
  virtual bool take_nmi() { return false; }
};

}  // namespace pc64
