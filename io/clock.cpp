#include "io/clock.h"

#include <stdexcept>

namespace pc64 {

Timer::~Timer() {
  if (clock_ && pending()) clock_->cancel(*this);
}

VirtualClock::VirtualClock(uint64_t instructions_per_second) : ips_(instructions_per_second) {
  if (ips_ == 0) throw std::invalid_argument("instruction rate must be positive");
  heap_.reserve(64);
}

VirtualClock::~VirtualClock() {
  for (Timer* t : heap_) {
    t->heap_index_ = -1;
    t->clock_ = nullptr;
  }
}

void VirtualClock::schedule(Timer& t, uint64_t deadline) {
  if (t.clock_ && t.clock_ != this && t.pending()) t.clock_->cancel(t);
  t.clock_ = this;
  t.deadline_ = deadline < now_ ? now_ : deadline;
  t.seq_ = seq_++;
  if (t.heap_index_ < 0) {
    t.heap_index_ = static_cast<int>(heap_.size());
    heap_.push_back(&t);
    sift_up(t.heap_index_);
  } else {
    sift_up(t.heap_index_);
    sift_down(t.heap_index_);
  }
}

void VirtualClock::cancel(Timer& t) {
  if (t.clock_ == this && t.heap_index_ >= 0) remove_at(t.heap_index_);
}

void VirtualClock::remove_at(int i) {
  Timer* gone = heap_[i];
  Timer* last = heap_.back();
  heap_.pop_back();
  gone->heap_index_ = -1;
  if (last != gone) {
    heap_[i] = last;
    last->heap_index_ = i;
    sift_up(i);
    sift_down(last->heap_index_);
  }
}

void VirtualClock::sift_up(int i) {
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (!before(heap_[i], heap_[parent])) break;
    std::swap(heap_[i], heap_[parent]);
    heap_[i]->heap_index_ = i;
    heap_[parent]->heap_index_ = parent;
    i = parent;
  }
}

void VirtualClock::sift_down(int i) {
  int n = static_cast<int>(heap_.size());
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && before(heap_[l], heap_[m])) m = l;
    if (r < n && before(heap_[r], heap_[m])) m = r;
    if (m == i) break;
    std::swap(heap_[i], heap_[m]);
    heap_[i]->heap_index_ = i;
    heap_[m]->heap_index_ = m;
    i = m;
  }
}

uint64_t VirtualClock::budget_to_next_event(uint64_t cap) const {
  uint64_t d = next_deadline();
  if (d == kNever) return cap;
  if (d <= now_) return 1;
  unsigned __int128 ns = d - now_;
  // Instructions needed to reach the deadline, rounding up.
  unsigned __int128 n = (ns * ips_ + kNsPerSecond - 1 - 0) / kNsPerSecond;
  if (n < 1) n = 1;
  return n > cap ? cap : static_cast<uint64_t>(n);
}

void VirtualClock::retire(uint64_t n) {
  unsigned __int128 total = static_cast<unsigned __int128>(n) * kNsPerSecond + frac_;
  now_ += static_cast<uint64_t>(total / ips_);
  frac_ = static_cast<uint64_t>(total % ips_);
  run_due();
}

void VirtualClock::advance_to(uint64_t t) {
  while (!heap_.empty() && heap_[0]->deadline_ <= t) {
    if (heap_[0]->deadline_ > now_) now_ = heap_[0]->deadline_;
    run_due();
  }
  if (t > now_) {
    now_ = t;
    frac_ = 0;
  }
}

void VirtualClock::run_due() {
  while (!heap_.empty() && heap_[0]->deadline_ <= now_) {
    Timer* t = heap_[0];
    remove_at(0);
    t->cb_(t->ctx_);  // may re-arm itself or others
  }
}

}  // namespace pc64
