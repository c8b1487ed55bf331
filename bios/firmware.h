// Finding and mapping the system BIOS (Debian's SeaBIOS by default).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "mem/physical_memory.h"

namespace pc64 {

constexpr const char* kDefaultBiosPath = "/usr/share/seabios/bios-256k.bin";
constexpr const char* kDefaultVgaBiosPath = "/usr/share/seabios/vgabios-stdvga.bin";

// A firmware or boot file that cannot be used; the message names the file,
// the cause and, where it applies, the Debian package that provides it.
class FirmwareError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a whole file, or throws FirmwareError naming `what` and the cause.
std::vector<uint8_t> read_firmware_file(const std::string& path, const char* what);

// Maps the BIOS image at 4 GiB - size and its last 128 KiB at 0xE0000 (the
// legacy alias the reset vector F000:FFF0 runs from while PAM routes reads
// to the bus). The image must be a multiple of 64 KiB, at most 16 MiB.
void map_system_bios(PhysicalMemory& mem, std::vector<uint8_t> image, const std::string& path);

}  // namespace pc64
