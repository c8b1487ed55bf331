#include "io/atapi_cdrom.h"

#include <algorithm>
#include <cstring>

#include "io/ide_busmaster.h"
#include "mem/log.h"

namespace pc64 {

using namespace ata;
using namespace scsi;

namespace {

// Interrupt Reason (Sector Count register) bits.
constexpr uint8_t kCoD = 0x01, kIo = 0x02;

// MMC opcodes.
enum : uint8_t {
  kTestUnitReady = 0x00, kRequestSense = 0x03, kInquiry = 0x12, kStartStopUnit = 0x1B,
  kPreventAllow = 0x1E, kReadCapacity = 0x25, kRead10 = 0x28, kSeek10 = 0x2B, kReadToc = 0x43,
  kGetConfiguration = 0x46, kGetEventStatus = 0x4A, kReadDiscInfo = 0x51, kModeSelect10 = 0x55,
  kModeSense10 = 0x5A, kRead12 = 0xA8, kSetCdSpeed = 0xBB, kMechanismStatus = 0xBD, kReadCd = 0xBE,
};

constexpr uint32_t kStageSectors = 32;
constexpr size_t kDmaChunk = 128 * 1024;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
void put16(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}
void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  for (int i = 0; i < 4; ++i) v[at + i] = static_cast<uint8_t>(x >> (24 - 8 * i));
}
// 4-byte address field: LBA, or 0/M/S/F with the 2-second lead-in offset.
void put_address(std::vector<uint8_t>& v, size_t at, uint32_t lba, bool msf) {
  if (!msf) return put32(v, at, lba);
  uint32_t f = lba + 150;
  v[at] = 0;
  v[at + 1] = static_cast<uint8_t>(f / (75 * 60));
  v[at + 2] = static_cast<uint8_t>(f / 75 % 60);
  v[at + 3] = static_cast<uint8_t>(f % 75);
}
void put_ata_string(uint16_t* w, const std::string& s, size_t words) {
  for (size_t i = 0; i < words * 2; ++i) {
    uint8_t c = i < s.size() ? static_cast<uint8_t>(s[i]) : ' ';
    if (i % 2 == 0)
      w[i / 2] = static_cast<uint16_t>(c << 8);
    else
      w[i / 2] |= c;
  }
}

}  // namespace

AtapiCdrom::AtapiCdrom(std::unique_ptr<BlockDevice> medium, std::string serial)
    : medium_(std::move(medium)), serial_(std::move(serial)) {
  buf_.resize(0x10000);
}

void AtapiCdrom::hardware_reset() {
  IdeDrive::hardware_reset();
  locked_ = false;
  sense_key_ = asc_ = ascq_ = 0;
}

void AtapiCdrom::set_signature() {
  count_[0] = 1;
  lba_low_[0] = 1;
  lba_mid_[0] = 0x14;
  lba_high_[0] = 0xEB;
  device_ = 0;
}

void AtapiCdrom::abort_transfer() {
  IdeDrive::abort_transfer();
  awaiting_packet_ = false;
  left_ = 0;
  reading_ = false;
  reply_.clear();
  stage_pos_ = stage_len_ = 0;
}

void AtapiCdrom::insert_medium(std::unique_ptr<BlockDevice> medium) {
  medium_ = std::move(medium);
  tray_open_ = false;
  unit_attention_ = true;
  media_event_ = 2;  // NewMedia
}

void AtapiCdrom::remove_medium() {
  medium_.reset();
  media_event_ = 3;  // MediaRemoval
}

// ------------------------------------------------------------ ATA level

