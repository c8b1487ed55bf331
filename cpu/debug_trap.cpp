// The debugger's breakpoint/watchpoint engine (see debug_trap.h for how it
// stays off the hot path).
#include "cpu/debug_trap.h"

#include <algorithm>

#include "cpu/core.h"
#include "cpu/decoder.h"

namespace pc64 {

namespace {
constexpr uint64_t kPage = PhysicalMemory::kPageSize;

bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

// Linear address of CS:RIP as the block lookup computes it.
uint64_t current_linear(const Core& c) {
  uint64_t lin = c.segchk[CS].base + c.s.rip;
  return c.mode64() ? lin : (lin & 0xFFFFFFFF);
}
}  // namespace

void DebugTraps::update() {
  ++generation_;
  events_ = vector_count_ || !ports_.empty() || cr3_break_ || mode_break_ || guest_io_mask_;
  update_watch_flags();
}

void DebugTraps::sync_guest(Core& c) {
  // DR7: L/G enable bits 2n/2n+1, R/W at 16+4n, LEN at 18+4n (SDM Vol. 3B 18.2.4).
  const uint64_t dr7 = c.s.dr[7];
  GuestBp g[4];
  unsigned data = 0, io = 0, exec = 0;
  for (unsigned n = 0; n < 4; ++n) {
    if (!((dr7 >> (2 * n)) & 3)) continue;
    unsigned rw = (dr7 >> (16 + 4 * n)) & 3, len_code = (dr7 >> (18 + 4 * n)) & 3;
    static constexpr uint64_t kLen[4] = {1, 2, 8, 4};  // LEN 10 = 8 bytes (IA-32e and later)
    g[n].rw = rw;
    g[n].len = kLen[len_code];
    g[n].addr = c.s.dr[n] & ~(g[n].len - 1);  // the low address bits are ignored (18.2.5)
    if (rw == 1 || rw == 3) data |= 1u << n;
    if (rw == 2) io |= 1u << n;
    if (rw == 0) {  // execution: the instruction's first byte, LEN ignored
      exec |= 1u << n;
      g[n].addr = c.s.dr[n];
      g[n].len = 1;
    }
  }
  bool same = data == guest_data_mask_ && io == guest_io_mask_ && exec == guest_exec_mask_;
  bool same_exec_offsets = exec == guest_exec_mask_;
  for (unsigned n = 0; n < 4; ++n) {
    if (!((data | io | exec) >> n & 1)) continue;
    if (g[n].addr != guest_[n].addr || g[n].len != guest_[n].len || g[n].rw != guest_[n].rw) same = false;
    if ((exec >> n & 1) && ((g[n].addr ^ guest_[n].addr) & (kPage - 1))) same_exec_offsets = false;
  }
  if (same) return;
  std::copy(std::begin(g), std::end(g), std::begin(guest_));
  guest_exec_mask_ = exec;
  if (!same_exec_offsets) {
    // Blocks carry h_breakpoint at the old offsets: decode afresh. The block
    // running now stays alive until the next boundary, which comes right
    // after this instruction.
    c.blocks.clear();
    c.exit_block = true;
  }
  guest_data_mask_ = data;
  guest_io_mask_ = io;
  events_ = vector_count_ || !ports_.empty() || cr3_break_ || mode_break_ || guest_io_mask_;
  update_watch_flags();
  // Data-breakpoint pages must leave the TLB now (this may run mid-block).
  c.tlb.flush_all();
  ++c.chain_epoch;
}

bool DebugTraps::guest_hit(uint64_t a, uint64_t size, unsigned mask, uint64_t& bits) const {
  bits = 0;
  for (unsigned n = 0; n < 4; ++n)
    if ((mask >> n & 1) && overlaps(a, size, guest_[n].addr, guest_[n].len)) bits |= 1u << n;
  return bits != 0;
}

int DebugTraps::add_breakpoint(uint64_t addr, bool physical, bool temporary, bool internal) {
  Breakpoint b;
  b.id = next_id_++;
  b.addr = addr;
  b.physical = physical;
  b.temporary = temporary;
  b.internal = internal;
  bps_.push_back(std::move(b));
  update();
  return bps_.back().id;
}

DebugTraps::Breakpoint* DebugTraps::breakpoint(int id) {
  for (auto& b : bps_)
    if (b.id == id) return &b;
  return nullptr;
}

bool DebugTraps::remove_breakpoint(int id) {
  auto n = std::erase_if(bps_, [&](const Breakpoint& b) { return b.id == id; });
  if (n) update();
  return n != 0;
}

int DebugTraps::add_watchpoint(uint64_t addr, uint64_t len, bool physical, WatchKind kind) {
  Watchpoint w;
  w.id = next_id_++;
  w.addr = addr;
  w.len = std::max<uint64_t>(len, 1);
  w.physical = physical;
  w.kind = kind;
  wps_.push_back(w);
  update();
  return w.id;
}

bool DebugTraps::remove_watchpoint(int id) {
  auto n = std::erase_if(wps_, [&](const Watchpoint& w) { return w.id == id; });
  if (n) update();
  return n != 0;
}

void DebugTraps::remove_all() {
  bps_.clear();
  wps_.clear();
  std::fill(std::begin(vectors_), std::end(vectors_), false);
  vector_count_ = 0;
  ports_.clear();
  cr3_break_ = mode_break_ = false;
  skip_armed_ = false;
  update();
}

void DebugTraps::set_vector_break(unsigned vector, bool on) {
  vector &= 0xFF;
  if (vectors_[vector] != on) vector_count_ += on ? 1 : -1;
  vectors_[vector] = on;
  update();
}

void DebugTraps::set_port_break(uint16_t port, bool on) {
  std::erase(ports_, port);
  if (on) ports_.push_back(port);
  update();
}

void DebugTraps::on_run(Core& c) {
  if (applied_generation_ != generation_) {
    // New breakpoints must be baked into blocks, new watches must keep their
    // pages out of the TLB: start both afresh (rare: the user typed a command).
    applied_generation_ = generation_;
    c.blocks.clear();
    c.tlb.flush_all();
    ++c.chain_epoch;
  }
  if (mode_break_) last_mode_ = mode_of(c);
  sync_guest(c);
}

bool DebugTraps::exec_at(Core& c, uint64_t lin, const uint8_t* host) const {
  for (unsigned n = 0; n < 4; ++n)
    if ((guest_exec_mask_ >> n & 1) && ((guest_[n].addr ^ lin) & (kPage - 1)) == 0) return true;
  for (const Breakpoint& b : bps_) {
    if (!b.physical) {
      // Blocks are cached by physical address, so one decoded block serves
      // every linear alias of its page: trap the instruction at the
      // breakpoint's page offset whatever linear address decodes it, and let
      // check_exec() compare the linear address at run time. A breakpoint at
      // linear A then fires whenever code runs at A, never through an alias
      // B of the same physical page (gdb's linear semantics).
      if (((b.addr ^ lin) & (kPage - 1)) == 0) return true;
    } else {
      PhysicalMemory::Page p = c.mem.page(b.addr & PhysicalMemory::kPageMask);
      if (p.read && p.read + (b.addr & (kPage - 1)) == host) return true;
    }
  }
  return false;
}

void DebugTraps::check_exec(Core& c) {
  const uint64_t lin = current_linear(c);
  if (skip_armed_ && skip_lin_ == lin) {
    skip_armed_ = false;
    return;
  }
  uint64_t paddr = ~0ull;
  for (Breakpoint& b : bps_) {
    if (b.physical) {
      if (paddr == ~0ull) paddr = c.translate(lin, AccessKind::Execute, c.user());  // already fetched: no fault
      if (b.addr != paddr) continue;
    } else if (b.addr != lin) {
      continue;
    }
    if (b.condition && !b.condition()) continue;
    ++b.hits;
    stop_pending_ = true;
    stop_ = DebugStopInfo{DebugStopInfo::Kind::Breakpoint, b.id, lin, false, 0};
    throw DebugStop{};
  }
}

void DebugTraps::check_guest_exec(Core& c, uint64_t lin) {
  if (rf_suppress_ || (c.s.rflags & RF)) return;
  uint64_t bits = 0;
  for (unsigned n = 0; n < 4; ++n)
    if ((guest_exec_mask_ >> n & 1) && guest_[n].addr == lin) bits |= 1u << n;
  if (!bits) return;
  c.s.dr[6] = (c.s.dr[6] & ~0xFull) | bits;
  c.raise(kDB);  // a fault: RIP stays on the instruction (SDM Vol. 3B 18.3.1.1)
}

void h_breakpoint(Core& c, const Insn& i) {
  c.dbg.check_exec(c);
  c.dbg.check_guest_exec(c, current_linear(c));
  // Not stopping: run the instruction's real handler, decoded again from
  // its bytes (fetched already, so no new fault; the next page is read only
  // if the instruction needs it, as the fetch did).
  const uint64_t lin = current_linear(c);
  uint8_t bytes[15];
  size_t n = 0;
  Insn real;
  for (;;) {
    if (n == sizeof bytes) c.ud();
    PhysicalMemory::Page pg;
    uint64_t pa = c.translate(lin + n, AccessKind::Execute, c.user(), &pg);
    size_t chunk = std::min<size_t>(sizeof bytes - n, kPage - (pa & (kPage - 1)));
    for (size_t k = 0; k < chunk; ++k)  // RAM/ROM directly; code in MMIO byte-wise through the bus
      bytes[n + k] = pg.read ? pg.read[(pa & (kPage - 1)) + k] : static_cast<uint8_t>(c.mem.read(pa + k, 1));
    n += chunk;
    ZyanStatus st = decode_insn(c.code_mode, bytes, n, real);
    if (ZYAN_SUCCESS(st)) break;
    if (st != ZYDIS_STATUS_NO_MORE_DATA) c.ud();
  }
  real.handler(c, i);
}

bool DebugTraps::watched_page_slow(uint64_t lin, uint64_t paddr) const {
  uint64_t bits;
  if (guest_data_mask_ && guest_hit(lin & ~(kPage - 1), kPage, guest_data_mask_, bits)) return true;
  for (const Watchpoint& w : wps_) {
    uint64_t a = w.physical ? paddr : lin;
    if (overlaps(a & ~(kPage - 1), kPage, w.addr, w.len)) return true;
  }
  return false;
}

void DebugTraps::on_access_slow(Core& c, uint64_t lin, uint64_t paddr, unsigned size, bool write) {
  uint64_t bits;
  // R/W 01 breaks on writes only, 11 on reads and writes (SDM Vol. 3B 18.2.4).
  unsigned armed = 0;
  for (unsigned n = 0; n < 4; ++n)
    if ((guest_data_mask_ >> n & 1) && (write || guest_[n].rw == 3)) armed |= 1u << n;
  if (armed && guest_hit(lin, size, armed, bits)) {
    c.s.dr[6] = (c.s.dr[6] & ~0xFull) | bits;
    guest_trap_ = true;
  }
  for (Watchpoint& w : wps_) {
    if (!(static_cast<unsigned>(w.kind) & (write ? 1u : 2u))) continue;
    uint64_t a = w.physical ? paddr : lin;
    if (!overlaps(a, size, w.addr, w.len)) continue;
    ++w.hits;
    uint64_t first = std::max(a, w.addr);
    hit(c, DebugStopInfo{DebugStopInfo::Kind::Watchpoint, w.id, first, write, 0});
    return;
  }
}

void DebugTraps::hit(Core& c, const DebugStopInfo& info) {
  if (stop_pending_) return;  // the first event of an instruction is the one reported
  stop_pending_ = true;
  stop_ = info;
  c.stop_requested = true;  // after this instruction
  c.irq_poll = true;        // (and not on to a chained block: Core::run)
  c.exit_block = true;
}

void DebugTraps::on_vector(Core& c, uint8_t vector) {
  if (vectors_[vector]) hit(c, DebugStopInfo{DebugStopInfo::Kind::Vector, 0, 0, false, vector});
}

void DebugTraps::on_port(Core& c, uint16_t port, unsigned size) {
  uint64_t bits;
  if (guest_io_mask_ && (c.s.cr4 & CR4_DE) && guest_hit(port, size, guest_io_mask_, bits)) {
    c.s.dr[6] = (c.s.dr[6] & ~0xFull) | bits;  // I/O breakpoint (SDM Vol. 3B 18.2.4, R/W 10)
    guest_trap_ = true;
  }
  for (uint16_t p : ports_)
    if (overlaps(port, size, p, 1)) {
      hit(c, DebugStopInfo{DebugStopInfo::Kind::Port, 0, 0, false, p});
      return;
    }
}

void DebugTraps::on_cr3(Core& c, uint64_t value) {
  if (cr3_break_) hit(c, DebugStopInfo{DebugStopInfo::Kind::Cr3, 0, 0, false, value});
}

// 0 real, 1 protected 16-bit, 2 protected 32-bit, 3 virtual-8086,
// 4 compatibility 16-bit, 5 compatibility 32-bit, 6 64-bit.
uint64_t DebugTraps::mode_of(const Core& c) {
  if (c.real_mode()) return 0;
  if (c.v86()) return 3;
  if (c.long_mode()) return c.code_mode == 2 ? 6 : 4 + c.code_mode;
  return 1 + c.code_mode;
}

const char* DebugTraps::mode_name(uint64_t mode) {
  static constexpr const char* kNames[] = {"real",          "protected 16-bit",    "protected 32-bit", "virtual-8086",
                                           "compatibility 16-bit", "compatibility 32-bit", "64-bit"};
  return mode < 7 ? kNames[mode] : "?";
}

void DebugTraps::on_mode(Core& c) {
  if (!mode_break_) return;
  uint64_t m = mode_of(c);
  if (m == last_mode_) return;
  last_mode_ = m;
  hit(c, DebugStopInfo{DebugStopInfo::Kind::Mode, 0, 0, false, m});
}

}  // namespace pc64
