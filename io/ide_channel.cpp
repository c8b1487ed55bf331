#include "io/ide_channel.h"

#include "io/ide_busmaster.h"

namespace pc64 {

using namespace ata;

IdeChannel::IdeChannel(PortBus& ports, uint16_t base, uint16_t control, IrqLine irq, const char* name)
    : ports_(ports), base_(base), control_(control), irq_(irq), name_(name) {
  ports_.map(base_, 8, this, name_);
  ports_.map(control_, 1, this, name_);
}

IdeChannel::~IdeChannel() { ports_.unmap(this); }

void IdeChannel::attach(unsigned unit, std::unique_ptr<IdeDrive> drive) {
  unit &= 1;
  drives_[unit] = std::move(drive);
  if (drives_[unit]) {
    drives_[unit]->attach(this, unit);
    drives_[unit]->hardware_reset();
  }
}

void IdeChannel::reset() {
  selected_ = 0;
  device_control_ = 0;
  for (auto& d : drives_)
    if (d) d->hardware_reset();
  update_irq();
}

void IdeChannel::update_irq() {
  IdeDrive* d = drives_[selected_].get();
  bool level = d && d->intrq() && !(device_control_ & kNien);
  if (level != level_) {
    level_ = level;
    irq_.set(level);
  }
}

void IdeChannel::drive_interrupt(IdeDrive& d) {
  // The bus master's Interrupt bit follows the device's INTRQ (PIIX data
  // sheet, BMISX bit 2), whatever the transfer mode.
  if (bm_ && &d == drives_[selected_].get()) bm_->device_interrupt();
  update_irq();
}

void IdeChannel::drive_wants_dma(IdeDrive& d) {
  if (bm_ && bm_->active()) d.run_dma(*bm_);
}

void IdeChannel::bus_master_started() {
  IdeDrive* d = drives_[selected_].get();
  if (d && d->dma_pending()) d->run_dma(*bm_);
}

uint8_t IdeChannel::read_register(unsigned reg) {
  IdeDrive* d = drives_[selected_].get();
  IdeDrive* other = drives_[selected_ ^ 1].get();
  if (!d && !other) return 0xFF;  // empty channel: the bus floats high
  bool hob = device_control_ & kHob;
  if (!d) {
    // Device 0 answers for an absent device 1: Status 00h, the rest from
    // its own (identically latched) registers (ATA/ATAPI-6 §9.16.1).
    if (reg == kStatusCommand) return 0;
    return other->read_register(reg, hob);
  }
  uint8_t v = d->read_register(reg, hob);
  if (reg == kStatusCommand) {
    d->clear_intrq();
    update_irq();
  }
  return v;
}

uint32_t IdeChannel::io_read(uint16_t port, unsigned size) {
  if (port == control_) {
    IdeDrive* d = drives_[selected_].get();
    if (!d) return drives_[selected_ ^ 1] ? 0 : 0xFF;
    return d->status();
  }
  unsigned reg = port - base_;
  if (reg == kData) {
    IdeDrive* d = drives_[selected_].get();
    if (!d) return size == 4 ? 0xFFFFFFFF : size == 2 ? 0xFFFF : 0xFF;
    return d->read_data(size);
  }
  // Wider accesses to the byte registers read consecutive registers.
  uint32_t v = 0;
  for (unsigned i = 0; i < size && reg + i < 8; ++i) v |= uint32_t(read_register(reg + i)) << (8 * i);
  return v;
}

void IdeChannel::write_device_control(uint8_t v) {
  bool was_reset = device_control_ & kSrst;
  device_control_ = v;
  if ((v & kSrst) && !was_reset) {
    for (auto& d : drives_)
      if (d) d->begin_software_reset();
  } else if (!(v & kSrst) && was_reset) {
    for (auto& d : drives_)
      if (d) d->end_software_reset();
    selected_ = 0;
  }
  update_irq();
}

void IdeChannel::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (port == control_) {
    write_device_control(static_cast<uint8_t>(value));
    return;
  }
  unsigned reg = port - base_;
  if (reg == kData) {
    if (IdeDrive* d = drives_[selected_].get()) d->write_data(size, value);
    return;
  }
  for (unsigned i = 0; i < size && reg + i < 8; ++i) {
    unsigned r = reg + i;
    uint8_t b = static_cast<uint8_t>(value >> (8 * i));
    // Writing any Command Block register clears HOB (ATA/ATAPI-6 §7.9.6).
    device_control_ &= static_cast<uint8_t>(~kHob);
    if (r == kStatusCommand) {
      if (b == 0x90) {
        // EXECUTE DEVICE DIAGNOSTIC runs on both devices whichever is
        // selected; device 0 reports the result with INTRQ (ATA/ATAPI-6 §8.11).
        selected_ = 0;
        IdeDrive* reporter = drives_[0] ? drives_[0].get() : drives_[1].get();
        for (auto& d : drives_)
          if (d) d->diagnose(d.get() == reporter);
        update_irq();
        continue;
      }
      if (IdeDrive* d = drives_[selected_].get()) d->command(b);
      update_irq();
      continue;
    }
    for (auto& d : drives_)
      if (d) d->write_register(r, b);
    if (r == kDevice) {
      selected_ = (b & kDev) ? 1 : 0;
      update_irq();
    }
  }
}

void IdeChannel::serialize(StateSerializer& s) {
  s.tag(0x49444543);  // "IDEC"
  s(selected_);
  s(device_control_);
  s(level_);
  for (auto& d : drives_) {
    uint8_t present = d != nullptr;
    s(present);
    if (s.loading() && present != (d != nullptr)) throw StateError(std::string(name_) + ": drive configuration differs from the saved state");
    if (d) d->serialize(s);
  }
  if (s.loading()) {
    selected_ &= 1;
    irq_.set(level_);
  }
}

}  // namespace pc64
