#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

#include "bios/acpi_tables.h"

using namespace pc64;

namespace {

struct Guest {
  PhysicalMemory mem{64 << 20};
  uint64_t rd(uint64_t a, unsigned n) { return mem.read(a, n); }
  std::string sig(uint64_t a) {
    std::string s(4, ' ');
    for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(mem.read(a + i, 1));
    return s;
  }
  uint8_t sum(uint64_t a, uint64_t n) {
    uint8_t s = 0;
    for (uint64_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + mem.read(a + i, 1));
    return s;
  }
  // An SDT header is valid: signature, length at least the header, checksum 0.
  void check_table(uint64_t a, const char* expect) {
    INFO("table at 0x" << std::hex << a);
    CHECK(sig(a) == expect);
    uint32_t len = static_cast<uint32_t>(rd(a + 4, 4));
    CHECK(len >= 36);
    CHECK(sum(a, len) == 0);
    std::string oem(6, ' ');
    for (int i = 0; i < 6; ++i) oem[i] = static_cast<char>(rd(a + 10 + i, 1));
    CHECK(oem == "PC64  ");
  }
};

constexpr uint64_t kTables = 0x3F00040;  // arbitrary, 64-byte aligned, not page aligned
constexpr uint64_t kRsdp = 0x9FC10;

uint64_t le(const std::vector<uint8_t>& v, size_t at, unsigned n) {
  uint64_t x = 0;
  for (unsigned i = 0; i < n; ++i) x |= uint64_t{v[at + i]} << (8 * i);
  return x;
}

}  // namespace

TEST_CASE("ACPI: every checksum is zero and every pointer lands after install_acpi") {
  Guest g;
  AcpiBlobs blobs = build_acpi({.ram_below_4g = 64 << 20, .ram_above_4g = 0});
  CHECK(install_acpi(g.mem, blobs, kTables, kRsdp) == kRsdp);

  // RSDP (ACPI 2.0): both checksums, revision, length.
  CHECK(g.rd(kRsdp, 8) == 0x2052545020445352ULL);  // "RSD PTR "
  CHECK(g.sum(kRsdp, 20) == 0);
  CHECK(g.sum(kRsdp, 36) == 0);
  CHECK(g.rd(kRsdp + 15, 1) == 2);
  CHECK(g.rd(kRsdp + 20, 4) == 36);
  uint64_t rsdt = g.rd(kRsdp + 16, 4), xsdt = g.rd(kRsdp + 24, 8);
  CHECK(rsdt >= kTables);
  CHECK(xsdt >= kTables);
  g.check_table(rsdt, "RSDT");
  g.check_table(xsdt, "XSDT");

  // RSDT and XSDT list the same two tables: FADT and MADT.
  REQUIRE(g.rd(rsdt + 4, 4) == 36 + 2 * 4);
  REQUIRE(g.rd(xsdt + 4, 4) == 36 + 2 * 8);
  uint64_t fadt = g.rd(rsdt + 36, 4), madt = g.rd(rsdt + 40, 4);
  CHECK(g.rd(xsdt + 36, 8) == fadt);
  CHECK(g.rd(xsdt + 44, 8) == madt);
  g.check_table(fadt, "FACP");
  g.check_table(madt, "APIC");

  // FADT -> FACS and DSDT, 32- and 64-bit fields agree.
  uint64_t facs = g.rd(fadt + 36, 4), dsdt = g.rd(fadt + 40, 4);
  CHECK(g.rd(fadt + 132, 8) == facs);
  CHECK(g.rd(fadt + 140, 8) == dsdt);
  CHECK(g.sig(facs) == "FACS");
  CHECK(g.rd(facs + 4, 4) == 64);
  CHECK(facs % 64 == 0);
  g.check_table(dsdt, "DSDT");
  CHECK(g.rd(dsdt + 4, 4) == acpi_dsdt_template().size());
  // Everything lies inside the installed tables blob.
  for (uint64_t t : {rsdt, xsdt, fadt, madt, facs, dsdt}) {
    CHECK(t >= kTables);
    CHECK(t + g.rd(t + 4, 4) <= kTables + blobs.tables.size());
  }
}

