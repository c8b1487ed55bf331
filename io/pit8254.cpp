#include "io/pit8254.h"

#include "mem/log.h"

namespace pc64 {

namespace {
constexpr uint64_t kNever = ~0ULL;

uint32_t bcd_to_bin(uint16_t v) {
  // Digits above 9 are not defined by the data sheet; keep the result in range.
  uint32_t r = (v & 0xF) + 10 * ((v >> 4) & 0xF) + 100 * ((v >> 8) & 0xF) + 1000 * ((v >> 12) & 0xF);
  return r % 10000;
}
uint16_t bin_to_bcd(uint32_t v) {
  return static_cast<uint16_t>((v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) | ((v / 1000 % 10) << 12));
}
}  // namespace

Pit8254::Pit8254(PortBus& ports, VirtualClock& clock, IrqLine irq0) : clock_(clock), irq0_(irq0) {
  ports.map(0x40, 4, this, "pit");
  ports.map(0x61, 1, this, "nmi status/control (port 0x61)");
  reset();
}

uint64_t Pit8254::ticks_at(uint64_t ns) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * kClockHz / VirtualClock::kNsPerSecond);
}

uint64_t Pit8254::ns_of_tick(uint64_t k) {
  unsigned __int128 n = static_cast<unsigned __int128>(k) * VirtualClock::kNsPerSecond + kClockHz - 1;
  return static_cast<uint64_t>(n / kClockHz);
}

void Pit8254::reset() {
  // The data sheet leaves the power-on state undefined: every counter waits
  // for programming with OUT low, so nothing interrupts before the BIOS runs.
  for (auto& c : channels_) c = Channel{};
  channels_[2].gate = false;  // port 0x61 bit 0 resets to 0
  port61_ = 0;
  clock_.cancel(timer_);
  update_irq0();
}

// ---- the counting element as a function of time ----

void Pit8254::sync(Channel& c, uint64_t t) {
  if (c.reload_pending && t >= c.pending_tick) {
    c.reload = c.start = c.pending_reload;
    c.load_tick = c.pending_tick;
    c.reload_pending = false;
  }
  if (c.armed && !c.reload_pending && t >= c.load_tick) c.null_count = false;
}

uint32_t Pit8254::value_at(const Channel& c, uint64_t t) const {
  uint32_t m = modulus(c);
  if (!c.armed || t < c.load_tick) return c.frozen % m;
  uint64_t d = t - c.load_tick;
  switch (c.mode) {
    case 2:
      return static_cast<uint32_t>((c.reload - d % c.reload) % m);
    case 3: {
      // Decrements by two; OUT is high for the first ceil(N/2) clocks.
      uint64_t n = c.reload, high = (n + 1) / 2, p = d % n;
      uint64_t h = p < high ? p : p - high;
      uint64_t even = n & ~1ULL;
      return static_cast<uint32_t>((even >= 2 * h ? even - 2 * h : 0) % m);
    }
    default:  // 0, 1, 4, 5 count down and wrap through 0 forever
      return static_cast<uint32_t>((c.start + m - d % m) % m);
  }
}

bool Pit8254::out_at(const Channel& c, uint64_t t) const {
  if (!c.armed || t < c.load_tick) return c.out_idle;
  uint64_t d = t - c.load_tick;
  switch (c.mode) {
    case 0:  // interrupt on terminal count: low until the count reaches 0
    case 1:  // one-shot: low from the trigger until terminal count
      return c.tc_done || d >= c.start;
    case 2:  // rate generator: low for the one clock at count 1
      return c.reload < 2 || d % c.reload != c.reload - 1;
    case 3:  // square wave: high for ceil(N/2), low for floor(N/2)
      return d % c.reload < (c.reload + 1) / 2;
    default:  // 4, 5 strobes: low for one clock at count 0
      return c.tc_done || d != c.start;
  }
}

