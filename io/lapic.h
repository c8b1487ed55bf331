// The local APIC (xAPIC mode) of the one CPU: memory-mapped at 0xFEE00000,
// relocatable through the IA32_APIC_BASE MSR (the CPU forwards its MSR
// accesses here). It takes interrupt messages from the I/O APIC and from its
// own sources (timer, LINT0/LINT1, error, IPIs to itself), prioritises them
// with TPR/PPR/ISR/IRR, and hands the CPU one vector at a time.
// Reference: Intel SDM Vol. 3A chapter 11 (numbered chapter 10 in older
// editions), "Advanced Programmable Interrupt Controller (APIC)".
//
// Timer: the APIC bus clock runs at 1 GHz of virtual time (as in QEMU), so
// with divide-by-1 one count is one virtual nanosecond. TSC-deadline mode is
// not offered (CPUID.1:ECX[24] must stay 0), nor x2APIC, nor EOI-broadcast
// suppression.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "io/clock.h"
#include "io/device.h"
#include "mem/physical_memory.h"

namespace pc64 {

// An interrupt message on the (conceptual) APIC bus: what an I/O APIC
// redirection entry or an MSI describes (SDM §11.6.1 field names).
struct ApicMessage {
  enum Mode : uint8_t { Fixed = 0, LowestPriority = 1, Smi = 2, Nmi = 4, Init = 5, Startup = 6, ExtInt = 7 };
  uint8_t vector = 0;
  uint8_t delivery_mode = Fixed;
  bool logical = false;       // destination mode: false = physical APIC ID
  uint8_t destination = 0;    // APIC ID, or message destination address (logical)
  bool level_triggered = false;
};

class LocalApic final : public Device, public MmioHandler {
 public:
  static constexpr uint64_t kDefaultBase = 0xFEE00000ULL;
  static constexpr uint64_t kMmioSize = 0x1000;
  // Version 0x14 (integrated APIC), Max LVT Entry 5 (six LVT registers).
  static constexpr uint32_t kVersion = 0x00050014;
  static constexpr uint64_t kTimerHz = 1000000000ULL;
  // A periodic timer never interrupts more often than this (virtual ns):
  // faster ones coalesce, as the IRR bit would anyway.
  static constexpr uint64_t kMinPeriodNs = 1000;

  // IA32_APIC_BASE bits (SDM §11.4.4).
  static constexpr uint64_t kBaseBsp = 1ULL << 8;
  static constexpr uint64_t kBaseExtd = 1ULL << 10;  // x2APIC: not supported
  static constexpr uint64_t kBaseEnable = 1ULL << 11;
  static constexpr uint64_t kBaseAddressMask = 0x000FFFFFFFFFF000ULL;

  // Register offsets (SDM Table 11-1).
  enum Reg : uint32_t {
    kId = 0x020, kVersionReg = 0x030, kTpr = 0x080, kApr = 0x090, kPpr = 0x0A0, kEoi = 0x0B0, kRrd = 0x0C0,
    kLdr = 0x0D0, kDfr = 0x0E0, kSvr = 0x0F0, kIsr = 0x100, kTmr = 0x180, kIrr = 0x200, kEsr = 0x280,
    kIcrLow = 0x300, kIcrHigh = 0x310, kLvtTimer = 0x320, kLvtThermal = 0x330, kLvtPerf = 0x340,
    kLvtLint0 = 0x350, kLvtLint1 = 0x360, kLvtError = 0x370, kTimerInitialCount = 0x380,
    kTimerCurrentCount = 0x390, kTimerDivide = 0x3E0,
  };
  // LVT and SVR bits.
  static constexpr uint32_t kLvtMasked = 1u << 16;
  static constexpr uint32_t kLvtLevel = 1u << 15;
  static constexpr uint32_t kLvtRemoteIrr = 1u << 14;
  static constexpr uint32_t kLvtTimerPeriodic = 1u << 17;
  static constexpr uint32_t kSvrEnable = 1u << 8;
  // ESR bits (SDM §11.5.3).
  static constexpr uint32_t kEsrSendIllegalVector = 1u << 5;
  static constexpr uint32_t kEsrReceiveIllegalVector = 1u << 6;
  static constexpr uint32_t kEsrIllegalRegister = 1u << 7;

  // Maps itself at kDefaultBase on `memory`.
  LocalApic(PhysicalMemory& memory, VirtualClock& clock, uint8_t apic_id = 0, bool bsp = true);
  ~LocalApic() override;

