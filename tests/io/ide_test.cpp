#include <doctest/doctest.h>

#include "ide_test_rig.h"
#include "io/ata_disk.h"

using namespace pc64;
using namespace pc64_test;

namespace {

std::string ata_string(const std::vector<uint8_t>& id, int word, int words) {
  std::string s;
  for (int i = 0; i < words; ++i) {
    s += static_cast<char>(id[2 * (word + i) + 1]);
    s += static_cast<char>(id[2 * (word + i)]);
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
uint16_t word(const std::vector<uint8_t>& id, int w) { return static_cast<uint16_t>(id[2 * w] | id[2 * w + 1] << 8); }

constexpr uint64_t kSmall = 64ULL * 1024 * 1024;  // 131072 sectors

}  // namespace

TEST_CASE("ATA IDENTIFY DEVICE: identity, capacities, geometry, PIO data-in with IRQ 14") {
  IdeRig r;
  r.add_disk(0, 0, kSmall);
  r.select(0, 0, 0xA0);
  r.out8(0x1F7, 0xEC);
  CHECK(r.irqs.level[14]);
  CHECK(r.alt_status(0) == (ata::kDrdy | ata::kDsc | ata::kDrq));
  CHECK(r.irqs.level[14]);  // alternate status does not acknowledge
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc | ata::kDrq));
  CHECK_FALSE(r.irqs.level[14]);  // status does
  auto id = r.read_block(0, 512);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  CHECK(ata_string(id, 27, 20) == "PC64 HARDDISK");
  CHECK(ata_string(id, 10, 10) == "PC64-HD0");
  CHECK((word(id, 60) | uint32_t(word(id, 61)) << 16) == 131072);
  CHECK(word(id, 100) == 0 + (131072 & 0xFFFF));
  CHECK(word(id, 101) == 131072 >> 16);
  CHECK(word(id, 1) == 130);  // 131072 / (16 * 63)
  CHECK(word(id, 3) == 16);
  CHECK(word(id, 6) == 63);
  CHECK((word(id, 49) & 0x0300) == 0x0300);  // LBA and DMA
  CHECK(((word(id, 83) & (1 << 10))) != 0);        // 48-bit
  CHECK(((word(id, 85) & (1 << 5))) != 0);         // write cache enabled
  CHECK((word(id, 255) & 0xFF) == 0xA5);
  uint8_t sum = 0;
  for (uint8_t b : id) sum = static_cast<uint8_t>(sum + b);
  CHECK(sum == 0);
}

TEST_CASE("ATA LBA48 capacity of a disk beyond 128 GiB and READ SECTORS EXT above 2^28") {
  IdeRig r;
  uint64_t sectors = 300ULL * 1024 * 1024 * 1024 / 512;  // 300 GiB
  auto* disk = r.add_disk(0, 0, sectors * 512);
  r.select(0, 0);
  r.out8(0x1F7, 0xEC);
  auto id = r.read_block(0, 512);
  CHECK((word(id, 60) | uint32_t(word(id, 61)) << 16) == 0x0FFFFFFF);
  uint64_t cap48 = 0;
  for (int i = 0; i < 4; ++i) cap48 |= uint64_t(word(id, 100 + i)) << (16 * i);
  CHECK(cap48 == sectors);
  CHECK(word(id, 1) == 16383);

  uint64_t lba = (1ULL << 28) + 12345;
  r.lba48(0, 0, lba, 2, 0x24);
  CHECK((r.status(0) & ata::kDrq) != 0);
  auto a = r.read_block(0, 512);
  CHECK(r.irqs.level[14]);  // second block announced
  CHECK((r.status(0) & ata::kDrq) != 0);
  auto b = r.read_block(0, 512);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  for (int i = 0; i < 512; ++i) {
    CHECK(a[i] == disk->at(lba * 512 + i));
    CHECK(b[i] == disk->at((lba + 1) * 512 + i));
  }
  // The registers end at the next sector; HOB reads their high-order bytes.
  r.out8(0x3F6, ata::kHob);
  CHECK(r.in8(0x1F3) == (((lba + 2) >> 24) & 0xFF));
  CHECK(r.in8(0x1F4) == (((lba + 2) >> 32) & 0xFF));
  r.out8(0x3F6, 0);
  CHECK(r.in8(0x1F3) == ((lba + 2) & 0xFF));
}