uint64_t Pit8254::next_change(const Channel& c, uint64_t t) const {
  uint64_t next = kNever;
  if (c.reload_pending && c.pending_tick > t) next = c.pending_tick;
  if (!c.armed) return next;
  auto consider = [&](uint64_t tick) {
    if (tick > t && tick < next) next = tick;
  };
  // Before the load, pretend d = -1 (load_tick - 1).
  bool before = t < c.load_tick;
  uint64_t d = before ? 0 : t - c.load_tick;
  switch (c.mode) {
    case 0:
    case 1:
      if (before && c.mode == 1) consider(c.load_tick);  // OUT falls at the load
      if (!c.tc_done) consider(c.load_tick + c.start);
      break;
    case 2: {
      uint64_t n = c.reload;
      if (n < 2) break;
      if (before) {
        consider(c.load_tick + n - 1);
      } else {
        uint64_t p = d % n;
        consider(p < n - 1 ? t + (n - 1 - p) : t + 1);
      }
      break;
    }
    case 3: {
      uint64_t n = c.reload, high = (n + 1) / 2;
      if (n < 2) break;
      if (before) {
        consider(c.load_tick + high);
      } else {
        uint64_t p = d % n;
        consider(p < high ? t + (high - p) : t + (n - p));
      }
      break;
    }
    default:
      if (!c.tc_done) {
        consider(c.load_tick + c.start);
        consider(c.load_tick + c.start + 1);
      }
      break;
  }
  return next;
}

// ---- IRQ0 ----

void Pit8254::update_irq0() {
  Channel& c = channels_[0];
  uint64_t t = now_tick();
  sync(c, t);
  bool level = out_at(c, t);
  if (level != irq_level_) {
    irq_level_ = level;
    irq0_.set(level);
  }
  uint64_t next = next_change(c, t);
  if (next == kNever)
    clock_.cancel(timer_);
  else
    clock_.schedule(timer_, ns_of_tick(next));
}

void Pit8254::on_timer(void* self) { static_cast<Pit8254*>(self)->update_irq0(); }

// ---- gate ----

void Pit8254::set_gate(unsigned channel, bool level) {
  Channel& c = channels_[channel % 3];
  uint64_t t = now_tick();
  sync(c, t);
  if (level == c.gate) return;
  bool rising = level;
  switch (c.mode) {
    case 0:
    case 4:
      // Gate low suspends counting; high resumes from the same value.
      if (!level && c.armed) {
        if (t >= c.load_tick && t - c.load_tick >= c.start) c.tc_done = true;
        c.out_idle = out_at(c, t);
        c.frozen = value_at(c, t);
        c.armed = false;
      } else if (level && c.cr_valid && !c.armed) {
        uint32_t m = modulus(c);
        c.start = c.frozen % m ? c.frozen % m : m;
        c.load_tick = t;
        c.armed = true;
      }
      break;
    case 2:
    case 3:
      // Gate low stops the count and forces OUT high; a rising gate reloads
      // the initial count on the next clock.
      if (!level && c.armed) {
        c.frozen = value_at(c, t);
        c.armed = false;
        c.reload_pending = false;
        c.out_idle = true;
      } else if (rising && c.cr_valid) {
        c.reload = c.start = c.reload_pending ? c.pending_reload : c.reload;
        c.reload_pending = false;
        c.load_tick = t + 1;
        c.armed = true;
      }
      break;
    default:  // 1, 5: a rising gate (re)triggers: load the CR on the next clock
      if (rising && c.cr_valid) {
        c.out_idle = c.armed ? out_at(c, t) : true;
        uint32_t m = modulus(c);
        uint32_t v = c.bcd ? bcd_to_bin(c.cr) : c.cr;
        c.start = v ? v : m;
        c.load_tick = t + 1;
        c.tc_done = false;
        c.armed = true;
      }
      break;
  }
  c.gate = level;
  if (channel % 3 == 0) update_irq0();
}

// ---- programming ----

