#include "io/ata_disk.h"

#include <algorithm>
#include <cstring>

#include "io/ide_busmaster.h"
#include "mem/log.h"

namespace pc64 {

using namespace ata;

namespace {

// ATA command codes (ATA/ATAPI-6 §8).
enum : uint8_t {
  kDeviceReset = 0x08,
  kReadSectors = 0x20, kReadSectorsNoRetry = 0x21, kReadSectorsExt = 0x24, kReadDmaExt = 0x25,
  kReadNativeMaxExt = 0x27, kReadMultipleExt = 0x29,
  kWriteSectors = 0x30, kWriteSectorsNoRetry = 0x31, kWriteSectorsExt = 0x34, kWriteDmaExt = 0x35,
  kWriteMultipleExt = 0x39,
  kReadVerify = 0x40, kReadVerifyNoRetry = 0x41, kReadVerifyExt = 0x42,
  kSeek = 0x70, kExecuteDiagnostic = 0x90, kInitializeParams = 0x91,
  kStandbyImmediateOld = 0x94, kIdleImmediateOld = 0x95, kStandbyOld = 0x96, kIdleOld = 0x97,
  kCheckPowerModeOld = 0x98, kSleepOld = 0x99,
  kPacket = 0xA0, kIdentifyPacket = 0xA1,
  kReadMultiple = 0xC4, kWriteMultiple = 0xC5, kSetMultiple = 0xC6,
  kReadDma = 0xC8, kReadDmaNoRetry = 0xC9, kWriteDma = 0xCA, kWriteDmaNoRetry = 0xCB,
  kStandbyImmediate = 0xE0, kIdleImmediate = 0xE1, kStandby = 0xE2, kIdle = 0xE3,
  kCheckPowerMode = 0xE5, kSleep = 0xE6, kFlushCache = 0xE7, kFlushCacheExt = 0xEA,
  kIdentify = 0xEC, kSetFeatures = 0xEF, kReadNativeMax = 0xF8,
};

constexpr uint32_t kDmaChunkSectors = 256;  // 128 KiB per host read/write

// ATA strings: space padded, two characters per word, first in the high byte.
void put_string(uint16_t* w, const std::string& s, size_t words) {
  for (size_t i = 0; i < words * 2; ++i) {
    uint8_t c = i < s.size() ? static_cast<uint8_t>(s[i]) : ' ';
    if (i % 2 == 0)
      w[i / 2] = static_cast<uint16_t>(c << 8);
    else
      w[i / 2] |= c;
  }
}

}  // namespace

AtaDisk::AtaDisk(std::unique_ptr<BlockDevice> image, std::string serial)
    : image_(std::move(image)), serial_(std::move(serial)) {
  sectors_ = image_->size() / kSectorSize;
  // Default geometry: 16 heads, 63 sectors per track, at most 16383
  // cylinders (larger disks report 16383/16/63; ATA/ATAPI-6 §6.2.1).
  heads_ = 16;
  spt_ = 63;
  cylinders_ = static_cast<unsigned>(std::clamp<uint64_t>(sectors_ / (heads_ * spt_), 1, 16383));
  cur_heads_ = heads_;
  cur_spt_ = spt_;
  buf_.resize(kMaxMultiple * kSectorSize);
}

void AtaDisk::hardware_reset() {
  IdeDrive::hardware_reset();
  cur_heads_ = heads_;
  cur_spt_ = spt_;
  multiple_ = kMaxMultiple;
  write_cache_ = true;
}

void AtaDisk::set_signature() {
  count_[0] = 1;
  lba_low_[0] = 1;
  lba_mid_[0] = 0;
  lba_high_[0] = 0;
  device_ = 0;
}

void AtaDisk::abort_transfer() {
  IdeDrive::abort_transfer();
  remaining_ = 0;
}

void AtaDisk::flush_image() {
  try {
    image_->flush();
  } catch (const DiskImageError& e) {
    PC64_LOG(LogLevel::Error, "ide", "%s", e.what());
  }
}

void AtaDisk::identify() {
  uint16_t w[256] = {};
  w[0] = 0x0040;  // fixed device, not removable
  w[1] = static_cast<uint16_t>(cylinders_);
  w[3] = static_cast<uint16_t>(heads_);
  w[6] = static_cast<uint16_t>(spt_);
  put_string(&w[10], serial_, 10);
  put_string(&w[23], "0.1.0", 4);
  put_string(&w[27], "PC64 HARDDISK", 20);
  w[47] = 0x8000 | kMaxMultiple;
  w[49] = (1 << 11) | (1 << 9) | (1 << 8);  // IORDY, LBA, DMA
  w[50] = 0x4000;
  w[51] = 0x0200;  // PIO timing mode 2 (obsolete field)
  w[53] = 0x0007;  // words 54-58, 64-70 and 88 are valid
  uint64_t cur_cyls = std::min<uint64_t>(sectors_ / (cur_heads_ * cur_spt_), 65535);
  w[54] = static_cast<uint16_t>(cur_cyls);
  w[55] = static_cast<uint16_t>(cur_heads_);
  w[56] = static_cast<uint16_t>(cur_spt_);
  uint32_t chs_cap = static_cast<uint32_t>(cur_cyls * cur_heads_ * cur_spt_);
  w[57] = static_cast<uint16_t>(chs_cap);
  w[58] = static_cast<uint16_t>(chs_cap >> 16);
  w[59] = multiple_ ? 0x0100 | multiple_ : 0;
  uint32_t lba28 = static_cast<uint32_t>(std::min<uint64_t>(sectors_, 0x0FFFFFFF));
  w[60] = static_cast<uint16_t>(lba28);
  w[61] = static_cast<uint16_t>(lba28 >> 16);
  w[63] = 0x0007 | (mwdma_mode_ <= 2 ? 0x100 << mwdma_mode_ : 0);  // MWDMA 0-2
  w[64] = 0x0003;  // PIO 3 and 4
  w[65] = w[66] = w[67] = w[68] = 120;  // cycle times (ns)
  w[80] = 0x00F0;  // ATA/ATAPI-4 to -7
  w[82] = (1 << 14) | (1 << 5) | (1 << 3);  // NOP, write cache, power management
  w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);  // FLUSH CACHE (EXT), 48-bit
  w[84] = 1 << 14;
  w[85] = (1 << 14) | (write_cache_ ? 1 << 5 : 0) | (1 << 3);
  w[86] = (1 << 13) | (1 << 12) | (1 << 10);
  w[87] = 1 << 14;
  w[88] = 0x003F | (udma_mode_ <= 5 ? 0x100 << udma_mode_ : 0);  // UDMA 0-5
  w[93] = (1 << 14) | (1 << 13) | (unit_ == 0 ? 0x0009 : 0x0900);  // reset result, 80-wire cable
  for (int i = 0; i < 4; ++i) w[100 + i] = static_cast<uint16_t>(sectors_ >> (16 * i));
  // Integrity word: signature A5h, checksum makes all 512 bytes sum to 0.
  w[255] = 0x00A5;
  uint8_t sum = 0;
  for (int i = 0; i < 255; ++i) sum = static_cast<uint8_t>(sum + (w[i] & 0xFF) + (w[i] >> 8));
  sum = static_cast<uint8_t>(sum + 0xA5);
  w[255] |= static_cast<uint16_t>(static_cast<uint8_t>(-sum) << 8);
  for (int i = 0; i < 256; ++i) {
    buf_[2 * i] = static_cast<uint8_t>(w[i]);
    buf_[2 * i + 1] = static_cast<uint8_t>(w[i] >> 8);
  }
  start_data_in(kSectorSize);
}

