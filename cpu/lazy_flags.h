// Lazy arithmetic flags: CF/PF/AF/ZF/SF/OF computed from the last operation's
// operands and result when something reads them (SDM Vol. 1 appendix A).
// Inline because Jcc/CMOVcc/ADC read them on the hot path; included by core.h.
#pragma once

namespace pc64 {

inline uint64_t lazy_sign_bit(unsigned size) { return 1ull << ((8u << size) - 1); }

inline bool Core::cf() const {
  const LazyFlags& l = s.lazy;
  switch (l.op) {
    case FlagOp::None: return s.rflags & CF;
    case FlagOp::Add: return l.res < l.dst;
    case FlagOp::Adc: return l.aux ? l.res <= l.dst : l.res < l.dst;
    case FlagOp::Sub: return l.dst < l.src;
    case FlagOp::Sbb: return l.aux ? l.dst <= l.src : l.dst < l.src;
    case FlagOp::Logic: return false;
    case FlagOp::Inc:
    case FlagOp::Dec: return l.aux;
    case FlagOp::Szp: return l.src & CF;
  }
  return false;
}

inline bool Core::of() const {
  const LazyFlags& l = s.lazy;
  uint64_t sb = lazy_sign_bit(l.size);
  switch (l.op) {
    case FlagOp::None: return s.rflags & OF;
    case FlagOp::Add:
    case FlagOp::Adc: return ((l.dst ^ l.res) & (l.src ^ l.res)) & sb;
    case FlagOp::Sub:
    case FlagOp::Sbb: return ((l.dst ^ l.src) & (l.dst ^ l.res)) & sb;
    case FlagOp::Logic: return false;
    case FlagOp::Inc: return l.res == sb;
    case FlagOp::Dec: return l.res == sb - 1;
    case FlagOp::Szp: return l.src & OF;
  }
  return false;
}

inline bool Core::af() const {
  const LazyFlags& l = s.lazy;
  switch (l.op) {
    case FlagOp::None: return s.rflags & AF;
    case FlagOp::Logic: return false;
    case FlagOp::Inc: return (l.res & 0xF) == 0;
    case FlagOp::Dec: return (l.res & 0xF) == 0xF;
    case FlagOp::Szp: return l.src & AF;
    default: return (l.dst ^ l.src ^ l.res) & 0x10;
  }
}

inline bool Core::pf() const {
  if (s.lazy.op == FlagOp::None) return s.rflags & PF;
  return !__builtin_parity(static_cast<unsigned>(s.lazy.res & 0xFF));
}


// Always inlined so that a handler templated on the condition (Jcc) gets only
// the code for its own condition instead of a call and two switches.
[[gnu::always_inline]] inline bool Core::cond_inline(unsigned cc) const {
  bool r;
  const LazyFlags& l = s.lazy;
  if (l.op == FlagOp::Sub) {
    // CMP/SUB: conditions straight from the operands (SDM Vol. 1 B.1).
    const unsigned shift = 64 - (8u << l.size);
    const int64_t sd = static_cast<int64_t>(l.dst << shift), ss = static_cast<int64_t>(l.src << shift);
    switch (cc >> 1) {
      case 1: r = l.dst < l.src; return r ^ (cc & 1);
      case 2: r = l.res == 0; return r ^ (cc & 1);
      case 3: r = l.dst <= l.src; return r ^ (cc & 1);
      case 6: r = sd < ss; return r ^ (cc & 1);
      case 7: r = sd <= ss; return r ^ (cc & 1);
      default: break;
    }
  } else if (l.op == FlagOp::Logic) {
    const bool z = l.res == 0, sgn = (l.res >> ((8u << l.size) - 1)) & 1;
    switch (cc >> 1) {
      case 0: case 1: r = false; return r ^ (cc & 1);
      case 2: case 3: r = z; return r ^ (cc & 1);
      case 4: case 6: r = sgn; return r ^ (cc & 1);
      case 7: r = z || sgn; return r ^ (cc & 1);
      default: break;
    }
  }
  switch (cc >> 1) {
    case 0: r = of(); break;
    case 1: r = cf(); break;
    case 2: r = zf(); break;
    case 3: r = cf() || zf(); break;
    case 4: r = sf(); break;
    case 5: r = pf(); break;
    case 6: r = sf() != of(); break;
    default: r = zf() || (sf() != of()); break;
  }
  return r ^ (cc & 1);
}

}  // namespace pc64
