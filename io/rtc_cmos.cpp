#include "io/rtc_cmos.h"

#include <ctime>
#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

namespace {
constexpr uint64_t kDividerHz = 32768;
constexpr uint64_t kHalfSecond = VirtualClock::kNsPerSecond / 2;

unsigned days_in_month(unsigned month, unsigned year) {
  static constexpr uint8_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 31;
  // The chip's leap-year rule: every year divisible by 4 (right for 1901-2099).
  if (month == 2 && year % 4 == 0) return 29;
  return kDays[month - 1];
}
}  // namespace

RtcCmos::RtcCmos(PortBus& ports, VirtualClock& clock, IrqLine irq8, int64_t start_time)
    : clock_(clock), irq_(irq8) {
  ports.map(0x70, 4, this, "rtc/cmos");
  set_unix_time(start_time);
  restart_divider();
}

void RtcCmos::reset() {
  reg_b_ &= static_cast<uint8_t>(~(kPie | kAie | kUie | kSqwe));
  reg_c_ = 0;
  update_irq();
  arm_periodic();
}

// ---- time keeping ----

void RtcCmos::set_unix_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) throw std::invalid_argument("RTC start time out of range");
  time_.sec = static_cast<uint8_t>(tm.tm_sec > 59 ? 59 : tm.tm_sec);
  time_.min = static_cast<uint8_t>(tm.tm_min);
  time_.hour = static_cast<uint8_t>(tm.tm_hour);
  time_.wday = static_cast<uint8_t>(tm.tm_wday + 1);  // Sunday = 1
  time_.mday = static_cast<uint8_t>(tm.tm_mday);
  time_.month = static_cast<uint8_t>(tm.tm_mon + 1);
  int year = tm.tm_year + 1900;
  time_.year = static_cast<uint8_t>(year % 100);
  ram_[kCentury] = encode(static_cast<uint8_t>(year / 100));
}

int64_t RtcCmos::unix_time() const {
  unsigned century = decode(ram_[kCentury]);
  if (century < 19 || century > 99) century = 20;
  std::tm tm{};
  tm.tm_sec = time_.sec;
  tm.tm_min = time_.min;
  tm.tm_hour = time_.hour;
  tm.tm_mday = time_.mday;
  tm.tm_mon = time_.month - 1;
  tm.tm_year = static_cast<int>(century * 100 + time_.year) - 1900;
  return static_cast<int64_t>(timegm(&tm));
}

void RtcCmos::tick_second() {
  Time& t = time_;
  if (++t.sec < 60) return;
  t.sec = 0;
  if (++t.min < 60) return;
  t.min = 0;
  if (++t.hour < 24) return;
  t.hour = 0;
  t.wday = static_cast<uint8_t>(t.wday % 7 + 1);
  if (++t.mday <= days_in_month(t.month, t.year)) return;
  t.mday = 1;
  if (++t.month <= 12) return;
  t.month = 1;
  t.year = static_cast<uint8_t>((t.year + 1) % 100);
}

void RtcCmos::check_alarm() {
  // Each alarm byte matches its time register, or is "don't care" (11xxxxxx).
  const uint8_t now[3] = {clock_register(kSeconds), clock_register(kMinutes), clock_register(kHours)};
  for (int i = 0; i < 3; ++i)
    if ((alarm_[i] & 0xC0) != 0xC0 && alarm_[i] != now[i]) return;
  reg_c_ |= kAf;
}

uint8_t RtcCmos::encode(uint8_t v) const {
  if (reg_b_ & kDm) return v;
  return static_cast<uint8_t>(((v / 10) << 4) | (v % 10));
}

uint8_t RtcCmos::decode(uint8_t v) const {
  if (reg_b_ & kDm) return v;
  return static_cast<uint8_t>((v >> 4) * 10 + (v & 0x0F));
}

uint8_t RtcCmos::encode_hour(uint8_t h) const {
  if (reg_b_ & k24h) return encode(h);
  uint8_t h12 = h % 12 ? h % 12 : 12;
  return static_cast<uint8_t>(encode(h12) | (h >= 12 ? 0x80 : 0));  // bit 7 = PM
}

