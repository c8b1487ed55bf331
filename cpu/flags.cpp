// Lazy arithmetic flags: CF/PF/AF/ZF/SF/OF computed from the last operation's
// operands and result when something reads them (SDM Vol. 1 appendix A).
#include "cpu/core.h"

namespace pc64 {

void Core::materialize_flags() {
  const LazyFlags& l = s.lazy;
  if (l.op == FlagOp::None) return;
  // ZF, SF and PF come from the result for every kind; CF, OF, AF per kind.
  const unsigned bits = 8u << l.size;
  const uint64_t sb = 1ull << (bits - 1);
  uint64_t f = 0;
  if (l.res == 0) f |= ZF;
  if (l.res & sb) f |= SF;
  if (!__builtin_parity(static_cast<unsigned>(l.res & 0xFF))) f |= PF;
  switch (l.op) {
    case FlagOp::Logic:
      break;
    case FlagOp::Add:
    case FlagOp::Adc:
      if (l.op == FlagOp::Add ? l.res < l.dst : (l.aux ? l.res <= l.dst : l.res < l.dst)) f |= CF;
      if ((l.dst ^ l.res) & (l.src ^ l.res) & sb) f |= OF;
      if ((l.dst ^ l.src ^ l.res) & 0x10) f |= AF;
      break;
    case FlagOp::Sub:
    case FlagOp::Sbb:
      if (l.op == FlagOp::Sub ? l.dst < l.src : (l.aux ? l.dst <= l.src : l.dst < l.src)) f |= CF;
      if ((l.dst ^ l.src) & (l.dst ^ l.res) & sb) f |= OF;
      if ((l.dst ^ l.src ^ l.res) & 0x10) f |= AF;
      break;
    case FlagOp::Inc:
      if (l.aux) f |= CF;
      if (l.res == sb) f |= OF;
      if ((l.res & 0xF) == 0) f |= AF;
      break;
    case FlagOp::Dec:
      if (l.aux) f |= CF;
      if (l.res == sb - 1) f |= OF;
      if ((l.res & 0xF) == 0xF) f |= AF;
      break;
    case FlagOp::Szp:
      f |= l.src & (CF | AF | OF);
      break;
    case FlagOp::None:
      break;
  }
  s.rflags = (s.rflags & ~kArithFlags) | f;
  s.lazy.op = FlagOp::None;
}

namespace {
template <unsigned CC> bool cond_of(const Core& c) { return c.cond_cc<CC>(); }
}  // namespace

// A condition known only at run time (SETcc, CMOVcc): one indirect call to
// the code for that condition alone, rather than a switch inside a switch.
bool Core::cond(unsigned cc) const {
  static constexpr bool (*kCond[16])(const Core&) = {
      &cond_of<0>, &cond_of<1>, &cond_of<2>,  &cond_of<3>,  &cond_of<4>,  &cond_of<5>,  &cond_of<6>,  &cond_of<7>,
      &cond_of<8>, &cond_of<9>, &cond_of<10>, &cond_of<11>, &cond_of<12>, &cond_of<13>, &cond_of<14>, &cond_of<15>};
  return kCond[cc & 15](*this);
}

void Core::write_rflags(uint64_t value, uint64_t mask) {
  materialize_flags();
  s.rflags = ((s.rflags & ~mask) | (value & mask) | kFlagsFixed1) & ~(uint64_t(0x28) | (~0ull << 22) | (1u << 15));
  if (mask & AC) update_ac_check();
}

}  // namespace pc64