TEST_CASE("ATA READ/WRITE SECTORS: DRQ per sector, interrupts per block, data on the disk") {
  IdeRig r;
  auto* disk = r.add_disk(0, 0, kSmall);
  int irqs = r.irqs.rises[14];
  r.lba28(0, 0, 1000, 3, 0x20);
  std::vector<uint8_t> got;
  for (int s = 0; s < 3; ++s) {
    CHECK(r.status(0) == (ata::kDrdy | ata::kDsc | ata::kDrq));
    auto blk = r.read_block(0, 512);
    got.insert(got.end(), blk.begin(), blk.end());
  }
  CHECK(r.irqs.rises[14] == irqs + 3);  // one per block, none after the last
  CHECK_FALSE((r.alt_status(0) & ata::kDrq) != 0);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == disk->at(1000 * 512 + i));

  // WRITE SECTORS: the first DRQ comes without an interrupt.
  int before = r.irqs.rises[14];
  r.lba28(0, 0, 2000, 2, 0x30);
  CHECK(r.irqs.rises[14] == before);
  CHECK(r.alt_status(0) == (ata::kDrdy | ata::kDsc | ata::kDrq));
  std::vector<uint8_t> data(1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  r.write_block(0, data.data(), 512);
  CHECK(r.irqs.rises[14] == before + 1);
  CHECK((r.status(0) & ata::kDrq) != 0);
  r.write_block(0, data.data() + 512, 512);
  CHECK(r.irqs.rises[14] == before + 2);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  for (size_t i = 0; i < data.size(); ++i) REQUIRE(disk->at(2000 * 512 + i) == data[i]);
}

TEST_CASE("ATA 32-bit data port and CHS addressing") {
  IdeRig r;
  auto* disk = r.add_disk(0, 0, kSmall);
  // CHS: cylinder 2, head 3, sector 5 -> LBA (2*16+3)*63+4.
  r.select(0, 0, 0xA0 | 3);
  r.out8(0x1F2, 1);
  r.out8(0x1F3, 5);
  r.out8(0x1F4, 2);
  r.out8(0x1F5, 0);
  r.out8(0x1F7, 0x20);
  uint64_t lba = (2 * 16 + 3) * 63 + 4;
  for (int i = 0; i < 128; ++i) {
    uint32_t v = r.ports.port_read(0x1F0, 4);
    for (int j = 0; j < 4; ++j) REQUIRE(static_cast<uint8_t>(v >> (8 * j)) == disk->at(lba * 512 + i * 4 + j));
  }
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  // Sector 0 does not exist in CHS.
  r.select(0, 0, 0xA0);
  r.out8(0x1F3, 0);
  r.out8(0x1F7, 0x20);
  CHECK(r.status(0) == (ata::kDrdy | ata::kErr));
  CHECK(r.error(0) == ata::kIdnf);
}

TEST_CASE("ATA READ/WRITE MULTIPLE and SET MULTIPLE MODE") {
  IdeRig r;
  auto* disk = r.add_disk(0, 0, kSmall);
  r.select(0, 0);
  r.out8(0x1F2, 3);  // not a power of two
  r.out8(0x1F7, 0xC6);
  CHECK(r.status(0) == (ata::kDrdy | ata::kErr));
  CHECK(r.error(0) == ata::kAbrt);
  r.out8(0x1F2, 4);
  r.out8(0x1F7, 0xC6);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));

  int before = r.irqs.rises[14];
  r.lba28(0, 0, 500, 10, 0xC4);  // blocks of 4, 4, 2
  std::vector<uint8_t> got;
  for (size_t blk : {4u, 4u, 2u}) {
    CHECK((r.status(0) & ata::kDrq) != 0);
    auto b = r.read_block(0, blk * 512);
    got.insert(got.end(), b.begin(), b.end());
  }
  CHECK(r.irqs.rises[14] == before + 3);
  CHECK_FALSE((r.status(0) & ata::kDrq) != 0);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == disk->at(500 * 512 + i));

  std::vector<uint8_t> data(6 * 512);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ 0x5A);
  before = r.irqs.rises[14];
  int writes = disk->writes;
  r.lba28(0, 0, 3000, 6, 0xC5);  // blocks of 4 and 2
  r.write_block(0, data.data(), 4 * 512);
  CHECK((r.status(0) & ata::kDrq) != 0);
  r.write_block(0, data.data() + 4 * 512, 2 * 512);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  CHECK(r.irqs.rises[14] == before + 2);
  CHECK(disk->writes == writes + 2);  // one image write per block, not per sector
  for (size_t i = 0; i < data.size(); ++i) REQUIRE(disk->at(3000 * 512 + i) == data[i]);
}

