// The bus-master IDE function of one channel (Intel PIIX/PIIX3 data sheet
// §2.7 "Bus Master IDE registers", after SFF-8038i): Command (BMICX),
// Status (BMISX) and the Descriptor Table Pointer (BMIDTPX), and the engine
// that walks the Physical Region Descriptor table in guest RAM.
//
// PRD entry: dword 0 = physical base address (bit 0 ignored), dword 1 bits
// 15:0 = byte count (0 = 64 KiB), bit 31 = end of table (EOT). All guest
// memory access goes through PhysicalMemory::dma_read/dma_write, which refuse
// anything outside RAM: such a PRD sets the Error bit and stops the
// transfer instead of touching host memory.
#pragma once
#include <cstddef>
#include <cstdint>

#include "mem/physical_memory.h"
#include "mem/state.h"

namespace pc64 {

class IdeChannel;

class IdeBusMaster {
 public:
  // BMICX
  static constexpr uint8_t kCmdStart = 0x01;    // SSBM: start/stop bus master
  static constexpr uint8_t kCmdToMemory = 0x08;  // RWCON: 1 = bus master writes memory (device reads)
  // BMISX
  static constexpr uint8_t kStActive = 0x01;     // BMIDEA
  static constexpr uint8_t kStError = 0x02;      // write 1 to clear
  static constexpr uint8_t kStInterrupt = 0x04;  // IDEINTS, write 1 to clear
  static constexpr uint8_t kStDrive0Dma = 0x20, kStDrive1Dma = 0x40;  // software flags

  enum class Result { Ok, TableTooShort, MemoryError };

  IdeBusMaster(PhysicalMemory& memory, IdeChannel& channel);

  // Register block of this channel: offsets 0-7 (0 command, 2 status, 4-7 PRD pointer).
  uint32_t read(unsigned offset, unsigned size);
  void write(unsigned offset, unsigned size, uint32_t value);

  bool active() const { return status_ & kStActive; }
  uint8_t status() const { return status_; }
  uint8_t command() const { return command_; }

  // ---- for drives during run_dma ----
  // Moves `len` bytes between `buf` and guest memory along the PRD table
  // (`to_memory`: device -> memory). Stops at the first problem.
  Result transfer(uint8_t* buf, size_t len, bool to_memory);
  // The device finished the command (`failed`: aborted). Clears Active when
  // the PRD table was used up exactly or on error; a table larger than the
  // transfer leaves Active set (SFF-8038i: Interrupt=1, Active=1).
  void end_transfer(bool failed);
  // The channel's device asserted INTRQ.
  void device_interrupt() { status_ |= kStInterrupt; }

  void reset();
  void serialize(StateSerializer& s);

 private:
  void write8(unsigned offset, uint8_t v);
  uint8_t read8(unsigned offset) const;
  bool next_prd();

  PhysicalMemory& memory_;
  IdeChannel& channel_;
  uint8_t command_ = 0;
  uint8_t status_ = 0;
  uint32_t table_ = 0;  // BMIDTPX
  // PRD walk (reset when Start goes 0 -> 1).
  uint32_t next_entry_ = 0;
  uint32_t cur_addr_ = 0;
  uint32_t cur_left_ = 0;
  bool last_ = false;  // the current entry had EOT
};

}  // namespace pc64
