// Interrupt request lines from devices to the interrupt controllers. A device
// holds an IrqLine and drives its level; the machine wires the line to the
// ISA IRQ router (PIC + IOAPIC). Edge-triggered devices pulse: raise, lower.
#pragma once

namespace pc64 {

class IrqSink {
 public:
  virtual ~IrqSink() = default;
  virtual void set_irq(unsigned irq, bool level) = 0;
};

class IrqLine {
 public:
  IrqLine() = default;
  IrqLine(IrqSink* sink, unsigned irq) : sink_(sink), irq_(irq) {}
  void set(bool level) {
    if (sink_) sink_->set_irq(irq_, level);
  }
  void raise() { set(true); }
  void lower() { set(false); }
  void pulse() { raise(); lower(); }
  unsigned number() const { return irq_; }

 private:
  IrqSink* sink_ = nullptr;
  unsigned irq_ = 0;
};

}  // namespace pc64