void Pit8254::write_control(uint8_t v, uint64_t t) {
  unsigned sc = v >> 6;
  if (sc == 3) {
    // Read-back command: bit 5 clear latches counts, bit 4 clear latches status.
    for (unsigned i = 0; i < 3; ++i) {
      if (!(v & (2u << i))) continue;
      Channel& c = channels_[i];
      sync(c, t);
      if (!(v & 0x10)) latch_status(c, t);
      if (!(v & 0x20)) latch_count(c, t);
    }
    return;
  }
  Channel& c = channels_[sc];
  sync(c, t);
  unsigned rw = (v >> 4) & 3;
  if (rw == 0) {  // counter latch command
    latch_count(c, t);
    return;
  }
  // A control word resets the counter's logic: counting stops until a new
  // count is written, OUT goes to its initial state (low in mode 0).
  c.frozen = value_at(c, t);
  c.rw = static_cast<uint8_t>(rw);
  c.mode_bits = (v >> 1) & 7;
  c.mode = c.mode_bits > 5 ? c.mode_bits - 4 : c.mode_bits;  // 6, 7 are 2, 3
  c.bcd = v & 1;
  c.write_msb_next = c.read_msb_next = false;
  c.count_latched = c.status_latched = false;
  c.cr_valid = false;
  c.null_count = true;
  c.armed = false;
  c.tc_done = false;
  c.reload_pending = false;
  c.out_idle = c.mode != 0;
  if (sc == 0) update_irq0();
}

void Pit8254::write_counter(Channel& c, uint8_t v, uint64_t t) {
  sync(c, t);
  switch (c.rw) {
    case 1: c.cr = v; break;
    case 2: c.cr = static_cast<uint16_t>(v << 8); break;
    default:
      if (!c.write_msb_next) {
        c.cr = static_cast<uint16_t>((c.cr & 0xFF00) | v);
        c.write_msb_next = true;
        // Mode 0: writing the first byte stops the count and drops OUT.
        if (c.mode == 0) {
          if (c.armed) c.frozen = value_at(c, t);
          c.armed = false;
          c.out_idle = false;
        }
        return;
      }
      c.cr = static_cast<uint16_t>((c.cr & 0x00FF) | (v << 8));
      c.write_msb_next = false;
      break;
  }
  load_count(c, t);
}

void Pit8254::load_count(Channel& c, uint64_t t) {
  uint32_t m = modulus(c);
  uint32_t v = c.bcd ? bcd_to_bin(c.cr) : c.cr;
  if (v == 0) v = m;  // a count of 0 is the maximum (2^16 or 10^4)
  bool first = !c.cr_valid;
  c.cr_valid = true;
  c.null_count = true;
  switch (c.mode) {
    case 0:
    case 4:
      // The new count is loaded on the next clock and counting restarts.
      c.start = v;
      c.tc_done = false;
      c.out_idle = c.mode != 0;
      if (c.gate) {
        c.load_tick = t + 1;
        c.armed = true;
      } else {
        c.frozen = v % m;
        c.armed = false;
      }
      break;
    case 2:
    case 3:
      if (c.armed && !first) {
        // Counting already: the new count takes effect at the end of the
        // current period (data sheet, modes 2 and 3).
        if (t < c.load_tick) {
          c.start = c.reload = v;
        } else {
          uint64_t d = t - c.load_tick;
          c.reload_pending = true;
          c.pending_reload = v;
          c.pending_tick = c.load_tick + (d / c.reload + 1) * c.reload;
        }
      } else {
        c.start = c.reload = v;
        c.out_idle = true;
        if (c.gate) {
          c.load_tick = t + 1;
          c.armed = true;
        } else {
          c.frozen = v % m;
        }
      }
      break;
    default:
      // Modes 1 and 5 wait for a gate trigger; the count is used then.
      break;
  }
}

void Pit8254::latch_count(Channel& c, uint64_t t) {
  if (c.count_latched) return;  // the first latch holds until read
  uint32_t v = value_at(c, t);
  c.latch = c.bcd ? bin_to_bcd(v) : static_cast<uint16_t>(v);
  c.count_latched = true;
  c.latch_msb_next = false;
}

void Pit8254::latch_status(Channel& c, uint64_t t) {
  if (c.status_latched) return;
  c.status = static_cast<uint8_t>((out_at(c, t) ? 0x80 : 0) | (c.null_count ? 0x40 : 0) | (c.rw << 4) |
                                  (c.mode_bits << 1) | (c.bcd ? 1 : 0));
  c.status_latched = true;
}

