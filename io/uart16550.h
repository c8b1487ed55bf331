// A National Semiconductor PC16550D UART as COM1-COM4 of a PC: eight
// registers at `base`, DLAB-switched divisor latch, 16-byte receive FIFO with
// trigger levels and the character timeout, the four interrupt sources in the
// IIR priority order, LSR/MSR, scratch, and loopback. Reference: PC16550D
// data sheet (June 1995), Tables I-IV.
//
// Transmission is immediate: a byte written to THR goes straight to the
// CharBackend and THR/TSR are empty again at once (THRE re-asserts), so the
// guest never waits and no output is lost. Reception keeps real timing for the
// character timeout (4 character times at the programmed baud rate).
// As on PC serial cards, the interrupt reaches the IRQ line only while
// MCR.OUT2 is set and loopback is off.
#pragma once
#include <array>
#include <cstdint>

#include "io/char_backend.h"
#include "io/clock.h"
#include "io/device.h"
#include "io/irq.h"
#include "io/port_bus.h"

namespace pc64 {

class Uart16550 final : public Device, public PortHandler {
 public:
  static constexpr unsigned kFifoSize = 16;
  static constexpr uint64_t kBaseBaud = 115200;  // 1.8432 MHz / 16
  // Register offsets.
  static constexpr uint8_t kRbrThrDll = 0, kIerDlm = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6,
                           kScr = 7;
  // IER bits.
  static constexpr uint8_t kErbfi = 0x01, kEtbei = 0x02, kElsi = 0x04, kEdssi = 0x08;
  // IIR interrupt IDs (bit 0 clear = pending).
  static constexpr uint8_t kIirNone = 0x01, kIirRls = 0x06, kIirRda = 0x04, kIirCti = 0x0C, kIirThre = 0x02,
                           kIirMs = 0x00, kIirFifo = 0xC0;
  // LSR bits.
  static constexpr uint8_t kDr = 0x01, kOe = 0x02, kPe = 0x04, kFe = 0x08, kBi = 0x10, kThre = 0x20,
                           kTemt = 0x40, kRxFifoError = 0x80;
  // MCR bits.
  static constexpr uint8_t kDtr = 0x01, kRts = 0x02, kOut1 = 0x04, kOut2 = 0x08, kLoop = 0x10;
  // MSR bits.
  static constexpr uint8_t kDcts = 0x01, kDdsr = 0x02, kTeri = 0x04, kDdcd = 0x08, kCts = 0x10, kDsr = 0x20,
                           kRi = 0x40, kDcd = 0x80;
  static constexpr uint8_t kDlab = 0x80;

  // `backend` may be null (output dropped).
  Uart16550(PortBus& ports, VirtualClock& clock, uint16_t base, IrqLine irq, CharBackend* backend);

  const char* name() const override;
  void reset() override;  // the MR pin (data sheet Table IV); DLL/DLM and SCR survive
  void serialize(StateSerializer& s) override;

  // A byte from the host side of the line. Lost with an overrun (LSR.OE) if
  // the guest has not emptied the FIFO: check can_receive() first.
  void receive(uint8_t byte);
  bool can_receive() const;
  // A break condition on the line (LSR.BI, a zero byte in the FIFO).
  void receive_break();

  uint16_t base() const { return base_; }
  uint16_t divisor() const { return static_cast<uint16_t>(dll_ | (dlm_ << 8)); }
  bool irq_level() const { return irq_level_; }

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  uint8_t read8(uint8_t reg);
  void write8(uint8_t reg, uint8_t v);
  void write_thr(uint8_t v);
  uint8_t read_rbr();
  void push_rx(uint8_t v);
  unsigned rx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }
  bool fifo_enabled() const { return fcr_ & 0x01; }
  unsigned trigger_level() const;
  uint8_t interrupt_id() const;
  uint8_t modem_inputs() const;  // MSR bits 7-4 as the pins (or loopback) say
  void set_modem_inputs();
  void update_irq();
  uint64_t char_time_ns() const;
  void restart_timeout();
  static void on_timeout(void* self);

  VirtualClock& clock_;
  uint16_t base_;
  IrqLine irq_;
  CharBackend* backend_;
  Timer timeout_timer_{&Uart16550::on_timeout, this, "uart-rx-timeout"};

  // ---- state ----
  std::array<uint8_t, kFifoSize> rx_{};
  uint8_t rx_head_ = 0, rx_count_ = 0;
  uint8_t rbr_ = 0;  // last byte read (what RBR shows when empty)
  uint8_t ier_ = 0, fcr_ = 0, lcr_ = 0, mcr_ = 0, lsr_errors_ = 0, msr_ = 0, scr_ = 0;
  uint8_t dll_ = 0x0C, dlm_ = 0;  // 9600 baud until programmed
  bool thre_pending_ = false;      // THRE interrupt condition (cleared by IIR read / THR write)
  bool timeout_pending_ = false;   // character timeout indication
  bool irq_level_ = false;
};

}  // namespace pc64
