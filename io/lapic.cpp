#include "io/lapic.h"

#include <algorithm>
#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

namespace {
// Writable bits of each LVT register (SDM Figure 11-8); delivery status and
// remote IRR are read-only.
constexpr uint32_t kLvtWriteMask[] = {
    0x000300FF,  // timer: vector, mask, periodic (bit 18 = TSC-deadline not offered)
    0x000107FF,  // thermal: vector, delivery mode, mask
    0x000107FF,  // performance counters
    0x0001A7FF,  // LINT0: vector, mode, polarity, trigger, mask
    0x0001A7FF,  // LINT1
    0x000100FF,  // error: vector, mask
};
}  // namespace

LocalApic::LocalApic(PhysicalMemory& memory, VirtualClock& clock, uint8_t apic_id, bool bsp)
    : memory_(memory), clock_(clock), initial_id_(apic_id), bsp_(bsp) {
  reset();
}

LocalApic::~LocalApic() {
  if (mapped_base_ != ~0ULL) memory_.unmap_mmio(this);
}

void LocalApic::reset() {
  base_msr_ = kDefaultBase | kBaseEnable | (bsp_ ? kBaseBsp : 0);
  id_ = static_cast<uint32_t>(initial_id_) << 24;
  reset_registers();
  lint_level_ = {};
  remap();
}

// The state after RESET or after the APIC is disabled through the MSR
// (SDM §11.4.7.1); the APIC ID is kept.
void LocalApic::reset_registers() {
  tpr_ = ldr_ = 0;
  dfr_ = 0xFFFFFFFF;
  svr_ = 0xFF;
  esr_ = esr_pending_ = 0;
  icr_low_ = icr_high_ = 0;
  lvt_.fill(kLvtMasked);
  irr_ = {};
  isr_ = {};
  tmr_ = {};
  timer_initial_ = timer_divide_ = 0;
  timer_start_ = clock_.now();
  nmi_pending_ = false;
  clock_.cancel(timer_);
}

void LocalApic::remap() {
  uint64_t want = hardware_enabled() ? (base_msr_ & kBaseAddressMask) : ~0ULL;
  if (want == mapped_base_) return;
  if (mapped_base_ != ~0ULL) memory_.unmap_mmio(this);
  mapped_base_ = ~0ULL;
  if (want == ~0ULL) return;
  try {
    memory_.map_mmio(want, kMmioSize, this, "lapic");
    mapped_base_ = want;
  } catch (const std::invalid_argument& e) {
    PC64_LOG(LogLevel::Warn, "lapic", "cannot map the APIC at %#llx: %s", static_cast<unsigned long long>(want),
             e.what());
  }
}

bool LocalApic::set_apic_base_msr(uint64_t value) {
  // Bits 7:0, 9, 10 (x2APIC enable: not offered) and above the address are reserved.
  if (value & ~(kBaseAddressMask | kBaseEnable | kBaseBsp)) return false;
  bool was_enabled = hardware_enabled();
  base_msr_ = value;
  if (was_enabled && !hardware_enabled()) {
    // Disabled through the MSR: back to the power-up state (SDM §11.4.3).
    reset_registers();
  }
  remap();
  return true;
}

// ---- priorities ----

int LocalApic::highest_irr() const {
  for (int w = 7; w >= 0; --w)
    if (irr_[w]) return w * 32 + 31 - __builtin_clz(irr_[w]);
  return -1;
}

int LocalApic::highest_isr() const {
  for (int w = 7; w >= 0; --w)
    if (isr_[w]) return w * 32 + 31 - __builtin_clz(isr_[w]);
  return -1;
}

// PPR: the TPR if its class is at least the in-service class, else the
// in-service class (SDM §11.8.3.1).
uint32_t LocalApic::ppr() const {
  int isrv = highest_isr();
  uint32_t isr_class = isrv < 0 ? 0 : static_cast<uint32_t>(isrv) & 0xF0;
  return (tpr_ & 0xF0) >= isr_class ? tpr_ & 0xFF : isr_class;
}

bool LocalApic::interrupt_pending() const {
  if (!software_enabled()) return false;
  int v = highest_irr();
  return v >= 0 && (static_cast<uint32_t>(v) & 0xF0) > (ppr() & 0xF0);
}

uint8_t LocalApic::acknowledge() {
  if (!interrupt_pending()) return static_cast<uint8_t>(svr_ & 0xFF);  // spurious
  int v = highest_irr();
  irr_[v >> 5] &= ~(1u << (v & 31));
  isr_[v >> 5] |= 1u << (v & 31);
  return static_cast<uint8_t>(v);
}

