#include <doctest/doctest.h>

#include "ide_test_rig.h"
#include "io/atapi_cdrom.h"
#include "io/disk_image_open.h"
#include <unistd.h>

using namespace pc64;
using namespace pc64_test;

namespace {

constexpr uint64_t kIsoSectors = 300;

std::unique_ptr<PatternDisk> iso(uint8_t salt = 9) { return std::make_unique<PatternDisk>(kIsoSectors * 2048, salt); }

struct PacketResult {
  std::vector<uint8_t> data;
  std::vector<size_t> blocks;  // DRQ block sizes seen
  uint8_t status = 0, error = 0, reason = 0;
  bool check() const { return status & ata::kErr; }
  uint8_t sense_key() const { return error >> 4; }
};

// Sends a 12-byte packet by PIO and collects the data-in phase.
PacketResult packet(IdeRig& r, unsigned ch, unsigned unit, std::vector<uint8_t> cdb, uint16_t limit = 0xFFFE) {
  cdb.resize(12, 0);
  r.select(ch, unit, 0xA0);
  r.out8(IdeRig::base(ch) + 1, 0);  // PIO
  r.out8(IdeRig::base(ch) + 4, limit & 0xFF);
  r.out8(IdeRig::base(ch) + 5, limit >> 8);
  r.out8(IdeRig::base(ch) + 7, 0xA0);
  PacketResult res;
  // Command packet phase: DRQ with CoD=1, IO=0 and no interrupt.
  REQUIRE((r.alt_status(ch) & ata::kDrq) != 0);
  REQUIRE(r.in8(IdeRig::base(ch) + 2) == 0x01);
  r.write_block(ch, cdb.data(), 12);
  int guard = 0;
  while ((r.alt_status(ch) & ata::kDrq) && guard++ < 10000) {
    CHECK(r.irqs.level[IdeRig::irq(ch)]);
    CHECK(r.in8(IdeRig::base(ch) + 2) == 0x02);  // IO=1, CoD=0: data to the host
    size_t n = r.in8(IdeRig::base(ch) + 4) | r.in8(IdeRig::base(ch) + 5) << 8;
    r.status(ch);
    res.blocks.push_back(n);
    auto b = r.read_block(ch, n);
    res.data.insert(res.data.end(), b.begin(), b.end());
  }
  CHECK(r.irqs.level[IdeRig::irq(ch)]);  // completion interrupt
  res.reason = r.in8(IdeRig::base(ch) + 2);
  res.error = r.error(ch);
  res.status = r.status(ch);
  CHECK(res.reason == 0x03);  // IO=1, CoD=1: status
  return res;
}

std::vector<uint8_t> read10(uint32_t lba, uint16_t n) {
  return {0x28, 0, uint8_t(lba >> 24), uint8_t(lba >> 16), uint8_t(lba >> 8), uint8_t(lba), 0, uint8_t(n >> 8), uint8_t(n)};
}

}  // namespace

TEST_CASE("ATAPI identity: IDENTIFY DEVICE aborts with the signature, IDENTIFY PACKET DEVICE answers") {
  IdeRig r;
  r.add_cdrom(1, 0, iso());
  r.select(1, 0, 0xA0);
  r.out8(0x177, 0xEC);
  CHECK(r.status(1) == (ata::kDrdy | ata::kErr));
  CHECK(r.error(1) == ata::kAbrt);
  CHECK(r.in8(0x174) == 0x14);
  CHECK(r.in8(0x175) == 0xEB);
  r.out8(0x177, 0xA1);
  CHECK(r.irqs.level[15]);
  auto id = r.read_block(1, 512);
  uint16_t w0 = static_cast<uint16_t>(id[0] | id[1] << 8);
  CHECK(w0 == 0x85C0);  // ATAPI, CD-ROM, removable, 12-byte packets
  std::string model;
  for (int i = 27; i < 47; ++i) model += static_cast<char>(id[2 * i + 1]), model += static_cast<char>(id[2 * i]);
  CHECK(model.rfind("PC64 DVD-ROM", 0) == 0);
  CHECK(((id[2 * 49 + 1] << 8) & 0x0100) != 0);  // DMA
}

