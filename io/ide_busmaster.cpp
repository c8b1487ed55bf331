#include "io/ide_busmaster.h"

#include <algorithm>

#include "io/ide_channel.h"
#include "mem/log.h"

namespace pc64 {

IdeBusMaster::IdeBusMaster(PhysicalMemory& memory, IdeChannel& channel) : memory_(memory), channel_(channel) {}

void IdeBusMaster::reset() {
  command_ = 0;
  status_ = 0;
  table_ = 0;
  next_entry_ = cur_addr_ = cur_left_ = 0;
  last_ = false;
}

uint8_t IdeBusMaster::read8(unsigned offset) const {
  switch (offset) {
    case 0: return command_;
    case 2: return status_;
    case 4: case 5: case 6: case 7: return static_cast<uint8_t>(table_ >> (8 * (offset - 4)));
    default: return 0;
  }
}

void IdeBusMaster::write8(unsigned offset, uint8_t v) {
  switch (offset) {
    case 0: {
      bool was = command_ & kCmdStart;
      // RWCON may only change while stopped; we accept it always (drivers
      // write it together with Start cleared anyway).
      command_ = v & (kCmdStart | kCmdToMemory);
      if ((v & kCmdStart) && !was) {
        next_entry_ = table_;
        cur_left_ = 0;
        last_ = false;
        status_ |= kStActive;
        channel_.bus_master_started();
      } else if (!(v & kCmdStart) && was) {
        // Stopping aborts whatever was in flight (nothing is, here).
        status_ &= static_cast<uint8_t>(~kStActive);
      }
      break;
    }
    case 2:
      status_ = static_cast<uint8_t>((status_ & ~(kStDrive0Dma | kStDrive1Dma)) | (v & (kStDrive0Dma | kStDrive1Dma)));
      status_ &= static_cast<uint8_t>(~(v & (kStError | kStInterrupt)));
      break;
    case 4: case 5: case 6: case 7: {
      unsigned sh = 8 * (offset - 4);
      table_ = (table_ & ~(0xFFu << sh)) | (uint32_t(v) << sh);
      table_ &= ~3u;  // dword aligned
      break;
    }
    default:
      break;
  }
}

uint32_t IdeBusMaster::read(unsigned offset, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t(read8((offset + i) & 7)) << (8 * i);
  return v;
}

void IdeBusMaster::write(unsigned offset, unsigned size, uint32_t value) {
  // PRD pointer bytes first so a dword write to 0 (command+status) and a
  // following start behaves; command last within one access.
  for (unsigned i = size; i-- > 0;) write8((offset + i) & 7, static_cast<uint8_t>(value >> (8 * i)));
}

bool IdeBusMaster::next_prd() {
  if (last_) return false;
  uint32_t e[2];
  if (!memory_.dma_read(next_entry_, e, sizeof e)) return false;
  cur_addr_ = e[0] & ~1u;
  cur_left_ = e[1] & 0xFFFF;
  if (!cur_left_) cur_left_ = 0x10000;
  last_ = e[1] & 0x80000000u;
  next_entry_ += 8;
  return true;
}

IdeBusMaster::Result IdeBusMaster::transfer(uint8_t* buf, size_t len, bool to_memory) {
  while (len) {
    if (!cur_left_) {
      if (last_) {
        PC64_LOG(LogLevel::Debug, "ide", "PRD table shorter than the transfer");
        return Result::TableTooShort;
      }
      if (!next_prd()) {
        PC64_LOG(LogLevel::Warn, "ide", "PRD table at 0x%x is outside guest RAM", next_entry_);
        status_ |= kStError;
        return Result::MemoryError;
      }
    }
    size_t n = std::min<size_t>(len, cur_left_);
    bool ok = to_memory ? memory_.dma_write(cur_addr_, buf, n) : memory_.dma_read(cur_addr_, buf, n);
    if (!ok) {
      PC64_LOG(LogLevel::Warn, "ide", "PRD buffer 0x%x+%zu is outside guest RAM", cur_addr_, n);
      status_ |= kStError;
      return Result::MemoryError;
    }
    cur_addr_ += static_cast<uint32_t>(n);
    cur_left_ -= static_cast<uint32_t>(n);
    buf += n;
    len -= n;
  }
  return Result::Ok;
}

void IdeBusMaster::end_transfer(bool failed) {
  if (failed || (last_ && !cur_left_)) status_ &= static_cast<uint8_t>(~kStActive);
}

void IdeBusMaster::serialize(StateSerializer& s) {
  s.tag(0x424D4944);  // "BMID"
  s(command_);
  s(status_);
  s(table_);
  s(next_entry_);
  s(cur_addr_);
  s(cur_left_);
  s(last_);
}

}  // namespace pc64
