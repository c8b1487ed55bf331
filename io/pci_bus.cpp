#include "io/pci_bus.h"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "mem/log.h"

namespace pc64 {

namespace {
uint64_t all_ones(unsigned size) { return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1; }
bool is_power_of_two(uint64_t v) { return v && !(v & (v - 1)); }
}  // namespace

// ---------------------------------------------------------------- PciFunction

PciFunction::PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code) {
  set_default16(pci::kVendorId, vendor);
  set_default16(pci::kDeviceId, device);
  set_default8(pci::kRevisionId, revision);
  set_default8(pci::kClassCode, class_code & 0xFF);
  set_default8(pci::kClassCode + 1, (class_code >> 8) & 0xFF);
  set_default8(pci::kClassCode + 2, (class_code >> 16) & 0xFF);
  set_default16(pci::kStatus, pci::kStatusFastBackToBack | pci::kStatusDevselMedium);
  // Command: I/O, memory, bus master, parity, SERR#, interrupt disable.
  uint16_t cmd = pci::kCommandIo | pci::kCommandMemory | pci::kCommandBusMaster | pci::kCommandParity |
                 pci::kCommandSerr | pci::kCommandIntxDisable;
  set_wmask(pci::kCommand, 1, cmd & 0xFF);
  set_wmask(pci::kCommand + 1, 1, cmd >> 8);
  // Status: master data parity error (8), signalled/received aborts (11-13),
  // SERR# (14), parity error (15) are write-one-to-clear.
  set_w1cmask(pci::kStatus + 1, 1, 0xF9);
  set_wmask(pci::kCacheLineSize, 1, 0xFF);
  set_wmask(pci::kLatencyTimer, 1, 0xFF);
  set_wmask(pci::kInterruptLine, 1, 0xFF);
  windows_.resize(kNumBars + 1);
}

PciFunction::~PciFunction() {
  if (!bus_) return;
  for (int i = 0; i <= kNumBars; ++i)
    if (bars_[i].mapped != kPciBarUnmapped) unmap_window(i);
  for (auto& s : bus_->slots_)
    if (s == this) s = nullptr;
}

uint32_t PciFunction::read32(uint8_t off) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < 4; ++i) v |= static_cast<uint32_t>(config_[(off + i) & 0xFF]) << (8 * i);
  return v;
}

void PciFunction::write16(uint8_t off, uint16_t v) {
  config_[off] = v & 0xFF;
  config_[(off + 1) & 0xFF] = v >> 8;
}

void PciFunction::write32(uint8_t off, uint32_t v) {
  for (unsigned i = 0; i < 4; ++i) config_[(off + i) & 0xFF] = (v >> (8 * i)) & 0xFF;
}

void PciFunction::set_wmask(uint8_t off, unsigned n, uint8_t mask) {
  for (unsigned i = 0; i < n && off + i < 256; ++i) wmask_[off + i] = mask;
}

void PciFunction::set_w1cmask(uint8_t off, unsigned n, uint8_t mask) {
  for (unsigned i = 0; i < n && off + i < 256; ++i) w1cmask_[off + i] = mask;
}

void PciFunction::set_default8(uint8_t off, uint8_t v) { defaults_[off] = config_[off] = v; }
void PciFunction::set_default16(uint8_t off, uint16_t v) {
  set_default8(off, v & 0xFF);
  set_default8((off + 1) & 0xFF, v >> 8);
}
void PciFunction::set_default32(uint8_t off, uint32_t v) {
  set_default16(off, v & 0xFFFF);
  set_default16((off + 2) & 0xFF, v >> 16);
}

void PciFunction::set_subsystem(uint16_t vendor, uint16_t id) {
  set_default16(pci::kSubsystemVendorId, vendor);
  set_default16(pci::kSubsystemId, id);
}

