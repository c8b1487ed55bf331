// The guest's physical address space: RAM (below the PCI hole and above
// 4 GiB), ROM images, MMIO ranges of devices, the legacy 0xA0000-0xFFFFF area
// under PAM shadow control, and the A20 gate. Unclaimed addresses read as
// all-ones and drop writes.
//
// Fast path: page() hands out host pointers for RAM/ROM pages, which the CPU's
// soft TLB caches. Everything else goes through read()/write().
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mem/state.h"

namespace pc64 {

// A device that answers physical addresses (LAPIC, IOAPIC, VGA, PCI BARs).
// `offset` is relative to the start of the mapped range; size is 1, 2, 4 or 8.
class MmioHandler {
 public:
  virtual ~MmioHandler() = default;
  virtual uint64_t mmio_read(uint64_t offset, unsigned size) = 0;
  virtual void mmio_write(uint64_t offset, unsigned size, uint64_t value) = 0;
};

// Told when the guest writes a RAM page that holds decoded code, so cached
// blocks from that page can be dropped (self-modifying code).
class CodeWriteListener {
 public:
  virtual ~CodeWriteListener() = default;
  virtual void code_page_written(uint64_t page_paddr) = 0;
};

class PhysicalMemory {
 public:
  static constexpr uint64_t kPageSize = 4096;
  static constexpr uint64_t kPageMask = ~(kPageSize - 1);
  // RAM beyond this moves above 4 GiB (QEMU's i440FX with gigabyte alignment).
  static constexpr uint64_t kPciHoleStart = 0xC0000000ULL;
  static constexpr uint64_t k4G = 0x100000000ULL;
  static constexpr uint64_t kLegacyStart = 0xA0000;
  static constexpr uint64_t kLegacyEnd = 0x100000;

  // Host memory is reserved, not committed: pages the guest never touches
  // cost nothing (so 16 GiB guests fit on small hosts).
  explicit PhysicalMemory(uint64_t ram_bytes);
  ~PhysicalMemory();
  PhysicalMemory(const PhysicalMemory&) = delete;
  PhysicalMemory& operator=(const PhysicalMemory&) = delete;

  uint64_t ram_size() const { return ram_size_; }
  uint64_t ram_below_4g() const { return ram_below_4g_; }
  uint64_t ram_above_4g() const { return ram_size_ - ram_below_4g_; }

  // ---- map building (done by the machine and devices; bumps generation()) ----
  // A read-only image. Regions below 1 MiB act as the "not shadowed" source of
  // the legacy area (e.g. the BIOS alias at 0xE0000).
  void map_rom(uint64_t base, std::vector<uint8_t> bytes, std::string name);
  void map_mmio(uint64_t base, uint64_t size, MmioHandler* handler, std::string name);
  // Removes every range of `handler` (PCI BAR moves: unmap then map again),
  // including tracked RAM mapped for it.
  void unmap_mmio(MmioHandler* handler);
  // Device memory the CPU may access like RAM (a linear framebuffer): `size`
  // bytes of the device's own `host` buffer at `base`. Reads always go
  // straight to the buffer. Writes are tracked in `dirty`, one bit per 4 KiB
  // page from `base` (bit p of word p / 64), which the device owns: a page
  // whose bit is clear gets no direct write pointer, so its first store takes
  // the slow path, which writes the buffer and sets the bit; from then on
  // stores to that page are plain host stores through the TLB. Whoever clears
  // bits (the renderer taking the dirty set) calls revoke_tracked_writes() so
  // that the next store to a clean page is seen again. `owner` identifies the
  // mapping for unmap_mmio().
  void map_tracked_ram(uint64_t base, uint64_t size, uint8_t* host, std::vector<uint64_t>* dirty,
                       MmioHandler* owner, std::string name);
  // Takes back the direct write pointers handed out for tracked RAM (bumps
  // generation(), so TLBs flush) if any were handed out since the last call.
  void revoke_tracked_writes();
  // PAM control of 0xC0000-0xFFFFF in 4 KiB steps: reads and writes each go
  // either to shadow RAM or to the bus (ROM / unclaimed). Reset: both to bus.
  void set_legacy_routing(uint64_t base, uint64_t size, bool read_ram, bool write_ram);

  // A20 gate: when off, bit 20 of every physical address is forced to 0.
  void set_a20(bool enabled);
  bool a20_enabled() const { return a20_mask_ == ~0ULL; }
  uint64_t a20_mask() const { return a20_mask_; }

  // Increases whenever the map changes in a way that invalidates cached host
  // pointers (PAM, A20, MMIO, ROM). TLB owners compare and flush.
  uint64_t generation() const { return generation_; }

  // ---- access ----
  struct Page {
    uint8_t* read = nullptr;   // host pointer to the page for direct reads, or null
    uint8_t* write = nullptr;  // host pointer for direct writes, or null (ROM, MMIO, code)
  };
  // `paddr` is page-aligned and already A20-masked.
  Page page(uint64_t paddr) const;

  // Slow path for any physical address (A20 applied by the caller); size 1/2/4/8.
  // An access that crosses into another region is split byte-wise.
  uint64_t read(uint64_t paddr, unsigned size);
  void write(uint64_t paddr, unsigned size, uint64_t value);
  // Byte copies through the map (loaders, debugger). Writes follow the bus
  // rules (ROM and unclaimed addresses drop them); firmware is loaded with map_rom().
  void read_bytes(uint64_t paddr, void* dst, size_t n);
  void write_bytes(uint64_t paddr, const void* src, size_t n);

