#include "io/piix_ide.h"

namespace pc64 {

PiixIde::PiixIde(PciBus& bus, IrqSink* isa_irqs, uint8_t device, uint8_t function)
    : PciFunction(0x8086, 0x7010, 0x00, 0x010180) {
  primary_ = std::make_unique<IdeChannel>(bus.ports(), IdeChannel::kPrimaryBase, IdeChannel::kPrimaryControl,
                                          IrqLine(isa_irqs, 14), "ide0");
  secondary_ = std::make_unique<IdeChannel>(bus.ports(), IdeChannel::kSecondaryBase, IdeChannel::kSecondaryControl,
                                            IrqLine(isa_irqs, 15), "ide1");
  bm_primary_ = std::make_unique<IdeBusMaster>(bus.memory(), *primary_);
  bm_secondary_ = std::make_unique<IdeBusMaster>(bus.memory(), *secondary_);
  primary_->set_bus_master(bm_primary_.get());
  secondary_->set_bus_master(bm_secondary_.get());
  define_io_bar(kBmBar, 16);
  set_wmask(kIdetimPrimary, 4, 0xFF);
  set_wmask(kSidetim, 1, 0xFF);
  bus.add(*this, device, function);
}

PiixIde::~PiixIde() {
  primary_->set_bus_master(nullptr);
  secondary_->set_bus_master(nullptr);
}

void PiixIde::reset() {
  reset_config();
  bm_primary_->reset();
  bm_secondary_->reset();
  primary_->reset();
  secondary_->reset();
}

uint64_t PiixIde::bar_read(int index, uint64_t offset, unsigned size) {
  if (index != kBmBar || offset >= 16) return PciFunction::bar_read(index, offset, size);
  return bus_master(offset >= 8 ? 1 : 0).read(offset & 7, size);
}

void PiixIde::bar_write(int index, uint64_t offset, unsigned size, uint64_t value) {
  if (index != kBmBar || offset >= 16) return;
  bus_master(offset >= 8 ? 1 : 0).write(offset & 7, size, static_cast<uint32_t>(value));
}

void PiixIde::serialize(StateSerializer& s) {
  s.tag(0x50494445);  // "PIDE"
  serialize_config(s);
  bm_primary_->serialize(s);
  bm_secondary_->serialize(s);
  primary_->serialize(s);
  secondary_->serialize(s);
}

}  // namespace pc64
