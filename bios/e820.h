// The BIOS memory map (INT 15h E820) as pc64 describes the machine: to
// SeaBIOS through fw_cfg "etc/e820", and to directly booted kernels in
// boot_params / the multiboot memory map.
#pragma once
#include <cstdint>
#include <vector>

namespace pc64 {

enum class E820Type : uint32_t { Ram = 1, Reserved = 2, Acpi = 3, Nvs = 4 };

struct E820Entry {
  uint64_t addr;
  uint64_t size;
  E820Type type;
};

// What firmware is told (SeaBIOS adds its own reserved areas): RAM below the
// PCI hole and RAM above 4 GiB.
std::vector<E820Entry> firmware_e820(uint64_t ram_below_4g, uint64_t ram_above_4g);

// The full map a kernel sees when pc64 boots it without a BIOS: conventional
// memory up to the EBDA, the BIOS area reserved, RAM from 1 MiB to the ACPI
// tables at the top of low RAM (`acpi_size` bytes, type ACPI), RAM above 4 GiB.
std::vector<E820Entry> direct_boot_e820(uint64_t ram_below_4g, uint64_t ram_above_4g, uint64_t acpi_size);

// The fw_cfg "etc/e820" encoding: packed { le64 addr; le64 size; le32 type; }.
std::vector<uint8_t> encode_fw_cfg_e820(const std::vector<E820Entry>& map);

}  // namespace pc64