void LocalApic::eoi() {
  int v = highest_isr();
  if (v < 0) return;
  isr_[v >> 5] &= ~(1u << (v & 31));
  // A level-triggered vector's EOI goes to the I/O APICs so they clear the
  // entry's remote IRR (SDM §11.8.5), and clears a LINT pin's own remote IRR.
  if (tmr_[v >> 5] & (1u << (v & 31))) {
    for (unsigned pin = 0; pin < 2; ++pin) {
      uint32_t& l = lvt_[pin ? kLvtLint1Idx : kLvtLint0Idx];
      if ((l & kLvtRemoteIrr) && (l & 0xFF) == static_cast<uint32_t>(v)) {
        l &= ~kLvtRemoteIrr;
        lint_level_fixed(pin);  // still asserted: delivered again
      }
    }
    for (auto& f : eoi_listeners_) f(static_cast<uint8_t>(v));
  }
}

// A LINT pin in fixed, level-triggered mode (SDM Vol. 3A 11.5.1, "Remote
// IRR"): accepted while the pin is asserted and no earlier delivery awaits
// its EOI; the LVT's remote IRR bit records the one in service.
void LocalApic::lint_level_fixed(unsigned pin) {
  uint32_t& l = lvt_[pin ? kLvtLint1Idx : kLvtLint0Idx];
  if (!hardware_enabled() || (l & kLvtMasked) || ((l >> 8) & 7) != ApicMessage::Fixed || !(l & kLvtLevel)) return;
  if (!lint_level_[pin] || (l & kLvtRemoteIrr)) return;
  l |= kLvtRemoteIrr;
  accept(static_cast<uint8_t>(l & 0xFF), true);
}

bool LocalApic::take_nmi() {
  if (!nmi_pending_) return false;
  nmi_pending_ = false;
  return true;
}

bool LocalApic::extint_enabled() const {
  uint32_t l = lvt_[kLvtLint0Idx];
  return hardware_enabled() && !(l & kLvtMasked) && ((l >> 8) & 7) == ApicMessage::ExtInt;
}

// ---- accepting interrupts ----

void LocalApic::accept(uint8_t vector, bool level_triggered) {
  if (vector < 16) {  // vectors 0-15 are reserved for exceptions
    signal_error(kEsrReceiveIllegalVector);
    return;
  }
  irr_[vector >> 5] |= 1u << (vector & 31);
  if (level_triggered)
    tmr_[vector >> 5] |= 1u << (vector & 31);
  else
    tmr_[vector >> 5] &= ~(1u << (vector & 31));
}

void LocalApic::signal_error(uint32_t bits) {
  esr_pending_ |= bits;
  uint32_t l = lvt_[kLvtErrorIdx];
  if (!(l & kLvtMasked) && (l & 0xFF) >= 16) accept(static_cast<uint8_t>(l & 0xFF), false);
}

bool LocalApic::matches_destination(uint8_t dest, bool logical) const {
  if (!logical) return dest == 0xFF || dest == apic_id();
  uint8_t logical_id = static_cast<uint8_t>(ldr_ >> 24);
  if ((dfr_ >> 28) == 0xF) return (logical_id & dest) != 0;  // flat model
  // Cluster model: high nibble selects the cluster (15 = all), low nibble the members.
  uint8_t cluster = dest >> 4;
  return (cluster == 0xF || cluster == (logical_id >> 4)) && (dest & logical_id & 0x0F) != 0;
}

bool LocalApic::deliver(const ApicMessage& m) {
  if (!hardware_enabled() || !matches_destination(m.destination, m.logical)) return false;
  switch (m.delivery_mode) {
    case ApicMessage::Fixed:
    case ApicMessage::LowestPriority:  // one CPU: it is the lowest
      accept(m.vector, m.level_triggered);
      return true;
    case ApicMessage::Nmi:
      nmi_pending_ = true;
      return true;
    default:
      PC64_LOG(LogLevel::Debug, "lapic", "message with delivery mode %u ignored", m.delivery_mode);
      return true;
  }
}

void LocalApic::set_lint(unsigned pin, bool level) {
  if (pin > 1) return;
  bool rising = level && !lint_level_[pin];
  lint_level_[pin] = level;
  if (!hardware_enabled()) {
    // A disabled APIC passes LINT1 through as the processor's NMI pin.
    if (pin == 1 && rising) nmi_pending_ = true;
    return;
  }
  uint32_t l = lvt_[pin ? kLvtLint1Idx : kLvtLint0Idx];
  if (l & kLvtMasked) return;
  switch ((l >> 8) & 7) {
    case ApicMessage::Nmi:  // NMI is always edge-sensitive (SDM §11.5.1)
      if (rising) nmi_pending_ = true;
      break;
    case ApicMessage::Fixed:
      if (l & kLvtLevel) lint_level_fixed(pin);
      else if (rising) accept(static_cast<uint8_t>(l & 0xFF), false);
      break;
    default:  // ExtINT is polled through extint_enabled()
      break;
  }
}

