// The I/O APIC (82093AA-compatible, version 0x20 with the EOI register as in
// later chipsets) at 0xFEC00000: 24 redirection entries turning interrupt
// pin levels into messages for the local APIC. ISA IRQ n arrives on pin n
// except IRQ0, which arrives on pin 2 (the MADT interrupt source override
// says so); PCI PIRQA-D also arrive on pins 16-19.
// Reference: Intel 82093AA I/O APIC data sheet §3.2; SDM Vol. 3A §11.8.5
// (EOI broadcast to I/O APICs).
//
// Pin polarity (bit 13) is stored but not applied: devices drive the
// "asserted" level and the firmware tables describe every line so that the
// guest programs the polarity matching it (as in QEMU).
#pragma once
#include <array>
#include <cstdint>

#include "io/device.h"
#include "io/irq.h"
#include "io/lapic.h"
#include "mem/physical_memory.h"

namespace pc64 {

class IoApic final : public Device, public MmioHandler, public IrqSink {
 public:
  static constexpr uint64_t kDefaultBase = 0xFEC00000ULL;
  static constexpr uint64_t kMmioSize = 0x1000;
  static constexpr unsigned kPins = 24;
  static constexpr uint32_t kVersion = 0x20;
  // MMIO offsets.
  static constexpr uint64_t kIoRegSel = 0x00;
  static constexpr uint64_t kIoWin = 0x10;
  static constexpr uint64_t kEoiReg = 0x40;
  // Indirect registers.
  static constexpr uint8_t kIoApicId = 0x00;
  static constexpr uint8_t kIoApicVer = 0x01;
  static constexpr uint8_t kIoApicArb = 0x02;
  static constexpr uint8_t kIoRedTbl = 0x10;  // entry n: 0x10 + 2n (low), 0x11 + 2n (high)
  // Redirection entry bits.
  static constexpr uint64_t kDeliveryStatus = 1ULL << 12;
  static constexpr uint64_t kPolarityLow = 1ULL << 13;
  static constexpr uint64_t kRemoteIrr = 1ULL << 14;
  static constexpr uint64_t kLevelTriggered = 1ULL << 15;
  static constexpr uint64_t kMasked = 1ULL << 16;

  // Maps itself at kDefaultBase on `memory`; delivers to `lapic` (may be
  // null: messages are dropped) and listens to its EOI broadcasts, so the
  // LAPIC must outlive it (construct the LAPIC first).
  IoApic(PhysicalMemory& memory, LocalApic* lapic, uint8_t id = 0);
  ~IoApic() override;

  const char* name() const override { return "ioapic"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // Pin input level (IrqSink: `irq` is the pin number, 0-23).
  void set_irq(unsigned pin, bool level) override;
  // EOI for `vector` from a local APIC: clears the remote IRR of matching
  // level-triggered entries and re-delivers those still asserted.
  void eoi(uint8_t vector);

  uint64_t redirection_entry(unsigned pin) const { return pin < kPins ? redir_[pin] : 0; }
  bool pin_level(unsigned pin) const { return pin < kPins && (irr_ >> pin & 1); }

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  uint32_t read_indirect(uint8_t reg) const;
  void write_indirect(uint8_t reg, uint32_t value);
  void service(unsigned pin);  // delivers the pin's interrupt if it should go now
  bool send(unsigned pin);

  PhysicalMemory& memory_;
  LocalApic* lapic_;
  const uint8_t initial_id_;
  bool mapped_ = false;

  // ---- state ----
  uint32_t regsel_ = 0;
  uint32_t id_ = 0;
  uint32_t irr_ = 0;  // current pin levels
  std::array<uint64_t, kPins> redir_{};
};

}  // namespace pc64
