// Intel 82371SB PIIX3 function 1, the IDE controller at 00:01.1 (8086:7010).
// Both channels decode the legacy ports (primary 0x1F0/0x3F6 on IRQ 14,
// secondary 0x170/0x376 on IRQ 15; programming interface 80h: legacy mode,
// bus-master capable). BAR4 (BMIBA) holds the bus-master registers: primary
// at +0, secondary at +8. IDETIM (40h/42h), SIDETIM (44h) are plain
// read/write timing registers; decode enable (IDETIM bit 15) is kept for the
// guest to read (Linux's ata_piix checks it) but the legacy ports always
// decode, as QEMU does. Reference: 82371FB/SB data sheet §2.3, §2.7.
#pragma once
#include <memory>

#include "io/device.h"
#include "io/ide_busmaster.h"
#include "io/ide_channel.h"
#include "io/pci_bus.h"

namespace pc64 {

class PiixIde final : public Device, public PciFunction {
 public:
  static constexpr uint8_t kIdetimPrimary = 0x40, kIdetimSecondary = 0x42, kSidetim = 0x44;
  static constexpr int kBmBar = 4;

  // Registers at `device`.`function` of `bus`; channels raise ISA IRQ 14/15 on `isa_irqs`.
  PiixIde(PciBus& bus, IrqSink* isa_irqs, uint8_t device = 1, uint8_t function = 1);
  ~PiixIde() override;

  IdeChannel& channel(unsigned i) { return i ? *secondary_ : *primary_; }
  IdeBusMaster& bus_master(unsigned i) { return i ? *bm_secondary_ : *bm_primary_; }

  const char* name() const override { return "piix3-ide"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

 private:
  uint64_t bar_read(int index, uint64_t offset, unsigned size) override;
  void bar_write(int index, uint64_t offset, unsigned size, uint64_t value) override;

  std::unique_ptr<IdeChannel> primary_, secondary_;
  std::unique_ptr<IdeBusMaster> bm_primary_, bm_secondary_;
};

}  // namespace pc64