void PciFunction::define_io_bar(int index, uint32_t size) {
  if (index < 0 || index >= kNumBars || size < 4 || !is_power_of_two(size))
    throw std::invalid_argument("bad PCI I/O BAR definition");
  bars_[index] = {BarKind::Io, size, kPciBarUnmapped};
  uint8_t off = pci::kBar0 + 4 * index;
  // Bit 0 (I/O space indicator) is read-only 1; bits below the size read 0.
  set_default32(off, pci::kBarIo);
  uint32_t mask = ~(size - 1) & ~3u;
  for (unsigned i = 0; i < 4; ++i) wmask_[off + i] = (mask >> (8 * i)) & 0xFF;
}

void PciFunction::define_mem_bar(int index, uint64_t size, bool is_64bit, bool prefetchable) {
  if (index < 0 || index >= kNumBars || (is_64bit && index == kNumBars - 1) || size < 16 ||
      !is_power_of_two(size) || (!is_64bit && size > 0x80000000ULL))
    throw std::invalid_argument("bad PCI memory BAR definition");
  bars_[index] = {is_64bit ? BarKind::Mem64 : BarKind::Mem32, size, kPciBarUnmapped};
  uint8_t off = pci::kBar0 + 4 * index;
  uint32_t type = (is_64bit ? pci::kBarMem64 : 0) | (prefetchable ? pci::kBarPrefetch : 0);
  set_default32(off, type);
  uint64_t mask = ~(size - 1) & ~0xFULL;
  for (unsigned i = 0; i < 4; ++i) wmask_[off + i] = (mask >> (8 * i)) & 0xFF;
  if (is_64bit) {
    bars_[index + 1] = {};  // the upper half belongs to this BAR
    set_default32(off + 4, 0);
    for (unsigned i = 0; i < 4; ++i) wmask_[off + 4 + i] = (mask >> (32 + 8 * i)) & 0xFF;
  }
}

void PciFunction::define_rom(std::vector<uint8_t> image) {
  uint64_t size = 2048;  // the ROM BAR's smallest decode (address bits 31:11)
  while (size < image.size()) size <<= 1;
  image.resize(size, 0);
  rom_ = std::move(image);
  bars_[kRomBar] = {BarKind::Mem32, size, kPciBarUnmapped};
  set_default32(pci::kExpansionRom, 0);
  uint32_t mask = static_cast<uint32_t>(~(size - 1)) | pci::kRomEnable;
  for (unsigned i = 0; i < 4; ++i) wmask_[pci::kExpansionRom + i] = (mask >> (8 * i)) & 0xFF;
}

uint64_t PciFunction::decode_address(int index) const {
  const Bar& b = bars_[index];
  uint16_t cmd = command();
  switch (b.kind) {
    case BarKind::None:
      return kPciBarUnmapped;
    case BarKind::Io: {
      if (!(cmd & pci::kCommandIo)) return kPciBarUnmapped;
      uint64_t base = read32(pci::kBar0 + 4 * index) & ~3u;
      // x86 has 64 KiB of I/O space; the sizing pattern (all-ones) falls outside it.
      if (base == 0 || base + b.size > 0x10000) return kPciBarUnmapped;
      return base;
    }
    case BarKind::Mem32:
    case BarKind::Mem64: {
      if (!(cmd & pci::kCommandMemory)) return kPciBarUnmapped;
      uint64_t base;
      if (index == kRomBar) {
        uint32_t v = read32(pci::kExpansionRom);
        if (!(v & pci::kRomEnable)) return kPciBarUnmapped;
        base = v & ~(b.size - 1) & 0xFFFFFFFFu;
      } else {
        base = read32(pci::kBar0 + 4 * index) & ~0xFu;
        if (b.kind == BarKind::Mem64) base |= static_cast<uint64_t>(read32(pci::kBar0 + 4 * index + 4)) << 32;
      }
      uint64_t last = base + b.size - 1;
      // Like real firmware expects: address 0 means "not assigned"; a range
      // ending at the top of the address space is the sizing pattern.
      if (base == 0 || last < base) return kPciBarUnmapped;
      if (b.kind == BarKind::Mem32 && last >= 0xFFFFFFFFULL) return kPciBarUnmapped;
      if (b.kind == BarKind::Mem64 && last == ~0ULL) return kPciBarUnmapped;
      return base;
    }
  }
  return kPciBarUnmapped;
}

