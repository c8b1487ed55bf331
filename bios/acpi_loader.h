// The "etc/table-loader" fw_cfg file: the command stream with which SeaBIOS
// (src/fw/romfile_loader.c) and OVMF place pc64's ACPI blobs in guest memory
// and link them. Each command is 128 bytes, little endian:
//   le32 command, then by command
//   1 ALLOCATE     { char file[56]; le32 align; u8 zone (1 HIGH, 2 FSEG) }
//   2 ADD_POINTER  { char dest_file[56]; char src_file[56]; le32 offset; u8 size }
//                  dest[offset..+size] += address of src_file
//   3 ADD_CHECKSUM { char file[56]; le32 offset; le32 start; le32 length }
//                  file[offset] -= sum of file[start..start+length)
// File names are NUL-terminated within their 56 bytes. SeaBIOS runs the
// commands in order, so every file is allocated before it is referenced and
// the checksums come after the pointers they cover.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bios/acpi_tables.h"

namespace pc64 {

constexpr const char* kAcpiTableLoaderFile = "etc/table-loader";
constexpr const char* kAcpiRsdpFile = "etc/acpi/rsdp";
constexpr const char* kAcpiTablesFile = "etc/acpi/tables";

constexpr size_t kTableLoaderEntrySize = 128;
constexpr size_t kTableLoaderFileNameSize = 56;

enum class TableLoaderCommand : uint32_t { Allocate = 1, AddPointer = 2, AddChecksum = 3 };
enum class TableLoaderZone : uint8_t { High = 1, FSeg = 2 };

// One decoded command (unused fields stay zero/empty).
struct TableLoaderEntry {
  TableLoaderCommand command{};
  std::string file;      // ALLOCATE, ADD_CHECKSUM; ADD_POINTER: dest_file
  std::string src_file;  // ADD_POINTER
  uint32_t align = 0;    // ALLOCATE
  TableLoaderZone zone{};
  uint32_t offset = 0;   // ADD_POINTER, ADD_CHECKSUM
  uint8_t size = 0;      // ADD_POINTER
  uint32_t start = 0, length = 0;  // ADD_CHECKSUM
};

// fw_cfg file name of a blob.
const char* acpi_blob_file(AcpiBlobId id);

// The stream for `blobs`: ALLOCATE "etc/acpi/tables" (align 64, HIGH) and
// "etc/acpi/rsdp" (align 16, FSEG), then every pointer, then every checksum.
std::vector<uint8_t> table_loader_commands(const AcpiBlobs& blobs);

// Encoding and decoding of single commands (decode throws
// std::invalid_argument on a size that is not a multiple of 128, an
// unterminated file name or an unknown command).
std::vector<uint8_t> encode_table_loader(const std::vector<TableLoaderEntry>& entries);
std::vector<TableLoaderEntry> decode_table_loader(const std::vector<uint8_t>& stream);

}  // namespace pc64