void AtapiCdrom::identify_packet() {
  uint16_t w[256] = {};
  // ATAPI, CD-ROM (05h), removable, DRQ within 50 us, 12-byte packets.
  w[0] = 0x8000 | (0x05 << 8) | 0x80 | (2 << 5);
  put_ata_string(&w[10], serial_, 10);
  put_ata_string(&w[23], "0.1.0", 4);
  put_ata_string(&w[27], "PC64 DVD-ROM", 20);
  w[49] = (1 << 11) | (1 << 9) | (1 << 8);  // IORDY, LBA, DMA
  w[50] = 0x4000;
  w[53] = 0x0006;  // words 64-70 and 88 valid
  w[63] = 0x0007;
  w[64] = 0x0003;
  w[65] = w[66] = w[67] = w[68] = 120;
  w[71] = 30;
  w[72] = 30;
  w[80] = 0x00F0;
  w[82] = (1 << 14) | (1 << 9) | (1 << 4);  // NOP, DEVICE RESET, PACKET
  w[83] = 1 << 14;
  w[84] = 1 << 14;
  w[85] = (1 << 14) | (1 << 9) | (1 << 4);
  w[87] = 1 << 14;
  w[88] = 0x003F | (1 << 10);  // UDMA 0-5, mode 2 selected
  w[93] = (1 << 14) | (1 << 13) | (unit_ == 0 ? 0x0009 : 0x0900);
  for (int i = 0; i < 256; ++i) {
    buf_[2 * i] = static_cast<uint8_t>(w[i]);
    buf_[2 * i + 1] = static_cast<uint8_t>(w[i] >> 8);
  }
  start_data_in(512);
}

void AtapiCdrom::execute(uint8_t cmd) {
  abort_transfer();
  switch (cmd) {
    case 0xA0:  // PACKET
      dma_ = feature_[0] & 1;
      byte_limit_ = static_cast<uint16_t>(lba_high_[0] << 8 | lba_mid_[0]);
      awaiting_packet_ = true;
      count_[0] = kCoD;
      start_data_out(12, false);
      return;
    case 0xA1:
      return identify_packet();
    case 0x08:  // DEVICE RESET: signature, no interrupt (ATA/ATAPI-6 §8.7)
      set_signature();
      error_ = 0x01;
      status_ = 0;
      return;
    case 0xEC:
      // Packet devices abort IDENTIFY DEVICE but leave their signature
      // behind, which is how drivers tell them apart (§8.15).
      set_signature();
      fail(kAbrt);
      return;
    case 0xEF:  // SET FEATURES: transfer modes and friends are accepted
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE6: case 0xE7:
      return complete();
    case 0xE5:
      complete();
      count_[0] = 0xFF;
      return;
    default:
      return fail(kAbrt);
  }
}

// ------------------------------------------------------------ transfers

void AtapiCdrom::ok() {
  sense_key_ = asc_ = ascq_ = 0;
  complete();
  count_[0] = kIo | kCoD;
}

void AtapiCdrom::check(uint8_t key, uint8_t asc, uint8_t ascq) {
  abort_transfer();
  sense_key_ = key;
  asc_ = asc;
  ascq_ = ascq;
  fail(static_cast<uint8_t>(key << 4));
  count_[0] = kIo | kCoD;
}

bool AtapiCdrom::need_medium() {
  if (medium_present()) return true;
  check(kNotReady, kAscMediumNotPresent, tray_open_ ? 0x02 : 0x01);
  return false;
}

void AtapiCdrom::reply(std::vector<uint8_t> data, size_t alloc) {
  left_ = std::min(data.size(), alloc);
  reply_ = std::move(data);
  reply_pos_ = 0;
  reading_ = false;
  to_host_ = true;
  begin_transfer();
}

void AtapiCdrom::read_sectors(uint64_t lba, uint32_t count) {
  if (lba > sectors() || count > sectors() - lba) return check(kIllegalRequest, kAscLbaOutOfRange);
  reading_ = true;
  read_lba_ = lba;
  read_left_ = count;
  stage_pos_ = stage_len_ = 0;
  left_ = uint64_t(count) * kSectorSize;
  to_host_ = true;
  begin_transfer();
}

void AtapiCdrom::data_out(size_t len) {
  reading_ = false;
  left_ = len;
  to_host_ = false;
  begin_transfer();
}

void AtapiCdrom::begin_transfer() {
  if (!left_) return ok();
  if (dma_) return request_dma();
  next_pio_block();
}

