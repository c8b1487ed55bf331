#include "io/pic8259.h"

#include "mem/log.h"

namespace pc64 {

namespace {
// ICW1 bits (8259A data sheet, Figure 7).
constexpr uint8_t kIcw1Ic4 = 1 << 0;   // ICW4 needed
constexpr uint8_t kIcw1Sngl = 1 << 1;  // single (no cascade): no ICW3
constexpr uint8_t kIcw1Init = 1 << 4;  // marks ICW1 on the even port
// ICW4 bits.
constexpr uint8_t kIcw4Aeoi = 1 << 1;
constexpr uint8_t kIcw4Sfnm = 1 << 4;
// OCW3 bits.
constexpr uint8_t kOcw3Ris = 1 << 0;
constexpr uint8_t kOcw3Rr = 1 << 1;
constexpr uint8_t kOcw3Poll = 1 << 2;
constexpr uint8_t kOcw3Smm = 1 << 5;
constexpr uint8_t kOcw3Esmm = 1 << 6;
constexpr uint8_t kSpuriousIr = 7;
}  // namespace

Pic8259::Pic8259(PortBus& ports) {
  ports.map(0x20, 2, this, "pic master");
  ports.map(0xA0, 2, this, "pic slave");
  ports.map(0x4D0, 2, this, "elcr");
}

void Pic8259::reset() {
  for (auto& c : chips_) {
    uint8_t input = c.input;  // line levels are inputs and survive a reset
    c = Chip{};
    c.input = input;
  }
  update_cascade();
}

int Pic8259::highest(const Chip& c, uint8_t bits) const {
  for (unsigned i = 1; i <= 8; ++i) {
    unsigned ir = (c.lowest_priority + i) & 7;
    if (bits & (1u << ir)) return static_cast<int>(ir);
  }
  return -1;
}

int Pic8259::pending_ir(unsigned chip) const {
  const Chip& c = chips_[chip];
  int ir = highest(c, c.irr & ~c.imr);
  if (ir < 0) return -1;
  uint8_t in_service = c.isr;
  // Special mask mode: a masked level in service does not hold off others.
  if (c.special_mask) in_service &= ~c.imr;
  // Special fully nested mode: the slave may interrupt again while its
  // cascade input is in service (it resolves its own priorities).
  if (chip == kMaster && c.special_fully_nested) in_service &= ~(1u << kCascadeIr);
  int busy = highest(c, in_service);
  if (busy >= 0) {
    unsigned rank_req = (ir - c.lowest_priority - 1) & 7;
    unsigned rank_busy = (busy - c.lowest_priority - 1) & 7;
    if (rank_busy <= rank_req) return -1;
  }
  return ir;
}

bool Pic8259::intr_pending() const { return pending_ir(kMaster) >= 0; }

void Pic8259::update_cascade() {
  Chip& m = chips_[kMaster];
  uint8_t bit = 1u << kCascadeIr;
  if (m.icw1 & kIcw1Sngl) return;  // IR2 is an ordinary input then
  bool slave_int = pending_ir(kSlave) >= 0;
  m.irr = slave_int ? (m.irr | bit) : (m.irr & ~bit);
  m.input = slave_int ? (m.input | bit) : (m.input & ~bit);
}

void Pic8259::set_input(unsigned chip, unsigned ir, bool level) {
  Chip& c = chips_[chip];
  uint8_t bit = 1u << ir;
  if (c.elcr & bit) {
    c.irr = level ? (c.irr | bit) : (c.irr & ~bit);
  } else if (level && !(c.input & bit)) {
    c.irr |= bit;  // rising edge; the request stays latched when the line drops
  }
  c.input = level ? (c.input | bit) : (c.input & ~bit);
}

void Pic8259::set_irq(unsigned irq, bool level) {
  if (irq >= 16) return;
  // ISA IRQ2 is the cascade; a card driving the IRQ2 pin reaches IR1 of the
  // slave (IRQ9), as on every AT.
  if (irq == 2) irq = 9;
  set_input(irq >> 3, irq & 7, level);
  if (irq >= 8) update_cascade();
}

void Pic8259::accept(unsigned chip, int ir) {
  Chip& c = chips_[chip];
  uint8_t bit = 1u << ir;
  bool cascade = chip == kMaster && ir == kCascadeIr && !(c.icw1 & kIcw1Sngl);
  // Edge requests are consumed by the acknowledge; level requests and the
  // cascade input follow their line.
  if (!(c.elcr & bit) && !cascade) c.irr &= ~bit;
  if (c.auto_eoi) {
    if (c.rotate_on_aeoi) c.lowest_priority = static_cast<uint8_t>(ir);
  } else {
    c.isr |= bit;
  }
}

uint8_t Pic8259::acknowledge() {
  Chip& m = chips_[kMaster];
  int ir = pending_ir(kMaster);
  if (ir < 0) return static_cast<uint8_t>(m.vector_base + kSpuriousIr);  // spurious IRQ7
  accept(kMaster, ir);
  if (ir == kCascadeIr && !(m.icw1 & kIcw1Sngl)) {
    Chip& s = chips_[kSlave];
    int sir = pending_ir(kSlave);
    uint8_t vector;
    if (sir < 0) {
      // Spurious IRQ15: the master has IR2 in service and needs an EOI.
      vector = static_cast<uint8_t>(s.vector_base + kSpuriousIr);
    } else {
      accept(kSlave, sir);
      vector = static_cast<uint8_t>(s.vector_base + sir);
    }
    update_cascade();
    return vector;
  }
  return static_cast<uint8_t>(m.vector_base + ir);
}

void Pic8259::eoi(Chip& c, int ir, bool rotate) {
  if (ir < 0) return;
  c.isr &= ~(1u << ir);
  if (rotate) c.lowest_priority = static_cast<uint8_t>(ir);
}

uint8_t Pic8259::poll_read(unsigned chip) {
  // Poll command: this read is the acknowledge (data sheet, "The Poll Command").
  chips_[chip].poll = false;
  int ir = pending_ir(chip);
  if (ir < 0) return 0;
  accept(chip, ir);
  update_cascade();
  return static_cast<uint8_t>(0x80 | ir);
}

void Pic8259::write_command(Chip& c, uint8_t v) {
  if (v & kIcw1Init) {
    // ICW1 starts initialisation: IMR and ISR cleared, edge sense reset (an
    // edge input must make a new low-to-high transition), IR7 lowest,
    // special mask and poll off, status read set to IRR.
    c.icw1 = v;
    c.init_step = 2;
    c.imr = 0;
    c.isr = 0;
    c.irr = c.input & c.elcr;
    c.lowest_priority = 7;
    c.special_mask = false;
    c.read_isr = false;
    c.poll = false;
    c.rotate_on_aeoi = false;
    if (!(v & kIcw1Ic4)) {
      c.icw4 = 0;
      c.auto_eoi = false;
      c.special_fully_nested = false;
    }
    if (v & 0x08) PC64_LOG(LogLevel::Debug, "pic", "ICW1.LTIM ignored: ELCR selects level triggering");
    return;
  }
  if (!(v & 0x08)) {
    // OCW2: R, SL, EOI in bits 7-5, level in bits 2-0.
    int level = v & 7;
    switch (v >> 5) {
      case 0: c.rotate_on_aeoi = false; break;
      case 1: eoi(c, highest(c, c.isr), false); break;  // non-specific EOI
      case 2: break;                                     // no operation
      case 3: eoi(c, level, false); break;               // specific EOI
      case 4: c.rotate_on_aeoi = true; break;
      case 5: eoi(c, highest(c, c.isr), true); break;   // rotate on non-specific EOI
      case 6: c.lowest_priority = static_cast<uint8_t>(level); break;  // set priority
      case 7: eoi(c, level, true); break;                // rotate on specific EOI
    }
    return;
  }
  // OCW3.
  if (v & kOcw3Poll) c.poll = true;
  if (v & kOcw3Rr) c.read_isr = v & kOcw3Ris;
  if (v & kOcw3Esmm) c.special_mask = v & kOcw3Smm;
}

void Pic8259::write_data(Chip& c, uint8_t v) {
  switch (c.init_step) {
    case 2:
      c.vector_base = v & 0xF8;
      c.init_step = (c.icw1 & kIcw1Sngl) ? ((c.icw1 & kIcw1Ic4) ? 4 : 0) : 3;
      break;
    case 3:
      c.icw3 = v;
      c.init_step = (c.icw1 & kIcw1Ic4) ? 4 : 0;
      break;
    case 4:
      c.icw4 = v;
      c.auto_eoi = v & kIcw4Aeoi;
      c.special_fully_nested = v & kIcw4Sfnm;
      if (!(v & 1)) PC64_LOG(LogLevel::Debug, "pic", "ICW4 selects 8080 mode; treated as 8086");
      c.init_step = 0;
      break;
    default:
      c.imr = v;  // OCW1
      break;
  }
}

uint8_t Pic8259::read8(uint16_t port) {
  if (port == 0x4D0 || port == 0x4D1) return chips_[port & 1].elcr;
  unsigned chip = port >= 0xA0 ? kSlave : kMaster;
  Chip& c = chips_[chip];
  if (c.poll) return poll_read(chip);
  if (port & 1) return c.imr;
  return c.read_isr ? c.isr : c.irr;
}

void Pic8259::write8(uint16_t port, uint8_t v) {
  if (port == 0x4D0 || port == 0x4D1) {
    Chip& c = chips_[port & 1];
    c.elcr = v & kElcrMask[port & 1];
    // Inputs now level-triggered request exactly while high.
    c.irr = (c.irr & ~c.elcr) | (c.input & c.elcr);
  } else {
    Chip& c = chips_[port >= 0xA0 ? kSlave : kMaster];
    if (port & 1)
      write_data(c, v);
    else
      write_command(c, v);
  }
  update_cascade();
}

uint32_t Pic8259::io_read(uint16_t port, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= static_cast<uint32_t>(read8(static_cast<uint16_t>(port + i))) << (8 * i);
  return v;
}

void Pic8259::io_write(uint16_t port, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) write8(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

void Pic8259::serialize_chip(StateSerializer& s, Chip& c) {
  s(c.irr); s(c.isr); s(c.imr); s(c.input); s(c.elcr); s(c.vector_base); s(c.lowest_priority);
  s(c.icw1); s(c.icw3); s(c.icw4); s(c.init_step);
  s(c.read_isr); s(c.poll); s(c.special_mask); s(c.auto_eoi); s(c.rotate_on_aeoi); s(c.special_fully_nested);
}

void Pic8259::serialize(StateSerializer& s) {
  s.tag(0x50494338);  // "PIC8"
  for (auto& c : chips_) serialize_chip(s, c);
}

}  // namespace pc64