  // Device DMA: RAM only, all-or-nothing. Returns false (and touches nothing)
  // if any byte lies outside guest RAM (the VGA window and non-shadowed PAM
  // pages are not RAM for this). The A20 gate does not apply: it is a CPU pin.
  bool dma_read(uint64_t paddr, void* dst, size_t n);
  bool dma_write(uint64_t paddr, const void* src, size_t n);

  // Host pointer to `paddr` when it lies in plain RAM (below the legacy area
  // or from 1 MiB up to the first ROM/MMIO range or the PCI hole): no region
  // search, for page walks and TLB fills. Null means "use read()/write()".
  uint8_t* direct_ram(uint64_t paddr) const {
    if (paddr - kLegacyEnd < direct_high_span_) return ram_ + paddr;
    return paddr < direct_low_end_ ? ram_ + paddr : nullptr;
  }
  // The same for a store that needs no code-write notification (not a page
  // holding decoded code), else null.
  uint8_t* direct_ram_for_write(uint64_t paddr) const {
    uint8_t* p = direct_ram(paddr);
    return p && !code_pages_[paddr / kPageSize] ? p : nullptr;
  }

  // Host pointer to RAM byte `paddr`, or null if not RAM. For loaders and tests.
  uint8_t* ram_pointer(uint64_t paddr) const;

  // ---- self-modifying code support ----
  void set_code_write_listener(CodeWriteListener* l) { code_listener_ = l; }
  // Marks the RAM page as holding decoded code: later page() calls give it no
  // direct write pointer, and the first write notifies the listener (which
  // clears the mark when its blocks are gone).
  void mark_code_page(uint64_t paddr);
  void clear_code_page(uint64_t paddr);
  bool is_code_page(uint64_t paddr) const;

  void serialize(StateSerializer& s);

 private:
  enum class Kind : uint8_t { Unassigned, Ram, Rom, Mmio, Tracked };
  struct Region {
    uint64_t base = 0, size = 0;
    Kind kind = Kind::Unassigned;
    std::vector<uint8_t> rom;      // Kind::Rom
    MmioHandler* mmio = nullptr;   // Kind::Mmio; the owner of Kind::Tracked
    uint8_t* host = nullptr;       // Kind::Tracked: the device's buffer
    std::vector<uint64_t>* dirty = nullptr;  // Kind::Tracked: one bit per page
    std::string name;
  };
  struct Target {  // what one address resolves to
    Kind kind = Kind::Unassigned;
    uint8_t* host = nullptr;       // RAM/ROM/tracked byte
    MmioHandler* mmio = nullptr;
    uint64_t offset = 0;           // MMIO / tracked offset
    uint64_t span = 0;             // bytes from here to the end of this target
    std::vector<uint64_t>* dirty = nullptr;  // Kind::Tracked
  };
  static void region_target(const Region& r, uint64_t paddr, Target& t);
  static bool tracked_dirty(const Target& t) {
    uint64_t p = t.offset / kPageSize;
    return ((*t.dirty)[p / 64] >> (p % 64)) & 1;
  }
  static void mark_tracked(const Target& t, unsigned size);
  void insert_region(Region r);  // throws std::invalid_argument on overlap
  Target resolve(uint64_t paddr, bool write) const;
  const Region* find_region(uint64_t paddr) const;
  int64_t ram_offset(uint64_t paddr) const;  // -1 if not RAM
  // Base of the first ROM/MMIO region above `paddr`, or ~0 (bounds spans).
  uint64_t next_region_base(uint64_t paddr) const;
  // RAM offset of a DMA range that lies wholly in RAM reachable by `write`
  // (or read) accesses, else -1.
  int64_t dma_ram_offset(uint64_t paddr, size_t n, bool write) const;
  uint64_t read_slow(uint64_t paddr, unsigned size);
  void write_slow(uint64_t paddr, unsigned size, uint64_t value);
  void changed() {
    ++generation_;
    update_direct_ram();
  }
  void update_direct_ram();

  uint64_t ram_size_ = 0, ram_below_4g_ = 0;
  uint8_t* ram_ = nullptr;
  std::vector<Region> regions_;  // ROM and MMIO, sorted by base, non-overlapping
  // Per 4 KiB page of 0xC0000-0xFFFFF: bit0 = reads from RAM, bit1 = writes to RAM.
  uint8_t legacy_routing_[(kLegacyEnd - 0xC0000) / kPageSize] = {};
  std::vector<uint8_t> code_pages_;  // one byte per RAM page
  CodeWriteListener* code_listener_ = nullptr;
  // direct_ram(): [0, direct_low_end_) and [kLegacyEnd, kLegacyEnd + direct_high_span_)
  // are RAM with no ROM/MMIO range over them (recomputed by changed()).
  uint64_t direct_low_end_ = 0, direct_high_span_ = 0;
  uint64_t a20_mask_ = ~0ULL;
  uint64_t generation_ = 1;
  bool warned_unassigned_ = false;
  mutable bool tracked_writes_given_ = false;  // page() handed out a tracked write pointer
};

}  // namespace pc64