size_t AtapiCdrom::fill(uint8_t* dst, size_t n) {
  if (!reading_) {
    size_t have = reply_pos_ < reply_.size() ? static_cast<size_t>(std::min<uint64_t>(n, reply_.size() - reply_pos_)) : 0;
    if (have) std::memcpy(dst, reply_.data() + reply_pos_, have);
    std::memset(dst + have, 0, n - have);
    reply_pos_ += n;
    return n;
  }
  size_t done = 0;
  while (done < n) {
    if (stage_pos_ == stage_len_) {
      // Whole sectors straight into the destination when they fit (DMA).
      uint32_t direct = static_cast<uint32_t>(std::min<uint64_t>(read_left_, (n - done) / kSectorSize));
      if (direct) {
        medium_->read(read_lba_ * kSectorSize, dst + done, size_t(direct) * kSectorSize);
        read_lba_ += direct;
        read_left_ -= direct;
        done += size_t(direct) * kSectorSize;
        continue;
      }
      uint32_t k = std::min(read_left_, kStageSectors);
      if (!k) break;
      stage_.resize(size_t(kStageSectors) * kSectorSize);
      medium_->read(read_lba_ * kSectorSize, stage_.data(), size_t(k) * kSectorSize);
      read_lba_ += k;
      read_left_ -= k;
      stage_pos_ = 0;
      stage_len_ = k * kSectorSize;
    }
    size_t m = std::min<size_t>(n - done, stage_len_ - stage_pos_);
    std::memcpy(dst + done, stage_.data() + stage_pos_, m);
    stage_pos_ += static_cast<uint32_t>(m);
    done += m;
  }
  return done;
}

void AtapiCdrom::next_pio_block() {
  // A DRQ block holds at most the byte-count limit, rounded down to even
  // (0 is not a valid limit; treat it as the largest).
  size_t limit = byte_limit_ & ~1u;
  if (!limit) limit = 0xFFFE;
  size_t n = static_cast<size_t>(std::min<uint64_t>(left_, limit));
  if (buf_.size() < n) buf_.resize(n);
  lba_mid_[0] = static_cast<uint8_t>(n);
  lba_high_[0] = static_cast<uint8_t>(n >> 8);
  if (to_host_) {
    try {
      fill(buf_.data(), n);
    } catch (const DiskImageError& e) {
      PC64_LOG(LogLevel::Error, "ide", "%s", e.what());
      return check(kMediumError, kAscUnrecoveredRead);
    }
    count_[0] = kIo;
    start_data_in(n, true);
  } else {
    count_[0] = 0;
    start_data_out(n, true);
  }
}

void AtapiCdrom::block_done(Phase phase) {
  if (awaiting_packet_) {
    awaiting_packet_ = false;
    uint8_t cdb[12];
    std::memcpy(cdb, buf_.data(), sizeof cdb);
    return packet(cdb);
  }
  if (phase == Phase::DataIn && !left_) {  // IDENTIFY PACKET DEVICE
    status_ = kDrdy | kDsc;
    return;
  }
  left_ -= std::min<uint64_t>(left_, end_);
  if (left_) return next_pio_block();
  ok();
}

void AtapiCdrom::run_dma(IdeBusMaster& bm) {
  std::vector<uint8_t> chunk;
  bool failed = false;
  while (left_ && !failed) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left_, kDmaChunk));
    chunk.resize(n);
    if (to_host_) {
      try {
        fill(chunk.data(), n);
      } catch (const DiskImageError& e) {
        PC64_LOG(LogLevel::Error, "ide", "%s", e.what());
        dma_pending_ = false;
        bm.end_transfer(true);
        return check(kMediumError, kAscUnrecoveredRead);
      }
    }
    failed = bm.transfer(chunk.data(), n, to_host_) != IdeBusMaster::Result::Ok;
    if (!failed) left_ -= n;
  }
  dma_pending_ = false;
  bm.end_transfer(failed);
  if (failed) return check(kAbortedCommand, 0x00);  // the host adapter gave up (bad PRD)
  ok();
}

// ------------------------------------------------------------ packet commands

