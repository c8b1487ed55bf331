// QEMU's firmware configuration device (fw_cfg), the way SeaBIOS learns about
// the machine: a selector port (0x510, 16-bit), a data port (0x511, byte
// stream of the selected item) and the DMA interface (0x514 high / 0x518 low,
// big-endian address of an FWCfgDmaAccess structure). Items are set by the
// machine (bios/ fills them: e820, boot order, ACPI tables, kernel).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/device.h"
#include "io/port_bus.h"
#include "mem/physical_memory.h"

namespace pc64 {

class FwCfg final : public Device, public PortHandler {
 public:
  // Well-known selectors (QEMU docs/specs/fw_cfg.rst).
  enum Key : uint16_t {
    kSignature = 0x0000,
    kId = 0x0001,
    kRamSize = 0x0003,
    kNbCpus = 0x0005,
    kKernelAddr = 0x0007,
    kKernelSize = 0x0008,
    kKernelCmdline = 0x0009,
    kInitrdAddr = 0x000A,
    kInitrdSize = 0x000B,
    kBootDevice = 0x000C,
    kBootMenu = 0x000E,
    kMaxCpus = 0x000F,
    kFileDir = 0x0019,
    kFileFirst = 0x0020,
    kE820Table = 0x8003,  // legacy arch-local table; modern firmware uses etc/e820
  };
  static constexpr uint16_t kPortSelector = 0x510, kPortData = 0x511, kPortDma = 0x514;
  // FWCfgDmaAccess.control bits.
  static constexpr uint32_t kDmaError = 1, kDmaRead = 2, kDmaSkip = 4, kDmaSelect = 8, kDmaWrite = 16;

  FwCfg(PortBus& ports, PhysicalMemory& mem);

  const char* name() const override { return "fw_cfg"; }
  void reset() override;
  void serialize(StateSerializer& s) override;

  void set_item(uint16_t key, std::vector<uint8_t> data);
  void set_u16(uint16_t key, uint16_t v);
  void set_u32(uint16_t key, uint32_t v);
  void set_u64(uint16_t key, uint64_t v);
  // Adds (or replaces) a named file; returns its selector.
  uint16_t add_file(const std::string& name, std::vector<uint8_t> data);
  const std::vector<uint8_t>* file(const std::string& name) const;

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  void select(uint16_t key);
  void run_dma(uint64_t addr);
  void rebuild_file_dir();
  const std::vector<uint8_t>* current() const;

  PhysicalMemory& mem_;
  std::map<uint16_t, std::vector<uint8_t>> items_;
  std::vector<std::pair<std::string, uint16_t>> files_;  // in selector order
  uint16_t selector_ = 0;
  uint32_t offset_ = 0;
  uint32_t dma_high_ = 0;
};

}  // namespace pc64