uint8_t Pit8254::read_counter(Channel& c, uint64_t t) {
  sync(c, t);
  if (c.status_latched) {
    c.status_latched = false;
    return c.status;
  }
  uint16_t v;
  bool msb;
  if (c.count_latched) {
    v = c.latch;
    if (c.rw == 3) {
      msb = c.latch_msb_next;
      c.latch_msb_next = !msb;
      if (msb) c.count_latched = false;
    } else {
      msb = c.rw == 2;
      c.count_latched = false;
    }
  } else {
    uint32_t b = value_at(c, t);
    v = c.bcd ? bin_to_bcd(b) : static_cast<uint16_t>(b);
    if (c.rw == 3) {
      msb = c.read_msb_next;
      c.read_msb_next = !msb;
    } else {
      msb = c.rw == 2;
    }
  }
  return static_cast<uint8_t>(msb ? v >> 8 : v);
}

// ---- ports ----

uint8_t Pit8254::read8(uint16_t port) {
  uint64_t t = now_tick();
  if (port == 0x61) {
    Channel& c2 = channels_[2];
    sync(c2, t);
    bool refresh = (clock_.now() / kRefreshPeriodNs) & 1;
    return static_cast<uint8_t>((port61_ & 0x0F) | (refresh ? 0x10 : 0) | (out_at(c2, t) ? 0x20 : 0));
  }
  if (port == 0x43) return 0xFF;  // the control word register is write-only
  return read_counter(channels_[port - 0x40], t);
}

void Pit8254::write8(uint16_t port, uint8_t v) {
  uint64_t t = now_tick();
  if (port == 0x61) {
    port61_ = v & 0x0F;
    set_gate(2, v & 1);
    return;
  }
  if (port == 0x43) {
    write_control(v, t);
    return;
  }
  write_counter(channels_[port - 0x40], v, t);
  if (port == 0x40) update_irq0();
}

uint32_t Pit8254::io_read(uint16_t port, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= static_cast<uint32_t>(read8(static_cast<uint16_t>(port + i))) << (8 * i);
  return v;
}

void Pit8254::io_write(uint16_t port, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) write8(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

uint16_t Pit8254::count(unsigned channel) {
  Channel& c = channels_[channel % 3];
  uint64_t t = now_tick();
  sync(c, t);
  uint32_t v = value_at(c, t);
  return c.bcd ? bin_to_bcd(v) : static_cast<uint16_t>(v);
}

bool Pit8254::out(unsigned channel) {
  Channel& c = channels_[channel % 3];
  uint64_t t = now_tick();
  sync(c, t);
  return out_at(c, t);
}

void Pit8254::serialize(StateSerializer& s) {
  s.tag(0x50495434);  // "PIT4"
  for (auto& c : channels_) {
    s(c.mode); s(c.mode_bits); s(c.rw); s(c.bcd); s(c.gate); s(c.write_msb_next); s(c.read_msb_next);
    s(c.cr); s(c.cr_valid); s(c.null_count); s(c.count_latched); s(c.latch_msb_next); s(c.latch);
    s(c.status_latched); s(c.status); s(c.armed); s(c.start); s(c.reload); s(c.load_tick); s(c.tc_done);
    s(c.frozen); s(c.out_idle); s(c.reload_pending); s(c.pending_reload); s(c.pending_tick);
  }
  s(port61_);
  s(irq_level_);
  if (s.loading()) {
    for (auto& c : channels_) {
      // Keep restored state inside what the arithmetic assumes.
      if (c.mode > 5) c.mode = 0;
      uint32_t m = modulus(c);
      if (c.start == 0 || c.start > m) c.start = m;
      if (c.reload == 0 || c.reload > m) c.reload = m;
      if (c.pending_reload == 0 || c.pending_reload > m) c.pending_reload = m;
      c.rw = c.rw ? (c.rw & 3) : 3;
    }
    // Re-arm the IRQ0 timer from the restored channel 0 (the line's level is
    // restored as irq_level_ and by the interrupt router).
    Channel& c = channels_[0];
    uint64_t t = now_tick();
    uint64_t next = next_change(c, t);
    if (next == kNever)
      clock_.cancel(timer_);
    else
      clock_.schedule(timer_, ns_of_tick(next));
  }
}

}  // namespace pc64