void AtapiCdrom::packet(const uint8_t* cdb) {
  uint8_t op = cdb[0];
  // A pending UNIT ATTENTION fails the next command, except those that
  // report status (SPC-2 §5.6.5, MMC-3 GESN/GET CONFIGURATION).
  bool allow_ua = op == kInquiry || op == kRequestSense || op == kGetConfiguration || op == kGetEventStatus;
  if (unit_attention_ && !allow_ua) {
    unit_attention_ = false;
    return check(kUnitAttention, kAscMediumChanged);
  }
  switch (op) {
    case kTestUnitReady:
      if (need_medium()) ok();
      return;
    case kRequestSense: {
      std::vector<uint8_t> d(18, 0);
      d[0] = 0x70;  // current error, fixed format
      if (unit_attention_) {
        unit_attention_ = false;
        d[2] = kUnitAttention;
        d[12] = kAscMediumChanged;
      } else {
        d[2] = sense_key_;
        d[12] = asc_;
        d[13] = ascq_;
      }
      d[7] = 10;
      sense_key_ = asc_ = ascq_ = 0;
      return reply(std::move(d), cdb[4]);
    }
    case kInquiry: {
      std::vector<uint8_t> d(36, 0);
      d[0] = 0x05;  // CD/DVD device
      d[1] = 0x80;  // removable
      d[3] = 0x21;  // ATAPI version 2, response format 1
      d[4] = 31;
      std::memcpy(&d[8], "PC64    ", 8);
      std::memcpy(&d[16], "DVD-ROM         ", 16);
      std::memcpy(&d[32], "0.1 ", 4);
      return reply(std::move(d), be16(cdb + 3));
    }
    case kReadCapacity: {
      if (!need_medium()) return;
      std::vector<uint8_t> d(8);
      put32(d, 0, static_cast<uint32_t>(sectors() ? sectors() - 1 : 0));
      put32(d, 4, kSectorSize);
      return reply(std::move(d), 8);
    }
    case kRead10:
      if (!need_medium()) return;
      return read_sectors(be32(cdb + 2), be16(cdb + 7));
    case kRead12:
      if (!need_medium()) return;
      return read_sectors(be32(cdb + 2), be32(cdb + 6));
    case kReadCd: {
      if (!need_medium()) return;
      uint32_t count = uint32_t(cdb[6]) << 16 | uint32_t(cdb[7]) << 8 | cdb[8];
      if (cdb[9] == 0) return ok();                     // nothing selected
      if ((cdb[9] & 0xF8) != 0x10) return check(kIllegalRequest, kAscInvalidField);  // only user data
      return read_sectors(be32(cdb + 2), count);
    }
    case kSeek10:
      if (!need_medium()) return;
      if (be32(cdb + 2) >= sectors()) return check(kIllegalRequest, kAscLbaOutOfRange);
      return ok();
    case kReadToc:
      return read_toc(cdb);
    case kModeSense10:
      return mode_sense(cdb);
    case kModeSelect10:
      return data_out(be16(cdb + 7));
    case kGetConfiguration:
      return get_configuration(cdb);
    case kGetEventStatus:
      return event_status(cdb);
    case kReadDiscInfo: {
      if (!need_medium()) return;
      if (cdb[1] & 7) return check(kIllegalRequest, kAscInvalidField);
      std::vector<uint8_t> d(34, 0);
      put16(d, 0, 32);
      d[2] = 0x0E;  // last session complete, disc finalized
      d[3] = 1;     // first track
      d[4] = 1;     // sessions
      d[5] = 1;     // first track in last session
      d[6] = 1;     // last track in last session
      d[7] = 0x20;  // unrestricted use
      d[8] = 0x00;  // CD-DA or CD-ROM disc
      std::fill(d.begin() + 16, d.begin() + 24, 0xFF);  // no lead-in / lead-out info
      return reply(std::move(d), be16(cdb + 7));
    }
    case kStartStopUnit:
      return start_stop(cdb);
    case kPreventAllow:
      locked_ = cdb[4] & 1;
      return ok();
    case kSetCdSpeed:
      return ok();
    case kMechanismStatus: {
      std::vector<uint8_t> d(8, 0);
      if (tray_open_) d[1] = 0x10;
      return reply(std::move(d), be16(cdb + 8));
    }
    default:
      PC64_LOG(LogLevel::Debug, "ide", "ATAPI command 0x%02x not supported", op);
      return check(kIllegalRequest, kAscInvalidOpcode);
  }
}

