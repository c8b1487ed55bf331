#include "mem/physical_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

PhysicalMemory::PhysicalMemory(uint64_t ram_bytes) {
  ram_size_ = (ram_bytes + kPageSize - 1) & kPageMask;
  ram_below_4g_ = std::min(ram_size_, kPciHoleStart);
  if (ram_size_) {
    void* p = mmap(nullptr, ram_size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ram_ = static_cast<uint8_t*>(p);
  }
  code_pages_.assign(ram_size_ / kPageSize, 0);
  update_direct_ram();
}

void PhysicalMemory::update_direct_ram() {
  uint64_t low_end = std::min(ram_below_4g_, kLegacyStart);
  uint64_t high_end = ram_below_4g_;
  for (const Region& r : regions_) {
    if (r.base < low_end) low_end = r.base;
    if (r.base + r.size > kLegacyEnd) high_end = std::min(high_end, std::max(r.base, kLegacyEnd));
  }
  direct_low_end_ = low_end;
  direct_high_span_ = high_end > kLegacyEnd ? high_end - kLegacyEnd : 0;
}

PhysicalMemory::~PhysicalMemory() {
  if (ram_) munmap(ram_, ram_size_);
}

int64_t PhysicalMemory::ram_offset(uint64_t paddr) const {
  if (paddr < ram_below_4g_) return static_cast<int64_t>(paddr);
  if (paddr >= k4G && paddr - k4G < ram_above_4g()) return static_cast<int64_t>(ram_below_4g_ + (paddr - k4G));
  return -1;
}

uint8_t* PhysicalMemory::ram_pointer(uint64_t paddr) const {
  int64_t off = ram_offset(paddr);
  return off < 0 ? nullptr : ram_ + off;
}

void PhysicalMemory::insert_region(Region r) {
  if (r.size == 0) throw std::invalid_argument("memory region '" + r.name + "' is empty");
  for (const Region& o : regions_)
    if (r.base < o.base + o.size && o.base < r.base + r.size)
      throw std::invalid_argument("memory region '" + r.name + "' overlaps '" + o.name + "'");
  auto at = std::upper_bound(regions_.begin(), regions_.end(), r.base,
                             [](uint64_t a, const Region& x) { return a < x.base; });
  regions_.insert(at, std::move(r));
  changed();
}

void PhysicalMemory::map_rom(uint64_t base, std::vector<uint8_t> bytes, std::string name) {
  Region r;
  r.base = base;
  r.size = bytes.size();
  r.kind = Kind::Rom;
  r.rom = std::move(bytes);
  r.name = std::move(name);
  insert_region(std::move(r));
}

void PhysicalMemory::map_mmio(uint64_t base, uint64_t size, MmioHandler* handler, std::string name) {
  Region r;
  r.base = base;
  r.size = size;
  r.kind = Kind::Mmio;
  r.mmio = handler;
  r.name = std::move(name);
  insert_region(std::move(r));
}

void PhysicalMemory::unmap_mmio(MmioHandler* handler) {
  std::erase_if(regions_, [&](const Region& r) {
    return (r.kind == Kind::Mmio || r.kind == Kind::Tracked) && r.mmio == handler;
  });
  changed();
}

void PhysicalMemory::map_tracked_ram(uint64_t base, uint64_t size, uint8_t* host, std::vector<uint64_t>* dirty,
                                     MmioHandler* owner, std::string name) {
  if (dirty->size() * 64 < (size + kPageSize - 1) / kPageSize)
    throw std::invalid_argument("tracked memory '" + name + "': dirty bitmap too small");
  Region r;
  r.base = base;
  r.size = size;
  r.kind = Kind::Tracked;
  r.mmio = owner;
  r.host = host;
  r.dirty = dirty;
  r.name = std::move(name);
  insert_region(std::move(r));
}

void PhysicalMemory::revoke_tracked_writes() {
  if (!tracked_writes_given_) return;
  tracked_writes_given_ = false;
  changed();
}

void PhysicalMemory::region_target(const Region& r, uint64_t paddr, Target& t) {
  t.kind = r.kind;
  if (r.kind == Kind::Rom) t.host = const_cast<uint8_t*>(r.rom.data()) + (paddr - r.base);
  if (r.kind == Kind::Mmio) {
    t.mmio = r.mmio;
    t.offset = paddr - r.base;
  }
  if (r.kind == Kind::Tracked) {
    t.host = r.host + (paddr - r.base);
    t.offset = paddr - r.base;
    t.dirty = r.dirty;
  }
}

void PhysicalMemory::mark_tracked(const Target& t, unsigned size) {
  for (uint64_t p = t.offset / kPageSize; p <= (t.offset + size - 1) / kPageSize; ++p)
    (*t.dirty)[p / 64] |= 1ULL << (p % 64);
}

void PhysicalMemory::set_legacy_routing(uint64_t base, uint64_t size, bool read_ram, bool write_ram) {
  for (uint64_t a = base & kPageMask; a < base + size; a += kPageSize) {
    if (a < 0xC0000 || a >= kLegacyEnd) continue;
    legacy_routing_[(a - 0xC0000) / kPageSize] = (read_ram ? 1 : 0) | (write_ram ? 2 : 0);
  }
  changed();
}

void PhysicalMemory::set_a20(bool enabled) {
  uint64_t mask = enabled ? ~0ULL : ~(1ULL << 20);
  if (mask != a20_mask_) {
    a20_mask_ = mask;
    changed();
  }
}

const PhysicalMemory::Region* PhysicalMemory::find_region(uint64_t paddr) const {
  // Few regions (tens): a binary search on base.
  auto it = std::upper_bound(regions_.begin(), regions_.end(), paddr,
                             [](uint64_t a, const Region& r) { return a < r.base; });
  // Regions do not overlap, so only the last one starting at or below paddr can hold it.
  if (it == regions_.begin()) return nullptr;
  --it;
  return paddr - it->base < it->size ? &*it : nullptr;
}

uint64_t PhysicalMemory::next_region_base(uint64_t paddr) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), paddr,
                             [](uint64_t a, const Region& r) { return a < r.base; });
  return it == regions_.end() ? ~0ULL : it->base;
}

