#include "io/ioapic.h"

#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

namespace {
// Writable entry bits: vector, delivery mode, destination mode, polarity,
// trigger mode, mask, destination (bits 63:56). Delivery status and remote
// IRR are read-only.
constexpr uint64_t kEntryWriteMask = 0xFF000000000000FFULL | 0x700 | 0x800 | IoApic::kPolarityLow |
                                     IoApic::kLevelTriggered | IoApic::kMasked;
}  // namespace

IoApic::IoApic(PhysicalMemory& memory, LocalApic* lapic, uint8_t id)
    : memory_(memory), lapic_(lapic), initial_id_(id) {
  reset();
  memory_.map_mmio(kDefaultBase, kMmioSize, this, "ioapic");
  mapped_ = true;
  if (lapic_) lapic_->add_eoi_listener([this](uint8_t v) { eoi(v); });
}

IoApic::~IoApic() {
  if (mapped_) memory_.unmap_mmio(this);
}

void IoApic::reset() {
  regsel_ = 0;
  id_ = static_cast<uint32_t>(initial_id_ & 0xF) << 24;
  redir_.fill(kMasked);  // all entries masked after reset (82093AA §3.2.4)
  // Pin levels are inputs, not state the reset changes.
}

void IoApic::set_irq(unsigned pin, bool level) {
  if (pin >= kPins) return;
  uint32_t bit = 1u << pin;
  bool was = irr_ & bit;
  if (level)
    irr_ |= bit;
  else
    irr_ &= ~bit;
  uint64_t e = redir_[pin];
  if (e & kLevelTriggered) {
    if (level) service(pin);
  } else if (level && !was && !(e & kMasked)) {
    // Edge: one message per rising edge; an edge on a masked pin is lost (82093AA).
    send(pin);
  }
}

bool IoApic::send(unsigned pin) {
  uint64_t e = redir_[pin];
  ApicMessage m;
  m.vector = static_cast<uint8_t>(e & 0xFF);
  m.delivery_mode = static_cast<uint8_t>((e >> 8) & 7);
  m.logical = e & (1ULL << 11);
  m.destination = static_cast<uint8_t>(e >> 56);
  m.level_triggered = e & kLevelTriggered;
  return lapic_ && lapic_->deliver(m);
}

// Level-triggered: while the pin is asserted, unmasked and no earlier message
// awaits its EOI (remote IRR), send one and set remote IRR.
void IoApic::service(unsigned pin) {
  uint64_t e = redir_[pin];
  if (!(e & kLevelTriggered) || !(irr_ >> pin & 1) || (e & (kMasked | kRemoteIrr))) return;
  unsigned mode = (e >> 8) & 7;
  bool accepted = send(pin);
  // Remote IRR is set when a local APIC accepts a fixed / lowest-priority
  // level interrupt; other modes have no EOI handshake.
  if (accepted && (mode == ApicMessage::Fixed || mode == ApicMessage::LowestPriority)) redir_[pin] |= kRemoteIrr;
}

void IoApic::eoi(uint8_t vector) {
  for (unsigned pin = 0; pin < kPins; ++pin) {
    uint64_t e = redir_[pin];
    if ((e & kRemoteIrr) && (e & 0xFF) == vector) {
      redir_[pin] = e & ~kRemoteIrr;
      service(pin);
    }
  }
}

uint32_t IoApic::read_indirect(uint8_t reg) const {
  switch (reg) {
    case kIoApicId: return id_;
    case kIoApicVer: return kVersion | ((kPins - 1) << 16);
    case kIoApicArb: return id_;
    default: break;
  }
  if (reg >= kIoRedTbl && reg < kIoRedTbl + 2 * kPins) {
    uint64_t e = redir_[(reg - kIoRedTbl) / 2];
    return static_cast<uint32_t>((reg & 1) ? e >> 32 : e);
  }
  return 0;
}

void IoApic::write_indirect(uint8_t reg, uint32_t value) {
  if (reg == kIoApicId) {
    id_ = value & 0x0F000000u;
    return;
  }
  if (reg < kIoRedTbl || reg >= kIoRedTbl + 2 * kPins) return;  // version, arbitration: read-only
  unsigned pin = (reg - kIoRedTbl) / 2;
  uint64_t e = redir_[pin];
  uint64_t v = (reg & 1) ? (e & 0xFFFFFFFFULL) | (static_cast<uint64_t>(value) << 32)
                         : (e & 0xFFFFFFFF00000000ULL) | value;
  v = (e & ~kEntryWriteMask) | (v & kEntryWriteMask);
  // An edge-triggered entry has no EOI handshake: switching to edge clears
  // remote IRR (Linux relies on this to recover a stuck level entry).
  if (!(v & kLevelTriggered)) v &= ~kRemoteIrr;
  redir_[pin] = v;
  service(pin);  // unmasking an asserted level-triggered pin delivers it
}

uint64_t IoApic::mmio_read(uint64_t offset, unsigned size) {
  uint64_t v = 0;
  if (offset == kIoRegSel)
    v = regsel_;
  else if (offset >= kIoWin && offset < kIoWin + 4)
    v = read_indirect(static_cast<uint8_t>(regsel_)) >> (8 * (offset - kIoWin));
  // IOREGSEL/IOWIN are 32-bit registers; narrower reads take the low bytes.
  return size >= 4 ? v & 0xFFFFFFFFULL : v & ((1ULL << (8 * size)) - 1);
}

void IoApic::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset == kIoRegSel) {
    regsel_ = static_cast<uint32_t>(value & 0xFF);
  } else if (offset == kIoWin && size >= 4) {
    write_indirect(static_cast<uint8_t>(regsel_), static_cast<uint32_t>(value));
  } else if (offset == kEoiReg) {
    eoi(static_cast<uint8_t>(value));  // version 0x20 EOI register
  }
}

void IoApic::serialize(StateSerializer& s) {
  s.tag(0x494F4150);  // "IOAP"
  s(regsel_);
  s(id_);
  s(irr_);
  s(redir_);
}

}  // namespace pc64
