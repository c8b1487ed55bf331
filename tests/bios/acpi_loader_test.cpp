#include <doctest/doctest.h>

#include <map>

#include "bios/acpi_loader.h"

using namespace pc64;

namespace {

// Runs a table-loader stream the way SeaBIOS's romfile_loader_execute does
// (allocate each file at an address of the requested alignment, add file
// addresses to pointers, subtract range sums from checksum bytes), with
// `files` as the fw_cfg contents. Returns file name -> (address, bytes).
std::map<std::string, std::pair<uint64_t, std::vector<uint8_t>>> run_like_seabios(
    const std::vector<uint8_t>& stream, const std::map<std::string, std::vector<uint8_t>>& files) {
  std::map<std::string, std::pair<uint64_t, std::vector<uint8_t>>> mem;
  uint64_t high = 0x7FFE0000, fseg = 0xF5A40;
  for (const auto& e : decode_table_loader(stream)) {
    switch (e.command) {
      case TableLoaderCommand::Allocate: {
        uint64_t& next = e.zone == TableLoaderZone::FSeg ? fseg : high;
        next = (next + e.align - 1) / e.align * e.align;
        mem[e.file] = {next, files.at(e.file)};
        next += files.at(e.file).size();
        break;
      }
      case TableLoaderCommand::AddPointer: {
        auto& dest = mem.at(e.file).second;
        REQUIRE(e.offset + e.size <= dest.size());
        uint64_t v = 0;
        for (unsigned i = 0; i < e.size; ++i) v |= uint64_t{dest[e.offset + i]} << (8 * i);
        v += mem.at(e.src_file).first;
        for (unsigned i = 0; i < e.size; ++i) dest[e.offset + i] = static_cast<uint8_t>(v >> (8 * i));
        break;
      }
      case TableLoaderCommand::AddChecksum: {
        auto& data = mem.at(e.file).second;
        REQUIRE(e.start + e.length <= data.size());
        uint8_t sum = 0;
        for (uint32_t i = e.start; i < e.start + e.length; ++i) sum = static_cast<uint8_t>(sum + data[i]);
        data[e.offset] = static_cast<uint8_t>(data[e.offset] - sum);
        break;
      }
    }
  }
  return mem;
}

}  // namespace

TEST_CASE("table-loader: 128-byte commands in SeaBIOS's layout") {
  TableLoaderEntry a;
  a.command = TableLoaderCommand::Allocate;
  a.file = "etc/acpi/tables";
  a.align = 64;
  a.zone = TableLoaderZone::High;
  TableLoaderEntry p;
  p.command = TableLoaderCommand::AddPointer;
  p.file = "etc/acpi/rsdp";
  p.src_file = "etc/acpi/tables";
  p.offset = 24;
  p.size = 8;
  TableLoaderEntry c;
  c.command = TableLoaderCommand::AddChecksum;
  c.file = "etc/acpi/rsdp";
  c.offset = 32;
  c.start = 0;
  c.length = 36;
  auto s = encode_table_loader({a, p, c});
  REQUIRE(s.size() == 3 * 128);
  // ALLOCATE: command, file at 4, align at 60, zone at 64.
  CHECK(s[0] == 1);
  CHECK(std::string(reinterpret_cast<const char*>(&s[4])) == "etc/acpi/tables");
  CHECK(s[60] == 64);
  CHECK(s[64] == 1);
  // ADD_POINTER: dest at 4, src at 60, offset at 116, size at 120.
  CHECK(s[128] == 2);
  CHECK(std::string(reinterpret_cast<const char*>(&s[128 + 4])) == "etc/acpi/rsdp");
  CHECK(std::string(reinterpret_cast<const char*>(&s[128 + 60])) == "etc/acpi/tables");
  CHECK(s[128 + 116] == 24);
  CHECK(s[128 + 120] == 8);
  // ADD_CHECKSUM: file at 4, offset at 60, start at 64, length at 68.
  CHECK(s[256] == 3);
  CHECK(s[256 + 60] == 32);
  CHECK(s[256 + 64] == 0);
  CHECK(s[256 + 68] == 36);

  auto d = decode_table_loader(s);
  REQUIRE(d.size() == 3);
  CHECK(d[1].src_file == "etc/acpi/tables");
  CHECK(d[2].length == 36);
  CHECK_THROWS_AS(decode_table_loader(std::vector<uint8_t>(100)), std::invalid_argument);
  std::vector<uint8_t> bad = s;
  for (int i = 4; i < 60; ++i) bad[i] = 'x';  // name without NUL
  CHECK_THROWS_AS(decode_table_loader(bad), std::invalid_argument);
}