uint8_t RtcCmos::decode_hour(uint8_t v) const {
  if (reg_b_ & k24h) return decode(v);
  uint8_t h = decode(v & 0x7F);
  return static_cast<uint8_t>(h % 12 + ((v & 0x80) ? 12 : 0));
}

uint8_t RtcCmos::clock_register(uint8_t index) const {
  switch (index) {
    case kSeconds: return encode(time_.sec);
    case kMinutes: return encode(time_.min);
    case kHours: return encode_hour(time_.hour);
    case kDayOfWeek: return encode(time_.wday);
    case kDayOfMonth: return encode(time_.mday);
    case kMonth: return encode(time_.month);
    case kYear: return encode(time_.year);
    case kSecondsAlarm: return alarm_[0];
    case kMinutesAlarm: return alarm_[1];
    case kHoursAlarm: return alarm_[2];
    case kRegA: return static_cast<uint8_t>(reg_a_ | (uip() ? kUip : 0));
    case kRegB: return reg_b_;
    case kRegC: return reg_c_;
    case kRegD: return kVrt;  // battery good
    default: return ram_[index];
  }
}

// ---- divider chain, update cycle, periodic interrupt ----

bool RtcCmos::uip() const {
  return running() && !(reg_b_ & kSet) && clock_.now() + kUipNs >= next_update_ns_;
}

uint64_t RtcCmos::period_ticks() const {
  unsigned rs = reg_a_ & kRsMask;
  if (rs == 0) return 0;
  // With the 32.768 kHz time base, rates 1 and 2 repeat rates 8 and 9
  // (data sheet Table 5: 3.90625 ms and 7.8125 ms).
  if (rs < 3) rs += 7;
  return 1ULL << (rs - 1);
}

uint64_t RtcCmos::divider_ticks(uint64_t ns) const {
  if (ns < divider_origin_ns_) return 0;
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns - divider_origin_ns_) * kDividerHz /
                               VirtualClock::kNsPerSecond);
}

uint64_t RtcCmos::ns_of_divider_tick(uint64_t k) const {
  unsigned __int128 n = static_cast<unsigned __int128>(k) * VirtualClock::kNsPerSecond + kDividerHz - 1;
  return divider_origin_ns_ + static_cast<uint64_t>(n / kDividerHz);
}

void RtcCmos::update_pf() {
  uint64_t p = period_ticks();
  if (!running() || !p) return;
  uint64_t idx = divider_ticks(clock_.now()) / p;
  if (idx > pf_index_) {
    reg_c_ |= kPf;
    pf_index_ = idx;
  }
}

void RtcCmos::arm_periodic() {
  uint64_t p = period_ticks();
  if (running() && p && (reg_b_ & kPie)) {
    update_pf();
    // While PF is set the interrupt is already asserted and later periods
    // change nothing: wait for the guest to read register C.
    if (reg_c_ & kPf) {
      clock_.cancel(periodic_timer_);
      return;
    }
    clock_.schedule(periodic_timer_, ns_of_divider_tick((pf_index_ + 1) * p));
  } else {
    clock_.cancel(periodic_timer_);
  }
}

void RtcCmos::arm_update() {
  if (running())
    clock_.schedule(update_timer_, next_update_ns_);
  else
    clock_.cancel(update_timer_);
}

void RtcCmos::restart_divider() {
  // Leaving divider reset: the first update comes 500 ms later (data sheet,
  // register A, DV2-DV0).
  divider_origin_ns_ = clock_.now();
  next_update_ns_ = divider_origin_ns_ + kHalfSecond;
  pf_index_ = 0;
  arm_update();
  arm_periodic();
}

void RtcCmos::on_update(void* self) {
  auto* r = static_cast<RtcCmos*>(self);
  if (!(r->reg_b_ & kSet)) {
    r->tick_second();
    r->reg_c_ |= kUf;
    r->check_alarm();
  }
  r->next_update_ns_ += VirtualClock::kNsPerSecond;
  r->update_irq();
  r->arm_update();
}

void RtcCmos::on_periodic(void* self) {
  auto* r = static_cast<RtcCmos*>(self);
  r->update_pf();
  r->update_irq();
  r->arm_periodic();
}

