#include "bios/acpi_tables.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dsdt_aml.h"  // generated from bios/dsdt.asl by iasl (bios/CMakeLists.txt)

namespace pc64 {

namespace {

constexpr char kOemId[7] = "PC64  ";        // 6 bytes, space padded
constexpr char kOemTableId[9] = "PC64    ";  // 8 bytes
constexpr char kCreatorId[5] = "PC64";
constexpr uint32_t kOemRevision = 1, kCreatorRevision = 1;
constexpr size_t kHeaderSize = 36;  // ACPI 6.4 Table 5.4, System Description Table Header
constexpr size_t kHeaderChecksum = 9;

// Little-endian writes into a growing byte vector.
struct Bytes {
  std::vector<uint8_t>& v;
  size_t here() const { return v.size(); }
  void u8(uint8_t x) { v.push_back(x); }
  void u16(uint16_t x) { put(x, 2); }
  void u32(uint32_t x) { put(x, 4); }
  void u64(uint64_t x) { put(x, 8); }
  void put(uint64_t x, unsigned n) {
    for (unsigned i = 0; i < n; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
  }
  void chars(const char* s, size_t n) { v.insert(v.end(), s, s + n); }
  void zeros(size_t n) { v.insert(v.end(), n, 0); }
  void align(size_t a) { zeros((a - v.size() % a) % a); }
  void patch(size_t at, uint64_t x, unsigned n) {
    for (unsigned i = 0; i < n; ++i) v[at + i] = static_cast<uint8_t>(x >> (8 * i));
  }
};

uint64_t get_le(const std::vector<uint8_t>& v, size_t at, unsigned n) {
  uint64_t x = 0;
  for (unsigned i = 0; i < n; ++i) x |= uint64_t{v[at + i]} << (8 * i);
  return x;
}

// ACPI 6.4 Table 5.1, Generic Address Structure. Access size: 0 undefined
// (legacy, as the FADT's 32-bit blocks imply), 1 byte, 2 word, 3 dword.
constexpr uint8_t kGasSystemIo = 1;
void gas(Bytes& b, uint8_t space, uint8_t bit_width, uint8_t access_size, uint64_t address) {
  b.u8(space);
  b.u8(bit_width);
  b.u8(0);  // bit offset
  b.u8(access_size);
  b.u64(address);
}

class Builder {
 public:
  explicit Builder(AcpiBlobs& out) : out_(out), t_{out.tables} {}

  // Starts a table with a zero checksum and length patched by end_table().
  size_t begin_table(const char sig[4], uint8_t revision) {
    size_t start = t_.here();
    t_.chars(sig, 4);
    t_.u32(0);  // Length, patched
    t_.u8(revision);
    t_.u8(0);   // Checksum, fixed at link time
    t_.chars(kOemId, 6);
    t_.chars(kOemTableId, 8);
    t_.u32(kOemRevision);
    t_.chars(kCreatorId, 4);
    t_.u32(kCreatorRevision);
    return start;
  }
  // Adds a table whose bytes come ready-made (the DSDT).
  size_t add_raw_table(std::span<const uint8_t> bytes) {
    size_t start = t_.here();
    t_.v.insert(t_.v.end(), bytes.begin(), bytes.end());
    t_.v[start + kHeaderChecksum] = 0;
    return start;
  }
  void end_table(size_t start) {
    uint32_t len = static_cast<uint32_t>(t_.here() - start);
    if (!(t_.v[start] == 'F' && t_.v[start + 1] == 'A' && t_.v[start + 2] == 'C' && t_.v[start + 3] == 'S')) {
      t_.patch(start + 4, len, 4);
      out_.checksums.push_back({AcpiBlobId::Tables, static_cast<uint32_t>(start + kHeaderChecksum),
                                static_cast<uint32_t>(start), len});
    }
    out_.table_refs.push_back({std::string(reinterpret_cast<const char*>(&t_.v[start]), 4),
                               static_cast<uint32_t>(start), len});
    t_.align(8);
  }
  // A pointer field in the tables blob holding an offset into `target`.
  void pointer(unsigned size, AcpiBlobId target, uint32_t target_offset) {
    out_.pointers.push_back({AcpiBlobId::Tables, static_cast<uint32_t>(t_.here()), static_cast<uint8_t>(size), target});
    t_.put(target_offset, size);
  }
  Bytes& t() { return t_; }

