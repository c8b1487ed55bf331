// The two cascaded Intel 8259A programmable interrupt controllers of a PC
// (master at 0x20/0x21 with IRQ 0-7, slave at 0xA0/0xA1 with IRQ 8-15 on the
// master's IR2), plus the PIIX3 edge/level control registers ELCR1/ELCR2 at
// 0x4D0/0x4D1 which replace ICW1.LTIM per input.
// References: Intel 8259A data sheet (231468), "Programming the 8259A";
// 82371SB PIIX3 data sheet §4.7 (ELCR). Modelled as one object because the
// cascade is internal wiring, not a bus.
//
// Edge-triggered inputs latch IRR on a rising edge (devices may pulse);
// level-triggered inputs (ELCR bit set) request while high. The master's IR2
// follows the slave's INT output as a level, so a slave request is never lost
// to a missing edge.
#pragma once
#include <array>
#include <cstdint>

#include "io/device.h"
#include "io/port_bus.h"

namespace pc64 {

class Pic8259 final : public Device, public PortHandler {
 public:
  static constexpr unsigned kMaster = 0, kSlave = 1;
  static constexpr unsigned kCascadeIr = 2;  // master input wired to the slave's INT
  // ELCR bits that must stay 0 on PIIX3: IRQ0, 1, 2, 8, 13 are always edge.
  static constexpr uint8_t kElcrMask[2] = {0xF8, 0xDE};

  explicit Pic8259(PortBus& ports);

  const char* name() const override { return "pic8259"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // An input line changed level (irq 0-15).
  void set_irq(unsigned irq, bool level);
  // The master's INT output: an unmasked request outranks everything in service.
  bool intr_pending() const;
  // The CPU's INTA cycle: returns the vector and moves the request into
  // service (unless AEOI). With nothing to deliver it returns the spurious
  // IR7 vector of the chip that answered (IRQ7 or IRQ15) without setting ISR.
  uint8_t acknowledge();

  // For the monitor and tests.
  uint8_t irr(unsigned chip) const { return chips_[chip & 1].irr; }
  uint8_t isr(unsigned chip) const { return chips_[chip & 1].isr; }
  uint8_t imr(unsigned chip) const { return chips_[chip & 1].imr; }
  uint8_t vector_base(unsigned chip) const { return chips_[chip & 1].vector_base; }
  uint8_t elcr(unsigned chip) const { return chips_[chip & 1].elcr; }
  bool initialized(unsigned chip) const { return chips_[chip & 1].init_step == 0; }

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  struct Chip {
    uint8_t irr = 0, isr = 0, imr = 0;
    uint8_t input = 0;          // current input line levels
    uint8_t elcr = 0;           // 1 = level-triggered input
    uint8_t vector_base = 0;    // ICW2 & 0xF8
    uint8_t lowest_priority = 7;  // IR with the lowest priority (rotation)
    uint8_t icw1 = 0, icw3 = 0, icw4 = 0;
    uint8_t init_step = 0;      // 0 = operational, 2/3/4 = next ICW expected
    bool read_isr = false;      // OCW3 RR/RIS: even port reads ISR instead of IRR
    bool poll = false;          // OCW3 P: next read is a poll command
    bool special_mask = false;  // OCW3 ESMM/SMM
    bool auto_eoi = false;      // ICW4 AEOI
    bool rotate_on_aeoi = false;
    bool special_fully_nested = false;  // ICW4 SFNM (master)
  };

  uint8_t read8(uint16_t port);
  void write8(uint16_t port, uint8_t v);
  void write_command(Chip& c, uint8_t v);  // even port: ICW1, OCW2, OCW3
  void write_data(Chip& c, uint8_t v);     // odd port: ICW2-4, OCW1
  void set_input(unsigned chip, unsigned ir, bool level);
  // Highest-priority IR in `bits` (0-7) under the chip's rotation, or -1.
  int highest(const Chip& c, uint8_t bits) const;
  // The IR the chip would raise INT for now, or -1.
  int pending_ir(unsigned chip) const;
  // Marks `ir` acknowledged on `chip` (ISR set unless AEOI, edge IRR cleared).
  void accept(unsigned chip, int ir);
  void eoi(Chip& c, int ir, bool rotate);
  uint8_t poll_read(unsigned chip);
  void update_cascade();
  static void serialize_chip(StateSerializer& s, Chip& c);

  std::array<Chip, 2> chips_;
};

}  // namespace pc64
