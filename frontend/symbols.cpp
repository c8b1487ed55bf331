#include "frontend/symbols.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace pc64 {

long SymbolTable::load(const std::string& path, std::string& error) {
  std::ifstream f(path);
  if (!f) {
    error = "cannot read '" + path + "'";
    return -1;
  }
  std::string line;
  long n = 0, lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    std::istringstream in(line);
    std::string addr, a, b;
    if (!(in >> addr >> a)) continue;  // blank lines
    std::string name = (in >> b) ? b : a;  // "ADDR TYPE NAME" or "ADDR NAME"
    char* end = nullptr;
    if (addr.size() > 16 || addr.empty()) end = nullptr;
    uint64_t v = std::strtoull(addr.c_str(), &end, 16);
    if (!end || *end || addr.size() > 16) {
      error = path + ":" + std::to_string(lineno) + ": '" + addr + "' is not a hex address";
      return -1;
    }
    by_name_[name] = v;
    by_addr_.emplace(v, name);  // the first name at an address is kept
    ++n;
  }
  return n;
}

void SymbolTable::clear() {
  by_name_.clear();
  by_addr_.clear();
}

std::optional<uint64_t> SymbolTable::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::string SymbolTable::at(uint64_t addr) const {
  auto it = by_addr_.find(addr);
  return it == by_addr_.end() ? std::string() : it->second;
}

std::string SymbolTable::describe(uint64_t addr, uint64_t max_distance) const {
  auto it = by_addr_.upper_bound(addr);
  if (it == by_addr_.begin()) return "";
  --it;
  uint64_t d = addr - it->first;
  if (d > max_distance) return "";
  if (d == 0) return it->second;
  char b[24];
  std::snprintf(b, sizeof b, "+%#llx", static_cast<unsigned long long>(d));
  return it->second + b;
}

}  // namespace pc64
