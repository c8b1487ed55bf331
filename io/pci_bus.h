// PCI bus 0 as the i440FX host bridge presents it: configuration mechanism #1
// (CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at 0xCFC-0xCFF; PCI Local Bus Spec 3.0
// §3.2.2.3.2), a registry of functions (device, function) on bus 0, and the
// PciFunction base class holding a type-0 configuration header with write
// masks, BARs that map themselves when the guest moves or enables them, and
// the INTx pin routed to PIRQA-D.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/device.h"
#include "io/irq.h"
#include "io/port_bus.h"
#include "mem/physical_memory.h"
#include "mem/state.h"

namespace pc64 {

class PciBus;

// Type-0 configuration header offsets (PCI Local Bus Spec 3.0 §6.1).
namespace pci {
constexpr uint8_t kVendorId = 0x00;
constexpr uint8_t kDeviceId = 0x02;
constexpr uint8_t kCommand = 0x04;
constexpr uint8_t kStatus = 0x06;
constexpr uint8_t kRevisionId = 0x08;
constexpr uint8_t kClassCode = 0x09;  // prog-if, subclass, base class
constexpr uint8_t kCacheLineSize = 0x0C;
constexpr uint8_t kLatencyTimer = 0x0D;
constexpr uint8_t kHeaderType = 0x0E;
constexpr uint8_t kBar0 = 0x10;
constexpr uint8_t kSubsystemVendorId = 0x2C;
constexpr uint8_t kSubsystemId = 0x2E;
constexpr uint8_t kExpansionRom = 0x30;
constexpr uint8_t kInterruptLine = 0x3C;
constexpr uint8_t kInterruptPin = 0x3D;

constexpr uint16_t kCommandIo = 1 << 0;
constexpr uint16_t kCommandMemory = 1 << 1;
constexpr uint16_t kCommandBusMaster = 1 << 2;
constexpr uint16_t kCommandParity = 1 << 6;
constexpr uint16_t kCommandSerr = 1 << 8;
constexpr uint16_t kCommandIntxDisable = 1 << 10;

constexpr uint16_t kStatusInterrupt = 1 << 3;
constexpr uint16_t kStatusFastBackToBack = 1 << 7;
// DEVSEL timing "medium" (bits 10:9 = 01).
constexpr uint16_t kStatusDevselMedium = 1 << 9;

constexpr uint32_t kBarIo = 1 << 0;
constexpr uint32_t kBarMem64 = 2 << 1;  // memory type bits 2:1 = 10b
constexpr uint32_t kBarPrefetch = 1 << 3;
constexpr uint32_t kRomEnable = 1 << 0;
}  // namespace pci

// Where a BAR currently decodes, or kUnmapped.
constexpr uint64_t kPciBarUnmapped = ~0ULL;

// One PCI function. Derived devices set their identity in the constructor,
// declare BARs, open write masks for their own registers, and override the
// hooks they need. The configuration space is plain bytes so save/restore and
// the guest see exactly the same thing.
class PciFunction {
 public:
  enum class BarKind : uint8_t { None, Io, Mem32, Mem64 };
  static constexpr int kNumBars = 6;
  static constexpr int kRomBar = 6;  // index used for the expansion ROM in callbacks

  PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code);
  virtual ~PciFunction();
  PciFunction(const PciFunction&) = delete;
  PciFunction& operator=(const PciFunction&) = delete;

  // Configuration space access as the bus performs it: `offset` may be any
  // byte offset; the access never crosses a dword (the bus guarantees it).
  uint32_t config_read(uint8_t offset, unsigned size);
  void config_write(uint8_t offset, unsigned size, uint32_t value);

  uint8_t device_number() const { return devfn_ >> 3; }
  uint8_t function_number() const { return devfn_ & 7; }
  PciBus* bus() const { return bus_; }

