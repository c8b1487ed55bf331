// An ATA hard disk (ATA/ATAPI-6, T13/1410D) on a BlockDevice: IDENTIFY
// DEVICE, PIO, READ/WRITE MULTIPLE, DMA (28- and 48-bit), READ VERIFY,
// SET FEATURES, SET MULTIPLE MODE, FLUSH CACHE, INITIALIZE DEVICE
// PARAMETERS, power management, SEEK, READ NATIVE MAX ADDRESS.
// Unsupported commands end with ABRT, addresses beyond the end with IDNF,
// host I/O errors with UNC (reads) or ABRT (writes).
#pragma once
#include <memory>
#include <string>

#include "io/block_device.h"
#include "io/ide_drive.h"

namespace pc64 {

class AtaDisk final : public IdeDrive {
 public:
  static constexpr unsigned kSectorSize = 512;
  static constexpr unsigned kMaxMultiple = 16;  // IDENTIFY word 47

  // `serial` distinguishes disks (IDENTIFY words 10-19).
  AtaDisk(std::unique_ptr<BlockDevice> image, std::string serial = "PC64-HD0");

  bool is_atapi() const override { return false; }
  void hardware_reset() override;
  void run_dma(IdeBusMaster& bm) override;

  uint64_t sectors() const { return sectors_; }
  BlockDevice& image() { return *image_; }
  // Default (BIOS) geometry as IDENTIFY words 1, 3, 6 report it.
  unsigned cylinders() const { return cylinders_; }
  unsigned heads() const { return heads_; }
  unsigned sectors_per_track() const { return spt_; }

 private:
  void execute(uint8_t cmd) override;
  void block_done(Phase phase) override;
  void set_signature() override;
  void serialize_device(StateSerializer& s) override;
  void abort_transfer() override;

  void identify();
  void set_features();
  // Address and count of a read/write command; false (IDNF sent) if out of range.
  bool fetch_range(bool ext);
  void next_read_block();
  void next_write_block(bool irq);
  void flush_image();

  std::unique_ptr<BlockDevice> image_;
  std::string serial_;
  uint64_t sectors_ = 0;
  unsigned cylinders_ = 0, heads_ = 0, spt_ = 0;
  // Current logical geometry (INITIALIZE DEVICE PARAMETERS).
  unsigned cur_heads_ = 0, cur_spt_ = 0;
  uint8_t multiple_ = kMaxMultiple;
  bool write_cache_ = true;
  uint8_t pio_mode_ = 4, mwdma_mode_ = 0xFF, udma_mode_ = 2;  // 0xFF = none selected
  // Command in progress.
  uint8_t cmd_ = 0;
  uint64_t lba_ = 0;
  uint32_t remaining_ = 0;  // sectors
  uint32_t block_ = 0;      // sectors in the current DRQ block
  uint32_t block_max_ = 1;  // sectors per DRQ block for this command
  bool dma_to_memory_ = false;
  bool ext_ = false;
};

}  // namespace pc64
