// IDE read throughput, PIO vs bus-master DMA, at the device-model level:
// READ SECTORS (PIO: the host side reads the data register a word at a time
// through the port bus, as `rep insw` in a guest does, one call per word)
// against READ DMA (one PRD-driven copy into guest RAM per command), both
// 256 sectors (128 KiB) per command from a RAM-backed raw image. The guest
// CPU's own cost per `insw` comes on top of the PIO figure.
//   pc64_ide_bench [MiB to read per mode]   (default 256)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "io/ata_disk.h"
#include "io/block_device.h"
#include "io/pci_bus.h"
#include "io/piix_ide.h"
#include "io/port_bus.h"
#include "mem/physical_memory.h"

namespace {

class RamDisk final : public pc64::BlockDevice {
 public:
  explicit RamDisk(size_t size) : data_(size) {
    for (size_t i = 0; i < size; ++i) data_[i] = static_cast<uint8_t>(i * 7 + i / 512);
  }
  uint64_t size() const override { return data_.size(); }
  void read(uint64_t off, void* buf, size_t len) override { std::memcpy(buf, data_.data() + off, len); }
  void write(uint64_t off, const void* buf, size_t len) override { std::memcpy(data_.data() + off, buf, len); }
  void flush() override {}
  bool read_only() const override { return false; }
  const char* format_name() const override { return "ram"; }
  std::string path() const override { return ""; }

 private:
  std::vector<uint8_t> data_;
};

struct NoIrq final : pc64::IrqSink {
  void set_irq(unsigned, bool) override {}
};

constexpr uint16_t kBase = 0x1F0, kBm = 0xC000;
constexpr uint32_t kDiskBytes = 64u << 20, kCmdSectors = 256;

}  // namespace

int main(int argc, char** argv) {
  uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 256;
  pc64::PhysicalMemory mem(64u << 20);
  pc64::PortBus ports;
  pc64::PciBus pci(ports, mem);
  NoIrq irq;
  pc64::PiixIde ide(pci, &irq);
  pci.config_write(1, 1, 0x20, 4, kBm);
  pci.config_write(1, 1, 0x04, 2, 0x0005);
  ide.channel(0).attach(0, std::make_unique<pc64::AtaDisk>(std::make_unique<RamDisk>(kDiskBytes)));
  const uint64_t commands = mib * 1024 * 1024 / (kCmdSectors * 512);
  auto issue = [&](uint32_t lba, uint8_t cmd) {
    ports.port_write(kBase + 6, 1, 0xE0 | ((lba >> 24) & 0xF));
    ports.port_write(kBase + 2, 1, 0);  // 0 = 256 sectors
    ports.port_write(kBase + 3, 1, lba & 0xFF);
    ports.port_write(kBase + 4, 1, (lba >> 8) & 0xFF);
    ports.port_write(kBase + 5, 1, (lba >> 16) & 0xFF);
    ports.port_write(kBase + 7, 1, cmd);
  };
  auto lba_of = [&](uint64_t i) { return static_cast<uint32_t>(i * kCmdSectors % (kDiskBytes / 512 - kCmdSectors)); };
  uint64_t sum = 0;

  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < commands; ++i) {
    issue(lba_of(i), 0x20);  // READ SECTORS
    for (uint32_t s = 0; s < kCmdSectors; ++s) {
      ports.port_read(kBase + 7, 1);  // status, as a driver polls DRQ per sector
      for (int w = 0; w < 256; ++w) sum += ports.port_read(kBase, 2);
    }
  }
  double pio = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // PRD table at 0x1000: two 64 KiB entries (a 0 count means 64 KiB).
  const uint32_t prd[4] = {0x100000, 0, 0x200000, 0x80000000u};
  mem.write_bytes(0x1000, prd, sizeof prd);
  t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < commands; ++i) {
    ports.port_write(kBm + 4, 4, 0x1000);
    ports.port_write(kBm + 2, 1, 0x06);
    ports.port_write(kBm, 1, 0x09);  // start, to memory
    issue(lba_of(i), 0xC8);          // READ DMA
    ports.port_write(kBm, 1, 0x00);
    ports.port_read(kBase + 7, 1);
    sum += mem.read(0x100000, 8);
  }
  double dma = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("PIO READ SECTORS: %llu MiB in %.3f s = %7.1f MiB/s\n", static_cast<unsigned long long>(mib), pio,
              mib / pio);
  std::printf("DMA READ DMA:     %llu MiB in %.3f s = %7.1f MiB/s  (%.0fx)  [checksum %llx]\n",
              static_cast<unsigned long long>(mib), dma, mib / dma, pio / dma, static_cast<unsigned long long>(sum));
  return 0;
}