TEST_CASE("ACPI: FADT describes the PIIX4 PM fixed hardware and the 0xCF9 reset") {
  Guest g;
  install_acpi(g.mem, build_acpi({.ram_below_4g = 64 << 20}), kTables, kRsdp);
  uint64_t f = g.rd(g.rd(kRsdp + 24, 8) + 36, 8);
  REQUIRE(g.sig(f) == "FACP");
  CHECK(g.rd(f + 4, 4) == 244);
  CHECK(g.rd(f + 8, 1) == 3);          // revision
  CHECK(g.rd(f + 46, 2) == 9);         // SCI_INT
  CHECK(g.rd(f + 48, 4) == 0xB2);      // SMI_CMD
  CHECK(g.rd(f + 52, 1) == 0xF1);      // ACPI_ENABLE
  CHECK(g.rd(f + 53, 1) == 0xF0);      // ACPI_DISABLE
  CHECK(g.rd(f + 56, 4) == 0x600);     // PM1a_EVT_BLK
  CHECK(g.rd(f + 64, 4) == 0x604);     // PM1a_CNT_BLK
  CHECK(g.rd(f + 76, 4) == 0x608);     // PM_TMR_BLK
  CHECK(g.rd(f + 80, 4) == 0x60C);     // GPE0_BLK (pc64's PIIX4 decodes it there)
  CHECK(g.rd(f + 88, 1) == 4);         // PM1_EVT_LEN
  CHECK(g.rd(f + 89, 1) == 2);         // PM1_CNT_LEN
  CHECK(g.rd(f + 91, 1) == 4);         // PM_TMR_LEN
  CHECK(g.rd(f + 92, 1) == 4);         // GPE0_BLK_LEN
  CHECK(g.rd(f + 96, 2) > 100);        // no C2
  CHECK(g.rd(f + 98, 2) > 1000);       // no C3
  CHECK(g.rd(f + 109, 2) == 0x0003);   // IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042
  uint32_t flags = static_cast<uint32_t>(g.rd(f + 112, 4));
  CHECK((flags & 1) != 0);             // WBINVD
  CHECK((flags & (1 << 2)) != 0);      // PROC_C1
  CHECK((flags & (1 << 4)) == 0);      // fixed power button present
  CHECK((flags & (1 << 5)) != 0);      // SLP_BUTTON: none
  CHECK((flags & (1 << 8)) == 0);      // 24-bit PM timer
  CHECK((flags & (1 << 10)) != 0);     // RESET_REG_SUP
  // RESET_REG: System I/O, 8 bits at 0xCF9, value 6.
  CHECK(g.rd(f + 116, 1) == 1);
  CHECK(g.rd(f + 117, 1) == 8);
  CHECK(g.rd(f + 120, 8) == 0xCF9);
  CHECK(g.rd(f + 128, 1) == 0x06);
  // X_ blocks mirror the 32-bit ones.
  CHECK(g.rd(f + 148, 1) == 1);
  CHECK(g.rd(f + 149, 1) == 32);
  CHECK(g.rd(f + 152, 8) == 0x600);   // X_PM1a_EVT_BLK
  CHECK(g.rd(f + 173, 1) == 16);
  CHECK(g.rd(f + 176, 8) == 0x604);   // X_PM1a_CNT_BLK
  CHECK(g.rd(f + 212, 8) == 0x608);   // X_PM_TMR_BLK
  CHECK(g.rd(f + 224, 8) == 0x60C);   // X_GPE0_BLK
  CHECK(g.rd(f + 164, 8) == 0);       // no PM1b
}