void AtaDisk::set_features() {
  switch (feature_[0]) {
    case 0x02: write_cache_ = true; break;
    case 0x82:
      write_cache_ = false;
      flush_image();
      break;
    case 0x03: {  // set transfer mode from the Sector Count register
      uint8_t mode = count_[0];
      uint8_t kind = mode >> 3, n = mode & 7;
      if (kind == 0 && n <= 1) pio_mode_ = 4;
      else if (kind == 1 && n <= 4) pio_mode_ = n;
      else if (kind == 4 && n <= 2) mwdma_mode_ = n, udma_mode_ = 0xFF;
      else if (kind == 8 && n <= 5) udma_mode_ = n, mwdma_mode_ = 0xFF;
      else return fail(kAbrt);
      break;
    }
    case 0x55: case 0xAA:  // read look-ahead off/on
    case 0x66: case 0xCC:  // reverting to power-on defaults off/on
      break;
    default:
      return fail(kAbrt);
  }
  complete();
}

bool AtaDisk::fetch_range(bool ext) {
  ext_ = ext;
  uint64_t lba;
  uint32_t count;
  if (ext) {
    lba = lba48();
    count = count48();
  } else {
    count = count_[0] ? count_[0] : 256;
    if (device_ & kLba) {
      lba = uint64_t(device_ & 0x0F) << 24 | uint64_t(lba_high_[0]) << 16 | uint64_t(lba_mid_[0]) << 8 | lba_low_[0];
    } else {
      // CHS through the current logical geometry.
      unsigned cyl = lba_high_[0] << 8 | lba_mid_[0], head = device_ & 0x0F, sector = lba_low_[0];
      if (sector == 0 || sector > cur_spt_ || head >= cur_heads_) {
        fail(kIdnf);
        return false;
      }
      lba = (uint64_t(cyl) * cur_heads_ + head) * cur_spt_ + sector - 1;
    }
  }
  if (lba >= sectors_ || count > sectors_ - lba) {
    fail(kIdnf);
    return false;
  }
  lba_ = lba;
  remaining_ = count;
  return true;
}

