// Guest memory access slow paths: segment limit/type checks, page walks, TLB
// fills, MMIO/ROM access and page-crossing accesses. The fast paths (flat
// segment + TLB hit) are inline in core.h.
#include "cpu/core.h"

namespace pc64 {

uint64_t Core::linear_checked(unsigned seg, uint64_t off, unsigned size, bool write) {
  const SegmentCheck& c = segchk[seg];
  // SDM Vol. 3A 5.3: an access must lie in [lo, hi]; type checks 5.4-5.5.
  bool ok = write ? c.writable : c.readable;
  if (!ok || off < c.lo || off + size - 1 > c.hi || off + size - 1 < off) {
    if (seg == SS) raise(kSS, 0);
    gp(0);
  }
  uint64_t lin = c.base + off;
  return mode64() ? lin : (lin & 0xFFFFFFFF);
}

PagingControl Core::paging_control() const {
  PagingControl pc;
  pc.cr0 = s.cr0;
  pc.cr3 = s.cr3;
  pc.cr4 = s.cr4;
  pc.efer = s.efer;
  pc.ac = s.rflags & AC;
  if (pdptes_loaded && pae_paging()) pc.pae_pdptes = pdpte;
  return pc;
}

bool Core::load_pdptes(uint64_t cr3) {
  uint64_t e[4];
  if (!load_pae_pdptes(mem, cr3 & 0xFFFFFFFF, e)) return false;
  for (unsigned k = 0; k < 4; ++k) pdpte[k] = e[k];
  pdptes_loaded = true;
  return true;
}

uint64_t Core::translate(uint64_t lin, AccessKind kind, bool user_access, PhysicalMemory::Page* host) {
  WalkResult w;
  if (s.cr0 & CR0_PG) {
    if (long_mode() && !is_canonical48(lin)) gp(0);
    w = walk_page_tables(mem, paging_control(), lin, kind, user_access, true);
    if (!w.ok) {
      s.cr2 = lin;
      raise(kPF, w.error_code);
    }
  } else {
    w.ok = true;
    w.paddr = lin & 0xFFFFFFFF;
    w.writable = w.user = w.executable = true;
    w.dirty = true;
  }
  uint64_t paddr = w.paddr & mem.a20_mask();
  PhysicalMemory::Page pg = mem.page(paddr & PhysicalMemory::kPageMask);
  if ((pg.read || pg.write) && !(ac_check && user_access) && !dbg.watched_page(lin, paddr))
    tlb.fill(lin, w, pg, user_access, s.cr0 & CR0_WP);
  if (host) *host = pg;
  return paddr;
}

void Core::update_ac_check() {
  const bool on = (s.cr0 & CR0_AM) && (s.rflags & AC) && s.cpl == 3 && (s.cr0 & CR0_PE);
  // Turning it on: drop the CPL-3 translations that would let data accesses
  // bypass the check (translate() adds no new ones while it is on).
  if (on && !ac_check) tlb.flush_all();
  ac_check = on;
}

void Core::check_data_access(uint64_t lin, unsigned size, bool user_access, unsigned seg) {
  if (long_mode() && (!is_canonical48(lin) || !is_canonical48(lin + size - 1))) raise(seg == SS ? kSS : kGP, 0);
  if (ac_check && user_access) {
    // Alignment by data size (SDM table 6-7); 10-byte x87 values need 8.
    // 16 bytes reach here only from the unaligned SSE forms (MOVUPS, MOVDQU,
    // LDDQU, ...: the aligned ones #GP first): #AC below 8-byte alignment,
    // the implementation choice SDM Vol. 3A 6.15 (interrupt 17) allows.
    unsigned mask = size == 2 || size == 4 || size == 8 ? size - 1 : size == 10 || size == 16 ? 7 : 0;
    if (lin & mask) raise(kAC, 0);
  }
}

uint64_t Core::read_slow(uint64_t lin, unsigned size, bool user_access, unsigned seg) {
  check_data_access(lin, size, user_access, seg);
  if (((lin ^ (lin + size - 1)) & PhysicalMemory::kPageMask) != 0) {
    // Crosses a page: both pages translate (and may fault) before the value
    // is assembled byte by byte.
    uint64_t v = 0;
    for (unsigned k = 0; k < size; ++k) v |= read_slow(lin + k, 1, user_access) << (8 * k);
    return v;
  }
  PhysicalMemory::Page pg;
  uint64_t paddr = translate(lin, AccessKind::Read, user_access, &pg);
  dbg.on_access(*this, lin, paddr, size, false);
  if (pg.read) {
    uint64_t v = 0;
    std::memcpy(&v, pg.read + (paddr & ~PhysicalMemory::kPageMask), size);
    return v;
  }
  irq_poll = true;  // MMIO: a device may change its interrupt lines
  return mem.read(paddr, size);
}

void Core::probe_write(uint64_t lin, unsigned size, bool user_access, unsigned seg) {
  check_data_access(lin, size, user_access, seg);
  translate(lin, AccessKind::Write, user_access);
  if (((lin ^ (lin + size - 1)) & PhysicalMemory::kPageMask) != 0)
    translate(lin + size - 1, AccessKind::Write, user_access);
}

void Core::write_slow(uint64_t lin, unsigned size, uint64_t v, bool user_access, unsigned seg) {
  check_data_access(lin, size, user_access, seg);
  uint64_t last = lin + size - 1;
  if (((lin ^ last) & PhysicalMemory::kPageMask) != 0) {
    // Translate both pages before writing either (no partial write on #PF).
    uint64_t p0 = translate(lin, AccessKind::Write, user_access);
    uint64_t p1 = translate(last & PhysicalMemory::kPageMask, AccessKind::Write, user_access);
    unsigned first = static_cast<unsigned>(PhysicalMemory::kPageSize - (lin & ~PhysicalMemory::kPageMask));
    irq_poll = true;  // may reach MMIO
    dbg.on_access(*this, lin, p0, first, true);
    dbg.on_access(*this, lin + first, p1, size - first, true);
    for (unsigned k = 0; k < size; ++k) {
      uint64_t pa = k < first ? p0 + k : p1 + (k - first);
      mem.write(pa, 1, (v >> (8 * k)) & 0xFF);
    }
    return;
  }
  PhysicalMemory::Page pg;
  uint64_t paddr = translate(lin, AccessKind::Write, user_access, &pg);
  dbg.on_access(*this, lin, paddr, size, true);
  if (pg.write) {
    std::memcpy(pg.write + (paddr & ~PhysicalMemory::kPageMask), &v, size);
    return;
  }
  // A RAM page holding decoded code: a store that misses the decoded bytes
  // goes straight to RAM and keeps the blocks.
  if (pg.read && pg.read == mem.ram_pointer(paddr & PhysicalMemory::kPageMask) && !blocks.overlaps_code(paddr, size)) {
    std::memcpy(pg.read + (paddr & ~PhysicalMemory::kPageMask), &v, size);
    return;
  }
  irq_poll = true;            // MMIO: a device may change its interrupt lines
  mem.write(paddr, size, v);  // MMIO, ROM (dropped), or code bytes (notifies us)
}

void Core::code_page_written(uint64_t page_paddr) {
  // A write hit a page we decoded code from: drop its blocks. If the running
  // block is among them, stop it after this instruction so the next one is
  // fetched and decoded again from the new bytes.
  if (running_block && running_block->page == page_paddr) exit_block = true;
  blocks.invalidate_page(page_paddr);
  mem.clear_code_page(page_paddr);
}

}  // namespace pc64
