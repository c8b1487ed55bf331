// Virtual time and the event queue. Guest time advances only as the CPU
// retires instructions (at a configured rate) or when a halted CPU skips to
// the next event, so runs are deterministic. Devices own Timers and arm them
// at absolute deadlines; the machine runs the CPU until the next deadline.
#pragma once
#include <cstdint>
#include <vector>

namespace pc64 {

class VirtualClock;

class Timer {
 public:
  using Callback = void (*)(void* ctx);
  Timer(Callback cb, void* ctx, const char* name) : cb_(cb), ctx_(ctx), name_(name) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool pending() const { return heap_index_ >= 0; }
  uint64_t deadline() const { return deadline_; }  // meaningful while pending()
  const char* name() const { return name_; }

 private:
  friend class VirtualClock;
  Callback cb_;
  void* ctx_;
  const char* name_;
  VirtualClock* clock_ = nullptr;
  uint64_t deadline_ = 0;
  uint64_t seq_ = 0;       // ties fire in arming order
  int heap_index_ = -1;
};

class VirtualClock {
 public:
  static constexpr uint64_t kNever = ~0ULL;
  static constexpr uint64_t kNsPerSecond = 1000000000ULL;

  // `instructions_per_second`: how much guest time one retired instruction is
  // worth. The default 1e9 makes one instruction one nanosecond.
  explicit VirtualClock(uint64_t instructions_per_second = kNsPerSecond);
  ~VirtualClock();

  uint64_t now() const { return now_; }  // nanoseconds since power-on
  uint64_t instructions_per_second() const { return ips_; }

  // Arms (or re-arms) `t` to fire at absolute time `deadline` (clamped to now).
  void schedule(Timer& t, uint64_t deadline);
  void schedule_in(Timer& t, uint64_t delay_ns) { schedule(t, now_ + delay_ns); }
  void cancel(Timer& t);
  uint64_t next_deadline() const { return heap_.empty() ? kNever : heap_[0]->deadline_; }

  // Instructions the CPU may retire before the next deadline (at least 1,
  // capped at `cap`).
  uint64_t budget_to_next_event(uint64_t cap) const;
  // Accounts for `n` retired instructions and fires every timer now due.
  void retire(uint64_t n);
  // Jumps to `t` (HLT skip, tests), firing due timers in deadline order.
  void advance_to(uint64_t t);
  // Fires every timer whose deadline <= now.
  void run_due();

  // Restore: set time directly (timers are re-armed by their owners).
  void set_now(uint64_t t) { now_ = t; frac_ = 0; }

 private:
  void sift_up(int i);
  void sift_down(int i);
  void remove_at(int i);
  bool before(const Timer* a, const Timer* b) const {
    return a->deadline_ != b->deadline_ ? a->deadline_ < b->deadline_ : a->seq_ < b->seq_;
  }

  uint64_t now_ = 0;
  uint64_t ips_;
  uint64_t frac_ = 0;  // remainder of instruction -> ns conversion (units of 1/ips ns)
  uint64_t seq_ = 0;
  std::vector<Timer*> heap_;
};

}  // namespace pc64