  const char* name() const override { return "lapic"; }
  // Power-up / RESET#: base MSR back to 0xFEE00000 | EN (| BSP), all registers
  // to their reset values.
  void reset() override;
  void serialize(StateSerializer& s) override;

  // ---- IA32_APIC_BASE (MSR 0x1B), called by the CPU ----
  uint64_t apic_base_msr() const { return base_msr_; }
  // Returns false (and changes nothing) if reserved bits are set: the CPU
  // raises #GP(0). Clearing EN disables the APIC (its registers return to
  // their reset state and the MMIO window disappears).
  bool set_apic_base_msr(uint64_t value);
  bool hardware_enabled() const { return base_msr_ & kBaseEnable; }
  bool software_enabled() const { return hardware_enabled() && (svr_ & kSvrEnable); }

  // ---- the CPU side, through the interrupt router ----
  // A fixed interrupt beats the processor priority (SDM §11.8.3).
  bool interrupt_pending() const;
  // INTA: moves the highest IRR vector to ISR and returns it; if nothing is
  // deliverable any more, returns the spurious vector (SDM §11.9).
  uint8_t acknowledge();
  // LINT0 is unmasked in ExtINT mode: the 8259's INTR goes straight to the
  // CPU and the vector comes from the 8259 (virtual wire mode).
  bool extint_enabled() const;
  bool nmi_pending() const { return nmi_pending_; }
  bool take_nmi();
  // TPR access for CR8 (CR8[3:0] = TPR[7:4]).
  uint8_t tpr() const { return static_cast<uint8_t>(tpr_); }
  void set_tpr(uint8_t v) { tpr_ = v; }

  // ---- the device side ----
  // A message from the I/O APIC (or an MSI). Returns true if this APIC is a
  // destination and took it.
  bool deliver(const ApicMessage& m);
  // Level of the LINT0 / LINT1 pins.
  void set_lint(unsigned pin, bool level);
  // EOI of a level-triggered vector is broadcast to these (the I/O APICs).
  void add_eoi_listener(std::function<void(uint8_t)> f) { eoi_listeners_.push_back(std::move(f)); }

  // Register access by offset (the MMIO path, tests, a debugger).
  uint32_t read_register(uint32_t reg);
  void write_register(uint32_t reg, uint32_t value);
  uint8_t apic_id() const { return static_cast<uint8_t>(id_ >> 24); }
  uint32_t timer_current_count() const;
  uint64_t mapped_base() const { return mapped_base_; }

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  enum Lvt { kLvtTimerIdx, kLvtThermalIdx, kLvtPerfIdx, kLvtLint0Idx, kLvtLint1Idx, kLvtErrorIdx, kNumLvt };

  void reset_registers();
  void remap();
  void accept(uint8_t vector, bool level_triggered);
  void signal_error(uint32_t bits);
  void send_ipi();
  bool matches_destination(uint8_t dest, bool logical) const;
  int highest_irr() const;
  int highest_isr() const;
  uint32_t ppr() const;
  void eoi();
  void lint_level_fixed(unsigned pin);
  unsigned timer_shift() const;
  void arm_timer();
  static void on_timer(void* self);

  PhysicalMemory& memory_;
  VirtualClock& clock_;
  const uint8_t initial_id_;
  const bool bsp_;
  std::vector<std::function<void(uint8_t)>> eoi_listeners_;
  Timer timer_{&LocalApic::on_timer, this, "lapic-timer"};
  uint64_t mapped_base_ = ~0ULL;  // where the MMIO window is, ~0 = nowhere

  // ---- state ----
  uint64_t base_msr_ = 0;
  uint32_t id_ = 0, tpr_ = 0, ldr_ = 0, dfr_ = 0, svr_ = 0;
  uint32_t esr_ = 0, esr_pending_ = 0;
  uint32_t icr_low_ = 0, icr_high_ = 0;
  std::array<uint32_t, kNumLvt> lvt_{};
  std::array<uint32_t, 8> irr_{}, isr_{}, tmr_{};
  uint32_t timer_initial_ = 0, timer_divide_ = 0;
  uint64_t timer_start_ = 0;  // virtual ns when the count was (re)loaded
  std::array<bool, 2> lint_level_{};
  bool nmi_pending_ = false;
};

}  // namespace pc64