void AtaDisk::next_read_block() {
  block_ = std::min(remaining_, block_max_);
  try {
    image_->read(lba_ * kSectorSize, buf_.data(), size_t(block_) * kSectorSize);
  } catch (const DiskImageError& e) {
    PC64_LOG(LogLevel::Error, "ide", "%s", e.what());
    return fail(kUnc);
  }
  start_data_in(size_t(block_) * kSectorSize);
}

void AtaDisk::next_write_block(bool irq) {
  block_ = std::min(remaining_, block_max_);
  start_data_out(size_t(block_) * kSectorSize, irq);
}

void AtaDisk::block_done(Phase phase) {
  if (phase == Phase::DataOut) {
    try {
      image_->write(lba_ * kSectorSize, buf_.data(), size_t(block_) * kSectorSize);
    } catch (const DiskImageError& e) {
      PC64_LOG(LogLevel::Error, "ide", "%s", e.what());
      return fail(kAbrt);
    }
  }
  if (cmd_ == kIdentify) {
    status_ = kDrdy | kDsc;
    return;
  }
  lba_ += block_;
  remaining_ -= block_;
  if (ext_) set_lba48(lba_);
  if (phase == Phase::DataIn) {
    // Data-in: INTRQ before each block, none after the last (§9.7).
    if (remaining_) next_read_block();
    else status_ = kDrdy | kDsc;
  } else {
    // Data-out: INTRQ after each block, including the last.
    if (remaining_) {
      next_write_block(true);
    } else {
      if (!write_cache_) flush_image();
      complete();
    }
  }
}

void AtaDisk::run_dma(IdeBusMaster& bm) {
  std::vector<uint8_t> chunk;
  bool failed = false;
  uint8_t err = kAbrt;
  while (remaining_ && !failed) {
    uint32_t n = std::min(remaining_, kDmaChunkSectors);
    size_t bytes = size_t(n) * kSectorSize;
    chunk.resize(bytes);
    try {
      if (dma_to_memory_) {
        image_->read(lba_ * kSectorSize, chunk.data(), bytes);
        failed = bm.transfer(chunk.data(), bytes, true) != IdeBusMaster::Result::Ok;
      } else {
        failed = bm.transfer(chunk.data(), bytes, false) != IdeBusMaster::Result::Ok;
        if (!failed) image_->write(lba_ * kSectorSize, chunk.data(), bytes);
      }
    } catch (const DiskImageError& e) {
      PC64_LOG(LogLevel::Error, "ide", "%s", e.what());
      failed = true;
      err = dma_to_memory_ ? kUnc : kAbrt;
    }
    if (!failed) {
      lba_ += n;
      remaining_ -= n;
    }
  }
  dma_pending_ = false;
  if (ext_) set_lba48(lba_);
  bm.end_transfer(failed);
  if (failed) return fail(err);
  if (!dma_to_memory_ && !write_cache_) flush_image();
  complete();
}