void AtapiCdrom::start_stop(const uint8_t* cdb) {
  bool loej = cdb[4] & 2, start = cdb[4] & 1;
  if (!loej) return ok();  // spin up/down
  if (!start) {
    if (locked_) return check(kIllegalRequest, kAscRemovalPrevented, 0x02);
    if (!tray_open_) {
      tray_open_ = true;
      if (medium_) media_event_ = 3;  // MediaRemoval
    }
  } else if (tray_open_) {
    tray_open_ = false;
    if (medium_) {
      media_event_ = 2;  // NewMedia
      unit_attention_ = true;
    }
  }
  ok();
}

void AtapiCdrom::read_toc(const uint8_t* cdb) {
  if (!need_medium()) return;
  bool msf = cdb[1] & 2;
  unsigned format = cdb[2] & 0x0F;
  if (!format) format = cdb[9] >> 6;  // pre-MMC placement of the format field
  unsigned track = cdb[6];
  size_t alloc = be16(cdb + 7);
  uint32_t leadout = static_cast<uint32_t>(sectors());
  std::vector<uint8_t> d;
  switch (format) {
    case 0: {  // TOC: track 1 (data) and the lead-out (AAh)
      if (track > 1 && track != 0xAA) return check(kIllegalRequest, kAscInvalidField);
      d.assign(4, 0);
      d[2] = 1;
      d[3] = 1;
      auto add = [&](uint8_t number, uint32_t lba) {
        size_t at = d.size();
        d.resize(at + 8, 0);
        d[at + 1] = 0x14;  // ADR 1 (position), control 4 (data track)
        d[at + 2] = number;
        put_address(d, at + 4, lba, msf);
      };
      if (track <= 1) add(1, 0);
      add(0xAA, leadout);
      break;
    }
    case 1: {  // session information: one session starting at track 1
      d.assign(12, 0);
      d[2] = 1;
      d[3] = 1;
      d[5] = 0x14;
      d[6] = 1;
      put_address(d, 8, 0, msf);
      break;
    }
    case 2: {  // full TOC: points A0, A1, A2 and track 1 of session 1 (MSF)
      d.assign(4, 0);
      d[2] = 1;
      d[3] = 1;
      auto add = [&](uint8_t point, uint8_t pm, uint8_t ps, uint8_t pf) {
        size_t at = d.size();
        d.resize(at + 11, 0);
        d[at] = 1;       // session
        d[at + 1] = 0x14;
        d[at + 3] = point;
        d[at + 8] = pm;
        d[at + 9] = ps;
        d[at + 10] = pf;
      };
      uint32_t f = leadout + 150;
      add(0xA0, 1, 0x00, 0);  // first track 1, disc type CD-ROM
      add(0xA1, 1, 0, 0);     // last track 1
      add(0xA2, static_cast<uint8_t>(f / 4500), static_cast<uint8_t>(f / 75 % 60), static_cast<uint8_t>(f % 75));
      add(0x01, 0, 2, 0);     // track 1 at 00:02:00
      break;
    }
    default:
      return check(kIllegalRequest, kAscInvalidField);
  }
  put16(d, 0, static_cast<uint32_t>(d.size() - 2));
  reply(std::move(d), alloc);
}

void AtapiCdrom::mode_sense(const uint8_t* cdb) {
  unsigned pc = cdb[2] >> 6, page = cdb[2] & 0x3F;
  if (pc == 3) return check(kIllegalRequest, kAscSavingNotSupported);
  std::vector<uint8_t> d(8, 0);
  d[2] = medium_present() ? 0x01 : tray_open_ ? 0x71 : 0x70;  // 120 mm data CD / door open / no disc
  auto add = [&](std::vector<uint8_t> p) {
    if (pc == 1) std::fill(p.begin() + 2, p.end(), 0);  // nothing is changeable
    d.insert(d.end(), p.begin(), p.end());
  };
  bool all = page == 0x3F;
  if (page == 0x01 || all) add({0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0});  // read error recovery
  if (page == 0x0E || all) add({0x0E, 0x0E, 0x04, 0, 0, 0, 0, 0, 0x01, 0xFF, 0x02, 0xFF, 0, 0, 0, 0});  // audio control
  if (page == 0x2A || all) {
    // CD capabilities and mechanical status (MMC-3 §6.3.11).
    std::vector<uint8_t> p(22, 0);
    p[0] = 0x2A;
    p[1] = 0x14;
    p[2] = 0x03;  // reads CD-R, CD-RW
    p[4] = 0x71;  // audio play, mode 2 form 1/2, multi-session
    p[5] = 0x60;
    p[6] = static_cast<uint8_t>(0x29 | (locked_ ? 0x02 : 0));  // tray, eject, lock (state)
    p[8] = 0x02, p[9] = 0xC0;   // max speed 704 kB/s
    p[11] = 2;                  // volume levels
    p[12] = 0x02, p[13] = 0x00; // 512 KiB buffer
    p[14] = 0x02, p[15] = 0xC0; // current speed
    add(std::move(p));
  }
  if (d.size() == 8) return check(kIllegalRequest, kAscInvalidField);
  put16(d, 0, static_cast<uint32_t>(d.size() - 2));
  reply(std::move(d), be16(cdb + 7));
}

