#include "bios/acpi_loader.h"

#include <cstring>
#include <stdexcept>

namespace pc64 {

namespace {

constexpr size_t kUnion = 4;  // the command-specific part follows the le32 command

void put_le(uint8_t* p, uint64_t x, unsigned n) {
  for (unsigned i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(x >> (8 * i));
}
uint64_t get_le(const uint8_t* p, unsigned n) {
  uint64_t x = 0;
  for (unsigned i = 0; i < n; ++i) x |= uint64_t{p[i]} << (8 * i);
  return x;
}
void put_name(uint8_t* p, const std::string& name) {
  if (name.size() >= kTableLoaderFileNameSize) throw std::invalid_argument("table-loader: file name too long: " + name);
  std::memcpy(p, name.data(), name.size());  // the rest stays NUL
}
std::string get_name(const uint8_t* p) {
  const void* nul = std::memchr(p, 0, kTableLoaderFileNameSize);
  if (!nul) throw std::invalid_argument("table-loader: file name without NUL");
  return std::string(reinterpret_cast<const char*>(p), static_cast<const uint8_t*>(nul) - p);
}

}  // namespace

const char* acpi_blob_file(AcpiBlobId id) { return id == AcpiBlobId::Rsdp ? kAcpiRsdpFile : kAcpiTablesFile; }

std::vector<uint8_t> encode_table_loader(const std::vector<TableLoaderEntry>& entries) {
  std::vector<uint8_t> out(entries.size() * kTableLoaderEntrySize, 0);
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    uint8_t* p = &out[i * kTableLoaderEntrySize];
    put_le(p, static_cast<uint32_t>(e.command), 4);
    uint8_t* u = p + kUnion;
    switch (e.command) {
      case TableLoaderCommand::Allocate:
        put_name(u, e.file);
        put_le(u + 56, e.align, 4);
        u[60] = static_cast<uint8_t>(e.zone);
        break;
      case TableLoaderCommand::AddPointer:
        put_name(u, e.file);
        put_name(u + 56, e.src_file);
        put_le(u + 112, e.offset, 4);
        u[116] = e.size;
        break;
      case TableLoaderCommand::AddChecksum:
        put_name(u, e.file);
        put_le(u + 56, e.offset, 4);
        put_le(u + 60, e.start, 4);
        put_le(u + 64, e.length, 4);
        break;
    }
  }
  return out;
}

std::vector<TableLoaderEntry> decode_table_loader(const std::vector<uint8_t>& stream) {
  if (stream.size() % kTableLoaderEntrySize)
    throw std::invalid_argument("table-loader: size is not a multiple of 128");
  std::vector<TableLoaderEntry> out;
  for (size_t at = 0; at < stream.size(); at += kTableLoaderEntrySize) {
    const uint8_t* p = &stream[at];
    const uint8_t* u = p + kUnion;
    TableLoaderEntry e;
    e.command = static_cast<TableLoaderCommand>(get_le(p, 4));
    switch (e.command) {
      case TableLoaderCommand::Allocate:
        e.file = get_name(u);
        e.align = static_cast<uint32_t>(get_le(u + 56, 4));
        e.zone = static_cast<TableLoaderZone>(u[60]);
        break;
      case TableLoaderCommand::AddPointer:
        e.file = get_name(u);
        e.src_file = get_name(u + 56);
        e.offset = static_cast<uint32_t>(get_le(u + 112, 4));
        e.size = u[116];
        break;
      case TableLoaderCommand::AddChecksum:
        e.file = get_name(u);
        e.offset = static_cast<uint32_t>(get_le(u + 56, 4));
        e.start = static_cast<uint32_t>(get_le(u + 60, 4));
        e.length = static_cast<uint32_t>(get_le(u + 64, 4));
        break;
      default:
        throw std::invalid_argument("table-loader: unknown command " + std::to_string(get_le(p, 4)));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<uint8_t> table_loader_commands(const AcpiBlobs& blobs) {
  std::vector<TableLoaderEntry> cmds;
  TableLoaderEntry alloc_tables;
  alloc_tables.command = TableLoaderCommand::Allocate;
  alloc_tables.file = kAcpiTablesFile;
  alloc_tables.align = kAcpiTablesAlign;
  alloc_tables.zone = TableLoaderZone::High;
  cmds.push_back(alloc_tables);
  // The RSDP must be found by scanning 0xE0000-0xFFFFF (ACPI 6.4 §5.2.5.1).
  TableLoaderEntry alloc_rsdp;
  alloc_rsdp.command = TableLoaderCommand::Allocate;
  alloc_rsdp.file = kAcpiRsdpFile;
  alloc_rsdp.align = kAcpiRsdpAlign;
  alloc_rsdp.zone = TableLoaderZone::FSeg;
  cmds.push_back(alloc_rsdp);
  for (const auto& p : blobs.pointers) {
    TableLoaderEntry e;
    e.command = TableLoaderCommand::AddPointer;
    e.file = acpi_blob_file(p.dest);
    e.src_file = acpi_blob_file(p.target);
    e.offset = p.offset;
    e.size = p.size;
    cmds.push_back(e);
  }
  for (const auto& c : blobs.checksums) {
    TableLoaderEntry e;
    e.command = TableLoaderCommand::AddChecksum;
    e.file = acpi_blob_file(c.blob);
    e.offset = c.offset;
    e.start = c.start;
    e.length = c.length;
    cmds.push_back(e);
  }
  return encode_table_loader(cmds);
}

}  // namespace pc64
