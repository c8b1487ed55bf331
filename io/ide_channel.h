// One IDE channel: the Command Block registers (primary 0x1F0-0x1F7,
// secondary 0x170-0x177), the Control Block register (0x3F6 / 0x376:
// Alternate Status on read, Device Control on write), a master and a slave
// drive, and the channel's interrupt line (IRQ 14 / 15).
//
// Writes to the Command Block go to both devices (each latches them); reads
// and commands go to the device the DEV bit selects. INTRQ is the selected
// device's request gated by nIEN; reading Status clears it, Alternate Status
// does not (ATA/ATAPI-6 §5.2.9, §7.15).
#pragma once
#include <array>
#include <cstdint>
#include <memory>

#include "io/device.h"
#include "io/ide_drive.h"
#include "io/irq.h"
#include "io/port_bus.h"

namespace pc64 {

class IdeChannel final : public Device, public PortHandler {
 public:
  static constexpr uint16_t kPrimaryBase = 0x1F0, kPrimaryControl = 0x3F6;
  static constexpr uint16_t kSecondaryBase = 0x170, kSecondaryControl = 0x376;

  // Claims base..base+7 and `control` on `ports`.
  IdeChannel(PortBus& ports, uint16_t base, uint16_t control, IrqLine irq, const char* name);
  ~IdeChannel() override;
  IdeChannel(const IdeChannel&) = delete;
  IdeChannel& operator=(const IdeChannel&) = delete;

  // unit 0 = master, 1 = slave. Replaces whatever was there.
  void attach(unsigned unit, std::unique_ptr<IdeDrive> drive);
  IdeDrive* drive(unsigned unit) const { return drives_[unit & 1].get(); }
  void set_bus_master(IdeBusMaster* bm) { bm_ = bm; }
  IdeBusMaster* bus_master() const { return bm_; }

  const char* name() const override { return name_; }
  void reset() override;
  // Register state of the channel and both drives (images are not included).
  void serialize(StateSerializer& s) override;

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  // ---- from drives and the bus master ----
  void drive_interrupt(IdeDrive& d);
  void drive_wants_dma(IdeDrive& d);
  void bus_master_started();
  bool irq_level() const { return level_; }
  unsigned selected() const { return selected_; }

 private:
  void update_irq();
  uint8_t read_register(unsigned reg);
  void write_device_control(uint8_t v);

  PortBus& ports_;
  uint16_t base_, control_;
  IrqLine irq_;
  const char* name_;
  std::array<std::unique_ptr<IdeDrive>, 2> drives_;
  IdeBusMaster* bm_ = nullptr;
  unsigned selected_ = 0;
  uint8_t device_control_ = 0;
  bool level_ = false;
};

}  // namespace pc64