PhysicalMemory::Target PhysicalMemory::resolve(uint64_t paddr, bool write) const {
  Target t;
  // The legacy area: VGA window and PAM-controlled option ROM / BIOS space.
  if (paddr >= kLegacyStart && paddr < kLegacyEnd) {
    uint64_t page_end = (paddr & kPageMask) + kPageSize;
    if (paddr >= 0xC0000 && paddr < ram_below_4g_) {  // shadow RAM exists only if RAM reaches here
      uint8_t route = legacy_routing_[(paddr - 0xC0000) / kPageSize];
      if (route & (write ? 2 : 1)) {
        t.kind = Kind::Ram;
        t.host = ram_ + paddr;
        t.span = page_end - paddr;
        return t;
      }
    }
    if (const Region* r = find_region(paddr)) {
      region_target(*r, paddr, t);
      t.span = std::min(page_end, r->base + r->size) - paddr;
      return t;
    }
    t.span = std::min(page_end, next_region_base(paddr)) - paddr;
    return t;  // unassigned
  }
  if (const Region* r = find_region(paddr)) {
    region_target(*r, paddr, t);
    t.span = r->base + r->size - paddr;
    return t;
  }
  int64_t off = ram_offset(paddr);
  if (off >= 0) {
    t.kind = Kind::Ram;
    t.host = ram_ + off;
    // RAM runs to the end of its block, but stops where the legacy area or a
    // ROM/MMIO range mapped over it begins.
    uint64_t end = paddr < ram_below_4g_ ? ram_below_4g_ : k4G + ram_above_4g();
    if (paddr < kLegacyStart) end = std::min(end, kLegacyStart);
    t.span = std::min(end, next_region_base(paddr)) - paddr;
    return t;
  }
  t.span = std::min((paddr & kPageMask) + kPageSize, next_region_base(paddr)) - paddr;
  return t;
}