  uint16_t command() const { return read16(pci::kCommand); }
  // Current decode address of BAR `index` (0-5, or kRomBar), kPciBarUnmapped
  // when disabled by the command register, zero, or impossible.
  uint64_t bar_address(int index) const;
  uint64_t bar_size(int index) const { return bars_[index].size; }

  // Drives this function's INTx# output (level). Ignored if the function has
  // no interrupt pin; masked by the command register's Interrupt Disable.
  void set_irq_level(bool level);
  bool irq_level() const { return irq_level_; }
  // The level the bus sees: asserted, a pin, and not disabled by the command register.
  bool irq_output() const;

  // Raw header helpers for derived devices (little-endian).
  uint8_t read8(uint8_t off) const { return config_[off]; }
  uint16_t read16(uint8_t off) const { return static_cast<uint16_t>(config_[off] | config_[(off + 1) & 0xFF] << 8); }
  uint32_t read32(uint8_t off) const;
  void write8(uint8_t off, uint8_t v) { config_[off] = v; }
  void write16(uint8_t off, uint16_t v);
  void write32(uint8_t off, uint32_t v);

  // Restores the header to its power-on values (identity, BARs unassigned,
  // command 0) and unmaps the BARs. Derived devices call it from reset().
  void reset_config();
  // Config bytes, BAR decode state and the INTx level; derived devices call it
  // from serialize() and remap their BARs afterwards automatically.
  void serialize_config(StateSerializer& s);

 protected:
  // ---- set-up helpers for derived constructors ----
  // BAR `index` decodes `size` bytes (a power of two; I/O >= 4, memory >= 16).
  // A 64-bit BAR uses index and index + 1. When the guest maps the BAR, guest
  // accesses arrive at bar_read()/bar_write() with the offset into the BAR.
  void define_io_bar(int index, uint32_t size);
  void define_mem_bar(int index, uint64_t size, bool is_64bit, bool prefetchable);
  // Expansion ROM (offset 0x30): the image is mapped read-only while the ROM
  // enable bit and the command register's memory space enable are both set.
  void define_rom(std::vector<uint8_t> image);
  // 1 = INTA# ... 4 = INTD#, 0 = none.
  void set_interrupt_pin(uint8_t pin) { config_[pci::kInterruptPin] = pin; }
  void set_header_type(uint8_t type) { config_[pci::kHeaderType] = type; }
  void set_subsystem(uint16_t vendor, uint16_t id);
  // Opens guest write access to `mask` bits of the bytes at [off, off + n).
  void set_wmask(uint8_t off, unsigned n, uint8_t mask);
  // Bits of [off, off + n) that the guest clears by writing 1 (status bits).
  void set_w1cmask(uint8_t off, unsigned n, uint8_t mask);
  // Sets the power-on value of a register; reset_config() restores it.
  void set_default8(uint8_t off, uint8_t v);
  void set_default16(uint8_t off, uint16_t v);
  void set_default32(uint8_t off, uint32_t v);

  // ---- hooks ----
  // Accesses to a mapped BAR (index 0-5) or the ROM (kRomBar is handled here).
  virtual uint64_t bar_read(int /*index*/, uint64_t /*offset*/, unsigned size) {
    return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
  }
  virtual void bar_write(int /*index*/, uint64_t /*offset*/, unsigned /*size*/, uint64_t /*value*/) {}
  // A memory BAR whose first `size` bytes are the device's own host buffer
  // (a framebuffer): the bus maps it with PhysicalMemory::map_tracked_ram, so
  // CPU accesses are plain host loads/stores and writes set bits in `dirty`;
  // bar_read/bar_write then see only the rest of the BAR. Default: none.
  struct HostBacking {
    uint8_t* host = nullptr;
    uint64_t size = 0;
    std::vector<uint64_t>* dirty = nullptr;
  };
  virtual HostBacking bar_host_backing(int /*index*/) { return {}; }
  // Called after the decode address of a BAR changed (kPciBarUnmapped = off).
  virtual void bar_moved(int /*index*/, uint64_t /*old_base*/, uint64_t /*new_base*/) {}
  // Called after a guest write to [offset, offset + size) was applied through
  // the write masks (the device's own registers react here).
  virtual void config_written(uint8_t /*offset*/, unsigned /*size*/) {}
  // Lets a device compute a register on read (e.g. live status).
  virtual uint32_t config_value(uint8_t /*dword_offset*/, uint32_t stored) { return stored; }

