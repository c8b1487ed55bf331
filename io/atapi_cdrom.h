// An ATAPI CD/DVD-ROM drive (ATA/ATAPI-6 PACKET protocol; SCSI commands per
// MMC-3 / SPC-2) reading 2048-byte sectors of an ISO image.
//
// PACKET: the host sends a 12-byte command block in one DRQ data-out phase
// (Interrupt Reason CoD=1), then data moves in DRQ blocks of at most the
// byte-count limit from LBA Mid/High (which then tell the block's length,
// Interrupt Reason IO=1), or by bus-master DMA when Features bit 0 is set;
// completion has IO=CoD=1. Errors end with CHECK CONDITION: ERR in Status,
// the sense key in Error bits 7:4, and sense data for REQUEST SENSE.
//
// Media: a change made by the host (insert/eject) raises UNIT ATTENTION
// (MEDIUM MAY HAVE CHANGED) on the next command and a media event for
// GET EVENT STATUS NOTIFICATION.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "io/block_device.h"
#include "io/ide_drive.h"

namespace pc64 {

namespace scsi {
// Sense keys (SPC-2 table 107) and the additional sense codes used here.
constexpr uint8_t kNoSense = 0x00, kNotReady = 0x02, kMediumError = 0x03, kIllegalRequest = 0x05, kUnitAttention = 0x06,
                  kAbortedCommand = 0x0B;
constexpr uint8_t kAscInvalidOpcode = 0x20, kAscLbaOutOfRange = 0x21, kAscInvalidField = 0x24,
                  kAscMediumChanged = 0x28, kAscSavingNotSupported = 0x39, kAscMediumNotPresent = 0x3A,
                  kAscUnrecoveredRead = 0x11, kAscRemovalPrevented = 0x53;
}  // namespace scsi

class AtapiCdrom final : public IdeDrive {
 public:
  static constexpr unsigned kSectorSize = 2048;

  explicit AtapiCdrom(std::unique_ptr<BlockDevice> medium = nullptr, std::string serial = "PC64-CD0");

  bool is_atapi() const override { return true; }
  void hardware_reset() override;
  void run_dma(IdeBusMaster& bm) override;

  // Host-side media change (monitor command): the guest sees UNIT ATTENTION.
  void insert_medium(std::unique_ptr<BlockDevice> medium);
  void remove_medium();
  bool medium_present() const { return medium_ && !tray_open_; }
  bool tray_open() const { return tray_open_; }
  bool locked() const { return locked_; }
  uint64_t sectors() const { return medium_ ? medium_->size() / kSectorSize : 0; }

 private:
  void execute(uint8_t cmd) override;
  void block_done(Phase phase) override;
  void set_signature() override;
  void serialize_device(StateSerializer& s) override;
  void abort_transfer() override;

  void identify_packet();
  void packet(const uint8_t* cdb);
  // Replies: data-in of min(data.size(), alloc) bytes, by PIO or DMA.
  void reply(std::vector<uint8_t> data, size_t alloc);
  void read_sectors(uint64_t lba, uint32_t count);
  void data_out(size_t len);  // parameter data the host sends (MODE SELECT)
  void begin_transfer();
  void next_pio_block();
  size_t fill(uint8_t* dst, size_t n);
  void ok();
  void check(uint8_t key, uint8_t asc, uint8_t ascq = 0);
  bool need_medium();  // sends NOT READY if there is none

  void read_toc(const uint8_t* cdb);
  void mode_sense(const uint8_t* cdb);
  void get_configuration(const uint8_t* cdb);
  void event_status(const uint8_t* cdb);
  void start_stop(const uint8_t* cdb);

  std::unique_ptr<BlockDevice> medium_;
  std::string serial_;
  bool tray_open_ = false;
  bool locked_ = false;
  bool unit_attention_ = false;
  uint8_t media_event_ = 0;  // GESN media event code to report (0 = none)
  uint8_t sense_key_ = 0, asc_ = 0, ascq_ = 0;
  // Transfer in progress.
  bool awaiting_packet_ = false;
  bool dma_ = false;
  bool to_host_ = true;       // data-in (else data-out)
  uint16_t byte_limit_ = 0;
  uint64_t left_ = 0;         // bytes still to move
  bool reading_ = false;      // source: sectors (else reply_)
  std::vector<uint8_t> reply_;
  uint64_t reply_pos_ = 0;
  uint64_t read_lba_ = 0;
  uint32_t read_left_ = 0;    // sectors not yet staged
  std::vector<uint8_t> stage_;
  uint32_t stage_pos_ = 0, stage_len_ = 0;
};

}  // namespace pc64
