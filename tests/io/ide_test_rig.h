// A PIIX3 IDE controller on a real PortBus/PciBus/PhysicalMemory, with
// in-memory disks, for the ATA and ATAPI tests.
#pragma once
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "io/ata_disk.h"
#include "io/atapi_cdrom.h"
#include "io/block_device.h"
#include "io/ide_busmaster.h"
#include "io/piix_ide.h"
#include "io/port_bus.h"
#include "mem/physical_memory.h"

namespace pc64_test {

// A disk whose unwritten bytes follow a pattern of their offset, so huge
// (LBA48) disks cost nothing; written 512-byte sectors are kept in a map.
class PatternDisk final : public pc64::BlockDevice {
 public:
  explicit PatternDisk(uint64_t size, uint8_t salt = 0) : size_(size), salt_(salt) {}
  static uint8_t pattern(uint64_t off, uint8_t salt) {
    uint64_t s = off / 512;
    return static_cast<uint8_t>((s * 131 + (s >> 8) * 7 + (s >> 24) * 13 + off % 512 + salt) & 0xFF);
  }
  uint8_t at(uint64_t off) const {
    auto it = written_.find(off / 512);
    return it != written_.end() ? it->second[off % 512] : pattern(off, salt_);
  }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* buf, size_t len) override {
    check_range(offset, len, false);
    ++reads;
    auto* p = static_cast<uint8_t*>(buf);
    for (size_t i = 0; i < len; ++i) p[i] = at(offset + i);
  }
  void write(uint64_t offset, const void* buf, size_t len) override {
    check_range(offset, len, true);
    ++writes;
    const auto* p = static_cast<const uint8_t*>(buf);
    for (size_t i = 0; i < len; ++i) {
      auto& sec = written_[(offset + i) / 512];
      if (sec.empty()) {
        sec.resize(512);
        for (int j = 0; j < 512; ++j) sec[j] = pattern((offset + i) / 512 * 512 + j, salt_);
      }
      sec[(offset + i) % 512] = p[i];
    }
  }
  void flush() override { ++flushes; }
  bool read_only() const override { return false; }
  const char* format_name() const override { return "pattern"; }
  std::string path() const override { return ""; }
  int reads = 0, writes = 0, flushes = 0;

 private:
  uint64_t size_;
  uint8_t salt_;
  std::map<uint64_t, std::vector<uint8_t>> written_;
};

struct IrqRecorder final : public pc64::IrqSink {
  std::array<bool, 24> level{};
  std::array<int, 24> rises{};
  void set_irq(unsigned irq, bool l) override {
    if (l && !level[irq]) ++rises[irq];
    level[irq] = l;
  }
};

struct IdeRig {
  static constexpr uint16_t kBmBase = 0xC000;
  pc64::PhysicalMemory mem{16 << 20};
  pc64::PortBus ports;
  IrqRecorder irqs;
  pc64::PciBus pci{ports, mem};
  pc64::PiixIde ide{pci, &irqs};