uint64_t PciFunction::bar_address(int index) const {
  if (index < 0 || index > kNumBars) return kPciBarUnmapped;
  return bars_[index].mapped;
}

void PciFunction::map_window(int index, uint64_t base) {
  if (!bus_) return;
  if (!windows_[index]) windows_[index] = std::make_unique<Window>(this, index);
  char name[48];
  std::snprintf(name, sizeof name, "pci %02x:%02x.%x %s%d", 0, device_number(), function_number(),
                index == kRomBar ? "rom" : "bar", index == kRomBar ? 0 : index);
  try {
    if (bars_[index].kind == BarKind::Io)
      bus_->ports().map(static_cast<uint16_t>(base), static_cast<uint32_t>(bars_[index].size), windows_[index].get(),
                        name);
    else if (HostBacking b = bar_host_backing(index); b.host && b.size <= bars_[index].size)
      bus_->memory().map_tracked_ram(base, b.size, b.host, b.dirty, windows_[index].get(), name);
    else
      bus_->memory().map_mmio(base, bars_[index].size, windows_[index].get(), name);
    bars_[index].mapped = base;
  } catch (const std::invalid_argument& e) {
    // The guest placed the BAR over something else: it does not decode there.
    PC64_LOG(LogLevel::Warn, "pci", "%s at %#llx not mapped: %s", name, static_cast<unsigned long long>(base),
             e.what());
    bars_[index].mapped = kPciBarUnmapped;
  }
}

void PciFunction::unmap_window(int index) {
  if (bus_ && windows_[index]) {
    if (bars_[index].kind == BarKind::Io)
      bus_->ports().unmap(windows_[index].get());
    else
      bus_->memory().unmap_mmio(windows_[index].get());
  }
  bars_[index].mapped = kPciBarUnmapped;
}

void PciFunction::update_mappings() {
  for (int i = 0; i <= kNumBars; ++i) {
    if (bars_[i].kind == BarKind::None) continue;
    uint64_t old = bars_[i].mapped;
    uint64_t now = decode_address(i);
    if (now == old) continue;
    if (old != kPciBarUnmapped) unmap_window(i);
    if (now != kPciBarUnmapped) map_window(i, now);
    if (bars_[i].mapped != old) bar_moved(i, old, bars_[i].mapped);
  }
}

uint32_t PciFunction::config_read(uint8_t offset, unsigned size) {
  uint8_t dw = offset & 0xFC;
  uint32_t v = config_value(dw, read32(dw));
  unsigned shift = 8 * (offset & 3);
  uint32_t r = v >> shift;
  return size >= 4 ? r : r & static_cast<uint32_t>(all_ones(size));
}

void PciFunction::config_write(uint8_t offset, unsigned size, uint32_t value) {
  bool remap = false, irq = false;
  for (unsigned i = 0; i < size && offset + i < 256; ++i) {
    unsigned o = offset + i;
    uint8_t v = (value >> (8 * i)) & 0xFF;
    uint8_t cur = config_[o];
    uint8_t next = static_cast<uint8_t>((cur & ~wmask_[o]) | (v & wmask_[o]));
    next = static_cast<uint8_t>(next & ~(v & w1cmask_[o]));
    config_[o] = next;
    if (o == pci::kCommand || o == pci::kCommand + 1) remap = irq = true;
    if ((o >= pci::kBar0 && o < pci::kBar0 + 24) || (o >= pci::kExpansionRom && o < pci::kExpansionRom + 4))
      remap = true;
  }
  if (remap) update_mappings();
  if (irq && bus_) bus_->update_irq();
  config_written(offset, size);
}