TEST_CASE("ACPI: MADT has the LAPICs, the IOAPIC, QEMU's overrides and LINT1 NMI") {
  Guest g;
  install_acpi(g.mem, build_acpi({.ram_below_4g = 64 << 20, .cpus = 2}), kTables, kRsdp);
  uint64_t m = g.rd(g.rd(kRsdp + 16, 4) + 40, 4);
  REQUIRE(g.sig(m) == "APIC");
  CHECK(g.rd(m + 36, 4) == 0xFEE00000);
  CHECK(g.rd(m + 40, 4) == 1);  // PCAT_COMPAT
  uint64_t end = m + g.rd(m + 4, 4);
  std::vector<std::pair<unsigned, unsigned>> lapics;  // (uid, apic id)
  std::vector<std::tuple<unsigned, unsigned, unsigned>> overrides;  // (irq, gsi, flags)
  int ioapics = 0, nmis = 0;
  uint64_t p = m + 44;
  while (p < end) {
    unsigned type = static_cast<unsigned>(g.rd(p, 1)), len = static_cast<unsigned>(g.rd(p + 1, 1));
    REQUIRE(len >= 2);
    switch (type) {
      case 0:
        CHECK(len == 8);
        CHECK(g.rd(p + 4, 4) == 1);  // enabled
        lapics.emplace_back(static_cast<unsigned>(g.rd(p + 2, 1)), static_cast<unsigned>(g.rd(p + 3, 1)));
        break;
      case 1:
        CHECK(len == 12);
        CHECK(g.rd(p + 2, 1) == 0);           // I/O APIC ID
        CHECK(g.rd(p + 4, 4) == 0xFEC00000);  // address
        CHECK(g.rd(p + 8, 4) == 0);           // GSI base
        ++ioapics;
        break;
      case 2:
        CHECK(len == 10);
        CHECK(g.rd(p + 2, 1) == 0);  // ISA
        overrides.emplace_back(static_cast<unsigned>(g.rd(p + 3, 1)), static_cast<unsigned>(g.rd(p + 4, 4)),
                               static_cast<unsigned>(g.rd(p + 8, 2)));
        break;
      case 4:
        CHECK(len == 6);
        CHECK(g.rd(p + 2, 1) == 0xFF);  // all processors
        CHECK(g.rd(p + 3, 2) == 0);
        CHECK(g.rd(p + 5, 1) == 1);     // LINT1
        ++nmis;
        break;
      default:
        FAIL("unexpected MADT entry type " << type);
    }
    p += len;
  }
  CHECK(p == end);
  CHECK(lapics == std::vector<std::pair<unsigned, unsigned>>{{0, 0}, {1, 1}});
  CHECK(ioapics == 1);
  CHECK(nmis == 1);
  using O = std::tuple<unsigned, unsigned, unsigned>;
  CHECK(overrides == std::vector<O>{O{0, 2, 0}, O{5, 5, 0xD}, O{9, 9, 0xD}, O{10, 10, 0xD}, O{11, 11, 0xD}});
  // No HPET and no other tables: pc64 has no HPET.
  AcpiBlobs b = build_acpi({.ram_below_4g = 64 << 20});
  std::set<std::string> sigs;
  for (const auto& r : b.table_refs) sigs.insert(r.signature);
  CHECK(sigs == std::set<std::string>{"FACS", "DSDT", "FACP", "APIC", "RSDT", "XSDT"});
}

TEST_CASE("ACPI: the PCI window start is patched into the DSDT's PMST") {
  CHECK(acpi_pci_window_start(512ULL << 20) == 0x80000000u);
  CHECK(acpi_pci_window_start(3ULL << 30) == 0xC0000000u);
  CHECK(acpi_pci_window_start((2560ULL << 20) + 4096) == 0xB0000000u);
  CHECK_THROWS_AS(acpi_pci_window_start(0xF0000000ULL), std::invalid_argument);

  long pmst = acpi_find_pmst(acpi_dsdt_template());
  REQUIRE(pmst > 36);
  CHECK(le(std::vector<uint8_t>(acpi_dsdt_template().begin(), acpi_dsdt_template().end()), pmst, 4) == 0x80000000u);

  for (auto [ram, expect] : {std::pair{512ULL << 20, 0x80000000u}, std::pair{3ULL << 30, 0xC0000000u}}) {
    INFO("RAM below 4G: " << ram);
    AcpiBlobs b = build_acpi({.ram_below_4g = ram, .ram_above_4g = 1ULL << 30});
    const AcpiTableRef* d = b.find("DSDT");
    REQUIRE(d != nullptr);
    CHECK(le(b.tables, d->offset + pmst, 4) == expect);
    // Only PMST and the checksum differ from the template.
    int diffs = 0;
    for (size_t i = 0; i < d->length; ++i)
      if (b.tables[d->offset + i] != acpi_dsdt_template()[i] && i != 9 && (i < size_t(pmst) || i >= size_t(pmst) + 4))
        ++diffs;
    CHECK(diffs == 0);
    // Still checksums to 0 once installed.
    Guest g;
    install_acpi(g.mem, b, kTables, kRsdp);
    uint64_t dsdt = g.rd(g.rd(g.rd(kRsdp + 16, 4) + 36, 4) + 40, 4);
    CHECK(g.rd(dsdt + pmst, 4) == expect);
    CHECK(g.sum(dsdt, d->length) == 0);
  }
}