TEST_CASE("ATA errors: IDNF beyond the end, ABRT for unknown commands, FLUSH reaches the image") {
  IdeRig r;
  auto* disk = r.add_disk(0, 0, kSmall);
  r.lba28(0, 0, 131071, 2, 0x20);  // last sector + one more
  CHECK(r.irqs.level[14]);
  CHECK(r.status(0) == (ata::kDrdy | ata::kErr));
  CHECK(r.error(0) == ata::kIdnf);
  r.lba28(0, 0, 131071, 1, 0x20);  // the last sector itself is fine
  CHECK((r.status(0) & ata::kDrq) != 0);
  r.read_block(0, 512);
  for (uint8_t cmd : {0xFF, 0x00, 0xA0, 0xA1, 0x08, 0xB0}) {
    CAPTURE(int(cmd));
    r.out8(0x1F7, cmd);
    CHECK(r.status(0) == (ata::kDrdy | ata::kErr));
    CHECK(r.error(0) == ata::kAbrt);
  }
  r.lba48(0, 0, 131072, 1, 0x25);  // READ DMA EXT past the end
  CHECK(r.error(0) == ata::kIdnf);
  int flushes = disk->flushes;
  r.out8(0x1F7, 0xE7);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  CHECK(disk->flushes == flushes + 1);
  r.out8(0x1F1, 0x82);  // SET FEATURES: disable write cache -> flush on every write
  r.out8(0x1F7, 0xEF);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  r.out8(0x1F1, 0x77);  // unknown subcommand
  r.out8(0x1F7, 0xEF);
  CHECK(r.error(0) == ata::kAbrt);
  r.out8(0x1F2, 0x00);
  r.out8(0x1F7, 0xE5);  // CHECK POWER MODE
  CHECK(r.in8(0x1F2) == 0xFF);
  r.lba28(0, 0, 10, 1, 0x40);  // READ VERIFY
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
}

TEST_CASE("ATA bus-master DMA: scatter-gather read and write through the PRD table") {
  IdeRig r;
  auto* disk = r.add_disk(0, 0, kSmall);
  // Four sectors read into 1000 + 1048 bytes at two places (odd split).
  r.prd(0x1000, {{0x10000, 1000}, {0x20000, 1048}});
  r.lba28(0, 0, 77, 4, 0xC8);
  CHECK((r.alt_status(0) & ata::kDrq) != 0);  // waiting for the bus master
  CHECK_FALSE(r.irqs.level[14]);
  r.bm_start(0, 0x1000, true);
  CHECK(r.irqs.level[14]);
  CHECK((r.bm_status(0) & (IdeBusMaster::kStInterrupt | IdeBusMaster::kStActive | IdeBusMaster::kStError)) ==
        IdeBusMaster::kStInterrupt);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  std::vector<uint8_t> got(2048);
  r.mem.read_bytes(0x10000, got.data(), 1000);
  r.mem.read_bytes(0x20000, got.data() + 1000, 1048);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == disk->at(77 * 512 + i));
  r.ports.port_write(r.bm(0), 1, 0);  // stop

  // Large transfer: 256 sectors (128 KiB) in 2 PRD entries of 64 KiB, one image read.
  r.prd(0x1000, {{0x100000, 0}, {0x200000, 0}});
  int reads = disk->reads;
  r.bm_start(0, 0x1000, true);  // bus master first, then the command
  r.lba28(0, 0, 4096, 0, 0xC8);
  CHECK(disk->reads == reads + 1);
  CHECK_FALSE((r.bm_status(0) & IdeBusMaster::kStActive) != 0);
  std::vector<uint8_t> big(128 * 1024);
  r.mem.read_bytes(0x100000, big.data(), 65536);
  r.mem.read_bytes(0x200000, big.data() + 65536, 65536);
  for (size_t i = 0; i < big.size(); i += 511) REQUIRE(big[i] == disk->at(4096 * 512 + i));
  r.ports.port_write(r.bm(0), 1, 0);

  // WRITE DMA EXT from memory to disk.
  std::vector<uint8_t> src(1024);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(255 - i);
  r.mem.write_bytes(0x30000, src.data(), src.size());
  r.prd(0x1000, {{0x30000, 1024}});
  r.lba48(0, 0, 9000, 2, 0x35);
  r.bm_start(0, 0x1000, false);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  for (size_t i = 0; i < src.size(); ++i) REQUIRE(disk->at(9000 * 512 + i) == src[i]);

  // A PRD table larger than the transfer leaves Active set (SFF-8038i).
  r.ports.port_write(r.bm(0), 1, 0);
  r.prd(0x1000, {{0x10000, 4096}});
  r.lba28(0, 0, 1, 1, 0xC8);
  r.bm_start(0, 0x1000, true);
  CHECK((r.bm_status(0) & (IdeBusMaster::kStInterrupt | IdeBusMaster::kStActive)) ==
        (IdeBusMaster::kStInterrupt | IdeBusMaster::kStActive));
}