TEST_CASE("table-loader: the ACPI stream allocates, links and checksums like install_acpi") {
  AcpiBlobs blobs = build_acpi({.ram_below_4g = 2ULL << 30});
  auto stream = table_loader_commands(blobs);
  auto cmds = decode_table_loader(stream);
  REQUIRE(cmds.size() == 2 + blobs.pointers.size() + blobs.checksums.size());
  CHECK(cmds[0].command == TableLoaderCommand::Allocate);
  CHECK(cmds[0].file == "etc/acpi/tables");
  CHECK(cmds[0].align == 64);
  CHECK(cmds[0].zone == TableLoaderZone::High);
  CHECK(cmds[1].command == TableLoaderCommand::Allocate);
  CHECK(cmds[1].file == "etc/acpi/rsdp");
  CHECK(cmds[1].align == 16);
  CHECK(cmds[1].zone == TableLoaderZone::FSeg);
  // Pointers: RSDP -> RSDT (4) and XSDT (8); FADT -> FACS, DSDT (4 + 8 each);
  // RSDT 2 x 4; XSDT 2 x 8. Then one checksum per SDT plus two for the RSDP.
  size_t rsdp_ptrs = 0, table_ptrs = 0, sums = 0;
  bool pointers_done = false;
  for (size_t i = 2; i < cmds.size(); ++i) {
    if (cmds[i].command == TableLoaderCommand::AddPointer) {
      CHECK_FALSE(pointers_done);  // every checksum comes after every pointer
      CHECK(cmds[i].src_file == "etc/acpi/tables");
      (cmds[i].file == "etc/acpi/rsdp" ? rsdp_ptrs : table_ptrs)++;
    } else {
      REQUIRE(cmds[i].command == TableLoaderCommand::AddChecksum);
      pointers_done = true;
      ++sums;
    }
  }
  CHECK(rsdp_ptrs == 2);
  CHECK(table_ptrs == 8);
  CHECK(sums == 5 + 2);  // DSDT, FACP, APIC, RSDT, XSDT; RSDP 20 and 36 bytes
  CHECK(cmds.back().file == "etc/acpi/rsdp");
  CHECK(cmds.back().length == 36);

  // Executed as SeaBIOS does, the result equals link_acpi at the same addresses.
  auto mem = run_like_seabios(stream, {{"etc/acpi/tables", blobs.tables}, {"etc/acpi/rsdp", blobs.rsdp}});
  AcpiBlobs linked = blobs;
  link_acpi(linked, mem.at("etc/acpi/tables").first, mem.at("etc/acpi/rsdp").first);
  CHECK(mem.at("etc/acpi/tables").first % 64 == 0);
  CHECK(mem.at("etc/acpi/rsdp").first % 16 == 0);
  CHECK(mem.at("etc/acpi/tables").second == linked.tables);
  CHECK(mem.at("etc/acpi/rsdp").second == linked.rsdp);
  // And the RSDP it produced points at the XSDT inside the allocated tables.
  const auto& r = mem.at("etc/acpi/rsdp").second;
  uint64_t xsdt = 0;
  for (int i = 0; i < 8; ++i) xsdt |= uint64_t{r[24 + i]} << (8 * i);
  CHECK(xsdt == mem.at("etc/acpi/tables").first + blobs.find("XSDT")->offset);
}
