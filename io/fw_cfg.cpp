#include "io/fw_cfg.h"

#include <algorithm>
#include <cstring>

namespace pc64 {

namespace {
void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}
uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
}  // namespace

FwCfg::FwCfg(PortBus& ports, PhysicalMemory& mem) : mem_(mem) {
  ports.map(kPortSelector, 2, this, "fw_cfg");
  ports.map(kPortDma, 8, this, "fw_cfg dma");
  set_item(kSignature, {'Q', 'E', 'M', 'U'});
  set_u32(kId, 3);  // bit 0: traditional interface, bit 1: DMA
  rebuild_file_dir();
}

void FwCfg::reset() {
  selector_ = 0;
  offset_ = 0;
  dma_high_ = 0;
}

void FwCfg::set_item(uint16_t key, std::vector<uint8_t> data) { items_[key] = std::move(data); }
void FwCfg::set_u16(uint16_t key, uint16_t v) { set_item(key, {uint8_t(v), uint8_t(v >> 8)}); }
void FwCfg::set_u32(uint16_t key, uint32_t v) {
  std::vector<uint8_t> d(4);
  std::memcpy(d.data(), &v, 4);  // little-endian, as the spec says for numeric items
  set_item(key, std::move(d));
}
void FwCfg::set_u64(uint16_t key, uint64_t v) {
  std::vector<uint8_t> d(8);
  std::memcpy(d.data(), &v, 8);
  set_item(key, std::move(d));
}

uint16_t FwCfg::add_file(const std::string& name, std::vector<uint8_t> data) {
  for (auto& [n, key] : files_) {
    if (n == name) {
      items_[key] = std::move(data);
      rebuild_file_dir();
      return key;
    }
  }
  uint16_t key = static_cast<uint16_t>(kFileFirst + files_.size());
  files_.emplace_back(name, key);
  items_[key] = std::move(data);
  rebuild_file_dir();
  return key;
}

const std::vector<uint8_t>* FwCfg::file(const std::string& name) const {
  for (auto& [n, key] : files_)
    if (n == name) return &items_.at(key);
  return nullptr;
}

// FW_CFG_FILE_DIR: be32 count, then per file { be32 size; be16 select; be16 reserved; char name[56]; }.
void FwCfg::rebuild_file_dir() {
  std::vector<uint8_t> dir;
  put_be32(dir, static_cast<uint32_t>(files_.size()));
  for (auto& [n, key] : files_) {
    put_be32(dir, static_cast<uint32_t>(items_[key].size()));
    dir.push_back(static_cast<uint8_t>(key >> 8));
    dir.push_back(static_cast<uint8_t>(key));
    dir.push_back(0);
    dir.push_back(0);
    char name[56] = {};
    std::strncpy(name, n.c_str(), sizeof name - 1);
    dir.insert(dir.end(), name, name + sizeof name);
  }
  items_[kFileDir] = std::move(dir);
}

const std::vector<uint8_t>* FwCfg::current() const {
  auto it = items_.find(selector_);
  return it == items_.end() ? nullptr : &it->second;
}

void FwCfg::select(uint16_t key) {
  selector_ = key;
  offset_ = 0;
}

uint32_t FwCfg::io_read(uint16_t port, unsigned size) {
  if (port == kPortData) {
    // Wider reads of the data port return consecutive bytes (little-endian).
    uint32_t v = 0;
    const auto* item = current();
    for (unsigned i = 0; i < size; ++i) {
      uint8_t b = 0;
      if (item && offset_ < item->size()) b = (*item)[offset_++];
      v |= uint32_t{b} << (8 * i);
    }
    return v;
  }
  if (port == kPortDma || port == kPortDma + 4) {
    // Reading the DMA address register returns "QEMU CFG" so firmware can probe it.
    static const char sig[] = "QEMU CFG";
    unsigned base = port - kPortDma;
    uint32_t v = 0;
    for (unsigned i = 0; i < size && base + i < 8; ++i) v |= uint32_t(uint8_t(sig[base + i])) << (8 * i);
    return v;
  }
  return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

void FwCfg::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (port == kPortSelector && size >= 2) {
    select(static_cast<uint16_t>(value));
  } else if (port == kPortSelector && size == 1) {
    select(static_cast<uint16_t>((selector_ & 0xFF00) | (value & 0xFF)));
  } else if (port == kPortDma && size == 4) {
    dma_high_ = __builtin_bswap32(value);  // the register is big-endian
  } else if (port == kPortDma + 4 && size == 4) {
    uint64_t addr = (uint64_t{dma_high_} << 32) | __builtin_bswap32(value);
    dma_high_ = 0;
    run_dma(addr);
  }
  // Writes through the data port are ignored (read-only items, as in QEMU since 2.4).
}

// FWCfgDmaAccess { be32 control; be32 length; be64 address; }.
void FwCfg::run_dma(uint64_t addr) {
  uint8_t desc[16];
  if (!mem_.dma_read(addr, desc, sizeof desc)) return;
  uint32_t control = be32(desc), length = be32(desc + 4);
  uint64_t target = (uint64_t{be32(desc + 8)} << 32) | be32(desc + 12);
  if (control & kDmaSelect) select(static_cast<uint16_t>(control >> 16));
  bool ok = true;
  if (control & kDmaRead) {
    const auto* item = current();
    std::vector<uint8_t> buf(length, 0);
    if (item && offset_ < item->size()) {
      size_t n = std::min<size_t>(length, item->size() - offset_);
      std::memcpy(buf.data(), item->data() + offset_, n);
    }
    ok = mem_.dma_write(target, buf.data(), buf.size());
    offset_ += length;
  } else if (control & kDmaSkip) {
    offset_ += length;
  } else if (control & kDmaWrite) {
    ok = false;  // no writable items
  }
  uint8_t status[4] = {0, 0, 0, static_cast<uint8_t>(ok ? 0 : kDmaError)};
  mem_.dma_write(addr, status, sizeof status);
}

void FwCfg::serialize(StateSerializer& s) {
  s.tag(0x46574347);  // "FWCG": items are rebuilt from the config; only the cursor is state
  s(selector_);
  s(offset_);
  s(dma_high_);
}

}  // namespace pc64