TEST_CASE("ATAPI INQUIRY, READ CAPACITY, READ(10)/READ(12) with the byte-count limit") {
  IdeRig r;
  auto medium = iso();
  auto* m = medium.get();
  r.add_cdrom(1, 0, std::move(medium));
  auto inq = packet(r, 1, 0, {0x12, 0, 0, 0, 36});
  REQUIRE(inq.data.size() == 36);
  CHECK(inq.data[0] == 0x05);
  CHECK((inq.data[1] & 0x80) != 0);
  CHECK(std::string(inq.data.begin() + 8, inq.data.begin() + 12) == "PC64");
  // Allocation length truncates.
  CHECK(packet(r, 1, 0, {0x12, 0, 0, 0, 5}).data.size() == 5);

  auto cap = packet(r, 1, 0, {0x25});
  REQUIRE(cap.data.size() == 8);
  uint32_t last = uint32_t(cap.data[0]) << 24 | cap.data[1] << 16 | cap.data[2] << 8 | cap.data[3];
  uint32_t bs = uint32_t(cap.data[4]) << 24 | cap.data[5] << 16 | cap.data[6] << 8 | cap.data[7];
  CHECK(last == kIsoSectors - 1);
  CHECK(bs == 2048);

  // 5 sectors, limit 4096: DRQ blocks of 4096, 4096, 2048.
  auto rd = packet(r, 1, 0, read10(17, 5), 4096);
  CHECK(rd.blocks == std::vector<size_t>{4096, 4096, 2048});
  REQUIRE(rd.data.size() == 5 * 2048);
  for (size_t i = 0; i < rd.data.size(); ++i) REQUIRE(rd.data[i] == m->at(17 * 2048 + i));
  // An odd limit is rounded down to even; blocks need not be whole sectors.
  auto odd = packet(r, 1, 0, read10(3, 2), 0x0FFF);
  CHECK(odd.blocks == std::vector<size_t>{0xFFE, 0x2, });
  CHECK(odd.blocks.size() == 2);
  for (size_t i = 0; i < odd.data.size(); ++i) REQUIRE(odd.data[i] == m->at(3 * 2048 + i));
  // READ(12).
  auto r12 = packet(r, 1, 0, {0xA8, 0, 0, 0, 0, 100, 0, 0, 0, 1});
  REQUIRE(r12.data.size() == 2048);
  CHECK(r12.data[7] == m->at(100 * 2048 + 7));
  // Zero blocks: no data phase, good status.
  auto none = packet(r, 1, 0, read10(0, 0));
  CHECK(none.data.empty());
  CHECK_FALSE(none.check());
}

TEST_CASE("ATAPI READ(10) by bus-master DMA") {
  IdeRig r;
  auto medium = iso();
  auto* m = medium.get();
  r.add_cdrom(1, 1, std::move(medium));  // secondary slave
  r.prd(0x2000, {{0x40000, 3 * 2048}, {0x50000, 2048}});
  auto cdb = read10(250, 4);
  cdb.resize(12, 0);
  r.select(1, 1, 0xB0);
  r.out8(0x171, 0x01);  // DMA
  r.out8(0x177, 0xA0);
  r.write_block(1, cdb.data(), 12);
  CHECK_FALSE(r.irqs.level[15]);
  r.bm_start(1, 0x2000, true);
  CHECK(r.irqs.level[15]);
  CHECK(r.status(1) == (ata::kDrdy | ata::kDsc));
  CHECK(r.in8(0x172) == 0x03);
  CHECK((r.bm_status(1) & (IdeBusMaster::kStActive | IdeBusMaster::kStInterrupt)) == IdeBusMaster::kStInterrupt);
  std::vector<uint8_t> got(4 * 2048);
  r.mem.read_bytes(0x40000, got.data(), 3 * 2048);
  r.mem.read_bytes(0x50000, got.data() + 3 * 2048, 2048);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == m->at(250 * 2048 + i));
}

