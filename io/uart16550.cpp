#include "io/uart16550.h"

namespace pc64 {

Uart16550::Uart16550(PortBus& ports, VirtualClock& clock, uint16_t base, IrqLine irq, CharBackend* backend)
    : clock_(clock), base_(base), irq_(irq), backend_(backend) {
  ports.map(base, 8, this, name());
  reset();
}

const char* Uart16550::name() const {
  switch (base_) {
    case 0x3F8: return "com1";
    case 0x2F8: return "com2";
    case 0x3E8: return "com3";
    case 0x2E8: return "com4";
    default: return "uart16550";
  }
}

void Uart16550::reset() {
  ier_ = fcr_ = lcr_ = mcr_ = 0;
  lsr_errors_ = 0;
  rx_head_ = rx_count_ = 0;
  thre_pending_ = timeout_pending_ = false;
  msr_ = modem_inputs();  // delta bits low, status bits follow the inputs
  clock_.cancel(timeout_timer_);
  update_irq();
}

// ---- interrupts ----

unsigned Uart16550::trigger_level() const {
  static constexpr uint8_t kLevels[4] = {1, 4, 8, 14};
  return fifo_enabled() ? kLevels[fcr_ >> 6] : 1;
}

uint8_t Uart16550::interrupt_id() const {
  // Priority order of data sheet Table IV.
  if ((ier_ & kElsi) && (lsr_errors_ & (kOe | kPe | kFe | kBi))) return kIirRls;
  if ((ier_ & kErbfi) && rx_count_ >= trigger_level()) return kIirRda;
  if ((ier_ & kErbfi) && timeout_pending_ && rx_count_) return kIirCti;
  if ((ier_ & kEtbei) && thre_pending_) return kIirThre;
  if ((ier_ & kEdssi) && (msr_ & (kDcts | kDdsr | kTeri | kDdcd))) return kIirMs;
  return kIirNone;
}

void Uart16550::update_irq() {
  // PC serial cards gate INTR with OUT2; in loopback OUT2 is disconnected.
  bool level = interrupt_id() != kIirNone && (mcr_ & kOut2) && !(mcr_ & kLoop);
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set(level);
  }
}

// ---- modem lines ----

uint8_t Uart16550::modem_inputs() const {
  if (mcr_ & kLoop) {
    // Loopback: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2.
    return static_cast<uint8_t>(((mcr_ & kRts) ? kCts : 0) | ((mcr_ & kDtr) ? kDsr : 0) |
                                ((mcr_ & kOut1) ? kRi : 0) | ((mcr_ & kOut2) ? kDcd : 0));
  }
  return kCts | kDsr | kDcd;  // a terminal is attached and ready
}

void Uart16550::set_modem_inputs() {
  uint8_t now = modem_inputs();
  uint8_t old = msr_ & 0xF0;
  uint8_t changed = now ^ old;
  uint8_t delta = msr_ & 0x0F;
  if (changed & kCts) delta |= kDcts;
  if (changed & kDsr) delta |= kDdsr;
  if ((old & kRi) && !(now & kRi)) delta |= kTeri;  // trailing edge of RI
  if (changed & kDcd) delta |= kDdcd;
  msr_ = static_cast<uint8_t>(now | delta);
}

// ---- data path ----

uint64_t Uart16550::char_time_ns() const {
  // Start bit, 5-8 data bits, parity, 1 or 2 stop bits.
  unsigned bits = 1 + 5 + (lcr_ & 3) + ((lcr_ & 0x08) ? 1 : 0) + ((lcr_ & 0x04) ? 2 : 1);
  uint64_t div = divisor() ? divisor() : 0x10000;
  return bits * div * VirtualClock::kNsPerSecond / kBaseBaud;
}

void Uart16550::restart_timeout() {
  timeout_pending_ = false;
  if (fifo_enabled() && rx_count_)
    clock_.schedule_in(timeout_timer_, 4 * char_time_ns());
  else
    clock_.cancel(timeout_timer_);
}

void Uart16550::on_timeout(void* self) {
  auto* u = static_cast<Uart16550*>(self);
  if (u->fifo_enabled() && u->rx_count_) u->timeout_pending_ = true;
  u->update_irq();
}

void Uart16550::push_rx(uint8_t v) {
  if (rx_count_ >= rx_capacity()) {
    // Overrun. In FIFO mode the new character is lost; without FIFO it
    // overwrites the holding register.
    lsr_errors_ |= kOe;
    if (!fifo_enabled()) rx_[rx_head_] = v;
  } else {
    rx_[(rx_head_ + rx_count_) % kFifoSize] = v;
    ++rx_count_;
  }
  restart_timeout();
  update_irq();
}

bool Uart16550::can_receive() const { return !(mcr_ & kLoop) && rx_count_ < rx_capacity(); }

