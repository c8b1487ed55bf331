// Where interrupt lines meet the CPU. Devices drive ISA IRQ 0-15 (IrqLine
// numbers 0-15) and the PCI bus drives PIRQA-D (numbers 16-19). Each ISA
// line goes to the 8259 pair and to the I/O APIC (IRQ0 on pin 2, as the MADT
// override says; IRQ n on pin n otherwise); each PIRQ goes to the ISA IRQ
// the PIIX3 route register selects (shared with ISA devices: the line is the
// OR of its sources) and to I/O APIC pins 16-19.
//
// Toward the CPU it is the InterruptSource: with the local APIC disabled in
// IA32_APIC_BASE the 8259's INTR is the CPU's INTR; otherwise the local APIC
// decides, and the 8259 still reaches the CPU while LINT0 is unmasked in
// ExtINT mode (virtual wire mode, MP spec 1.4 §3.6.2.2), taking precedence
// over APIC-delivered vectors. NMI comes from LINT1 or an NMI IPI/message.
#pragma once
#include <array>
#include <cstdint>
#include <functional>

#include "cpu/interrupt_source.h"
#include "io/device.h"
#include "io/ioapic.h"
#include "io/irq.h"
#include "io/lapic.h"

namespace pc64 {

// The 8259 pair as the router needs it. The machine adapts its Pic8259 with
// LegacyPicAdapter<Pic8259> (which just forwards), so this file does not
// depend on the PIC's header.
class LegacyPic {
 public:
  virtual ~LegacyPic() = default;
  virtual void set_irq(unsigned irq, bool level) = 0;
  virtual bool intr_pending() const = 0;
  virtual uint8_t acknowledge() = 0;
};

template <class Pic>
class LegacyPicAdapter final : public LegacyPic {
 public:
  explicit LegacyPicAdapter(Pic& pic) : pic_(pic) {}
  void set_irq(unsigned irq, bool level) override { pic_.set_irq(irq, level); }
  bool intr_pending() const override { return pic_.intr_pending(); }
  uint8_t acknowledge() override { return pic_.acknowledge(); }

 private:
  Pic& pic_;
};

class InterruptRouter final : public Device, public IrqSink, public InterruptSource {
 public:
  static constexpr unsigned kIsaIrqs = 16;
  static constexpr unsigned kPirqBase = 16;       // set_irq(16 + n): PIRQ A-D (PciBus's pirq_base)
  static constexpr unsigned kPirqIoApicPin = 16;  // PIRQ n also drives I/O APIC pin 16 + n

  InterruptRouter(LegacyPic& pic, IoApic& ioapic, LocalApic& lapic);

  const char* name() const override { return "irq-router"; }
  // Line levels are inputs: reset keeps them; PIRQ routes come from the PIIX3.
  void reset() override {}
  void serialize(StateSerializer& s) override;

  // IrqSink: 0-15 ISA IRQs, 16-19 PIRQA-D.
  void set_irq(unsigned irq, bool level) override;
  // From the PIIX3: PIRQ `pirq` (0-3) now drives ISA IRQ `isa_irq` (-1: none).
  void set_pirq_route(unsigned pirq, int isa_irq);
  // The chipset's NMI output, wired to LINT1.
  void set_nmi(bool level) { lapic_.set_lint(1, level); }

  static unsigned ioapic_pin(unsigned isa_irq) { return isa_irq == 0 ? 2 : isa_irq; }
  bool isa_line(unsigned irq) const { return irq < kIsaIrqs && out_[irq]; }

  // The CPU's view of its local APIC: IA32_APIC_BASE (false = reserved bits,
  // raise #GP) and CR8.
  uint64_t apic_base_msr() const override { return lapic_.apic_base_msr(); }
  bool set_apic_base_msr(uint64_t v) override { return lapic_.set_apic_base_msr(v); }
  uint8_t cr8() const override { return lapic_.tpr() >> 4; }
  void set_cr8(uint8_t v) override { lapic_.set_tpr(static_cast<uint8_t>((v & 0xF) << 4)); }

  // InterruptSource
  bool intr_pending() const override;
  uint8_t acknowledge_intr() override;
  bool take_nmi() override { return lapic_.take_nmi(); }
  // FERR# goes to the chipset's coprocessor-error logic (IRQ13), connected by the board.
  void set_ferr(bool asserted) override {
    if (ferr_) ferr_(asserted);
  }
  void connect_ferr(std::function<void(bool)> f) { ferr_ = std::move(f); }
  // IGNNE# comes from the same coprocessor-error logic (set by a port 0xF0 write).
  bool ignne() const override { return ignne_ ? ignne_() : true; }
  void connect_ignne(std::function<bool()> f) { ignne_ = std::move(f); }

 private:
  void update_isa(unsigned irq);

  LegacyPic& pic_;
  IoApic& ioapic_;
  LocalApic& lapic_;
  std::function<void(bool)> ferr_;
  std::function<bool()> ignne_;

  // ---- state ----
  std::array<bool, kIsaIrqs> isa_level_{};  // as driven by ISA devices
  std::array<bool, kIsaIrqs> out_{};        // last level sent to the PIC / I/O APIC
  std::array<bool, 4> pirq_level_{};
  std::array<int8_t, 4> pirq_route_{-1, -1, -1, -1};
};

}  // namespace pc64
