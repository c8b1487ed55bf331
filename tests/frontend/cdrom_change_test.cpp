// PcBoard::change_cdrom / eject_cdrom (what the monitor's `change cdrom FILE`
// and `eject cdrom` call): the guest sees the change through the ATAPI
// protocol on the secondary IDE channel's legacy ports.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "frontend/machine.h"

using namespace pc64;

namespace {

constexpr uint16_t kBase = 0x170;  // secondary channel command block

struct Reply {
  uint8_t status = 0, error = 0;
  std::vector<uint8_t> data;
  bool check() const { return status & 0x01; }  // ERR
  uint8_t sense_key() const { return error >> 4; }
};

// One ATAPI PACKET command by PIO (ATA/ATAPI-6 §9.10) to the secondary master.
Reply packet(Machine& m, std::vector<uint8_t> cdb) {
  PortBus& p = m.ports();
  cdb.resize(12, 0);
  p.port_write(kBase + 6, 1, 0xA0);  // master
  p.port_write(kBase + 1, 1, 0);     // PIO
  p.port_write(kBase + 4, 1, 0xFE);  // byte count limit
  p.port_write(kBase + 5, 1, 0xFF);
  p.port_write(kBase + 7, 1, 0xA0);  // PACKET
  REQUIRE((p.port_read(kBase + 7, 1) & 0x08) != 0);  // DRQ for the command packet
  for (int i = 0; i < 12; i += 2) p.port_write(kBase, 2, cdb[i] | cdb[i + 1] << 8);
  Reply r;
  for (int guard = 0; (p.port_read(kBase + 7, 1) & 0x08) && guard < 100; ++guard) {
    unsigned n = p.port_read(kBase + 4, 1) | p.port_read(kBase + 5, 1) << 8;
    for (unsigned i = 0; i < n; i += 2) {
      uint32_t w = p.port_read(kBase, 2);
      r.data.push_back(static_cast<uint8_t>(w));
      r.data.push_back(static_cast<uint8_t>(w >> 8));
    }
  }
  r.error = static_cast<uint8_t>(p.port_read(kBase + 1, 1));
  r.status = static_cast<uint8_t>(p.port_read(kBase + 7, 1));
  return r;
}

uint8_t asc(Machine& m) { return packet(m, {0x03, 0, 0, 0, 18}).data.at(12); }  // REQUEST SENSE
uint8_t media_event(Machine& m) { return packet(m, {0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8}).data.at(4); }  // GESN

// A scratch ISO-sized image (a whole number of 2048-byte sectors).
struct TempIso {
  std::string path;
  explicit TempIso(unsigned sectors, char fill) {
    char tmpl[] = "/tmp/pc64-cdchange-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    path = tmpl;
    std::string data(sectors * 2048u, fill);
    REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    close(fd);
  }
  ~TempIso() { std::remove(path.c_str()); }
};

MachineConfig board_without_firmware() {
  MachineConfig c;
  c.ram_bytes = 16 << 20;
  c.serial = SerialMode::None;
  return c;
}

}  // namespace

TEST_CASE("media change: change_cdrom -> UNIT ATTENTION and a NewMedia event; eject -> NOT READY") {
  Machine m(board_without_firmware());
  PcBoard& b = *m.board();
  REQUIRE(b.cdrom);
  CHECK_FALSE(b.cdrom->medium_present());
  CHECK(packet(m, {0x00}).sense_key() == 0x02);  // TEST UNIT READY: NOT READY
  CHECK(asc(m) == 0x3A);                          // MEDIUM NOT PRESENT

  TempIso first(40, 'a'), second(64, 'b');
  b.change_cdrom(first.path);
  CHECK(b.cdrom->sectors() == 40);
  Reply ua = packet(m, {0x00});
  CHECK(ua.check());
  CHECK(ua.sense_key() == 0x06);  // UNIT ATTENTION
  CHECK(asc(m) == 0x28);          // NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED
  CHECK_FALSE(packet(m, {0x00}).check());
  CHECK(media_event(m) == 2);  // NewMedia, reported once
  CHECK(media_event(m) == 0);
  Reply cap = packet(m, {0x25});  // READ CAPACITY: last LBA
  REQUIRE(cap.data.size() == 8);
  CHECK(cap.data[3] == 39);

  // A second disc replaces the first.
  b.change_cdrom(second.path);
  CHECK(packet(m, {0x00}).sense_key() == 0x06);
  CHECK(packet(m, {0x25}).data.at(3) == 63);

  // A file that cannot be opened leaves the disc in place.
  CHECK_THROWS(b.change_cdrom("/nonexistent/pc64.iso"));
  CHECK(b.cdrom->sectors() == 64);

  // The guest locks the tray: eject needs force.
  CHECK_FALSE(packet(m, {0x1E, 0, 0, 0, 1}).check());  // PREVENT MEDIUM REMOVAL
  CHECK_THROWS_AS(b.eject_cdrom(), std::runtime_error);
  CHECK(b.cdrom->medium_present());
  CHECK_FALSE(packet(m, {0x1E, 0, 0, 0, 0}).check());  // ALLOW
  b.eject_cdrom();
  CHECK_FALSE(b.cdrom->medium_present());
  CHECK(media_event(m) == 3);  // MediaRemoval
  CHECK(packet(m, {0x00}).sense_key() == 0x02);
  CHECK(asc(m) == 0x3A);
}