// ---- IPIs ----

void LocalApic::send_ipi() {
  uint8_t vector = icr_low_ & 0xFF;
  unsigned mode = (icr_low_ >> 8) & 7;
  bool logical = icr_low_ & (1u << 11);
  bool assert_level = icr_low_ & (1u << 14);
  bool level_trigger = icr_low_ & (1u << 15);
  unsigned shorthand = (icr_low_ >> 18) & 3;
  uint8_t dest = static_cast<uint8_t>(icr_high_ >> 24);

  if ((mode == ApicMessage::Fixed || mode == ApicMessage::LowestPriority) && vector < 16) {
    signal_error(kEsrSendIllegalVector);
    return;
  }
  bool to_self;
  switch (shorthand) {
    case 1: to_self = true; break;   // self
    case 2: to_self = true; break;   // all including self
    case 3: to_self = false; break;  // all excluding self: nobody else exists
    default: to_self = matches_destination(dest, logical); break;
  }
  if (!to_self) return;  // other CPUs do not exist: the IPI is accepted and dropped
  switch (mode) {
    case ApicMessage::Fixed:
    case ApicMessage::LowestPriority:
      accept(vector, level_trigger);
      break;
    case ApicMessage::Nmi:
      nmi_pending_ = true;
      break;
    case ApicMessage::Init:
      // INIT level de-assert only synchronises arbitration IDs; an INIT to
      // ourselves would reset this CPU, which the machine does not model.
      if (assert_level || !level_trigger)
        PC64_LOG(LogLevel::Info, "lapic", "INIT IPI to self ignored");
      break;
    default:  // SMI, start-up (ignored by a running BSP), reserved
      PC64_LOG(LogLevel::Debug, "lapic", "IPI with delivery mode %u to self ignored", mode);
      break;
  }
}

// ---- timer ----

// Divide configuration bits 3,1,0: 000 = /2 ... 110 = /128, 111 = /1 (SDM Figure 11-10).
unsigned LocalApic::timer_shift() const {
  unsigned d = (timer_divide_ & 3) | ((timer_divide_ >> 1) & 4);
  return (d + 1) & 7;
}

uint32_t LocalApic::timer_current_count() const {
  if (timer_initial_ == 0) return 0;
  uint64_t now = clock_.now();
  uint64_t elapsed = (now > timer_start_ ? now - timer_start_ : 0) >> timer_shift();
  if (lvt_[kLvtTimerIdx] & kLvtTimerPeriodic) return timer_initial_ - static_cast<uint32_t>(elapsed % timer_initial_);
  return elapsed >= timer_initial_ ? 0 : timer_initial_ - static_cast<uint32_t>(elapsed);
}

void LocalApic::arm_timer() {
  clock_.cancel(timer_);
  if (timer_initial_ == 0 || !hardware_enabled()) return;
  uint64_t period = static_cast<uint64_t>(timer_initial_) << timer_shift();
  uint64_t now = clock_.now();
  if (lvt_[kLvtTimerIdx] & kLvtTimerPeriodic) {
    uint64_t n = now > timer_start_ ? (now - timer_start_) / period : 0;
    uint64_t next = timer_start_ + (n + 1) * period;
    if (period < kMinPeriodNs && next < now + kMinPeriodNs) next = now + kMinPeriodNs;
    clock_.schedule(timer_, next);
  } else {
    uint64_t deadline = timer_start_ + period;
    if (deadline > now) clock_.schedule(timer_, deadline);  // else it already expired
  }
}

void LocalApic::on_timer(void* self) {
  auto* a = static_cast<LocalApic*>(self);
  uint32_t l = a->lvt_[kLvtTimerIdx];
  if (!(l & kLvtMasked)) a->accept(static_cast<uint8_t>(l & 0xFF), false);
  if (l & kLvtTimerPeriodic) a->arm_timer();
}

// ---- registers ----

uint32_t LocalApic::read_register(uint32_t reg) {
  switch (reg) {
    case kId: return id_;
    case kVersionReg: return kVersion;
    case kTpr: return tpr_;
    case kApr: {
      int irrv = highest_irr(), isrv = highest_isr();
      uint32_t top = static_cast<uint32_t>(std::max(std::max(irrv, isrv), 0)) & 0xF0;
      return (tpr_ & 0xF0) >= top ? tpr_ : top;
    }
    case kPpr: return ppr();
    case kEoi: return 0;  // write-only
    case kRrd: return 0;
    case kLdr: return ldr_;
    case kDfr: return dfr_;
    case kSvr: return svr_;
    case kEsr: return esr_;
    case kIcrLow: return icr_low_;  // delivery status (bit 12) is always idle
    case kIcrHigh: return icr_high_;
    case kLvtTimer: case kLvtThermal: case kLvtPerf: case kLvtLint0: case kLvtLint1: case kLvtError:
      return lvt_[(reg - kLvtTimer) >> 4];
    case kTimerInitialCount: return timer_initial_;
    case kTimerCurrentCount: return timer_current_count();
    case kTimerDivide: return timer_divide_;
    default: break;
  }
  if (reg >= kIsr && reg < kIsr + 0x80) return isr_[(reg - kIsr) >> 4];
  if (reg >= kTmr && reg < kTmr + 0x80) return tmr_[(reg - kTmr) >> 4];
  if (reg >= kIrr && reg < kIrr + 0x80) return irr_[(reg - kIrr) >> 4];
  return 0;
}

