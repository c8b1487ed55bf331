// The Intel 8042 keyboard controller of the PC/AT and PS/2 (ports 0x60 data,
// 0x64 status/command) with an MF2 keyboard and a PS/2 mouse attached.
// Reference: IBM PS/2 Hardware Interface Technical Reference, "Keyboard and
// Auxiliary Device Controller": status register, command byte, the
// controller commands (0x20-0x3F read RAM, 0x60-0x7F write RAM, 0xA7-0xAB
// aux/keyboard enable and interface tests, 0xAA self-test, 0xC0 input port,
// 0xD0/0xD1 output port with A20 gate and system reset, 0xD2/0xD3/0xD4,
// 0xF0-0xFF pulse output port), IRQ1/IRQ12, and set-2 -> set-1 translation.
//
// Commands complete at once (IBF is never seen set). The output buffer holds
// one byte; the controller refills it from its own replies first, then the
// keyboard, then the mouse, whenever the guest has read it.
#pragma once
#include <array>
#include <cstdint>
#include <functional>

#include "io/device.h"
#include "io/irq.h"
#include "io/port_bus.h"
#include "io/ps2_keyboard.h"
#include "io/ps2_mouse.h"

namespace pc64 {

class I8042 final : public Device, public PortHandler {
 public:
  // Status register.
  static constexpr uint8_t kObf = 0x01, kIbf = 0x02, kSys = 0x04, kA2 = 0x08, kInh = 0x10, kAuxb = 0x20,
                           kTimeout = 0x40, kParity = 0x80;
  // Command byte.
  static constexpr uint8_t kCmdInt = 0x01, kCmdInt2 = 0x02, kCmdSys = 0x04, kCmdKbdDisable = 0x10,
                           kCmdAuxDisable = 0x20, kCmdXlat = 0x40;
  // Output port.
  static constexpr uint8_t kOutReset = 0x01, kOutA20 = 0x02, kOutIrq1 = 0x10, kOutIrq12 = 0x20;

  // `a20(enabled)` runs when the A20 gate output changes; `reset_system()`
  // when the controller pulses the CPU reset line (it should request a
  // machine reset, not perform it inside the port write).
  I8042(PortBus& ports, IrqLine irq1, IrqLine irq12, std::function<void(bool)> a20,
        std::function<void()> reset_system);

  const char* name() const override { return "i8042"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // Frontend input: a key by its set-2 code (0xE0xx extended; see
  // Ps2Keyboard), and mouse motion/buttons (see Ps2Mouse::event).
  void key(uint16_t ps2_set2_code, bool down) { keyboard_.key(ps2_set2_code, down); }
  void mouse_event(int dx, int dy, int dz, unsigned buttons) { mouse_.event(dx, dy, dz, buttons); }

  Ps2Keyboard& keyboard() { return keyboard_; }
  // Typematic repeat of the keyboard on the machine's clock.
  void attach_clock(VirtualClock& clock) { keyboard_.attach_clock(clock); }
  Ps2Mouse& mouse() { return mouse_; }
  uint8_t command_byte() const { return ram_[0]; }
  uint8_t output_port() const { return outport_; }
  bool a20_enabled() const { return outport_ & kOutA20; }
  uint8_t status() const;

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  uint8_t read_data();
  void write_data(uint8_t v);
  void write_command(uint8_t v);
  void reply(uint8_t v, bool aux = false);  // a byte from the controller itself
  void refill();
  void update_irq();
  void set_output_port(uint8_t v);

  IrqLine irq1_, irq12_;
  std::function<void(bool)> a20_;
  std::function<void()> reset_system_;
  Ps2Keyboard keyboard_;
  Ps2Mouse mouse_;

  // ---- state ----
  std::array<uint8_t, 32> ram_{};  // controller RAM; byte 0 is the command byte
  uint8_t outport_ = 0;
  uint8_t out_ = 0;          // output buffer
  bool obf_ = false, out_aux_ = false;
  bool a2_ = false;          // last write was a command (port 0x64)
  bool self_tested_ = false; // status SYS after a successful self-test
  uint8_t pending_ = 0;      // command waiting for its data byte
  bool xlat_break_ = false;  // translation saw F0: the next code is a break
  std::array<uint8_t, 16> replies_{};
  std::array<uint8_t, 16> reply_aux_{};
  uint8_t reply_head_ = 0, reply_count_ = 0;
  bool irq1_level_ = false, irq12_level_ = false;
};

}  // namespace pc64
