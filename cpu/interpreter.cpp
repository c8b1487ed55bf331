// The dispatch loop: find (or build) the block at CS:RIP, run its records
// (`handler(core, record)`), poll interrupts between blocks, and turn guest
// faults thrown by handlers into exception delivery.
#include <algorithm>

#include "cpu/core.h"
#include "cpu/decoder.h"
#include "cpu/dispatch.h"
#include "mem/log.h"

namespace pc64 {

namespace {
constexpr unsigned kMaxBlockInsns = 64;
}

// Gives every record its threaded entry and appends the sentinel that ends
// the block (cpu/dispatch.h). `uses`, if given, says what each record does
// with the arithmetic flags: a record whose flag results are overwritten
// before anything can see them gets the entry of its flag-less variant
// (dead-flag elimination). All six flags are live at the block's end, and an
// instruction that may fault or stop the block reads all six (FlagUse), so
// RFLAGS is exact wherever it can be observed. Only the threaded entries
// change: Insn::handler, which the one-at-a-time paths (budget end, TF,
// breakpoints) call, keeps computing flags.
static void finish_block(Block& b, const FlagUse* uses = nullptr) {
  uint16_t live = kArithFlags;
  for (size_t k = b.insns.size(); k-- > 0;) {
    Insn& insn = b.insns[k];
    bool dead = false, quiet = false;
    if (uses) {
      const FlagUse& u = uses[k];
      dead = u.may_write && !(u.may_write & live);
      quiet = u.quiet;
      live = static_cast<uint16_t>((live & ~u.writes) | u.reads);
    }
    insn.thread = threaded_entry(insn, quiet, dead);
  }
  b.count = static_cast<uint32_t>(b.insns.size());
  b.rip_tail = 0;
  if (b.count) {
    const Insn& last = b.insns.back();
    if (!(last.flags & kInsnNeedsRip)) b.rip_tail = last.rip_pre + last.len;
  }
  Insn sentinel;
  sentinel.thread = &thread_block_end;
  b.insns.push_back(sentinel);
}

Core::Core(PhysicalMemory& m, PortIo& p) : mem(m), io(p, irq_poll) {
  mem.set_code_write_listener(this);
  reset();
}

Core::~Core() { mem.set_code_write_listener(nullptr); }

// Builds the block starting at linear `lin` (host bytes at `host`, physical
// page offset the same as lin's). `limit_bytes` bounds the code bytes by the
// CS limit. The block stops at a block-ending instruction, at the page end,
// or before an instruction that crosses the page (which then runs as its own
// block). In a flat code segment (`follow`: linear == RIP, no limit) it
// continues through a direct CALL or JMP whose target lies on the same page,
// so e.g. a call and the callee's body run as one block; it stops rather than
// decode a range twice (no loop unrolling). Only CALL rel / JMP rel
// (kInsnDirectBranch): the decoded target is where the handler really goes.
// In any code segment it goes on at the fall-through of a conditional
// branch, which, taken, leaves the block from its middle.
static void decode_block(Core& c, Block& b, uint64_t lin, const uint8_t* host, uint64_t limit_bytes, bool follow) {
  b.insns.clear();
  const uint64_t page_lin = lin & PhysicalMemory::kPageMask;
  const uint8_t* page_host = host - (lin & ~PhysicalMemory::kPageMask);
  uint64_t pos = lin & ~PhysicalMemory::kPageMask;  // page offset being decoded
  uint64_t avail_end = PhysicalMemory::kPageSize;
  if (limit_bytes < avail_end - pos) avail_end = pos + limit_bytes;
  uint64_t lo = pos, hi = pos;  // page bytes the block covers (the hull, when it follows jumps)
  struct Range {
    uint64_t lo, hi;
  } done[8];  // ranges decoded before the current one
  unsigned ndone = 0;
  uint64_t range_start = pos;
  unsigned run = 0;  // bytes since the last RIP sync point (Insn::rip_pre)
  FlagUse uses[kMaxBlockInsns];
  while (b.insns.size() < kMaxBlockInsns && pos < avail_end) {
    Insn insn;
    size_t n = static_cast<size_t>(std::min<uint64_t>(avail_end - pos, 15));
    const uint8_t* at = page_host + pos;
    FlagUse& use = uses[b.insns.size()];
    ZyanStatus st = decode_insn(c.code_mode, at, n, insn, &use);
    if (st == ZYDIS_STATUS_NO_MORE_DATA && n < 15) break;  // crosses the page or limit
    if (!ZYAN_SUCCESS(st)) {
      insn = Insn{};
      insn.handler = &h_undefined;
      insn.len = 1;
      insn.flags = kInsnEndsBlock | kInsnNeedsRip;
      use = FlagUse{};
      if (log_enabled(LogLevel::Debug)) {
        char hex[64] = {};
        for (size_t k = 0; k < std::min<size_t>(n, 15); ++k) snprintf(hex + 3 * k, 4, "%02x ", at[k]);
        PC64_LOG(LogLevel::Debug, "cpu", "undecodable instruction at linear %#llx: %s",
                 static_cast<unsigned long long>(page_lin + pos), hex);
      }
    } else if (insn.handler == &h_undefined && log_enabled(LogLevel::Debug)) {
      char hex[64] = {};
      for (size_t k = 0; k < insn.len; ++k) snprintf(hex + 3 * k, 4, "%02x ", at[k]);
      PC64_LOG(LogLevel::Debug, "cpu", "unimplemented instruction at linear %#llx: %s",
               static_cast<unsigned long long>(page_lin + pos), hex);
    }
    if (c.dbg.has_exec() && c.dbg.exec_at(c, page_lin + pos, at)) {
      insn.handler = &h_breakpoint;
      insn.flags |= kInsnNeedsRip;  // h_breakpoint reads CS:RIP
      use = FlagUse{};              // and may stop here
    }
    // rip_pre must fit a byte: sync (store RIP) at least every ~240 bytes.
    if (run > 240) insn.flags |= kInsnNeedsRip;
    insn.rip_pre = static_cast<uint8_t>(run);
    run = (insn.flags & kInsnNeedsRip) ? 0 : run + insn.len;
    b.insns.push_back(insn);
    pos += insn.len;
    hi = std::max(hi, pos);
    if (!(insn.flags & kInsnEndsBlock)) continue;
    // A conditional branch goes on at its fall-through (a taken branch
    // leaves from the middle of the block, chained like any block end).
    if (pos < avail_end && b.insns.size() < kMaxBlockInsns) {
      if (Handler side = jcc_exit_handler(insn)) {
        b.insns.back().handler = side;
        continue;
      }
    }
    if (!follow || !(insn.flags & kInsnDirectBranch)) break;
    // The target as the handler computes it (truncated to the operand size);
    // with linear == RIP it must stay on this page.
    uint64_t target = page_lin + pos + insn.imm;
    if (insn.osize == 1) target &= 0xFFFF;
    else if (insn.osize == 2) target &= 0xFFFFFFFF;
    if ((target & PhysicalMemory::kPageMask) != page_lin || ndone == std::size(done)) break;
    done[ndone++] = {range_start, pos};
    const uint64_t t = target & ~PhysicalMemory::kPageMask;
    if (std::any_of(done, done + ndone, [t](const Range& r) { return t >= r.lo && t < r.hi; })) break;
    pos = range_start = t;
    lo = std::min(lo, t);
  }
  b.offset = static_cast<uint32_t>(lo);
  b.bytes = static_cast<uint32_t>(hi - lo);
  finish_block(b, uses);
}

void Core::run_one_debug(const Insn& insn, uint64_t lin) {
  (void)lin;
  // Instruction breakpoints are faults checked by h_breakpoint before the
  // instruction (decode_block bakes it in at DR0-DR3 execution addresses);
  // RF set at the start suppresses them for this one instruction.
  const DebugTraps::RfScope rf_scope(dbg, s.rflags & RF);
  const bool single_step = s.rflags & TF;
  block_first = &insn;
  block_retired_base = retired;
  next_rip = s.rip + insn.len;
  // RF clears at the start of the instruction, after the breakpoint check
  // (SDM Vol. 3B 18.3.1.1), so an IRET that loads RF = 1 keeps it.
  s.rflags &= ~uint64_t(RF);
  insn.handler(*this, insn);
  s.rip = next_rip;
  ++retired;
  // After MOV SS / POP SS (irq_shadow 2) debug traps wait one instruction
  // (SDM Vol. 3A 6.8.3): TF is still set then, and the data-breakpoint
  // bits stay pending.
  if (irq_shadow == 2) return;
  const bool data_trap = dbg.take_guest_trap();  // data / I/O breakpoint (DR6 B0-B3 set)
  if ((single_step || data_trap) && !halted) {
    // A trap after the instruction: RIP already points past it.
    if (single_step) s.dr[6] |= 0x4000;  // BS
    deliver_fault(GuestFault{kDB, false, 0});
  }
}

// Asks the interrupt source only when something that could change its answer
// happened since the last time (see Core::irq_poll).
inline void Core::poll_interrupts() {
  const unsigned key = irq_gates();
  if (__builtin_expect(!irq_poll && key == irq_key, 1)) return;
  irq_key = key;
  // Taking one changes the controller's state (acknowledge): look again.
  irq_poll = intr && service_interrupts();
}

uint64_t Core::run(uint64_t budget) {
  stop_requested = false;
  retired = 0;
  if (shutdown) return 0;
  irq_poll = true;  // time has moved since the last run(): devices may have raised lines
  dbg.on_run(*this);
  Block& scratch = scratch_;  // uncached blocks: page-crossing instructions, MMIO code, CS-limit tails
  if (scratch.insns.capacity() < kMaxBlockInsns + 1) scratch.insns.reserve(kMaxBlockInsns + 1);
  Block* prev = nullptr;  // the cached block that ran last, for chaining
  uint64_t seen_cache_epoch = 0;
  // Within a block RIP is not kept in s.rip but derived from rip_sync (see
  // Core::rip_sync). It is stored to s.rip (and next_rip set) only before
  // kInsnNeedsRip records, at the end of the block, and when a record faults.
  //
  // An exception, an x87 freeze or a breakpoint stopped the block before
  // record cur_insn completed: count the records before it and put RIP on it
  // (kInsnNeedsRip handlers stored it themselves and may have moved it, e.g.
  // a task switch).
  auto stop_at = [&]() {
    const Insn* cur = cur_insn;
    cur_insn = nullptr;
    if (!cur) return;
    retired = block_retired_base + static_cast<uint64_t>(cur - block_first);
    if (!(cur->flags & kInsnNeedsRip)) s.rip = rip_sync + cur->rip_pre;
  };
  while (retired < budget && !stop_requested && !shutdown) {
    cur_insn = nullptr;  // the record running, for the retired count and RIP on a fault
    if (blocks.epoch() != seen_cache_epoch) {
      // Blocks were dropped (possibly `prev`, possibly by a store of the
      // block that just ran): none is running now, so free them.
      prev = nullptr;
      blocks.release_retired();
      seen_cache_epoch = blocks.epoch();
    }
    running_block = nullptr;
    try {
      if (mem.generation() != mem_generation) {
        tlb.flush_all();
        ++chain_epoch;
        mem_generation = mem.generation();
      }
      if (__builtin_expect(halted, 0)) {
        // stop_requested after a delivery: a debugger break on its vector.
        if (!service_interrupts() || stop_requested) break;
        if (halted) break;
      } else if (irq_shadow) {
        irq_shadow = 0;
      } else {
        poll_interrupts();
        if (halted || stop_requested) break;
      }

      // ---- find the block at CS:RIP ----
      // A flat code segment (base 0, 4 GiB limit, or 64-bit mode) needs no
      // limit check, and its blocks may follow direct jumps (linear == RIP).
      const bool flat_code = code_flat();
      uint64_t limit_bytes = ~0ull;
      if (!flat_code) {
        if (s.rip > s.seg[CS].limit) gp(0);
        limit_bytes = uint64_t(s.seg[CS].limit) - s.rip + 1;
      }
      // Chained successor: same RIP as last time and nothing changed since
      // (both epochs only grow, so their sum is unchanged only if both are).
      const uint64_t link_epoch = chain_epoch + blocks.epoch();
      Block* b = nullptr;
      if (prev) {
        b = prev->successor(s.rip, link_epoch);
      }
      uint64_t lin = segchk[CS].base + s.rip;
      if (!mode64()) lin &= 0xFFFFFFFF;
      if (!b) {
      const uint8_t* host = tlb.lookup(lin, 1, AccessKind::Execute, user());
      uint64_t paddr = 0;
      if (!host) {
        PhysicalMemory::Page pg;
        paddr = translate(lin, AccessKind::Execute, user(), &pg);
        if (pg.read) host = pg.read + (paddr & ~PhysicalMemory::kPageMask);
      }
      if (host) {
        uintptr_t key = BlockCache::make_key(host, code_mode, flat_code);
        b = blocks.find(key);
        if (b && b->bytes > limit_bytes) b = nullptr;  // would run past the CS limit
        if (!b) {
          if (!paddr) paddr = translate(lin, AccessKind::Execute, user());
          auto nb = std::make_unique<Block>();
          decode_block(*this, *nb, lin, host, limit_bytes, flat_code);
          nb->key = key;
          nb->page = paddr & PhysicalMemory::kPageMask;
          if (nb->count == 0 || nb->bytes > limit_bytes) {
            b = nullptr;  // first instruction crosses the page or the limit
          } else if (limit_bytes != ~0ull && nb->bytes == limit_bytes) {
            scratch.insns.swap(nb->insns);  // truncated by the limit: do not cache
            scratch.count = nb->count;
            scratch.rip_tail = nb->rip_tail;
            scratch.bytes = nb->bytes;
            scratch.page = nb->page;
            b = &scratch;
          } else {
            if (!blocks.page_has_blocks(nb->page)) {
              mem.mark_code_page(nb->page);
              tlb.invalidate_physical(nb->page);
            }
            b = blocks.insert(std::move(nb));
          }
        }
      }
      if (!b) {
        // One instruction assembled byte-wise through the slow path (code
        // crossing a page, in MMIO, or at the CS limit): not cached.
        uint8_t buf[15];
        size_t n = 0;
        for (; n < 15 && n < limit_bytes; ++n) {
          if (n && ((lin + n) & ~PhysicalMemory::kPageMask) == 0) {
            // Only fault on the next page if the instruction really needs it.
            Insn probe;
            if (ZYAN_SUCCESS(decode_insn(code_mode, buf, n, probe))) break;
          }
          uint64_t pa = translate(lin + n, AccessKind::Execute, user());
          irq_poll = true;  // may be an MMIO read
          buf[n] = static_cast<uint8_t>(mem.read(pa, 1));
        }
        scratch.insns.clear();
        Insn insn;
        ZyanStatus st = decode_insn(code_mode, buf, n, insn);
        if (!ZYAN_SUCCESS(st)) {
          if (n == limit_bytes) gp(0);  // runs past the CS limit
          insn = Insn{};
          insn.handler = &h_undefined;
          insn.len = 1;
          insn.flags = kInsnNeedsRip;
        }
        if (dbg.has_exec() && dbg.exec_at(*this, lin, buf)) {
          insn.handler = &h_breakpoint;
          insn.flags |= kInsnNeedsRip;
        }
        scratch.insns.push_back(insn);
        finish_block(scratch);
        scratch.bytes = insn.len;
        scratch.page = ~0ull;
        b = &scratch;
      }
      if (prev && b != &scratch && flat_code) {
        // Remember this successor (a conditional branch has two). Only in
        // flat code, so a valid link (no CS change since: chain_epoch)
        // means flat code, where chaining needs no CS limit check.
        Block::Link& l = prev->links[prev->next_link];
        prev->next_link = (prev->next_link + 1) % std::size(prev->links);
        // The lookup may have decoded and inserted (epoch moved): record the current one.
        l = {s.rip, b, chain_epoch + blocks.epoch()};
      }
      }

      // ---- run it, then its chained successors while nothing needs the slow path ----
      if (__builtin_expect((s.rflags & (TF | RF)) || dbg.guest_step(), 0)) {
        // Debug path: one instruction at a time for TF single-step, RF and
        // DR0-DR3 data / I/O breakpoints (SDM Vol. 3A 17.3).
        running_block = b;
        exit_block = false;
        run_one_debug(*b->begin(), lin);
        prev = nullptr;
        continue;
      }
      rip_sync = s.rip;
      for (;;) {
        running_block = b;
        exit_block = false;
        const Insn* const first = b->begin();
        const uint64_t base = retired;
        // `retired` is brought up to date after the block (handlers that need
        // it exactly, RDTSC and the TSC MSR, call sync_retired()).
        block_first = first;
        block_retired_base = base;
        const Insn* last;  // the last record that ran
        if (__builtin_expect(budget - base >= b->count, 1)) {
          // The whole block, threaded: each entry jumps to the next; the
          // sentinel's or an exiting handler's entry returns here.
          first->thread(*this, *first);
          if (__builtin_expect(!exit_block, 1)) {
            retired = base + b->count;
            rip_sync += b->rip_tail;
            goto ran;
          }
          last = cur_insn;
        } else {
          // The budget ends inside the block: its first records one by one.
          const Insn* const end = first + (budget - base);
          for (cur_insn = first; cur_insn != end; ++cur_insn) {
            const Insn* const cur = cur_insn;
            if (cur->flags & kInsnNeedsRip) {
              s.rip = rip_sync + cur->rip_pre;
              next_rip = s.rip + cur->len;
              cur->handler(*this, *cur);
              rip_sync = next_rip;
            } else {
              cur->handler(*this, *cur);
            }
            if (exit_block) break;
          }
          last = exit_block ? cur_insn : cur_insn - 1;
        }
        retired = base + static_cast<uint64_t>(last - first) + 1;
        if (!(last->flags & kInsnNeedsRip)) rip_sync += last->rip_pre + last->len;
      ran:
        s.rip = rip_sync;
        // A handler stopped the block (a conditional branch taken out of its
        // middle does not count: the next block may follow chained).
        const bool stopped = exit_block && exit_block != kExitBranch;
        if (b == &scratch) {
          prev = nullptr;
          break;
        }
        // A store during the run may have dropped this very block: the epoch
        // check at the top then clears `prev` before anything follows its links.
        prev = b;
        // Straight to the chained successor unless something between blocks
        // needs the full path at the top of the outer loop: budget, stop,
        // halt, interrupt shadow or poll, dropped blocks, a changed memory
        // map, debug state, a CS limit to check.
        // Not checked here: dropped blocks (the link epoch includes the
        // cache's, and `b` itself stays allocated until release_retired()),
        // and memory-map changes: within a run only port I/O or MMIO cause
        // them, and those set irq_poll.
        // halt, stop, shutdown and the interrupt shadow set irq_poll too.
        if (stopped || retired >= budget || irq_poll) break;
        // TF or RF set, or IF or NMI blocking changed since the last poll
        // (irq_key keeps IF in its own bit position, NMI blocking in bit 0).
        if (((s.rflags & (TF | RF | IF)) | (nmi_blocked ? 1u : 0u)) != irq_key) break;
        // Debug state (dbg.guest_step()) and a non-flat CS need no test:
        // links are made in flat code only, and changes to either bump
        // chain_epoch (DebugTraps::sync_guest, update_mode).
        const uint64_t link_epoch = chain_epoch + blocks.epoch();
        Block* next = b->successor(rip_sync, link_epoch);
        if (!next) break;
        b = next;
      }
    } catch (const GuestFault& f) {
      stop_at();
      prev = nullptr;
      deliver_fault(f);
    } catch (const X87Freeze&) {
      // The instruction did not start: RIP stays at it, and the CPU waits for
      // the FERR# interrupt (or an NMI) like HLT does.
      stop_at();
      prev = nullptr;
      halted = true;
    } catch (const DebugStop&) {  // an execution breakpoint: stop before the instruction
      stop_at();
      stop_requested = true;
    }
  }
  running_block = nullptr;
  return retired;
}

}  // namespace pc64
