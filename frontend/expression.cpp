#include "frontend/expression.h"

#include <cctype>


namespace pc64 {

namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Legacy names in ModRM order (SDM Vol. 2 table 2-2).
constexpr const char* kLegacy[8] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};

}  // namespace

std::optional<RegisterRef> find_register(std::string_view name_in) {
  if (!name_in.empty() && name_in[0] == '$') name_in.remove_prefix(1);
  std::string n = lower(name_in);
  using K = RegisterRef::Kind;
  auto gpr = [](unsigned i, unsigned bits, unsigned shift = 0) {
    return RegisterRef{K::Gpr, static_cast<uint8_t>(i), static_cast<uint8_t>(bits), static_cast<uint8_t>(shift)};
  };
  for (unsigned i = 0; i < 8; ++i) {
    std::string b = kLegacy[i];
    if (n == "r" + b) return gpr(i, 64);
    if (n == "e" + b) return gpr(i, 32);
    if (n == b) return gpr(i, 16);
  }
  // al/cl/dl/bl, ah/ch/dh/bh, spl/bpl/sil/dil.
  for (unsigned i = 0; i < 4; ++i) {
    if (n == std::string(1, kLegacy[i][0]) + "l") return gpr(i, 8);
    if (n == std::string(1, kLegacy[i][0]) + "h") return gpr(i, 8, 8);
  }
  for (unsigned i = 4; i < 8; ++i)
    if (n == std::string(kLegacy[i]) + "l") return gpr(i, 8);
  // r8..r15 with optional d/w/b (or l) suffix.
  if (n.size() >= 2 && n[0] == 'r' && std::isdigit(static_cast<unsigned char>(n[1]))) {
    size_t p = 1;
    unsigned num = 0;
    while (p < n.size() && std::isdigit(static_cast<unsigned char>(n[p])) && num < 100) num = num * 10 + (n[p++] - '0');
    if (num >= 8 && num <= 15) {
      std::string suf = n.substr(p);
      if (suf.empty()) return gpr(num, 64);
      if (suf == "d") return gpr(num, 32);
      if (suf == "w") return gpr(num, 16);
      if (suf == "b" || suf == "l") return gpr(num, 8);
    }
  }
  if (n == "rip") return RegisterRef{K::Rip, 0, 64, 0};
  if (n == "eip") return RegisterRef{K::Rip, 0, 32, 0};
  if (n == "ip") return RegisterRef{K::Rip, 0, 16, 0};
  if (n == "rflags") return RegisterRef{K::Rflags, 0, 64, 0};
  if (n == "eflags") return RegisterRef{K::Rflags, 0, 32, 0};
  if (n == "flags") return RegisterRef{K::Rflags, 0, 16, 0};
  if (n == "cr0") return RegisterRef{K::Cr0, 0, 64, 0};
  if (n == "cr2") return RegisterRef{K::Cr2, 0, 64, 0};
  if (n == "cr3") return RegisterRef{K::Cr3, 0, 64, 0};
  if (n == "cr4") return RegisterRef{K::Cr4, 0, 64, 0};
  if (n == "cr8") return RegisterRef{K::Cr8, 0, 64, 0};
  if (n == "efer") return RegisterRef{K::Efer, 0, 64, 0};
  if (n.size() == 3 && n[0] == 'd' && n[1] == 'r' && n[2] >= '0' && n[2] <= '7')
    return RegisterRef{K::Dr, static_cast<uint8_t>(n[2] - '0'), 64, 0};
  static constexpr const char* kSegs[kSegCount] = {"es", "cs", "ss", "ds", "fs", "gs"};
  for (unsigned i = 0; i < kSegCount; ++i)
    if (n == kSegs[i]) return RegisterRef{K::SegSelector, static_cast<uint8_t>(i), 16, 0};
  return std::nullopt;
}

