#include "io/i8042.h"

#include "mem/log.h"

namespace pc64 {

namespace {
// Output port after reset: keyboard data/clock high, A20 on (as QEMU's "pc"
// and SeaBIOS expect), CPU reset line inactive.
constexpr uint8_t kOutportDefault = 0xC0 | 0x0C | I8042::kOutA20 | I8042::kOutReset;
}  // namespace

I8042::I8042(PortBus& ports, IrqLine irq1, IrqLine irq12, std::function<void(bool)> a20,
             std::function<void()> reset_system)
    : irq1_(irq1), irq12_(irq12), a20_(std::move(a20)), reset_system_(std::move(reset_system)) {
  ports.map(0x60, 1, this, "i8042 data");
  ports.map(0x64, 1, this, "i8042 status/command");
  keyboard_.set_notify([this] { refill(); });
  mouse_.set_notify([this] { refill(); });
  reset();
}

void I8042::reset() {
  keyboard_.reset();
  mouse_.reset();
  ram_.fill(0);
  ram_[0] = kCmdInt | kCmdInt2;
  outport_ = kOutportDefault;
  out_ = 0;
  obf_ = out_aux_ = false;
  a2_ = false;
  self_tested_ = false;
  pending_ = 0;
  xlat_break_ = false;
  reply_head_ = reply_count_ = 0;
  update_irq();
}

uint8_t I8042::status() const {
  uint8_t s = kInh;  // keyboard not inhibited by the key lock
  if (obf_) s |= kObf;
  if (obf_ && out_aux_) s |= kAuxb;
  if (a2_) s |= kA2;
  if ((ram_[0] & kCmdSys) || self_tested_) s |= kSys;
  return s;
}

void I8042::update_irq() {
  bool l1 = obf_ && !out_aux_ && (ram_[0] & kCmdInt);
  bool l12 = obf_ && out_aux_ && (ram_[0] & kCmdInt2);
  if (l1 != irq1_level_) {
    irq1_level_ = l1;
    irq1_.set(l1);
  }
  if (l12 != irq12_level_) {
    irq12_level_ = l12;
    irq12_.set(l12);
  }
}

void I8042::reply(uint8_t v, bool aux) {
  if (reply_count_ < replies_.size()) {
    uint8_t i = static_cast<uint8_t>((reply_head_ + reply_count_) % replies_.size());
    replies_[i] = v;
    reply_aux_[i] = aux;
    ++reply_count_;
  }
  refill();
}

void I8042::refill() {
  while (!obf_) {
    if (reply_count_) {
      out_ = replies_[reply_head_];
      out_aux_ = reply_aux_[reply_head_];
      reply_head_ = static_cast<uint8_t>((reply_head_ + 1) % replies_.size());
      --reply_count_;
      obf_ = true;
    } else if (!(ram_[0] & kCmdKbdDisable) && keyboard_.has_data()) {
      uint8_t b = keyboard_.read();
      if (ram_[0] & kCmdXlat) {
        // Translation to set 1: F0 is swallowed and marks the next code a break.
        if (b == 0xF0) {
          xlat_break_ = true;
          continue;
        }
        b = static_cast<uint8_t>(Ps2Keyboard::set2_to_set1(b) | (xlat_break_ ? 0x80 : 0));
        xlat_break_ = false;
      }
      out_ = b;
      out_aux_ = false;
      obf_ = true;
    } else if (!(ram_[0] & kCmdAuxDisable) && mouse_.has_data()) {
      out_ = mouse_.read();
      out_aux_ = true;
      obf_ = true;
      mouse_.drained();
    } else {
      break;
    }
  }
  update_irq();
}

uint8_t I8042::read_data() {
  uint8_t v = out_;  // reading an empty buffer returns the last byte again
  if (obf_) {
    obf_ = false;
    update_irq();  // the line drops, so the next byte makes a new edge
    refill();
  }
  return v;
}

void I8042::set_output_port(uint8_t v) {
  uint8_t old = outport_;
  outport_ = static_cast<uint8_t>(v | kOutReset);  // the reset line is a pulse, not a state
  if ((old ^ outport_) & kOutA20) {
    PC64_LOG(LogLevel::Debug, "i8042", "A20 gate %s", (outport_ & kOutA20) ? "enabled" : "disabled");
    if (a20_) a20_(outport_ & kOutA20);
  }
  if (!(v & kOutReset)) {
    PC64_LOG(LogLevel::Info, "i8042", "system reset through the keyboard controller");
    if (reset_system_) reset_system_();
  }
}

void I8042::write_data(uint8_t v) {
  a2_ = false;
  uint8_t cmd = pending_;
  pending_ = 0;
  if (cmd >= 0x60 && cmd <= 0x7F) {
    ram_[cmd & 0x1F] = v;
    refill();  // the command byte may have enabled a port or an interrupt
    return;
  }
  switch (cmd) {
    case 0xD1: set_output_port(v); return;
    case 0xD2: reply(v, false); return;  // as if the keyboard sent it
    case 0xD3: reply(v, true); return;   // as if the mouse sent it
    case 0xD4:
      ram_[0] &= static_cast<uint8_t>(~kCmdAuxDisable);  // talking to the mouse enables its clock
      mouse_.write(v);
      refill();
      return;
    default:
      ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisable);  // likewise for the keyboard
      keyboard_.write(v);
      refill();
      return;
  }
}

