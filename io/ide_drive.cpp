#include "io/ide_drive.h"

#include "io/ide_channel.h"

namespace pc64 {

using namespace ata;

void IdeDrive::write_register(unsigned reg, uint8_t v) {
  // Each write pushes the old value into the "previous content" slot that
  // 48-bit commands read as the high-order byte.
  auto push = [v](uint8_t (&r)[2]) { r[1] = r[0], r[0] = v; };
  switch (reg) {
    case kErrorFeature: push(feature_); break;
    case kCount: push(count_); break;
    case kLbaLow: push(lba_low_); break;
    case kLbaMid: push(lba_mid_); break;
    case kLbaHigh: push(lba_high_); break;
    case kDevice: device_ = v; break;
    default: break;
  }
}

uint8_t IdeDrive::read_register(unsigned reg, bool hob) const {
  int i = hob ? 1 : 0;
  switch (reg) {
    case kErrorFeature: return hob ? 0 : error_;  // the Error register has no previous content
    case kCount: return count_[i];
    case kLbaLow: return lba_low_[i];
    case kLbaMid: return lba_mid_[i];
    case kLbaHigh: return lba_high_[i];
    case kDevice: return device_;
    case kStatusCommand: return status_;
    default: return 0xFF;
  }
}

void IdeDrive::command(uint8_t cmd) {
  // A command written while the device is busy is ignored (ATA/ATAPI-6 §9.1).
  if (status_ & kBsy) return;
  phase_ = Phase::None;
  dma_pending_ = false;
  pos_ = end_ = 0;
  intrq_ = false;
  execute(cmd);
}

uint32_t IdeDrive::read_data(unsigned size) {
  if (phase_ != Phase::DataIn) return size == 4 ? 0xFFFFFFFF : size == 2 ? 0xFFFF : 0xFF;
  uint32_t v = 0;
  unsigned n = size;
  for (unsigned i = 0; i < n; ++i) v |= uint32_t(pos_ < end_ ? buf_[pos_++] : 0xFF) << (8 * i);
  if (pos_ >= end_) {
    phase_ = Phase::None;
    status_ &= static_cast<uint8_t>(~kDrq);
    block_done(Phase::DataIn);
  }
  return v;
}

void IdeDrive::write_data(unsigned size, uint32_t value) {
  if (phase_ != Phase::DataOut) return;
  for (unsigned i = 0; i < size && pos_ < end_; ++i) buf_[pos_++] = static_cast<uint8_t>(value >> (8 * i));
  if (pos_ >= end_) {
    phase_ = Phase::None;
    status_ &= static_cast<uint8_t>(~kDrq);
    block_done(Phase::DataOut);
  }
}

void IdeDrive::begin_software_reset() {
  abort_transfer();
  phase_ = Phase::None;
  pos_ = end_ = 0;
  intrq_ = false;
  status_ = kBsy;
}

void IdeDrive::end_software_reset() {
  // Signature in the Command Block, diagnostic code 01h (no error), and
  // DRDY for ATA devices only (ATA/ATAPI-6 §9.2, §9.12).
  set_signature();
  error_ = 0x01;
  status_ = is_atapi() ? 0 : kDrdy | kDsc;
}

void IdeDrive::hardware_reset() {
  begin_software_reset();
  feature_[0] = feature_[1] = 0;
  end_software_reset();
}

void IdeDrive::diagnose(bool interrupt) {
  abort_transfer();
  phase_ = Phase::None;
  pos_ = end_ = 0;
  intrq_ = false;
  set_signature();
  error_ = 0x01;
  status_ = is_atapi() ? 0 : kDrdy | kDsc;
  if (interrupt) raise_irq();
}

void IdeDrive::start_data_in(size_t len, bool irq) {
  pos_ = 0;
  end_ = static_cast<uint32_t>(len);
  phase_ = Phase::DataIn;
  status_ = kDrdy | kDsc | kDrq;
  if (irq) raise_irq();
}

void IdeDrive::start_data_out(size_t len, bool irq) {
  if (buf_.size() < len) buf_.resize(len);
  pos_ = 0;
  end_ = static_cast<uint32_t>(len);
  phase_ = Phase::DataOut;
  status_ = kDrdy | kDsc | kDrq;
  if (irq) raise_irq();
}

void IdeDrive::complete() {
  phase_ = Phase::None;
  status_ = kDrdy | kDsc;
  error_ = 0;
  raise_irq();
}

void IdeDrive::fail(uint8_t err) {
  phase_ = Phase::None;
  dma_pending_ = false;
  status_ = kDrdy | kErr;
  error_ = err;
  raise_irq();
}

void IdeDrive::raise_irq() {
  intrq_ = true;
  if (channel_) channel_->drive_interrupt(*this);
}

void IdeDrive::request_dma() {
  dma_pending_ = true;
  status_ = kDrdy | kDsc | kDrq;
  if (channel_) channel_->drive_wants_dma(*this);
}

uint64_t IdeDrive::lba48() const {
  return uint64_t(lba_high_[1]) << 40 | uint64_t(lba_mid_[1]) << 32 | uint64_t(lba_low_[1]) << 24 |
         uint64_t(lba_high_[0]) << 16 | uint64_t(lba_mid_[0]) << 8 | lba_low_[0];
}

uint32_t IdeDrive::count48() const {
  uint32_t n = uint32_t(count_[1]) << 8 | count_[0];
  return n ? n : 65536;
}

void IdeDrive::set_lba48(uint64_t lba) {
  lba_low_[0] = static_cast<uint8_t>(lba);
  lba_mid_[0] = static_cast<uint8_t>(lba >> 8);
  lba_high_[0] = static_cast<uint8_t>(lba >> 16);
  lba_low_[1] = static_cast<uint8_t>(lba >> 24);
  lba_mid_[1] = static_cast<uint8_t>(lba >> 32);
  lba_high_[1] = static_cast<uint8_t>(lba >> 40);
}

void IdeDrive::serialize(StateSerializer& s) {
  s.tag(0x49444452);  // "IDDR"
  s(feature_);
  s(count_);
  s(lba_low_);
  s(lba_mid_);
  s(lba_high_);
  s(device_);
  s(status_);
  s(error_);
  s(intrq_);
  s(dma_pending_);
  s(phase_);
  s(buf_);
  s(pos_);
  s(end_);
  if (s.loading() && (end_ > buf_.size() || pos_ > end_)) throw StateError("ide: bad PIO buffer state");
  serialize_device(s);
}

}  // namespace pc64