void Uart16550::receive(uint8_t byte) {
  if (mcr_ & kLoop) return;  // the serial input is disconnected in loopback
  push_rx(byte);
}

void Uart16550::receive_break() {
  if (mcr_ & kLoop) return;
  lsr_errors_ |= kBi;
  push_rx(0);
}

uint8_t Uart16550::read_rbr() {
  if (rx_count_) {
    rbr_ = rx_[rx_head_];
    rx_head_ = static_cast<uint8_t>((rx_head_ + 1) % kFifoSize);
    --rx_count_;
  }
  restart_timeout();  // a read also resets the timeout count
  update_irq();
  return rbr_;
}

void Uart16550::write_thr(uint8_t v) {
  // Writing THR clears the THRE interrupt; the byte leaves at once and THRE
  // re-asserts, with the line dropping in between so an edge is seen.
  thre_pending_ = false;
  update_irq();
  if (mcr_ & kLoop)
    push_rx(v);
  else if (backend_)
    backend_->write(v);
  thre_pending_ = true;
  update_irq();
}

// ---- registers ----

uint8_t Uart16550::read8(uint8_t reg) {
  switch (reg) {
    case kRbrThrDll: return (lcr_ & kDlab) ? dll_ : read_rbr();
    case kIerDlm: return (lcr_ & kDlab) ? dlm_ : ier_;
    case kIirFcr: {
      uint8_t id = interrupt_id();
      if (id == kIirThre) {  // reading IIR clears a THRE indication it reports
        thre_pending_ = false;
        update_irq();
      }
      return static_cast<uint8_t>(id | (fifo_enabled() ? kIirFifo : 0));
    }
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr: {
      uint8_t v = static_cast<uint8_t>(lsr_errors_ | kThre | kTemt | (rx_count_ ? kDr : 0));
      if (fifo_enabled() && (lsr_errors_ & (kPe | kFe | kBi))) v |= kRxFifoError;
      lsr_errors_ = 0;  // OE, PE, FE, BI clear on read
      update_irq();
      return v;
    }
    case kMsr: {
      uint8_t v = msr_;
      msr_ &= 0xF0;
      update_irq();
      return v;
    }
    default: return scr_;
  }
}

void Uart16550::write8(uint8_t reg, uint8_t v) {
  switch (reg) {
    case kRbrThrDll:
      if (lcr_ & kDlab)
        dll_ = v;
      else
        write_thr(v);
      break;
    case kIerDlm:
      if (lcr_ & kDlab) {
        dlm_ = v;
      } else {
        uint8_t old = ier_;
        ier_ = v & 0x0F;
        // Enabling ETBEI with THR empty raises THRE at once (Linux checks this).
        if ((ier_ & kEtbei) && !(old & kEtbei)) thre_pending_ = true;
        update_irq();
      }
      break;
    case kIirFcr: {
      bool was = fifo_enabled();
      if (!(v & 0x01)) {
        fcr_ = 0;  // FIFOs off; the other bits are ignored
      } else {
        fcr_ = v & 0xC9;  // enable, DMA mode select, trigger level
      }
      if (was != fifo_enabled() || (v & 0x02)) {  // changing mode or RCVR FIFO reset clears it
        rx_head_ = rx_count_ = 0;
        timeout_pending_ = false;
      }
      restart_timeout();
      update_irq();
      break;
    }
    case kLcr: lcr_ = v; break;
    case kMcr:
      mcr_ = v & 0x1F;
      set_modem_inputs();
      update_irq();
      break;
    case kLsr:
    case kMsr:
      break;  // factory test writes: ignored
    default: scr_ = v; break;
  }
}

uint32_t Uart16550::io_read(uint16_t port, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i)
    v |= static_cast<uint32_t>(read8(static_cast<uint8_t>((port + i - base_) & 7))) << (8 * i);
  return v;
}

void Uart16550::io_write(uint16_t port, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i)
    write8(static_cast<uint8_t>((port + i - base_) & 7), static_cast<uint8_t>(value >> (8 * i)));
}

void Uart16550::serialize(StateSerializer& s) {
  s.tag(0x55415254);  // "UART"
  s(rx_); s(rx_head_); s(rx_count_); s(rbr_);
  s(ier_); s(fcr_); s(lcr_); s(mcr_); s(lsr_errors_); s(msr_); s(scr_); s(dll_); s(dlm_);
  s(thre_pending_); s(timeout_pending_); s(irq_level_);
  uint64_t deadline = timeout_timer_.pending() ? timeout_timer_.deadline() : 0;
  s(deadline);
  if (s.loading()) {
    rx_head_ %= kFifoSize;
    if (rx_count_ > kFifoSize) rx_count_ = kFifoSize;
    if (deadline)
      clock_.schedule(timeout_timer_, deadline);
    else
      clock_.cancel(timeout_timer_);
  }
}

}  // namespace pc64
