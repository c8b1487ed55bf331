// Guest symbols for the monitor (`sym FILE`): an nm-style list, one
// "ADDRESS TYPE NAME" (or "ADDRESS NAME") per line, as `nm` or a Linux
// System.map prints it. Names resolve in expressions; `u` labels addresses.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pc64 {

class SymbolTable {
 public:
  // Adds the symbols in `path`; returns how many, or -1 with `error` set.
  long load(const std::string& path, std::string& error);
  void clear();
  size_t size() const { return by_name_.size(); }
  std::optional<uint64_t> find(std::string_view name) const;
  // The symbol at or below `addr` within `max_distance` bytes: "name" or "name+0x10".
  std::string describe(uint64_t addr, uint64_t max_distance = 0x10000) const;
  // The name of a symbol exactly at `addr`, or empty.
  std::string at(uint64_t addr) const;

 private:
  std::unordered_map<std::string, uint64_t> by_name_;
  std::map<uint64_t, std::string> by_addr_;
};

}  // namespace pc64
