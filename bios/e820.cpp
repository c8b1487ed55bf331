#include "bios/e820.h"

#include <cstring>

namespace pc64 {

namespace {
constexpr uint64_t k4G = 0x100000000ULL;
constexpr uint64_t kEbda = 0x9FC00;  // 1 KiB EBDA below 640 KiB, as SeaBIOS lays it out
}  // namespace

std::vector<E820Entry> firmware_e820(uint64_t below, uint64_t above) {
  std::vector<E820Entry> m{{0, below, E820Type::Ram}};
  if (above) m.push_back({k4G, above, E820Type::Ram});
  return m;
}

std::vector<E820Entry> direct_boot_e820(uint64_t below, uint64_t above, uint64_t acpi_size) {
  std::vector<E820Entry> m;
  m.push_back({0, kEbda, E820Type::Ram});
  m.push_back({kEbda, 0xA0000 - kEbda, E820Type::Reserved});
  m.push_back({0xF0000, 0x10000, E820Type::Reserved});
  uint64_t acpi_base = below - acpi_size;
  m.push_back({0x100000, acpi_base - 0x100000, E820Type::Ram});
  if (acpi_size) m.push_back({acpi_base, acpi_size, E820Type::Acpi});
  if (above) m.push_back({k4G, above, E820Type::Ram});
  return m;
}

std::vector<uint8_t> encode_fw_cfg_e820(const std::vector<E820Entry>& map) {
  std::vector<uint8_t> out(map.size() * 20);
  for (size_t i = 0; i < map.size(); ++i) {
    uint32_t type = static_cast<uint32_t>(map[i].type);
    std::memcpy(&out[i * 20], &map[i].addr, 8);
    std::memcpy(&out[i * 20 + 8], &map[i].size, 8);
    std::memcpy(&out[i * 20 + 16], &type, 4);
  }
  return out;
}

}  // namespace pc64