namespace {

uint64_t& full_register(Cpu& cpu, const RegisterRef& r) {
  CpuState& s = cpu.state();
  using K = RegisterRef::Kind;
  switch (r.kind) {
    case K::Gpr: return s.gpr[r.index & 15];
    case K::Rip: return s.rip;
    case K::Rflags:
      // Arithmetic flags may still be lazy (DESIGN "Lazy flags"): fold them
      // into rflags first. This changes the representation, not the value.
      cpu.rflags();  // folds the lazy arithmetic flags into s.rflags
      return s.rflags;
    case K::Cr0: return s.cr0;
    case K::Cr2: return s.cr2;
    case K::Cr3: return s.cr3;
    case K::Cr4: return s.cr4;
    case K::Cr8: return s.cr8;
    case K::Efer: return s.efer;
    case K::Dr: return s.dr[r.index & 7];
    case K::SegSelector: break;
  }
  return s.gpr[kRegZero];  // unreachable for valid refs
}

uint64_t slice_mask(unsigned bits) { return bits >= 64 ? ~0ULL : (1ULL << bits) - 1; }

}  // namespace

uint64_t read_register(Cpu& cpu, const RegisterRef& r) {
  if (r.kind == RegisterRef::Kind::SegSelector) return cpu.state().seg[r.index % kSegCount].selector;
  return (full_register(cpu, r) >> r.shift) & slice_mask(r.bits);
}

bool write_register(Cpu& cpu, const RegisterRef& r, uint64_t value, std::string& error) {
  using K = RegisterRef::Kind;
  if (r.kind == K::SegSelector) {
    error = "segment registers are read-only in the monitor (loading one needs a descriptor fetch)";
    return false;
  }
  uint64_t& reg = full_register(cpu, r);
  uint64_t mask = slice_mask(r.bits) << r.shift;
  uint64_t v = (reg & ~mask) | ((value << r.shift) & mask);
  if (r.kind == K::Rflags) v |= kFlagsFixed1;  // bit 1 always reads 1 (SDM Vol. 1 3.4.3)
  reg = v;
  // Control registers, EFER and RFLAGS (VM, IOPL, AC) change the mode and
  // cached translations; RIP changes the block to fetch.
  cpu.state_changed();
  return true;
}

namespace {

// Recursive-descent parser over + - * ( ) with the usual precedence.
class Parser {
 public:
  Parser(std::string_view t, Cpu& cpu, std::string& error, const SymbolTable* symbols)
      : t_(t), cpu_(cpu), error_(error), symbols_(symbols) {}

  std::optional<uint64_t> parse() {
    auto v = logical();
    if (!v) return std::nullopt;
    skip();
    if (p_ != t_.size()) return fail("unexpected '" + std::string(t_.substr(p_, 1)) + "' in expression");
    return v;
  }