PhysicalMemory::Page PhysicalMemory::page(uint64_t paddr) const {
  Page p;
  if (uint8_t* ram = direct_ram(paddr); ram && direct_ram(paddr + kPageSize - 1)) {
    p.read = ram;
    if (!is_code_page(paddr)) p.write = ram;
    return p;
  }
  Target r = resolve(paddr, false);
  if (r.span >= kPageSize && (r.kind == Kind::Ram || r.kind == Kind::Rom || r.kind == Kind::Tracked)) p.read = r.host;
  Target w = resolve(paddr, true);
  if (w.span >= kPageSize && w.kind == Kind::Ram && !is_code_page(paddr)) p.write = w.host;
  if (w.span >= kPageSize && w.kind == Kind::Tracked && tracked_dirty(w)) {
    p.write = w.host;
    tracked_writes_given_ = true;
  }
  return p;
}

bool PhysicalMemory::is_code_page(uint64_t paddr) const {
  int64_t off = ram_offset(paddr);
  return off >= 0 && code_pages_[static_cast<uint64_t>(off) / kPageSize];
}

void PhysicalMemory::mark_code_page(uint64_t paddr) {
  int64_t off = ram_offset(paddr);
  if (off >= 0) code_pages_[static_cast<uint64_t>(off) / kPageSize] = 1;
}

void PhysicalMemory::clear_code_page(uint64_t paddr) {
  int64_t off = ram_offset(paddr);
  if (off >= 0) code_pages_[static_cast<uint64_t>(off) / kPageSize] = 0;
}

uint64_t PhysicalMemory::read_slow(uint64_t paddr, unsigned size) {
  Target t = resolve(paddr, false);
  if (t.span >= size) {
    switch (t.kind) {
      case Kind::Ram:
      case Kind::Rom:
      case Kind::Tracked: {
        uint64_t v = 0;
        std::memcpy(&v, t.host, size);
        return v;
      }
      case Kind::Mmio:
        return t.mmio->mmio_read(t.offset, size);
      case Kind::Unassigned:
        if (!warned_unassigned_) {
          warned_unassigned_ = true;
          PC64_LOG(LogLevel::Debug, "mem", "read of unassigned physical address %#llx (reported once)",
                   static_cast<unsigned long long>(paddr));
        }
        return size == 8 ? ~0ULL : ((1ULL << (size * 8)) - 1);
    }
  }
  // Straddles two targets: assemble byte by byte (little-endian).
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= read_slow(paddr + i, 1) << (8 * i);
  return v;
}

void PhysicalMemory::write_slow(uint64_t paddr, unsigned size, uint64_t value) {
  Target t = resolve(paddr, true);
  if (t.span >= size) {
    switch (t.kind) {
      case Kind::Ram: {
        std::memcpy(t.host, &value, size);
        if (code_listener_ && is_code_page(paddr)) code_listener_->code_page_written(paddr & kPageMask);
        if (code_listener_ && ((paddr + size - 1) & kPageMask) != (paddr & kPageMask) &&
            is_code_page(paddr + size - 1))
          code_listener_->code_page_written((paddr + size - 1) & kPageMask);
        return;
      }
      case Kind::Tracked:
        std::memcpy(t.host, &value, size);
        mark_tracked(t, size);
        return;
      case Kind::Mmio:
        // Devices see only the bytes written (callers may pass wider values).
        t.mmio->mmio_write(t.offset, size, size == 8 ? value : value & ((1ULL << (size * 8)) - 1));
        return;
      case Kind::Rom:
      case Kind::Unassigned:
        return;  // dropped, as on the bus
    }
  }
  for (unsigned i = 0; i < size; ++i) write_slow(paddr + i, 1, (value >> (8 * i)) & 0xFF);
}

uint64_t PhysicalMemory::read(uint64_t paddr, unsigned size) { return read_slow(paddr, size); }
void PhysicalMemory::write(uint64_t paddr, unsigned size, uint64_t value) { write_slow(paddr, size, value); }

void PhysicalMemory::read_bytes(uint64_t paddr, void* dst, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  while (n) {
    Target t = resolve(paddr, false);
    size_t chunk = std::min<uint64_t>(n, t.span ? t.span : 1);
    if (t.kind == Kind::Ram || t.kind == Kind::Rom || t.kind == Kind::Tracked) {
      std::memcpy(d, t.host, chunk);
    } else {
      for (size_t i = 0; i < chunk; ++i) d[i] = static_cast<uint8_t>(read_slow(paddr + i, 1));
    }
    d += chunk;
    paddr += chunk;
    n -= chunk;
  }
}