void I8042::write_command(uint8_t v) {
  a2_ = true;
  if (v >= 0x20 && v <= 0x3F) {
    reply(ram_[v & 0x1F]);
    return;
  }
  if ((v >= 0x60 && v <= 0x7F) || (v >= 0xD1 && v <= 0xD4)) {
    pending_ = v;
    return;
  }
  if (v >= 0xF0) {
    // Pulse output port bits 0-3 low for 6 us: bit 0 is the CPU reset.
    if (!(v & 1)) {
      PC64_LOG(LogLevel::Info, "i8042", "system reset through the keyboard controller (pulse)");
      if (reset_system_) reset_system_();
    }
    return;
  }
  switch (v) {
    case 0xA7: ram_[0] |= kCmdAuxDisable; break;
    case 0xA8: ram_[0] &= static_cast<uint8_t>(~kCmdAuxDisable); refill(); break;
    case 0xA9: reply(0x00); break;  // aux interface test: no error
    case 0xAA:                      // self-test passed
      self_tested_ = true;
      reply(0x55);
      break;
    case 0xAB: reply(0x00); break;  // keyboard interface test: no error
    case 0xAD: ram_[0] |= kCmdKbdDisable; break;
    case 0xAE: ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisable); refill(); break;
    case 0xC0: reply(0x80); break;  // input port: keyboard not inhibited
    case 0xD0: {
      uint8_t p = static_cast<uint8_t>(outport_ & ~(kOutIrq1 | kOutIrq12));
      if (obf_ && !out_aux_) p |= kOutIrq1;
      if (obf_ && out_aux_) p |= kOutIrq12;
      reply(p);
      break;
    }
    case 0xDD: set_output_port(static_cast<uint8_t>(outport_ & ~kOutA20)); break;  // HP Vectra: A20 off
    case 0xDF: set_output_port(outport_ | kOutA20); break;                          // A20 on
    case 0xE0: reply(0x00); break;  // test inputs: clock and data low
    default: PC64_LOG(LogLevel::Debug, "i8042", "unknown controller command %#x ignored", v); break;
  }
}

uint32_t I8042::io_read(uint16_t port, unsigned) { return port == 0x60 ? read_data() : status(); }

void I8042::io_write(uint16_t port, unsigned, uint32_t value) {
  if (port == 0x60)
    write_data(static_cast<uint8_t>(value));
  else
    write_command(static_cast<uint8_t>(value));
}

void I8042::serialize(StateSerializer& s) {
  s.tag(0x38303432);  // "8042"
  s(ram_); s(outport_); s(out_); s(obf_); s(out_aux_); s(a2_); s(self_tested_); s(pending_); s(xlat_break_);
  s(replies_); s(reply_aux_); s(reply_head_); s(reply_count_); s(irq1_level_); s(irq12_level_);
  keyboard_.serialize(s);
  mouse_.serialize(s);
  if (s.loading()) {
    reply_head_ %= replies_.size();
    if (reply_count_ > replies_.size()) reply_count_ = static_cast<uint8_t>(replies_.size());
  }
}

}  // namespace pc64