void AtapiCdrom::get_configuration(const uint8_t* cdb) {
  unsigned rt = cdb[1] & 3;
  unsigned start = be16(cdb + 2);
  bool present = medium_present();
  std::vector<uint8_t> d(8, 0);
  put16(d, 6, present ? 0x0008 : 0);  // current profile: CD-ROM
  auto add = [&](unsigned code, uint8_t version_flags, bool current, std::vector<uint8_t> body) {
    if (rt == 2 ? code != start : code < start) return;
    if (rt == 1 && !current) return;
    size_t at = d.size();
    d.resize(at + 4 + body.size(), 0);
    put16(d, at, code);
    d[at + 2] = static_cast<uint8_t>(version_flags | (current ? 1 : 0));
    d[at + 3] = static_cast<uint8_t>(body.size());
    std::copy(body.begin(), body.end(), d.begin() + static_cast<long>(at + 4));
  };
  add(0x0000, 0x02, true, {0x00, 0x08, static_cast<uint8_t>(present ? 1 : 0), 0});  // profile list
  add(0x0001, 0x0A, true, {0, 0, 0, 2, 0, 0, 0, 0});                                // core: ATAPI
  add(0x0003, 0x02, true, {0x29, 0, 0, 0});                                         // removable medium, tray
  add(0x0010, 0x00, present, {0, 0, 0x08, 0x00, 0, 1, 0, 0});                       // random readable, 2048
  add(0x001E, 0x08, present, {0, 0, 0, 0});                                         // CD read
  put32(d, 0, static_cast<uint32_t>(d.size() - 4));
  reply(std::move(d), be16(cdb + 7));
}

void AtapiCdrom::event_status(const uint8_t* cdb) {
  // Only polled operation exists over ATAPI.
  if (!(cdb[1] & 1)) return check(kIllegalRequest, kAscInvalidField);
  std::vector<uint8_t> d(4, 0);
  d[3] = 0x10;  // supported classes: media
  if (cdb[4] & 0x10) {
    d[2] = 0x04;  // media class
    d.resize(8, 0);
    d[4] = media_event_;
    d[5] = static_cast<uint8_t>((medium_present() ? 0x02 : 0) | (tray_open_ ? 0x01 : 0));
    media_event_ = 0;
  } else {
    d[2] = 0x80;  // no event available in the requested classes
  }
  put16(d, 0, static_cast<uint32_t>(d.size() - 2));
  reply(std::move(d), be16(cdb + 7));
}

void AtapiCdrom::serialize_device(StateSerializer& s) {
  s.tag(0x41544150);  // "ATAP"
  s(tray_open_);
  s(locked_);
  s(unit_attention_);
  s(media_event_);
  s(sense_key_);
  s(asc_);
  s(ascq_);
  s(awaiting_packet_);
  s(dma_);
  s(to_host_);
  s(byte_limit_);
  s(left_);
  s(reading_);
  s(reply_);
  s(reply_pos_);
  s(read_lba_);
  s(read_left_);
  s(stage_);
  s(stage_pos_);
  s(stage_len_);
  if (s.loading() && (stage_pos_ > stage_len_ || stage_len_ > stage_.size())) throw StateError("ide: bad ATAPI state");
  if (s.loading() && buf_.size() < 0x10000) buf_.resize(0x10000);
}

}  // namespace pc64