bool PciFunction::irq_output() const {
  return irq_level_ && config_[pci::kInterruptPin] >= 1 && config_[pci::kInterruptPin] <= 4 &&
         !(command() & pci::kCommandIntxDisable);
}

void PciFunction::set_irq_level(bool level) {
  if (level == irq_level_) return;
  irq_level_ = level;
  // Status bit 3 shows the function's internal interrupt state (PCI 2.3).
  uint16_t st = read16(pci::kStatus);
  write16(pci::kStatus, level ? st | pci::kStatusInterrupt : st & ~pci::kStatusInterrupt);
  if (bus_) bus_->update_irq();
}

void PciFunction::reset_config() {
  for (int i = 0; i <= kNumBars; ++i) {
    uint64_t old = bars_[i].mapped;
    if (old != kPciBarUnmapped) {
      unmap_window(i);
      bar_moved(i, old, kPciBarUnmapped);
    }
  }
  config_ = defaults_;
  irq_level_ = false;
  if (bus_) bus_->update_irq();
}

void PciFunction::serialize_config(StateSerializer& s) {
  s.tag(0x50434946);  // "PCIF"
  s.bytes(config_.data(), config_.size());
  s(irq_level_);
  if (s.loading()) {
    // Drop every current mapping, then decode again from the restored header.
    for (int i = 0; i <= kNumBars; ++i)
      if (bars_[i].mapped != kPciBarUnmapped) unmap_window(i);
    update_mappings();
    if (bus_) bus_->update_irq();
  }
}

void PciFunction::attach(PciBus* bus, uint8_t devfn) {
  bus_ = bus;
  devfn_ = devfn;
  update_mappings();
}

uint32_t PciFunction::Window::io_read(uint16_t port, unsigned size) {
  uint64_t base = fn_->bars_[index_].mapped;
  if (base == kPciBarUnmapped) return static_cast<uint32_t>(all_ones(size));
  return static_cast<uint32_t>(fn_->bar_read(index_, port - base, size));
}

void PciFunction::Window::io_write(uint16_t port, unsigned size, uint32_t value) {
  uint64_t base = fn_->bars_[index_].mapped;
  if (base != kPciBarUnmapped) fn_->bar_write(index_, port - base, size, value);
}

uint64_t PciFunction::Window::mmio_read(uint64_t offset, unsigned size) {
  if (index_ == kRomBar) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i) {
      uint64_t o = offset + i;
      uint8_t b = o < fn_->rom_.size() ? fn_->rom_[o] : 0xFF;
      v |= static_cast<uint64_t>(b) << (8 * i);
    }
    return v;
  }
  return fn_->bar_read(index_, offset, size);
}

void PciFunction::Window::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (index_ == kRomBar) return;  // read-only
  fn_->bar_write(index_, offset, size, value);
}

// --------------------------------------------------------------------- PciBus

PciBus::PciBus(PortBus& ports, PhysicalMemory& memory, IrqSink* pirq_sink, unsigned pirq_base)
    : ports_(ports), memory_(memory), pirq_sink_(pirq_sink), pirq_base_(pirq_base) {
  ports_.map(0xCF8, 8, this, "pci config");
}

PciBus::~PciBus() {
  for (PciFunction* f : slots_)
    if (f) f->bus_ = nullptr;
}

void PciBus::add(PciFunction& fn, uint8_t device, uint8_t function) {
  if (device >= 32 || function >= 8) throw std::invalid_argument("PCI device/function out of range");
  uint8_t devfn = static_cast<uint8_t>(device << 3 | function);
  if (slots_[devfn]) throw std::invalid_argument("PCI slot " + std::to_string(device) + "." +
                                                 std::to_string(function) + " is already taken");
  slots_[devfn] = &fn;
  fn.attach(this, devfn);
}

PciFunction* PciBus::find(uint8_t device, uint8_t function) const {
  if (device >= 32 || function >= 8) return nullptr;
  return slots_[device << 3 | function];
}

