// The table of threaded entries (cpu/dispatch.h). It maps code to code: filled
// once per handler when a builder first picks it, read when blocks are built.
#include "cpu/dispatch.h"

#include <mutex>
#include <unordered_map>

namespace pc64 {

namespace {

struct Registry {
  std::mutex lock;  // machines on several host threads decode concurrently
  std::unordered_map<Handler, ThreadedEntries> entries;
};
Registry& registry() {
  static Registry r;
  return r;
}

// For handlers without their own entries: the same step through Insn::handler.
void thread_generic(Core& c, const Insn& i) { thread_step<false>(c, i, i.handler); }
void thread_generic_rip(Core& c, const Insn& i) { thread_step<true>(c, i, i.handler); }

}  // namespace

void register_threaded(Handler h, ThreadedEntries e) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  r.entries.emplace(h, e);
}

Handler threaded_entry(const Insn& i, bool quiet, bool flags_dead) {
  const bool rip = i.flags & kInsnNeedsRip;
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> g(r.lock);
    auto it = r.entries.find(i.handler);
    if (it != r.entries.end()) {
      if (rip) return it->second.with_rip;
      if (quiet && flags_dead && it->second.flags_dead) return it->second.flags_dead;
      if (quiet && it->second.quiet) return it->second.quiet;
      return it->second.plain;
    }
  }
  return rip ? &thread_generic_rip : &thread_generic;
}

void thread_block_end(Core& c, const Insn& i) { c.cur_insn = &i; }

}  // namespace pc64