TEST_CASE("ACPI: bad configs and placements give clear errors") {
  CHECK_THROWS_AS(build_acpi({.ram_below_4g = 64 << 20, .cpus = 0}), std::invalid_argument);
  CHECK_THROWS_AS(build_acpi({.ram_below_4g = 64 << 20, .cpus = 256}), std::invalid_argument);
  Guest g;
  AcpiBlobs b = build_acpi({.ram_below_4g = 64 << 20});
  CHECK_THROWS_AS(install_acpi(g.mem, b, kTables + 8, kRsdp), std::invalid_argument);       // misaligned
  CHECK_THROWS_AS(install_acpi(g.mem, b, kTables, kTables + 16), std::invalid_argument);    // overlap
  CHECK_THROWS_AS(install_acpi(g.mem, b, 64ULL << 20, kRsdp), std::invalid_argument);       // not RAM
  CHECK_THROWS_AS(install_acpi(g.mem, b, 0x100000000ULL, kRsdp), std::invalid_argument);    // 32-bit pointers
  CHECK(g.rd(kRsdp, 8) == 0);  // nothing written by the failed attempts
}

// Disassembles each installed table with iasl (ACPICA's checker of record):
// it must parse every table, recompute the same checksums and report no
// errors or warnings.
TEST_CASE("ACPI: iasl -d accepts every built table") {
  if (std::system("command -v iasl >/dev/null 2>&1") != 0) {
    MESSAGE("iasl not installed (Debian acpica-tools): skipped");
    return;
  }
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("pc64-acpi-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  AcpiBlobs b = build_acpi({.ram_below_4g = 3ULL << 30, .ram_above_4g = 1ULL << 30});
  link_acpi(b, 0xBFFF0000, 0xF5A40);
  for (const auto& r : b.table_refs) {
    INFO("table " << r.signature);
    fs::path bin = dir / (r.signature + ".dat");
    {
      std::ofstream f(bin, std::ios::binary);
      f.write(reinterpret_cast<const char*>(&b.tables[r.offset]), r.length);
    }
    fs::path log = dir / (r.signature + ".log");
    std::string cmd = "cd '" + dir.string() + "' && iasl -d '" + bin.string() + "' >'" + log.string() + "' 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
    std::ifstream lf(log);
    std::stringstream ss;
    ss << lf.rdbuf();
    std::string out = ss.str();
    INFO(out);
    CHECK(out.find("Error") == std::string::npos);
    CHECK(out.find("Warning") == std::string::npos);
    CHECK(out.find("Invalid") == std::string::npos);
    fs::path dsl = dir / (r.signature + ".dsl");
    REQUIRE(fs::exists(dsl));
    std::ifstream df(dsl);
    std::stringstream ds;
    ds << df.rdbuf();
    std::string text = ds.str();
    CHECK(text.find("Incorrect checksum") == std::string::npos);
    if (r.signature == "DSDT") {
      CHECK(text.find("PNP0A03") != std::string::npos);
      CHECK(text.find("Name (PMST, 0xC0000000)") != std::string::npos);
      CHECK(text.find("Name (_S5, Package") != std::string::npos);
      CHECK(text.find("PNP0303") != std::string::npos);
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("ACPI: direct boot puts tables and RSDP in the last 64 KiB below 4 GiB") {
  Guest g;
  AcpiBlobs b = build_acpi({.ram_below_4g = g.mem.ram_below_4g()});
  uint64_t rsdp = install_acpi_direct_boot(g.mem, b);
  uint64_t base = g.mem.ram_below_4g() - kAcpiDirectBootRegion;
  CHECK(rsdp >= base + b.tables.size());
  CHECK(rsdp + 36 <= g.mem.ram_below_4g());
  CHECK(rsdp % 16 == 0);
  CHECK(g.sum(rsdp, 36) == 0);
  uint64_t xsdt = g.rd(rsdp + 24, 8);
  CHECK(xsdt >= base);
  g.check_table(xsdt, "XSDT");
  g.check_table(g.rd(xsdt + 36, 8), "FACP");
  CHECK(g.rd(g.rd(xsdt + 36, 8) + 36, 4) == base);  // FACS first, 64-byte aligned
  PhysicalMemory tiny(64 << 10);
  CHECK_THROWS_AS(install_acpi_direct_boot(tiny, b), std::invalid_argument);
}

// SeaBIOS's DSDT walker (src/fw/dsdt_parser.c) looks for the PS/2 keyboard
// as NameOp "_HID" DWordPrefix EISAID(PNP0303); without it SeaBIOS skips
// keyboard setup.
TEST_CASE("ACPI: DSDT declares the PS/2 keyboard the way SeaBIOS looks for it") {
  auto aml = acpi_dsdt_template();
  static constexpr uint8_t kKbd[] = {0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x03, 0x03};
  bool found = false;
  for (size_t i = 0; i + sizeof(kKbd) <= aml.size() && !found; ++i)
    found = std::equal(std::begin(kKbd), std::end(kKbd), aml.begin() + i);
  CHECK(found);
}