 private:
  AcpiBlobs& out_;
  Bytes t_;
};

// ACPI 6.4 §5.2.10, Table 5.14. No checksum; 64-byte aligned.
size_t build_facs(Builder& b) {
  Bytes& t = b.t();
  size_t start = t.here();
  t.chars("FACS", 4);
  t.u32(64);  // Length
  t.u32(0);   // Hardware Signature: the hardware configuration never changes
  t.u32(0);   // Firmware Waking Vector: no S3
  t.u32(0);   // Global Lock
  t.u32(0);   // Flags: no S4BIOS_F, no 64BIT_WAKE_SUPPORTED_F
  t.u64(0);   // X_Firmware_Waking_Vector
  t.u8(1);    // Version (ACPI 2.0 FACS layout)
  t.zeros(64 - (t.here() - start));
  b.end_table(start);
  return start;
}

// ACPI 6.4 §5.2.9, Table 5.9: the revision-3 (ACPI 2.0) layout, 244 bytes.
size_t build_fadt(Builder& b, uint32_t facs, uint32_t dsdt) {
  Bytes& t = b.t();
  const uint32_t pm = kAcpiPmIoBase;
  size_t start = b.begin_table("FACP", 3);
  b.pointer(4, AcpiBlobId::Tables, facs);  // FIRMWARE_CTRL
  b.pointer(4, AcpiBlobId::Tables, dsdt);  // DSDT
  t.u8(0);                                 // reserved (ACPI 1.0 INT_MODEL)
  t.u8(1);                                 // Preferred_PM_Profile: Desktop
  t.u16(kAcpiSciIrq);                      // SCI_INT
  t.u32(0xB2);                             // SMI_CMD: APM control port
  t.u8(0xF1);                              // ACPI_ENABLE
  t.u8(0xF0);                              // ACPI_DISABLE
  t.u8(0);                                 // S4BIOS_REQ: not supported
  t.u8(0);                                 // PSTATE_CNT
  t.u32(pm + kAcpiPm1EvtOffset);           // PM1a_EVT_BLK
  t.u32(0);                                // PM1b_EVT_BLK
  t.u32(pm + kAcpiPm1CntOffset);           // PM1a_CNT_BLK
  t.u32(0);                                // PM1b_CNT_BLK
  t.u32(0);                                // PM2_CNT_BLK
  t.u32(pm + kAcpiPmTmrOffset);            // PM_TMR_BLK
  // GPE0_BLK: where pc64's PIIX4 decodes GPSTS/GPEN (PMBA+0x0C, as on the
  // real chip), not QEMU's separate 0xAFE0 hot-plug block.
  t.u32(pm + kAcpiGpe0Offset);
  t.u32(0);                                // GPE1_BLK
  t.u8(4);                                 // PM1_EVT_LEN: PM1_STS + PM1_EN
  t.u8(2);                                 // PM1_CNT_LEN
  t.u8(0);                                 // PM2_CNT_LEN
  t.u8(4);                                 // PM_TMR_LEN
  t.u8(4);                                 // GPE0_BLK_LEN: GPE0_STS + GPE0_EN
  t.u8(0);                                 // GPE1_BLK_LEN
  t.u8(0);                                 // GPE1_BASE
  t.u8(0);                                 // CST_CNT
  t.u16(0x0FFF);                           // P_LVL2_LAT > 100: no C2
  t.u16(0x0FFF);                           // P_LVL3_LAT > 1000: no C3
  t.u16(0);                                // FLUSH_SIZE
  t.u16(0);                                // FLUSH_STRIDE
  t.u8(0);                                 // DUTY_OFFSET
  t.u8(0);                                 // DUTY_WIDTH
  t.u8(0);                                 // DAY_ALRM: no day alarm in CMOS
  t.u8(0);                                 // MON_ALRM
  t.u8(0x32);                              // CENTURY: CMOS register 0x32
  // IAPC_BOOT_ARCH (Table 5.11): LEGACY_DEVICES (ISA devices the OS cannot
  // enumerate) and 8042 (a PS/2 controller at 0x60/0x64).
  t.u16((1u << 0) | (1u << 1));
  t.u8(0);  // reserved
  // Flags (Table 5.10): WBINVD (bit 0), PROC_C1 (2), SLP_BUTTON (5: no fixed
  // sleep button), RESET_REG_SUP (10). PWR_BUTTON (4) stays 0: the PIIX4 PM
  // has the fixed power button. TMR_VAL_EXT (8) stays 0: 24-bit PM timer.
  t.u32((1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
  gas(t, kGasSystemIo, 8, 1, 0xCF9);  // RESET_REG: PIIX3 Reset Control register
  t.u8(0x06);                         // RESET_VALUE: SYS_RST | RST_CPU (hard reset)
  t.zeros(3);                         // reserved
  b.pointer(8, AcpiBlobId::Tables, facs);  // X_FIRMWARE_CTRL (same FACS as FIRMWARE_CTRL)
  b.pointer(8, AcpiBlobId::Tables, dsdt);  // X_DSDT (same DSDT as DSDT)
  gas(t, kGasSystemIo, 32, 0, pm + kAcpiPm1EvtOffset);  // X_PM1a_EVT_BLK
  gas(t, 0, 0, 0, 0);                                   // X_PM1b_EVT_BLK
  gas(t, kGasSystemIo, 16, 0, pm + kAcpiPm1CntOffset);  // X_PM1a_CNT_BLK
  gas(t, 0, 0, 0, 0);                                   // X_PM1b_CNT_BLK
  gas(t, 0, 0, 0, 0);                                   // X_PM2_CNT_BLK
  gas(t, kGasSystemIo, 32, 3, pm + kAcpiPmTmrOffset);   // X_PM_TMR_BLK (dword reads)
  gas(t, kGasSystemIo, 32, 0, pm + kAcpiGpe0Offset);    // X_GPE0_BLK
  gas(t, 0, 0, 0, 0);                                   // X_GPE1_BLK
  b.end_table(start);
  return start;
}

// ACPI 6.4 §5.2.12, Tables 5.43 (header), 5.45 (Local APIC), 5.46 (I/O
// APIC), 5.47/5.49 (Interrupt Source Override + MPS INTI flags), 5.52
// (Local APIC NMI). The same entries QEMU's "pc" MADT has.
size_t build_madt(Builder& b, const AcpiConfig& cfg) {
  Bytes& t = b.t();
  size_t start = b.begin_table("APIC", 1);
  t.u32(static_cast<uint32_t>(kAcpiLocalApicBase));
  t.u32(1);  // Flags: PCAT_COMPAT (dual 8259s present; the OS masks them)
  for (unsigned i = 0; i < cfg.cpus; ++i) {
    t.u8(0);  // Processor Local APIC
    t.u8(8);
    t.u8(static_cast<uint8_t>(i));  // ACPI Processor UID (DSDT CPU0 _UID 0)
    t.u8(static_cast<uint8_t>(i));  // APIC ID
    t.u32(1);                       // Enabled
  }
  t.u8(1);  // I/O APIC
  t.u8(12);
  t.u8(kAcpiIoApicId);
  t.u8(0);
  t.u32(static_cast<uint32_t>(kAcpiIoApicBase));
  t.u32(0);  // Global System Interrupt Base
  auto override_entry = [&](uint8_t irq, uint32_t gsi, uint16_t flags) {
    t.u8(2);  // Interrupt Source Override
    t.u8(10);
    t.u8(0);  // Bus: ISA
    t.u8(irq);
    t.u32(gsi);
    t.u16(flags);
  };
  // The PIT's IRQ0 arrives on I/O APIC pin 2 (pin 0 carries the 8259's INTR).
  override_entry(0, 2, 0x0000);  // conforms to the bus: edge, active high
  // The SCI and the PCI link IRQs are level-triggered, active high
  // (polarity 01b, trigger mode 11b << 2 = 0x000D), like QEMU describes them.
  for (uint8_t irq : {5, 9, 10, 11}) override_entry(irq, irq, 0x000D);
  t.u8(4);     // Local APIC NMI
  t.u8(6);
  t.u8(0xFF);  // all processors
  t.u16(0);    // flags: conforms to the bus
  t.u8(1);     // LINT1
  b.end_table(start);
  return start;
}

// RSDT (§5.2.7, 32-bit entries) or XSDT (§5.2.8, 64-bit entries).
size_t build_sdt(Builder& b, const char sig[4], unsigned entry_size, const std::vector<uint32_t>& entries) {
  size_t start = b.begin_table(sig, 1);
  for (uint32_t e : entries) b.pointer(entry_size, AcpiBlobId::Tables, e);
  b.end_table(start);
  return start;
}

// ACPI 6.4 §5.2.5.3, Table 5.3: the 2.0 RSDP, 36 bytes.
void build_rsdp(AcpiBlobs& out, uint32_t rsdt, uint32_t xsdt) {
  Bytes r{out.rsdp};
  r.chars("RSD PTR ", 8);
  r.u8(0);  // Checksum over the first 20 bytes
  r.chars(kOemId, 6);
  r.u8(2);  // Revision: ACPI 2.0+
  out.pointers.push_back({AcpiBlobId::Rsdp, static_cast<uint32_t>(r.here()), 4, AcpiBlobId::Tables});
  r.u32(rsdt);
  r.u32(36);  // Length
  out.pointers.push_back({AcpiBlobId::Rsdp, static_cast<uint32_t>(r.here()), 8, AcpiBlobId::Tables});
  r.u64(xsdt);
  r.u8(0);  // Extended Checksum over all 36 bytes
  r.zeros(3);
  // The 20-byte checksum first: the extended one covers that byte too.
  out.checksums.push_back({AcpiBlobId::Rsdp, 8, 0, 20});
  out.checksums.push_back({AcpiBlobId::Rsdp, 32, 0, 36});
}

}  // namespace

const AcpiTableRef* AcpiBlobs::find(const std::string& signature) const {
  for (const auto& r : table_refs)
    if (r.signature == signature) return &r;
  return nullptr;
}

uint32_t acpi_pci_window_start(uint64_t ram_below_4g) {
  constexpr uint64_t kAlign = 0x10000000, kMinStart = 0x80000000, kMaxStart = 0xE0000000;
  if (ram_below_4g > kMaxStart)
    throw std::invalid_argument("ACPI: RAM below 4 GiB reaches into the PCI window (0xE0000000 at most)");
  uint64_t start = (ram_below_4g + kAlign - 1) & ~(kAlign - 1);
  return static_cast<uint32_t>(std::max(start, kMinStart));
}

std::span<const uint8_t> acpi_dsdt_template() { return std::span<const uint8_t>(kPc64DsdtAml); }

long acpi_find_pmst(std::span<const uint8_t> aml) {
  // NameOp (0x08), NameSeg "PMST", DWordPrefix (0x0C), then the value
  // (ACPI 6.4 §20.2.5.1 DefName, §20.2.3 DWordConst).
  static constexpr uint8_t kPattern[] = {0x08, 'P', 'M', 'S', 'T', 0x0C};
  long found = -1;
  for (size_t i = kHeaderSize; i + sizeof(kPattern) + 4 <= aml.size(); ++i) {
    if (std::memcmp(&aml[i], kPattern, sizeof(kPattern)) != 0) continue;
    if (found >= 0) return -1;
    found = static_cast<long>(i + sizeof(kPattern));
  }
  return found;
}

AcpiBlobs build_acpi(const AcpiConfig& cfg) {
  if (cfg.cpus == 0 || cfg.cpus > 255) throw std::invalid_argument("ACPI: the MADT describes 1 to 255 CPUs");
  uint32_t window = acpi_pci_window_start(cfg.ram_below_4g);

  AcpiBlobs out;
  Builder b(out);
  // FACS first, at offset 0 of the 64-byte aligned blob (§5.2.10: the FACS
  // must be 64-byte aligned).
  auto facs = static_cast<uint32_t>(build_facs(b));

  std::vector<uint8_t> dsdt(acpi_dsdt_template().begin(), acpi_dsdt_template().end());
  long pmst = acpi_find_pmst(dsdt);
  if (pmst < 0) throw std::logic_error("ACPI: the DSDT has no unique Name (PMST, DWord)");
  for (int i = 0; i < 4; ++i) dsdt[pmst + i] = static_cast<uint8_t>(window >> (8 * i));
  auto dsdt_off = static_cast<uint32_t>(b.add_raw_table(dsdt));
  b.end_table(dsdt_off);

  auto fadt = static_cast<uint32_t>(build_fadt(b, facs, dsdt_off));
  auto madt = static_cast<uint32_t>(build_madt(b, cfg));
  auto rsdt = static_cast<uint32_t>(build_sdt(b, "RSDT", 4, {fadt, madt}));
  auto xsdt = static_cast<uint32_t>(build_sdt(b, "XSDT", 8, {fadt, madt}));
  build_rsdp(out, rsdt, xsdt);
  return out;
}

void link_acpi(AcpiBlobs& blobs, uint64_t tables_addr, uint64_t rsdp_addr) {
  for (const auto& p : blobs.pointers) {
    auto& dest = blobs.blob(p.dest);
    if (p.offset + p.size > dest.size()) throw std::logic_error("ACPI: pointer outside its blob");
    uint64_t base = p.target == AcpiBlobId::Rsdp ? rsdp_addr : tables_addr;
    uint64_t value = get_le(dest, p.offset, p.size) + base;
    if (p.size < 8 && (value >> (8 * p.size)) != 0)
      throw std::invalid_argument("ACPI: tables must lie below 4 GiB for their 32-bit pointers");
    Bytes{dest}.patch(p.offset, value, p.size);
  }
  for (const auto& c : blobs.checksums) {
    auto& data = blobs.blob(c.blob);
    uint8_t sum = 0;
    for (uint32_t i = c.start; i < c.start + c.length; ++i) sum = static_cast<uint8_t>(sum + data[i]);
    data[c.offset] = static_cast<uint8_t>(data[c.offset] - sum);
  }
}

uint64_t install_acpi(PhysicalMemory& mem, const AcpiBlobs& blobs, uint64_t tables_addr, uint64_t rsdp_addr) {
  if (tables_addr % kAcpiTablesAlign || rsdp_addr % kAcpiRsdpAlign)
    throw std::invalid_argument("ACPI: tables need 64-byte and the RSDP 16-byte alignment");
  if (rsdp_addr < tables_addr + blobs.tables.size() && tables_addr < rsdp_addr + blobs.rsdp.size())
    throw std::invalid_argument("ACPI: the RSDP overlaps the tables");
  AcpiBlobs linked = blobs;
  link_acpi(linked, tables_addr, rsdp_addr);
  // Both ranges must be RAM before either is written (dma_read checks
  // exactly that), so a refused placement leaves the guest untouched.
  std::vector<uint8_t> probe(std::max(linked.tables.size(), linked.rsdp.size()));
  if (!mem.dma_read(tables_addr, probe.data(), linked.tables.size()) ||
      !mem.dma_read(rsdp_addr, probe.data(), linked.rsdp.size()))
    throw std::invalid_argument("ACPI: the tables' guest address range is not RAM");
  mem.dma_write(tables_addr, linked.tables.data(), linked.tables.size());
  mem.dma_write(rsdp_addr, linked.rsdp.data(), linked.rsdp.size());
  return rsdp_addr;
}

uint64_t install_acpi_direct_boot(PhysicalMemory& mem, const AcpiBlobs& blobs) {
  uint64_t below = mem.ram_below_4g();
  if (below < 2 * kAcpiDirectBootRegion || below % kAcpiTablesAlign)
    throw std::invalid_argument("ACPI: not enough RAM below 4 GiB for the tables");
  uint64_t tables = below - kAcpiDirectBootRegion;
  uint64_t rsdp = (tables + blobs.tables.size() + kAcpiRsdpAlign - 1) / kAcpiRsdpAlign * kAcpiRsdpAlign;
  if (rsdp + blobs.rsdp.size() > below) throw std::invalid_argument("ACPI: the tables outgrew their 64 KiB region");
  return install_acpi(mem, blobs, tables, rsdp);
}

}  // namespace pc64
