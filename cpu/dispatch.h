// Threaded dispatch: each record of a block carries, besides its handler, an
// entry (Insn::thread) that runs the handler and then jumps straight to the
// next record's entry, so a block runs as a chain of tail calls instead of a
// loop calling one handler after another through a single indirect call.
// Every entry ends in its own indirect jump, which the host's branch
// predictor learns per guest instruction (the classic threaded-code win),
// and the loop's per-record bookkeeping disappears.
//
// Entries are instantiated per handler where the handler is defined (the
// builders' by_size helpers and with_thread<H>()), so the handler is inlined
// into its entry. finish_block (cpu/interpreter.cpp) asks threaded_entry()
// for a record's entry;
// handlers that were never registered get a generic entry that calls
// Insn::handler.
//
// A block ends with a sentinel record whose entry just returns (Block::end).
// An entry returns early when its handler set Core::exit_block. Core::cur_insn
// names the record that ran last, so Core::run can count what retired and
// put RIP on a record that faulted.
#pragma once
#include "cpu/core.h"

namespace pc64 {

// The entries of a handler: for records without and with kInsnNeedsRip;
// optionally a "quiet" one for records that can neither fault nor stop the
// block (register-only forms: no Core::cur_insn to keep, no exit_block to
// test), and the quiet entry of a variant that leaves the flags alone, for
// such records whose flag results nothing reads (dead-flag elimination,
// decode_block).
struct ThreadedEntries {
  Handler plain = nullptr;
  Handler with_rip = nullptr;
  Handler quiet = nullptr;
  Handler flags_dead = nullptr;
};
void register_threaded(Handler h, ThreadedEntries e);
// The entry for a record (its handler and kInsnNeedsRip flag). `quiet`: it
// cannot fault or stop the block; `flags_dead`: nothing reads the flags it
// writes. Each picks its entry if the handler has one.
Handler threaded_entry(const Insn& i, bool quiet = false, bool flags_dead = false);
// The sentinel's entry: the block is done.
void thread_block_end(Core& c, const Insn& i);

// One threaded step: run `h` on `i` (with RIP kept as Core::run keeps it
// when NEEDS_RIP), then go on to the next record unless the handler asked
// to leave the block. QUIET: the handler cannot fault or set exit_block.
template <bool NEEDS_RIP, bool QUIET = false>
[[gnu::always_inline]] inline void thread_step(Core& c, const Insn& i, Handler h) {
  if constexpr (QUIET) {
    h(c, i);
    const Insn* n = &i + 1;
    return n->thread(c, *n);
  }
  c.cur_insn = &i;
  if constexpr (NEEDS_RIP) {
    c.s.rip = c.rip_sync + i.rip_pre;
    c.next_rip = c.s.rip + i.len;
    h(c, i);
    c.rip_sync = c.next_rip;
  } else {
    h(c, i);
  }
  if (__builtin_expect(c.exit_block, 0)) return;
  const Insn* n = &i + 1;
  return n->thread(c, *n);  // a sibling call: the host compiler emits a jump
}

// `flatten`: the handler and the helpers it calls are inlined into the entry
// (what is defined in another file, such as slow paths, stays a call).
template <Handler H> struct Threaded {
  [[gnu::flatten]] static void plain(Core& c, const Insn& i) { thread_step<false>(c, i, H); }
  [[gnu::flatten]] static void with_rip(Core& c, const Insn& i) { thread_step<true>(c, i, H); }
  [[gnu::flatten]] static void quiet(Core& c, const Insn& i) { thread_step<false, true>(c, i, H); }
};

// Registers H's entries the first time a builder picks H (one static per
// H and entry kind, so decoding pays a guard check afterwards); returns H.
template <Handler H, class Entries> Handler register_once(Entries entries) {
  static const bool registered = (register_threaded(H, entries()), true);
  (void)registered;
  return H;
}

// Returns H after registering its threaded entries. QUIET: H has
// register-only forms that can neither fault nor stop the block (which
// records are such is decided per instruction by the decoder: FlagUse).
// (Function addresses are compared with nothing at compile time here: with
// UBSan that is not a constant expression.)
template <Handler H, bool QUIET = false> Handler with_thread() {
  return register_once<H>([] {
    return ThreadedEntries{&Threaded<H>::plain, &Threaded<H>::with_rip, QUIET ? &Threaded<H>::quiet : nullptr,
                           nullptr};
  });
}
// The same for register-only forms with a variant NF: H without its flag
// results (the same register effects, no change to RFLAGS or the lazy-flags
// record), for records whose flags nothing reads.
template <Handler H, Handler NF> Handler with_thread_nf() {
  return register_once<H>([] {
    return ThreadedEntries{&Threaded<H>::plain, &Threaded<H>::with_rip, &Threaded<H>::quiet, &Threaded<NF>::quiet};
  });
}

// Entries that call H rather than having it flattened into them: for the
// big SSE/x87 handlers, where a copy of each body per entry would cost build
// time for little. Each still ends in its own jump to the next record, which
// is what the branch predictor needs (the generic entry shares one).
template <Handler H> struct ThreadedCall {
  static void plain(Core& c, const Insn& i) { thread_step<false>(c, i, H); }
  static void with_rip(Core& c, const Insn& i) { thread_step<true>(c, i, H); }
};
template <Handler H> Handler with_thread_call() {
  return register_once<H>([] { return ThreadedEntries{&ThreadedCall<H>::plain, &ThreadedCall<H>::with_rip}; });
}

}  // namespace pc64
