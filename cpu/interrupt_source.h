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
  // The CPU's FERR# output (SDM Vol. 1 8.7, D.2.1): asserted when a waiting
  // x87 instruction finds an unmasked exception pending while CR0.NE = 0,
  // negated when FNCLEX/FNINIT/... clear it. A PC chipset turns it into
  // IRQ13; without one nothing happens.
  virtual void set_ferr(bool) {}
  // The CPU's IGNNE# input: while asserted, a waiting x87 instruction with an
  // unmasked exception pending (CR0.NE = 0) ignores it and proceeds instead of
  // freezing until the FERR# interrupt (SDM Vol. 1 D.2.1.1). A source without
  // the PC's FERR#/IGNNE# logic reports it asserted: no IRQ13 could ever end
  // the freeze there.
  virtual bool ignne() const { return true; }

  // The local APIC's CPU-side registers. IA32_APIC_BASE (MSR 0x1B): a write
  // returning false raises #GP (reserved bits). CR8 is the task-priority
  // register's upper nibble (SDM 10.8.6.1). Without an APIC: no base, CR8 kept.
  virtual uint64_t apic_base_msr() const { return 0; }
  virtual bool set_apic_base_msr(uint64_t) { return false; }
  virtual uint8_t cr8() const { return cr8_; }
  virtual void set_cr8(uint8_t v) { cr8_ = v & 0xF; }

 private:
  uint8_t cr8_ = 0;
};

}  // namespace pc64