void RtcCmos::update_irq() {
  // IRQF = PF.PIE + AF.AIE + UF.UIE (the flag and enable bits line up).
  bool irqf = reg_c_ & reg_b_ & (kPf | kAf | kUf);
  reg_c_ = static_cast<uint8_t>((reg_c_ & (kPf | kAf | kUf)) | (irqf ? kIrqf : 0));
  if (irqf != irq_level_) {
    irq_level_ = irqf;
    irq_.set(irqf);
  }
}

// ---- registers ----

uint8_t RtcCmos::read_register(uint8_t index) {
  if (index == kRegC) {
    // Reading C returns the flags and clears them all, dropping IRQ8.
    update_pf();
    update_irq();
    uint8_t v = reg_c_;
    reg_c_ = 0;
    update_irq();
    arm_periodic();
    return v;
  }
  return clock_register(index);
}

void RtcCmos::write_register(uint8_t index, uint8_t v) {
  switch (index) {
    case kSeconds: time_.sec = decode(v); break;
    case kMinutes: time_.min = decode(v); break;
    case kHours: time_.hour = decode_hour(v); break;
    case kDayOfWeek: time_.wday = decode(v); break;
    case kDayOfMonth: time_.mday = decode(v); break;
    case kMonth: time_.month = decode(v); break;
    case kYear: time_.year = decode(v); break;
    case kSecondsAlarm: alarm_[0] = v; break;
    case kMinutesAlarm: alarm_[1] = v; break;
    case kHoursAlarm: alarm_[2] = v; break;
    case kRegA: {
      bool was_running = running();
      update_pf();  // account for periods at the old rate
      reg_a_ = v & 0x7F;  // UIP is read-only
      if (!running()) {
        clock_.cancel(update_timer_);
        clock_.cancel(periodic_timer_);
      } else if (!was_running) {
        restart_divider();
      } else {
        uint64_t p = period_ticks();
        if (p) pf_index_ = divider_ticks(clock_.now()) / p;
        arm_periodic();
      }
      break;
    }
    case kRegB:
      if (v & kSet) v &= static_cast<uint8_t>(~kUie);  // SET=1 clears UIE
      update_pf();
      reg_b_ = v;
      update_irq();
      arm_periodic();
      break;
    case kRegC:
    case kRegD:
      break;  // read-only
    default:
      ram_[index] = v;
      break;
  }
}

uint8_t RtcCmos::cmos(unsigned index) const { return clock_register(static_cast<uint8_t>(index)); }

void RtcCmos::set_cmos(unsigned index, uint8_t value) { write_register(static_cast<uint8_t>(index), value); }

uint32_t RtcCmos::io_read(uint16_t port, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint16_t p = static_cast<uint16_t>(port + i);
    uint8_t b = 0xFF;  // the index ports are write-only
    if (p == 0x71) b = read_register(index_);
    if (p == 0x73) b = read_register(index_high_);
    v |= static_cast<uint32_t>(b) << (8 * i);
  }
  return v;
}

void RtcCmos::io_write(uint16_t port, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    uint16_t p = static_cast<uint16_t>(port + i);
    uint8_t b = static_cast<uint8_t>(value >> (8 * i));
    switch (p) {
      case 0x70:
        nmi_masked_ = b & 0x80;  // PIIX3 NMI enable bit (1 = masked)
        index_ = b & 0x7F;
        break;
      case 0x71: write_register(index_, b); break;
      case 0x72: index_high_ = static_cast<uint8_t>(0x80 | b); break;  // the upper bank
      case 0x73: write_register(index_high_, b); break;
    }
  }
}

// ---- what the firmware reads ----

void RtcCmos::update_checksum() {
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2D; ++i) sum += ram_[i];
  ram_[kChecksumHigh] = static_cast<uint8_t>(sum >> 8);
  ram_[kChecksumLow] = static_cast<uint8_t>(sum);
}

