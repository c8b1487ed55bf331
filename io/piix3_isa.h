// Intel 82371SB PIIX3 function 0, the PCI-to-ISA bridge at 00:01.0
// (8086:7000). Software uses it for the PIRQA-D route control registers
// (which ISA IRQ each PCI interrupt line drives) and the Reset Control
// register at I/O port 0xCF9. Reference: 82371FB/SB (PIIX/PIIX3) data sheet
// §2.2 (PIRQRC 0x60-0x63) and §2.4 (RC, port 0xCF9).
#pragma once
#include <functional>

#include "io/device.h"
#include "io/pci_bus.h"

namespace pc64 {

class Piix3Isa final : public Device, public PciFunction, private PortHandler {
 public:
  static constexpr uint8_t kPirqRc = 0x60;  // PIRQRC[A-D] at 0x60-0x63
  static constexpr uint8_t kPirqDisable = 0x80;
  // Reset Control register bits.
  static constexpr uint8_t kRcSysRst = 1 << 1;  // 1 = hard reset
  static constexpr uint8_t kRcRstCpu = 1 << 2;  // writing 1 resets

  // `route_changed(pirq, isa_irq)` reports PIRQ 0-3 now driving `isa_irq`
  // (or -1: not routed). `reset_request(hard)` asks the machine to reset.
  Piix3Isa(PciBus& bus, std::function<void(unsigned, int)> route_changed, std::function<void(bool)> reset_request);

  const char* name() const override { return "piix3-isa"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  // ISA IRQ that PIRQ `pirq` drives, -1 if none.
  int pirq_route(unsigned pirq) const;

 private:
  void config_written(uint8_t offset, unsigned size) override;
  void announce_routes();
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  std::function<void(unsigned, int)> route_changed_;
  std::function<void(bool)> reset_request_;
  uint8_t rcr_ = 0;
};

}  // namespace pc64
