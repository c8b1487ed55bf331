// The PC's legacy x87 error path (PIIX3 data sheet, "Coprocessor Error"; SDM
// Vol. 1 8.7 and appendix D): with CR0.NE = 0 the CPU signals an unmasked x87
// exception on its FERR# pin instead of raising #MF; the chipset latches it as
// IRQ13. The handler's write to port 0xF0 negates IRQ13 and asserts IGNNE#, so
// further FERR# assertions are ignored until the CPU negates FERR# (the
// handler's FNCLEX/FNINIT clears the pending exception).
#pragma once
#include <cstdint>

#include "io/device.h"
#include "io/irq.h"
#include "io/port_bus.h"

namespace pc64 {

class CoprocessorError final : public Device, public PortHandler {
 public:
  static constexpr uint16_t kPort = 0xF0;
  static constexpr unsigned kIrq = 13;

  CoprocessorError(PortBus& ports, IrqLine irq13);

  const char* name() const override { return "coprocessor-error"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // The CPU's FERR# level (through InterruptSource::set_ferr).
  void set_ferr(bool asserted);
  bool irq13() const { return irq13_; }
  bool ignne() const { return ignne_; }

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  void drive();

  IrqLine irq13_line_;
  // ---- state ----
  bool ferr_ = false;   // FERR# as the CPU drives it
  bool ignne_ = false;  // IGNNE# asserted by a port 0xF0 write while FERR# was asserted
  bool irq13_ = false;  // the latched IRQ13 request
};

}  // namespace pc64