void RtcCmos::set_memory_sizes(uint64_t below_4g, uint64_t above_4g) {
  constexpr uint64_t kMiB = 1ULL << 20;
  ram_[kBaseMemLow] = 640 & 0xFF;
  ram_[kBaseMemHigh] = 640 >> 8;
  // Extended memory above 1 MiB in KiB, saturating at 0xFFFF.
  uint64_t ext_kb = below_4g > kMiB ? (below_4g - kMiB) / 1024 : 0;
  if (ext_kb > 0xFFFF) ext_kb = 0xFFFF;
  ram_[kExtMemLow] = ram_[kExtMem2Low] = static_cast<uint8_t>(ext_kb);
  ram_[kExtMemHigh] = ram_[kExtMem2High] = static_cast<uint8_t>(ext_kb >> 8);
  // Memory above 16 MiB in 64 KiB units (what SeaBIOS uses without e820 from fw_cfg).
  uint64_t above16 = below_4g > 16 * kMiB ? (below_4g - 16 * kMiB) / 65536 : 0;
  if (above16 > 0xFFFF) above16 = 0xFFFF;
  ram_[kMemAbove16MLow] = static_cast<uint8_t>(above16);
  ram_[kMemAbove16MHigh] = static_cast<uint8_t>(above16 >> 8);
  uint64_t above4g = above_4g / 65536;
  if (above4g > 0xFFFFFF) above4g = 0xFFFFFF;
  for (unsigned i = 0; i < 3; ++i) ram_[kMemAbove4G + i] = static_cast<uint8_t>(above4g >> (8 * i));
  update_checksum();
}

void RtcCmos::set_equipment(unsigned floppies, bool fpu, bool ps2_mouse) {
  uint8_t eq = 0;
  if (floppies) eq |= static_cast<uint8_t>(0x01 | (((floppies > 2 ? 2 : floppies) - 1) << 6));
  if (fpu) eq |= 0x02;
  if (ps2_mouse) eq |= 0x04;
  // Bits 5-4 = 00: the display has its own BIOS (EGA/VGA).
  ram_[kEquipment] = eq;
  // 1.44 MB 3.5" drives for the floppies present, none otherwise.
  ram_[kFloppyTypes] = static_cast<uint8_t>((floppies >= 1 ? 0x40 : 0) | (floppies >= 2 ? 0x04 : 0));
  update_checksum();
}

void RtcCmos::set_boot_order(const std::string& order, bool check_floppy_signature) {
  if (order.size() > 3) throw std::invalid_argument("boot order '" + order + "': at most three devices");
  uint8_t code[3] = {0, 0, 0};
  for (size_t i = 0; i < order.size(); ++i) {
    switch (order[i]) {
      case 'a': code[i] = 1; break;
      case 'c': code[i] = 2; break;
      case 'd': code[i] = 3; break;
      case 'n': code[i] = 4; break;
      default:
        throw std::invalid_argument(std::string("boot order: '") + order[i] +
                                    "' is not a (floppy), c (disk), d (CD-ROM) or n (network)");
    }
  }
  ram_[kBootFlag2] = static_cast<uint8_t>(code[0] | (code[1] << 4));
  ram_[kBootFlag1] = static_cast<uint8_t>((code[2] << 4) | (check_floppy_signature ? 0 : 1));
}

void RtcCmos::set_cpu_count(unsigned cpus) { ram_[kCpuCount] = static_cast<uint8_t>(cpus ? cpus - 1 : 0); }

void RtcCmos::serialize(StateSerializer& s) {
  s.tag(0x52544343);  // "RTCC"
  s(time_.sec); s(time_.min); s(time_.hour); s(time_.wday); s(time_.mday); s(time_.month); s(time_.year);
  s(alarm_);
  s(reg_a_); s(reg_b_); s(reg_c_);
  s(ram_);
  s(index_); s(index_high_); s(nmi_masked_); s(irq_level_);
  s(divider_origin_ns_); s(next_update_ns_); s(pf_index_);
  if (s.loading()) {
    reg_a_ &= 0x7F;
    index_ &= 0x7F;
    index_high_ |= 0x80;
    if (running() && next_update_ns_ < clock_.now()) next_update_ns_ = clock_.now();
    arm_update();
    arm_periodic();
  }
}

}  // namespace pc64