TEST_CASE("ATA DMA into a PRD outside RAM sets the bus-master error bit and touches nothing") {
  IdeRig r;
  r.add_disk(0, 0, kSmall);
  std::vector<uint8_t> before(512);
  r.mem.read_bytes(0x10000, before.data(), 512);
  r.prd(0x1000, {{0x10000 - 0, 0}});  // placeholder, replaced below
  r.prd(0x1000, {{0xF0000000u, 2048}});  // not RAM (16 MiB guest)
  r.lba28(0, 0, 0, 4, 0xC8);
  r.bm_start(0, 0x1000, true);
  uint8_t st = r.bm_status(0);
  CHECK(((st & IdeBusMaster::kStError)) != 0);
  CHECK(((st & IdeBusMaster::kStInterrupt)) != 0);
  CHECK_FALSE(((st & IdeBusMaster::kStActive)) != 0);
  CHECK(r.status(0) == (ata::kDrdy | ata::kErr));
  CHECK(r.error(0) == ata::kAbrt);
  // The PRD table itself outside RAM.
  r.ports.port_write(r.bm(0), 1, 0);
  r.lba28(0, 0, 0, 1, 0xC8);
  r.bm_start(0, 0xFFFFFF00u, true);
  CHECK(((r.bm_status(0) & IdeBusMaster::kStError)) != 0);
  // Write-1-to-clear.
  r.ports.port_write(r.bm(0) + 2, 1, IdeBusMaster::kStError | IdeBusMaster::kStInterrupt);
  CHECK((r.bm_status(0) & (IdeBusMaster::kStError | IdeBusMaster::kStInterrupt)) == 0);
  std::vector<uint8_t> after(512);
  r.mem.read_bytes(0x10000, after.data(), 512);
  CHECK(before == after);
}

TEST_CASE("IDE SRST: ATA and ATAPI signatures, BSY while asserted; absent slave reads status 0") {
  IdeRig r;
  r.add_disk(0, 0, kSmall);
  r.add_cdrom(0, 1, nullptr);
  r.out8(0x3F6, ata::kSrst);
  CHECK(((r.alt_status(0) & ata::kBsy)) != 0);
  r.out8(0x3F6, 0);
  CHECK(r.status(0) == (ata::kDrdy | ata::kDsc));
  CHECK(r.in8(0x1F2) == 1);
  CHECK(r.in8(0x1F3) == 1);
  CHECK(r.in8(0x1F4) == 0);
  CHECK(r.in8(0x1F5) == 0);
  CHECK(r.error(0) == 0x01);
  r.select(0, 1, 0xA0);
  CHECK(r.status(0) == 0);  // ATAPI: no DRDY after reset
  CHECK(r.in8(0x1F4) == 0x14);
  CHECK(r.in8(0x1F5) == 0xEB);
  // EXECUTE DEVICE DIAGNOSTIC: both devices, device 0 reports.
  r.out8(0x1F7, 0x90);
  CHECK(r.irqs.level[14]);
  CHECK(r.error(0) == 0x01);
  // Secondary channel: master only; the absent slave reads status 0, and
  // an empty channel floats.
  r.add_disk(1, 0, kSmall);
  r.select(1, 1);
  CHECK(r.status(1) == 0);
  IdeRig empty;
  CHECK(empty.status(0) == 0xFF);
}