 private:
  friend class PciBus;
  struct Bar {
    BarKind kind = BarKind::None;
    uint64_t size = 0;
    uint64_t mapped = kPciBarUnmapped;  // current decode base
  };
  // One window object per BAR, so each mapping can be removed on its own.
  class Window final : public PortHandler, public MmioHandler {
   public:
    Window(PciFunction* fn, int index) : fn_(fn), index_(index) {}
    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;
    uint64_t mmio_read(uint64_t offset, unsigned size) override;
    void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;

   private:
    PciFunction* fn_;
    int index_;
  };

  uint64_t decode_address(int index) const;
  void update_mappings();
  void map_window(int index, uint64_t base);
  void unmap_window(int index);
  void attach(PciBus* bus, uint8_t devfn);

  std::array<uint8_t, 256> config_{};
  std::array<uint8_t, 256> defaults_{};
  std::array<uint8_t, 256> wmask_{};
  std::array<uint8_t, 256> w1cmask_{};
  std::array<Bar, kNumBars + 1> bars_{};  // [kRomBar] = expansion ROM
  std::vector<uint8_t> rom_;
  std::vector<std::unique_ptr<Window>> windows_;
  PciBus* bus_ = nullptr;
  uint8_t devfn_ = 0;
  bool irq_level_ = false;
};

// Bus 0 and the configuration mechanism. Functions register themselves; the
// bus does not own them. INTx# of device D pin P (1-4) drives PIRQ
// (D + P - 2) mod 4 (the PIIX swizzle QEMU's "pc" uses; the DSDT _PRT
// must say the same), reported to `pirq_sink` as irq `pirq_base` + 0..3.
class PciBus final : public Device, public PortHandler {
 public:
  PciBus(PortBus& ports, PhysicalMemory& memory, IrqSink* pirq_sink = nullptr, unsigned pirq_base = 16);
  ~PciBus() override;

  // Throws std::invalid_argument if the slot is taken or out of range.
  void add(PciFunction& fn, uint8_t device, uint8_t function);
  PciFunction* find(uint8_t device, uint8_t function) const;

  // Configuration cycle on bus 0 (also used by tests and firmware loaders).
  // Reads of absent functions return all-ones.
  uint32_t config_read(uint8_t device, uint8_t function, uint8_t offset, unsigned size);
  void config_write(uint8_t device, uint8_t function, uint8_t offset, unsigned size, uint32_t value);

  // The byte-wide register at 0xCF9 shares the dword at 0xCF8 (PIIX3 Reset
  // Control); the ISA bridge handles it through this hook.
  void set_port_cf9_handler(PortHandler* h) { cf9_ = h; }

  PortBus& ports() { return ports_; }
  PhysicalMemory& memory() { return memory_; }
  bool pirq_level(unsigned pirq) const { return pirq < 4 && pirq_level_[pirq]; }

  uint32_t config_address() const { return config_address_; }
  const char* name() const override { return "pci-bus"; }
  // CONFIG_ADDRESS only: each function resets and serialises itself.
  void reset() override;
  void serialize(StateSerializer& s) override;

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  // Called by PciFunction when its INTx# output may have changed.
  void update_irq();

 private:
  friend class PciFunction;  // a function removes itself from slots_ when destroyed
  PortBus& ports_;
  PhysicalMemory& memory_;
  IrqSink* pirq_sink_;
  unsigned pirq_base_;
  std::array<PciFunction*, 256> slots_{};  // by devfn
  uint32_t config_address_ = 0;
  std::array<bool, 4> pirq_level_{};
  PortHandler* cf9_ = nullptr;
};

}  // namespace pc64