TEST_CASE("ATAPI sense: no medium -> NOT READY, medium change -> UNIT ATTENTION, bad requests") {
  IdeRig r;
  auto* cd = r.add_cdrom(0, 0, nullptr);
  auto tur = packet(r, 0, 0, {0x00});
  CHECK(tur.check());
  CHECK(tur.sense_key() == scsi::kNotReady);
  auto sense = packet(r, 0, 0, {0x03, 0, 0, 0, 18});
  REQUIRE(sense.data.size() == 18);
  CHECK(sense.data[0] == 0x70);
  CHECK((sense.data[2] & 0x0F) == scsi::kNotReady);
  CHECK(sense.data[12] == scsi::kAscMediumNotPresent);
  CHECK(packet(r, 0, 0, {0x25}).sense_key() == scsi::kNotReady);

  cd->insert_medium(iso());
  // INQUIRY does not consume the UNIT ATTENTION ...
  CHECK_FALSE(packet(r, 0, 0, {0x12, 0, 0, 0, 36}).check());
  // ... the next ordinary command reports it ...
  auto ua = packet(r, 0, 0, {0x00});
  CHECK(ua.check());
  CHECK(ua.sense_key() == scsi::kUnitAttention);
  sense = packet(r, 0, 0, {0x03, 0, 0, 0, 18});
  CHECK((sense.data[2] & 0x0F) == scsi::kUnitAttention);
  CHECK(sense.data[12] == scsi::kAscMediumChanged);
  // ... and then the drive is ready.
  CHECK_FALSE(packet(r, 0, 0, {0x00}).check());
  sense = packet(r, 0, 0, {0x03, 0, 0, 0, 18});
  CHECK((sense.data[2] & 0x0F) == scsi::kNoSense);

  auto beyond = packet(r, 0, 0, read10(kIsoSectors - 1, 2));
  CHECK(beyond.sense_key() == scsi::kIllegalRequest);
  CHECK(packet(r, 0, 0, {0x03, 0, 0, 0, 18}).data[12] == scsi::kAscLbaOutOfRange);
  auto bad = packet(r, 0, 0, {0xEE});
  CHECK(bad.sense_key() == scsi::kIllegalRequest);
  CHECK(packet(r, 0, 0, {0x03, 0, 0, 0, 18}).data[12] == scsi::kAscInvalidOpcode);

  // GESN reports the new medium once.
  auto ev = packet(r, 0, 0, {0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8});
  REQUIRE(ev.data.size() == 8);
  CHECK(ev.data[2] == 0x04);
  CHECK(ev.data[4] == 2);  // NewMedia
  CHECK(ev.data[5] == 0x02);  // present, tray closed
  CHECK(packet(r, 0, 0, {0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}).data[4] == 0);

  // Locked tray refuses eject; after unlock the tray opens and the drive is not ready.
  CHECK_FALSE(packet(r, 0, 0, {0x1E, 0, 0, 0, 1}).check());
  auto ej = packet(r, 0, 0, {0x1B, 0, 0, 0, 0x02});
  CHECK(ej.sense_key() == scsi::kIllegalRequest);
  CHECK_FALSE(packet(r, 0, 0, {0x1E, 0, 0, 0, 0}).check());
  CHECK_FALSE(packet(r, 0, 0, {0x1B, 0, 0, 0, 0x02}).check());
  CHECK(cd->tray_open());
  CHECK(packet(r, 0, 0, {0x00}).sense_key() == scsi::kNotReady);
  CHECK(packet(r, 0, 0, {0x03, 0, 0, 0, 18}).data[13] == 0x02);  // tray open
  CHECK_FALSE(packet(r, 0, 0, {0x1B, 0, 0, 0, 0x03}).check());  // load
  CHECK(packet(r, 0, 0, {0x00}).sense_key() == scsi::kUnitAttention);
  CHECK_FALSE(packet(r, 0, 0, {0x00}).check());
}

TEST_CASE("ATAPI READ TOC formats 0, 1, 2 in LBA and MSF") {
  IdeRig r;
  r.add_cdrom(0, 1, iso());
  auto toc = packet(r, 0, 1, {0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24});
  REQUIRE(toc.data.size() == 4 + 2 * 8);
  CHECK(toc.data[1] == 18);
  CHECK(toc.data[2] == 1);
  CHECK(toc.data[3] == 1);
  CHECK(toc.data[4 + 2] == 1);      // track 1
  CHECK(toc.data[4 + 1] == 0x14);   // data track
  CHECK(toc.data[4 + 7] == 0);      // LBA 0
  CHECK(toc.data[12 + 2] == 0xAA);  // lead-out
  CHECK((toc.data[12 + 6] << 8 | toc.data[12 + 7]) == int(kIsoSectors));
  auto msf = packet(r, 0, 1, {0x43, 2, 0, 0, 0, 0, 0, 0x03, 0x24});
  CHECK(msf.data[4 + 5] == 0);   // 00:02:00
  CHECK(msf.data[4 + 6] == 2);
  CHECK(msf.data[4 + 7] == 0);
  uint32_t f = kIsoSectors + 150;
  CHECK(msf.data[12 + 5] == f / 4500);
  CHECK(msf.data[12 + 6] == f / 75 % 60);
  CHECK(msf.data[12 + 7] == f % 75);
  auto lo = packet(r, 0, 1, {0x43, 0, 0, 0, 0, 0, 0xAA, 0x03, 0x24});  // starting at the lead-out
  CHECK(lo.data.size() == 12);
  CHECK(packet(r, 0, 1, {0x43, 0, 0, 0, 0, 0, 5, 0x03, 0x24}).sense_key() == scsi::kIllegalRequest);
  auto sess = packet(r, 0, 1, {0x43, 0, 1, 0, 0, 0, 0, 0, 12});
  REQUIRE(sess.data.size() == 12);
  CHECK(sess.data[1] == 10);
  CHECK(sess.data[6] == 1);
  auto full = packet(r, 0, 1, {0x43, 2, 2, 0, 0, 0, 0, 0x03, 0x24});
  REQUIRE(full.data.size() == 4 + 4 * 11);
  CHECK(full.data[4 + 3] == 0xA0);
  CHECK(full.data[15 + 3] == 0xA1);
  CHECK(full.data[26 + 3] == 0xA2);
  CHECK(full.data[26 + 8] == f / 4500);
  CHECK(full.data[37 + 3] == 0x01);
  CHECK(full.data[37 + 9] == 2);
  // The allocation length truncates but the header still tells the full length.
  auto cut = packet(r, 0, 1, {0x43, 0, 0, 0, 0, 0, 0, 0, 4});
  CHECK(cut.data.size() == 4);
  CHECK(cut.data[1] == 18);
}