void PhysicalMemory::write_bytes(uint64_t paddr, const void* src, size_t n) {
  const auto* s = static_cast<const uint8_t*>(src);
  while (n) {
    // RAM a page at a time (loaders copy whole kernels); anything else byte
    // by byte through the bus, as a CPU store would go.
    Target t = resolve(paddr, true);
    if (t.kind != Kind::Ram || t.span == 0) {
      write_slow(paddr, 1, *s);
      ++s, ++paddr, --n;
      continue;
    }
    const size_t chunk = std::min<uint64_t>({n, t.span, kPageSize - (paddr & ~kPageMask)});
    std::memcpy(t.host, s, chunk);
    if (code_listener_ && is_code_page(paddr)) code_listener_->code_page_written(paddr & kPageMask);
    s += chunk, paddr += chunk, n -= chunk;
  }
}

int64_t PhysicalMemory::dma_ram_offset(uint64_t paddr, size_t n, bool write) const {
  if (n == 0 || paddr + n < paddr) return -1;  // empty, or wraps the address space
  // All bytes must be RAM: both ends in RAM and no hole between them.
  int64_t a = ram_offset(paddr), b = ram_offset(paddr + n - 1);
  if (a < 0 || b < 0 || static_cast<uint64_t>(b - a) != n - 1) return -1;
  // The legacy area is RAM only where PAM routes this direction to shadow RAM;
  // the VGA window 0xA0000-0xBFFFF never is.
  uint64_t last = paddr + n - 1;
  if (paddr < kLegacyEnd && last >= kLegacyStart) {
    if (paddr < 0xC0000) return -1;
    for (uint64_t p = paddr & kPageMask; p <= std::min(last, kLegacyEnd - 1); p += kPageSize)
      if (!(legacy_routing_[(p - 0xC0000) / kPageSize] & (write ? 2 : 1))) return -1;
  }
  return a;
}

bool PhysicalMemory::dma_read(uint64_t paddr, void* dst, size_t n) {
  if (n == 0) return true;
  int64_t a = dma_ram_offset(paddr, n, false);
  if (a < 0) return false;
  std::memcpy(dst, ram_ + a, n);
  return true;
}

bool PhysicalMemory::dma_write(uint64_t paddr, const void* src, size_t n) {
  if (n == 0) return true;
  int64_t a = dma_ram_offset(paddr, n, true);
  if (a < 0) return false;
  std::memcpy(ram_ + a, src, n);
  if (code_listener_) {
    for (uint64_t p = paddr & kPageMask; p <= paddr + n - 1; p += kPageSize)
      if (is_code_page(p)) code_listener_->code_page_written(p);
  }
  return true;
}

void PhysicalMemory::serialize(StateSerializer& s) {
  s.tag(0x4D454D31);  // "MEM1"
  uint64_t size = ram_size_;
  s(size);
  if (s.loading() && size != ram_size_) throw StateError("snapshot RAM size differs from this machine's");
  s(legacy_routing_);
  s(a20_mask_);
  // RAM: only pages that are not all zero, as (index, bytes) pairs.
  uint64_t pages = ram_size_ / kPageSize;
  if (!s.loading()) {
    static const uint8_t zero[kPageSize] = {};
    for (uint64_t i = 0; i < pages; ++i) {
      if (std::memcmp(ram_ + i * kPageSize, zero, kPageSize) == 0) continue;
      s(i);
      s.bytes(ram_ + i * kPageSize, kPageSize);
    }
    uint64_t end = ~0ULL;
    s(end);
  } else {
    madvise(ram_, ram_size_, MADV_DONTNEED);  // zero-fill without committing host memory
    for (;;) {
      uint64_t i;
      s(i);
      if (i == ~0ULL) break;
      if (i >= pages) throw StateError("snapshot RAM page index out of range");
      s.bytes(ram_ + i * kPageSize, kPageSize);
    }
    std::fill(code_pages_.begin(), code_pages_.end(), 0);
    changed();
  }
}

}  // namespace pc64