uint32_t PciBus::config_read(uint8_t device, uint8_t function, uint8_t offset, unsigned size) {
  PciFunction* f = find(device, function);
  if (!f) return static_cast<uint32_t>(all_ones(size));
  uint32_t v = f->config_read(offset, size);
  // Header type bit 7: function 0 of a multi-function device says so, which
  // is what makes software probe functions 1-7 (PCI 3.0 §6.2.1).
  if (function == 0 && offset <= pci::kHeaderType && offset + size > pci::kHeaderType) {
    for (uint8_t fn = 1; fn < 8; ++fn)
      if (find(device, fn)) {
        v |= 0x80u << (8 * (pci::kHeaderType - offset));
        break;
      }
  }
  return v;
}

void PciBus::config_write(uint8_t device, uint8_t function, uint8_t offset, unsigned size, uint32_t value) {
  if (PciFunction* f = find(device, function)) f->config_write(offset, size, value);
}

uint32_t PciBus::io_read(uint16_t port, unsigned size) {
  if (port < 0xCFC) {
    // CONFIG_ADDRESS answers only dword accesses; 0xCF9 is the PIIX3 Reset
    // Control register; other narrow accesses fall through to nothing.
    if (port == 0xCF8 && size == 4) return config_address_;
    if (port == 0xCF9 && size == 1 && cf9_) return cf9_->io_read(port, size);
    return static_cast<uint32_t>(all_ones(size));
  }
  unsigned lane = port - 0xCFC;
  if (lane + size > 4) {  // never crosses the data dword: split
    uint32_t v = 0;
    for (unsigned i = 0; i < size; ++i) v |= io_read(static_cast<uint16_t>(port + i), 1) << (8 * i);
    return v;
  }
  // Bit 31 enables configuration cycles; only bus 0 exists.
  if (!(config_address_ & 0x80000000u) || ((config_address_ >> 16) & 0xFF) != 0)
    return static_cast<uint32_t>(all_ones(size));
  uint8_t dev = (config_address_ >> 11) & 0x1F, fn = (config_address_ >> 8) & 7;
  return config_read(dev, fn, static_cast<uint8_t>((config_address_ & 0xFC) + lane), size);
}

void PciBus::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (port < 0xCFC) {
    if (port == 0xCF8 && size == 4) {
      // Bits 30:24 are reserved (read 0), bits 1:0 select type 0 cycles.
      config_address_ = value & 0x80FFFFFCu;
    } else if (port == 0xCF9 && size == 1 && cf9_) {
      cf9_->io_write(port, size, value);
    }
    return;
  }
  unsigned lane = port - 0xCFC;
  if (lane + size > 4) {
    for (unsigned i = 0; i < size; ++i) io_write(static_cast<uint16_t>(port + i), 1, value >> (8 * i));
    return;
  }
  if (!(config_address_ & 0x80000000u) || ((config_address_ >> 16) & 0xFF) != 0) return;
  uint8_t dev = (config_address_ >> 11) & 0x1F, fn = (config_address_ >> 8) & 7;
  config_write(dev, fn, static_cast<uint8_t>((config_address_ & 0xFC) + lane), size, value);
}

void PciBus::update_irq() {
  std::array<bool, 4> level{};
  for (PciFunction* f : slots_) {
    if (!f || !f->irq_output()) continue;
    unsigned pin = f->read8(pci::kInterruptPin);  // 1..4
    level[(f->device_number() + pin - 2) & 3] = true;
  }
  for (unsigned p = 0; p < 4; ++p) {
    if (level[p] == pirq_level_[p]) continue;
    pirq_level_[p] = level[p];
    if (pirq_sink_) pirq_sink_->set_irq(pirq_base_ + p, level[p]);
  }
}

void PciBus::reset() { config_address_ = 0; }

void PciBus::serialize(StateSerializer& s) {
  s.tag(0x50434942);  // "PCIB"
  s(config_address_);
  s(pirq_level_);
}

}  // namespace pc64
