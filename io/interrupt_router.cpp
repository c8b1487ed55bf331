#include "io/interrupt_router.h"

#include "mem/log.h"

namespace pc64 {

InterruptRouter::InterruptRouter(LegacyPic& pic, IoApic& ioapic, LocalApic& lapic)
    : pic_(pic), ioapic_(ioapic), lapic_(lapic) {}

void InterruptRouter::update_isa(unsigned irq) {
  bool level = isa_level_[irq];
  for (unsigned p = 0; p < 4; ++p)
    if (pirq_level_[p] && pirq_route_[p] == static_cast<int>(irq)) level = true;
  if (level == out_[irq]) return;
  out_[irq] = level;
  pic_.set_irq(irq, level);
  ioapic_.set_irq(ioapic_pin(irq), level);
}

void InterruptRouter::set_irq(unsigned irq, bool level) {
  if (irq < kIsaIrqs) {
    // IRQ2 is the 8259 cascade input; no ISA device can drive it.
    if (irq == 2) return;
    isa_level_[irq] = level;
    update_isa(irq);
  } else if (irq < kPirqBase + 4) {
    unsigned p = irq - kPirqBase;
    pirq_level_[p] = level;
    ioapic_.set_irq(kPirqIoApicPin + p, level);
    if (pirq_route_[p] >= 0) update_isa(static_cast<unsigned>(pirq_route_[p]));
  } else {
    PC64_LOG(LogLevel::Debug, "irq", "interrupt line %u does not exist", irq);
  }
}

void InterruptRouter::set_pirq_route(unsigned pirq, int isa_irq) {
  if (pirq >= 4) return;
  if (isa_irq < 0 || isa_irq >= static_cast<int>(kIsaIrqs) || isa_irq == 2) isa_irq = -1;
  int old = pirq_route_[pirq];
  if (old == isa_irq) return;
  pirq_route_[pirq] = static_cast<int8_t>(isa_irq);
  if (old >= 0) update_isa(static_cast<unsigned>(old));
  if (isa_irq >= 0) update_isa(static_cast<unsigned>(isa_irq));
}

bool InterruptRouter::intr_pending() const {
  if (!lapic_.hardware_enabled()) return pic_.intr_pending();
  if (lapic_.extint_enabled() && pic_.intr_pending()) return true;
  return lapic_.interrupt_pending();
}

uint8_t InterruptRouter::acknowledge_intr() {
  if (!lapic_.hardware_enabled()) return pic_.acknowledge();
  if (lapic_.extint_enabled() && pic_.intr_pending()) return pic_.acknowledge();
  return lapic_.acknowledge();
}

void InterruptRouter::serialize(StateSerializer& s) {
  s.tag(0x49525152);  // "IRQR"
  s(isa_level_);
  s(out_);
  s(pirq_level_);
  s(pirq_route_);
}

}  // namespace pc64