void LocalApic::write_register(uint32_t reg, uint32_t value) {
  switch (reg) {
    case kId: id_ = value & 0xFF000000u; return;
    case kTpr: tpr_ = value & 0xFF; return;
    case kEoi: eoi(); return;
    case kLdr: ldr_ = value & 0xFF000000u; return;
    case kDfr: dfr_ = value | 0x0FFFFFFFu; return;
    case kSvr: {
      // Vector, APIC software enable, focus processor checking.
      svr_ = value & 0x3FF;
      if (!(svr_ & kSvrEnable)) {
        // Software disable sets every LVT mask (SDM §11.4.7.2).
        for (auto& l : lvt_) l |= kLvtMasked;
      }
      return;
    }
    case kEsr:
      // A write latches the errors seen since the last write (SDM §11.5.3).
      esr_ = esr_pending_;
      esr_pending_ = 0;
      return;
    case kIcrLow:
      icr_low_ = value & 0x000CCFFF;
      send_ipi();
      return;
    case kIcrHigh: icr_high_ = value & 0xFF000000u; return;
    case kLvtTimer: case kLvtThermal: case kLvtPerf: case kLvtLint0: case kLvtLint1: case kLvtError: {
      unsigned i = (reg - kLvtTimer) >> 4;
      uint32_t v = (lvt_[i] & ~kLvtWriteMask[i]) | (value & kLvtWriteMask[i]);
      if (!(svr_ & kSvrEnable)) v |= kLvtMasked;  // stays masked while software-disabled
      lvt_[i] = v;
      if (i == kLvtTimerIdx) arm_timer();
      if (i == kLvtLint0Idx || i == kLvtLint1Idx) lint_level_fixed(i == kLvtLint1Idx);  // unmasked while asserted
      return;
    }
    case kTimerInitialCount:
      timer_initial_ = value;
      timer_start_ = clock_.now();
      arm_timer();
      return;
    case kTimerDivide: {
      // Keep the current count and continue at the new rate.
      uint32_t current = timer_current_count();
      timer_divide_ = value & 0xB;
      uint64_t elapsed_ticks = timer_initial_ ? timer_initial_ - current : 0;
      uint64_t elapsed_ns = elapsed_ticks << timer_shift();
      uint64_t now = clock_.now();
      timer_start_ = elapsed_ns <= now ? now - elapsed_ns : 0;
      arm_timer();
      return;
    }
    default:
      break;
  }
  // Read-only or unimplemented registers.
  PC64_LOG(LogLevel::Debug, "lapic", "write to read-only APIC register %#x ignored", reg);
}

uint64_t LocalApic::mmio_read(uint64_t offset, unsigned size) {
  // Registers are 32 bits wide on 16-byte boundaries; bytes 4-15 read 0.
  unsigned sub = offset & 0xF;
  if (sub >= 4) return 0;
  uint64_t v = read_register(static_cast<uint32_t>(offset & 0xFF0)) >> (8 * sub);
  return size >= 4 ? v : v & ((1ULL << (8 * size)) - 1);
}

void LocalApic::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  // Only aligned 32-bit (or wider) writes reach a register (SDM §11.4.1:
  // other accesses are undefined; QEMU drops them the same way).
  if ((offset & 0xF) != 0 || size < 4) return;
  write_register(static_cast<uint32_t>(offset & 0xFF0), static_cast<uint32_t>(value));
}

void LocalApic::serialize(StateSerializer& s) {
  s.tag(0x4C415043);  // "LAPC"
  s(base_msr_);
  s(id_);
  s(tpr_);
  s(ldr_);
  s(dfr_);
  s(svr_);
  s(esr_);
  s(esr_pending_);
  s(icr_low_);
  s(icr_high_);
  s(lvt_);
  s(irr_);
  s(isr_);
  s(tmr_);
  s(timer_initial_);
  s(timer_divide_);
  s(timer_start_);
  s(lint_level_);
  s(nmi_pending_);
  if (s.loading()) {
    remap();
    arm_timer();  // the deadline follows from timer_start_ and the restored clock
  }
}

}  // namespace pc64