TEST_CASE("IDE both channels, master and slave, nIEN masks the interrupt line") {
  IdeRig r;
  auto* d00 = r.add_disk(0, 0, kSmall, 1);
  auto* d01 = r.add_disk(0, 1, kSmall, 2);
  auto* d10 = r.add_disk(1, 0, kSmall, 3);
  auto* d11 = r.add_disk(1, 1, kSmall, 4);
  PatternDisk* disks[2][2] = {{d00, d01}, {d10, d11}};
  for (unsigned ch = 0; ch < 2; ++ch) {
    for (unsigned unit = 0; unit < 2; ++unit) {
      CAPTURE(ch);
      CAPTURE(unit);
      int rises = r.irqs.rises[IdeRig::irq(ch)];
      r.lba28(ch, unit, 42, 1, 0x20);
      CHECK(r.irqs.rises[IdeRig::irq(ch)] == rises + 1);
      CHECK_FALSE(r.irqs.level[IdeRig::irq(ch ^ 1)]);
      auto b = r.read_block(ch, 512);
      for (int i = 0; i < 512; ++i) REQUIRE(b[i] == disks[ch][unit]->at(42 * 512 + i));
      r.status(ch);
    }
  }
  // nIEN: the command still completes, the line stays low.
  r.out8(0x3F6, ata::kNien);
  r.lba28(0, 0, 1, 1, 0x40);
  CHECK_FALSE(r.irqs.level[14]);
  CHECK(r.alt_status(0) == (ata::kDrdy | ata::kDsc));
  r.out8(0x3F6, 0);  // pending request shows once nIEN is cleared
  CHECK(r.irqs.level[14]);
  r.status(0);
  CHECK_FALSE(r.irqs.level[14]);
}

TEST_CASE("PIIX3 IDE PCI function: identity, legacy programming interface, BAR4") {
  IdeRig r;
  CHECK(r.pci.config_read(1, 1, 0x00, 4) == 0x70108086);
  CHECK((r.pci.config_read(1, 1, 0x08, 4) >> 8) == 0x010180u);
  CHECK((r.pci.config_read(1, 1, 0x20, 4) & ~3u) == IdeRig::kBmBase);
  r.pci.config_write(1, 1, 0x40, 2, 0x8000);  // IDETIM decode enable, as SeaBIOS writes it
  CHECK(r.pci.config_read(1, 1, 0x41, 1) == 0x80);
  r.ports.port_write(IdeRig::kBmBase + 4, 4, 0x12345678);
  CHECK(r.ports.port_read(IdeRig::kBmBase + 4, 4) == 0x12345678u);  // dword aligned
  r.ports.port_write(IdeRig::kBmBase + 12, 4, 0xABCDEF00);
  CHECK(r.ports.port_read(IdeRig::kBmBase + 12, 4) == 0xABCDEF00u);
  r.ports.port_write(IdeRig::kBmBase + 2, 1, 0x60);  // drive DMA capable bits are R/W
  CHECK(r.ports.port_read(IdeRig::kBmBase + 2, 1) == 0x60u);
}

TEST_CASE("IDE state round-trips through serialize in the middle of a PIO transfer") {
  IdeRig a;
  auto* disk = a.add_disk(0, 0, kSmall);
  a.lba28(0, 0, 300, 2, 0x20);
  auto first = a.read_block(0, 100);
  std::vector<uint8_t> state;
  {
    StateSerializer s(state);
    a.ide.serialize(s);
  }
  IdeRig b;
  b.add_disk(0, 0, kSmall);
  StateSerializer s(state.data(), state.size());
  b.ide.serialize(s);
  CHECK(s.at_end());
  auto rest = b.read_block(0, 512 - 100);
  for (size_t i = 0; i < rest.size(); ++i) REQUIRE(rest[i] == disk->at(300 * 512 + 100 + i));
  CHECK((b.status(0) & ata::kDrq) != 0);  // second sector follows
}