  IdeRig() {
    // Firmware-style set-up: BAR4 at 0xC000, I/O + bus master enabled.
    pci.config_write(1, 1, 0x20, 4, kBmBase);
    pci.config_write(1, 1, 0x04, 2, 0x0005);
  }
  PatternDisk* add_disk(unsigned channel, unsigned unit, uint64_t size, uint8_t salt = 0) {
    auto d = std::make_unique<PatternDisk>(size, salt);
    auto* raw = d.get();
    ide.channel(channel).attach(unit, std::make_unique<pc64::AtaDisk>(std::move(d)));
    return raw;
  }
  pc64::AtapiCdrom* add_cdrom(unsigned channel, unsigned unit, std::unique_ptr<pc64::BlockDevice> medium) {
    auto cd = std::make_unique<pc64::AtapiCdrom>(std::move(medium));
    auto* raw = cd.get();
    ide.channel(channel).attach(unit, std::move(cd));
    return raw;
  }
  static uint16_t base(unsigned ch) { return ch ? 0x170 : 0x1F0; }
  static uint16_t ctrl(unsigned ch) { return ch ? 0x376 : 0x3F6; }
  static unsigned irq(unsigned ch) { return ch ? 15 : 14; }
  uint8_t in8(uint16_t p) { return static_cast<uint8_t>(ports.port_read(p, 1)); }
  void out8(uint16_t p, uint8_t v) { ports.port_write(p, 1, v); }
  uint8_t status(unsigned ch) { return in8(base(ch) + 7); }
  uint8_t alt_status(unsigned ch) { return in8(ctrl(ch)); }
  uint8_t error(unsigned ch) { return in8(base(ch) + 1); }
  void select(unsigned ch, unsigned unit, uint8_t extra = 0xE0) { out8(base(ch) + 6, static_cast<uint8_t>(extra | (unit << 4))); }
  // LBA28 task file + command.
  void lba28(unsigned ch, unsigned unit, uint32_t lba, uint8_t count, uint8_t cmd) {
    select(ch, unit, static_cast<uint8_t>(0xE0 | ((lba >> 24) & 0xF)));
    out8(base(ch) + 2, count);
    out8(base(ch) + 3, lba & 0xFF);
    out8(base(ch) + 4, (lba >> 8) & 0xFF);
    out8(base(ch) + 5, (lba >> 16) & 0xFF);
    out8(base(ch) + 7, cmd);
  }
  void lba48(unsigned ch, unsigned unit, uint64_t lba, uint16_t count, uint8_t cmd) {
    select(ch, unit, 0x40);
    out8(base(ch) + 2, count >> 8);
    out8(base(ch) + 3, (lba >> 24) & 0xFF);
    out8(base(ch) + 4, (lba >> 32) & 0xFF);
    out8(base(ch) + 5, (lba >> 40) & 0xFF);
    out8(base(ch) + 2, count & 0xFF);
    out8(base(ch) + 3, lba & 0xFF);
    out8(base(ch) + 4, (lba >> 8) & 0xFF);
    out8(base(ch) + 5, (lba >> 16) & 0xFF);
    out8(base(ch) + 7, cmd);
  }
  std::vector<uint8_t> read_block(unsigned ch, size_t bytes) {
    std::vector<uint8_t> v;
    for (size_t i = 0; i < bytes; i += 2) {
      uint16_t w = static_cast<uint16_t>(ports.port_read(base(ch), 2));
      v.push_back(static_cast<uint8_t>(w));
      v.push_back(static_cast<uint8_t>(w >> 8));
    }
    v.resize(bytes);
    return v;
  }
  void write_block(unsigned ch, const uint8_t* data, size_t bytes) {
    for (size_t i = 0; i < bytes; i += 2)
      ports.port_write(base(ch), 2, static_cast<uint32_t>(data[i] | (i + 1 < bytes ? data[i + 1] << 8 : 0)));
  }
  // Bus master: PRD table at `table` describing (address, bytes) pairs.
  void prd(uint32_t table, const std::vector<std::pair<uint32_t, uint32_t>>& entries) {
    for (size_t i = 0; i < entries.size(); ++i) {
      uint32_t e[2] = {entries[i].first, (entries[i].second & 0xFFFF) | (i + 1 == entries.size() ? 0x80000000u : 0)};
      mem.write_bytes(table + 8 * i, e, 8);
    }
  }
  uint16_t bm(unsigned ch) { return static_cast<uint16_t>(kBmBase + 8 * ch); }
  void bm_start(unsigned ch, uint32_t table, bool to_memory) {
    ports.port_write(bm(ch) + 4, 4, table);
    ports.port_write(bm(ch) + 2, 1, 0x06);  // clear interrupt and error
    ports.port_write(bm(ch), 1, to_memory ? 0x09 : 0x01);
  }
  uint8_t bm_status(unsigned ch) { return in8(bm(ch) + 2); }
};

}  // namespace pc64_test