 private:
  std::optional<uint64_t> fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return std::nullopt;
  }
  void skip() {
    while (p_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[p_]))) ++p_;
  }
  // Conditions for breakpoints (C precedence, no short-circuit: evaluation
  // has no side effects): || && | & then == != < <= > >= (unsigned).
  bool eat(std::string_view op) {
    skip();
    if (t_.substr(p_, op.size()) != op) return false;
    // '&' must not eat half of '&&', '<' not half of '<=', ...
    if (op.size() == 1 && p_ + 1 < t_.size() && (t_[p_ + 1] == op[0] || t_[p_ + 1] == '=')) return false;
    p_ += op.size();
    return true;
  }
  template <class Next, class Apply>
  std::optional<uint64_t> binary(std::initializer_list<std::string_view> ops, Next next, Apply apply) {
    auto v = (this->*next)();
    while (v) {
      std::string_view found;
      for (auto op : ops)
        if (eat(op)) {
          found = op;
          break;
        }
      if (found.empty()) break;
      auto r = (this->*next)();
      if (!r) return std::nullopt;
      v = apply(found, *v, *r);
    }
    return v;
  }
  std::optional<uint64_t> logical() {
    return binary({"||"}, &Parser::logical_and, [](std::string_view, uint64_t a, uint64_t b) -> uint64_t { return a || b; });
  }
  std::optional<uint64_t> logical_and() {
    return binary({"&&"}, &Parser::bit_or, [](std::string_view, uint64_t a, uint64_t b) -> uint64_t { return a && b; });
  }
  std::optional<uint64_t> bit_or() {
    return binary({"|"}, &Parser::bit_and, [](std::string_view, uint64_t a, uint64_t b) { return a | b; });
  }
  std::optional<uint64_t> bit_and() {
    return binary({"&"}, &Parser::compare, [](std::string_view, uint64_t a, uint64_t b) { return a & b; });
  }
  std::optional<uint64_t> compare() {
    return binary({"==", "!=", "<=", ">=", "<", ">"}, &Parser::expr, [](std::string_view op, uint64_t a, uint64_t b) -> uint64_t {
      if (op == "==") return a == b;
      if (op == "!=") return a != b;
      if (op == "<=") return a <= b;
      if (op == ">=") return a >= b;
      if (op == "<") return a < b;
      return a > b;
    });
  }
  std::optional<uint64_t> expr() {
    auto v = term();
    while (v) {
      skip();
      if (p_ >= t_.size() || (t_[p_] != '+' && t_[p_] != '-')) break;
      char op = t_[p_++];
      auto r = term();
      if (!r) return std::nullopt;
      v = op == '+' ? *v + *r : *v - *r;
    }
    return v;
  }
  std::optional<uint64_t> term() {
    auto v = unary();
    while (v) {
      skip();
      if (p_ >= t_.size() || t_[p_] != '*') break;
      ++p_;
      auto r = unary();
      if (!r) return std::nullopt;
      v = *v * *r;
    }
    return v;
  }
  std::optional<uint64_t> unary() {
    if (++depth_ > 64) return fail("expression nested too deeply");
    auto v = unary_inner();
    --depth_;
    return v;
  }
  std::optional<uint64_t> unary_inner() {
    skip();
    if (p_ >= t_.size()) return fail("expression ends early");
    char c = t_[p_];
    if (c == '-') {
      ++p_;
      auto v = unary();
      if (!v) return std::nullopt;
      return 0 - *v;
    }
    if (c == '+') {
      ++p_;
      return unary();
    }
    if (c == '(') {
      ++p_;
      auto v = logical();
      if (!v) return std::nullopt;
      skip();
      if (p_ >= t_.size() || t_[p_] != ')') return fail("missing ')'");
      ++p_;
      return v;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return number();
    if (c == '$' || std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = p_++;
      // Symbol names may contain '.' and '$' (nm output: "foo.cold", "__x86.get_pc").
      while (p_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[p_])) || t_[p_] == '_' || t_[p_] == '.')) ++p_;
      std::string_view name = t_.substr(start, p_ - start);
      auto reg = find_register(name);
      if (!reg && symbols_)
        if (auto sym = symbols_->find(name)) return sym;
      if (!reg) return fail("unknown register or symbol '" + std::string(name) + "'");
      return read_register(cpu_, *reg);
    }
    return fail("unexpected '" + std::string(1, c) + "' in expression");
  }
  std::optional<uint64_t> number() {
    unsigned base = 10;
    if (p_ + 1 < t_.size() && t_[p_] == '0' && (t_[p_ + 1] == 'x' || t_[p_ + 1] == 'X')) {
      base = 16;
      p_ += 2;
    }
    size_t start = p_;
    unsigned __int128 v = 0;
    while (p_ < t_.size()) {
      int d;
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(t_[p_])));
      if (c >= '0' && c <= '9') d = c - '0';
      else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_')
        return fail("bad digit '" + std::string(1, t_[p_]) + "' in number (hex needs 0x)");
      else break;
      v = v * base + static_cast<unsigned>(d);
      if (v > ~0ULL) return fail("number does not fit in 64 bits");
      ++p_;
    }
    if (p_ == start) return fail("0x needs hex digits");
    return static_cast<uint64_t>(v);
  }

  std::string_view t_;
  Cpu& cpu_;
  std::string& error_;
  const SymbolTable* symbols_;
  size_t p_ = 0;
  int depth_ = 0;
};

}  // namespace

std::optional<uint64_t> evaluate_expression(std::string_view text, Cpu& cpu, std::string& error,
                                            const SymbolTable* symbols) {
  error.clear();
  return Parser(text, cpu, error, symbols).parse();
}

}  // namespace pc64