TEST_CASE("ATAPI MODE SENSE, GET CONFIGURATION, READ DISC INFORMATION, MODE SELECT") {
  IdeRig r;
  r.add_cdrom(0, 0, iso());
  auto ms = packet(r, 0, 0, {0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 0xFF});
  REQUIRE(ms.data.size() == 8 + 22);
  CHECK(ms.data[8] == 0x2A);
  CHECK(ms.data[1] == 28);
  CHECK(packet(r, 0, 0, {0x5A, 0, 0x3F, 0, 0, 0, 0, 0x01, 0}).data.size() == 8 + 8 + 16 + 22);
  CHECK(packet(r, 0, 0, {0x5A, 0, 0x05, 0, 0, 0, 0, 0, 0xFF}).sense_key() == scsi::kIllegalRequest);
  CHECK(packet(r, 0, 0, {0x5A, 0, 0xEA, 0, 0, 0, 0, 0, 0xFF}).sense_key() == scsi::kIllegalRequest);  // saved values

  auto cfg = packet(r, 0, 0, {0x46, 0, 0, 0, 0, 0, 0, 0x01, 0});
  REQUIRE(cfg.data.size() > 8);
  CHECK(cfg.data[7] == 0x08);  // current profile CD-ROM
  CHECK(cfg.data[8] == 0);  // first feature: profile list
  CHECK(cfg.data[9] == 0);
  auto one = packet(r, 0, 0, {0x46, 2, 0, 0x1E, 0, 0, 0, 0x01, 0});  // only feature 1Eh
  REQUIRE(one.data.size() == 8 + 8);
  CHECK(one.data[9] == 0x1E);

  auto di = packet(r, 0, 0, {0x51, 0, 0, 0, 0, 0, 0, 0, 34});
  REQUIRE(di.data.size() == 34);
  CHECK(di.data[1] == 32);
  CHECK((di.data[2] & 3) == 2);  // finalized

  // MODE SELECT(10): parameter data goes out to the device, then status.
  std::vector<uint8_t> cdb = {0x55, 0x10, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0};
  r.select(0, 0, 0xA0);
  r.out8(0x1F1, 0);
  r.out8(0x1F4, 0xFE);
  r.out8(0x1F5, 0xFF);
  r.out8(0x1F7, 0xA0);
  r.write_block(0, cdb.data(), 12);
  CHECK((r.alt_status(0) & ata::kDrq) != 0);
  CHECK(r.in8(0x1F2) == 0x00);  // IO=0, CoD=0: data to the device
  std::vector<uint8_t> params(16, 0);
  r.write_block(0, params.data(), 16);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  CHECK(r.in8(0x1F2) == 0x03);
}

TEST_CASE("ATAPI reads an ISO image file through the raw format") {
  IdeRig r;
  std::vector<uint8_t> img(20 * 2048);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i / 2048 * 3 + i);
  char path[] = "/tmp/pc64-iso-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, img.data(), img.size()) == static_cast<ssize_t>(img.size()));
  ::close(fd);
  auto* cd = r.add_cdrom(1, 0, nullptr);
  DiskOpenOptions o;
  o.mode = DiskWriteMode::ReadOnly;
  cd->insert_medium(open_disk_image(path, o));
  packet(r, 1, 0, {0x00});  // unit attention
  auto rd = packet(r, 1, 0, read10(16, 4));
  REQUIRE(rd.data.size() == 4 * 2048);
  CHECK(std::equal(rd.data.begin(), rd.data.end(), img.begin() + 16 * 2048));
  ::unlink(path);
}
