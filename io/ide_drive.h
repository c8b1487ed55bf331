// What the ATA disk and the ATAPI CD-ROM share: one device's Command Block
// registers (with the 48-bit "previous content" of each, ATA/ATAPI-6 §6.2),
// Status/Error, the interrupt request (INTRQ), the PIO data buffer with its
// DRQ block, and the hook for bus-master DMA.
//
// Everything completes synchronously: a command either finishes at once
// (status, INTRQ) or opens a DRQ data block; the last word of the block
// moves the protocol on. BSY is therefore only seen during SRST.
#pragma once
#include <cstdint>
#include <vector>

#include "mem/state.h"

namespace pc64 {

class IdeChannel;
class IdeBusMaster;

namespace ata {
// Status register (ATA/ATAPI-6 §7.15.6).
constexpr uint8_t kBsy = 0x80, kDrdy = 0x40, kDf = 0x20, kDsc = 0x10, kDrq = 0x08, kErr = 0x01;
// Error register.
constexpr uint8_t kIcrc = 0x80, kUnc = 0x40, kIdnf = 0x10, kAbrt = 0x04;
// Device Control register.
constexpr uint8_t kHob = 0x80, kSrst = 0x04, kNien = 0x02;
// Device register.
constexpr uint8_t kLba = 0x40, kDev = 0x10;
// Command Block register offsets from the base port.
enum Reg : unsigned { kData = 0, kErrorFeature = 1, kCount = 2, kLbaLow = 3, kLbaMid = 4, kLbaHigh = 5, kDevice = 6, kStatusCommand = 7 };
}  // namespace ata

class IdeDrive {
 public:
  virtual ~IdeDrive() = default;
  virtual bool is_atapi() const = 0;

  // ---- called by the channel ----
  void attach(IdeChannel* channel, unsigned unit) { channel_ = channel, unit_ = unit; }
  void write_register(unsigned reg, uint8_t v);  // Features .. Device
  uint8_t read_register(unsigned reg, bool hob) const;  // Error .. Device, Status
  uint8_t status() const { return status_; }
  void command(uint8_t cmd);
  uint32_t read_data(unsigned size);
  void write_data(unsigned size, uint32_t value);
  // SRST asserted / released (ATA/ATAPI-6 §9.2), power-on reset.
  void begin_software_reset();
  void end_software_reset();
  virtual void hardware_reset();
  // EXECUTE DEVICE DIAGNOSTIC (both devices run it): signature, code 01h.
  void diagnose(bool interrupt);
  bool intrq() const { return intrq_; }
  void clear_intrq() { intrq_ = false; }
  // A DMA command waits for the bus master; run_dma moves all its data.
  bool dma_pending() const { return dma_pending_; }
  virtual void run_dma(IdeBusMaster& bm) = 0;
  void serialize(StateSerializer& s);

 protected:
  enum class Phase : uint8_t { None, DataIn, DataOut };

  virtual void execute(uint8_t cmd) = 0;
  // The DRQ block the host was moving is complete.
  virtual void block_done(Phase phase) = 0;
  virtual void set_signature() = 0;
  virtual void serialize_device(StateSerializer& s) = 0;
  // Device-specific reset of transfer state (SRST, DEVICE RESET, power-on).
  virtual void abort_transfer() { dma_pending_ = false; }

  // Data phase of `len` bytes from/to buf_. DRQ set; INTRQ if `irq`.
  void start_data_in(size_t len, bool irq = true);
  void start_data_out(size_t len, bool irq);
  // Command done: DRDY|DSC, INTRQ.
  void complete();
  // Command failed: DRDY|ERR, Error = err, INTRQ.
  void fail(uint8_t err);
  void raise_irq();
  void request_dma();  // sets dma_pending and asks the channel to run it
  // 28- or 48-bit address and count from the registers.
  uint64_t lba48() const;
  uint32_t count48() const;  // 0 means 65536
  void set_lba48(uint64_t lba);

  IdeChannel* channel_ = nullptr;
  unsigned unit_ = 0;
  // Command Block registers: [0] current, [1] previous (HOB).
  uint8_t feature_[2] = {}, count_[2] = {}, lba_low_[2] = {}, lba_mid_[2] = {}, lba_high_[2] = {};
  uint8_t device_ = 0;
  uint8_t status_ = 0;
  uint8_t error_ = 0;
  bool intrq_ = false;
  bool dma_pending_ = false;
  Phase phase_ = Phase::None;
  std::vector<uint8_t> buf_;  // current DRQ block
  uint32_t pos_ = 0, end_ = 0;
};

}  // namespace pc64