void AtaDisk::execute(uint8_t cmd) {
  cmd_ = cmd;
  switch (cmd) {
    case kIdentify:
      return identify();

    case kReadSectors: case kReadSectorsNoRetry: case kReadSectorsExt:
    case kReadMultiple: case kReadMultipleExt: {
      bool multiple = cmd == kReadMultiple || cmd == kReadMultipleExt;
      if (multiple && !multiple_) return fail(kAbrt);
      if (!fetch_range(cmd == kReadSectorsExt || cmd == kReadMultipleExt)) return;
      block_max_ = multiple ? multiple_ : 1;
      return next_read_block();
    }
    case kWriteSectors: case kWriteSectorsNoRetry: case kWriteSectorsExt:
    case kWriteMultiple: case kWriteMultipleExt: {
      bool multiple = cmd == kWriteMultiple || cmd == kWriteMultipleExt;
      if (multiple && !multiple_) return fail(kAbrt);
      if (!fetch_range(cmd == kWriteSectorsExt || cmd == kWriteMultipleExt)) return;
      block_max_ = multiple ? multiple_ : 1;
      // The first block is requested without an interrupt (§9.8).
      return next_write_block(false);
    }
    case kReadDma: case kReadDmaNoRetry: case kReadDmaExt:
    case kWriteDma: case kWriteDmaNoRetry: case kWriteDmaExt:
      if (!fetch_range(cmd == kReadDmaExt || cmd == kWriteDmaExt)) return;
      dma_to_memory_ = cmd == kReadDma || cmd == kReadDmaNoRetry || cmd == kReadDmaExt;
      return request_dma();

    case kReadVerify: case kReadVerifyNoRetry: case kReadVerifyExt:
      if (!fetch_range(cmd == kReadVerifyExt)) return;
      return complete();

    case kSeek:
      if (!fetch_range(false)) return;
      return complete();

    case kSetMultiple: {
      uint8_t n = count_[0];
      // Powers of two up to the maximum; 0 disables multiple mode.
      if (n > kMaxMultiple || (n & (n - 1))) return fail(kAbrt);
      multiple_ = n;
      return complete();
    }
    case kSetFeatures:
      return set_features();

    case kFlushCache: case kFlushCacheExt:
      flush_image();
      return complete();

    case kInitializeParams: {
      unsigned spt = count_[0], heads = (device_ & 0x0F) + 1u;
      if (spt == 0) return fail(kAbrt);
      cur_spt_ = spt;
      cur_heads_ = heads;
      return complete();
    }
    case kReadNativeMax: case kReadNativeMaxExt: {
      uint64_t max = sectors_ ? sectors_ - 1 : 0;
      if (cmd == kReadNativeMaxExt) {
        set_lba48(max);
      } else {
        max = std::min<uint64_t>(max, 0x0FFFFFFF);
        lba_low_[0] = static_cast<uint8_t>(max);
        lba_mid_[0] = static_cast<uint8_t>(max >> 8);
        lba_high_[0] = static_cast<uint8_t>(max >> 16);
        device_ = static_cast<uint8_t>((device_ & 0xF0) | ((max >> 24) & 0x0F));
      }
      return complete();
    }
    case kCheckPowerMode: case kCheckPowerModeOld:
      complete();
      count_[0] = 0xFF;  // active or idle
      return;
    case kStandbyImmediate: case kIdleImmediate: case kStandby: case kIdle: case kSleep:
    case kStandbyImmediateOld: case kIdleImmediateOld: case kStandbyOld: case kIdleOld: case kSleepOld:
      return complete();

    default:
      if (cmd >= 0x10 && cmd <= 0x1F) return complete();  // RECALIBRATE
      PC64_LOG(LogLevel::Debug, "ide", "ATA command 0x%02x aborted", cmd);
      // DEVICE RESET, PACKET and IDENTIFY PACKET DEVICE are for packet
      // devices only; NOP always aborts.
      return fail(kAbrt);
  }
}

void AtaDisk::serialize_device(StateSerializer& s) {
  s.tag(0x41544144);  // "ATAD"
  uint64_t sectors = sectors_;
  s(sectors);
  if (s.loading() && sectors != sectors_) throw StateError("ide: disk size differs from the saved state");
  s(cur_heads_);
  s(cur_spt_);
  s(multiple_);
  s(write_cache_);
  s(pio_mode_);
  s(mwdma_mode_);
  s(udma_mode_);
  s(cmd_);
  s(lba_);
  s(remaining_);
  s(block_);
  s(block_max_);
  s(dma_to_memory_);
  s(ext_);
  if (s.loading()) {
    if (cur_heads_ == 0 || cur_heads_ > 16 || cur_spt_ == 0 || cur_spt_ > 255 || block_ > kMaxMultiple ||
        multiple_ > kMaxMultiple)
      throw StateError("ide: bad disk state");
    if (buf_.size() < kMaxMultiple * kSectorSize) buf_.resize(kMaxMultiple * kSectorSize);
  }
}

}  // namespace pc64
