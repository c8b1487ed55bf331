#include "bios/firmware.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace pc64 {

namespace {
std::string package_hint(const std::string& path) {
  if (path.rfind("/usr/share/seabios/", 0) == 0) return " (Debian's seabios package provides it: apt-get install seabios)";
  return "";
}
}  // namespace

std::vector<uint8_t> read_firmware_file(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw FirmwareError(std::string("cannot read ") + what + " '" + path + "': " + std::strerror(errno) +
                              package_hint(path));
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw FirmwareError(std::string("error reading ") + what + " '" + path + "'");
  return data;
}

void map_system_bios(PhysicalMemory& mem, std::vector<uint8_t> image, const std::string& path) {
  constexpr size_t k64K = 64 * 1024, k128K = 128 * 1024;
  if (image.empty() || image.size() % k64K != 0 || image.size() > 16 * 1024 * 1024)
    throw FirmwareError("BIOS image '" + path + "' has size " + std::to_string(image.size()) +
                        ": expected a multiple of 64 KiB up to 16 MiB (is it a BIOS image?)");
  size_t alias = image.size() < k128K ? image.size() : k128K;
  std::vector<uint8_t> low(image.end() - static_cast<ptrdiff_t>(alias), image.end());
  uint64_t top = PhysicalMemory::k4G - image.size();
  mem.map_rom(top, std::move(image), "bios");
  mem.map_rom(PhysicalMemory::kLegacyEnd - alias, std::move(low), "bios (legacy alias)");
}

}  // namespace pc64
