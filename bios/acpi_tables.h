// pc64's own ACPI tables: RSDP (ACPI 2.0, with RSDT and XSDT), FADT
// (revision 3), FACS, MADT and the DSDT compiled from bios/dsdt.asl.
//
// One builder, used two ways:
//  - direct boot (no BIOS): install_acpi() resolves the pointers to real
//    guest addresses, computes the checksums and writes the tables to RAM;
//  - SeaBIOS: the blobs go to fw_cfg as "etc/acpi/tables" and
//    "etc/acpi/rsdp", and table_loader_commands() (bios/acpi_loader.h)
//    tells SeaBIOS where to put them and how to link them.
// Either way the blobs hold every pointer as an offset into the blob it
// points to (the table-loader convention: ADD_POINTER adds the target blob's
// address), and every checksum byte is fixed up after all pointers.
//
// Reference: ACPI 6.4 §5.2 (RSDP §5.2.5, RSDT §5.2.7, XSDT §5.2.8, FADT
// §5.2.9, FACS §5.2.10, MADT §5.2.12); the machine's fixed hardware is the
// PIIX4 PM function as io/acpi_pm.h describes it.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mem/physical_memory.h"

namespace pc64 {

struct AcpiConfig {
  uint64_t ram_below_4g = 0;
  uint64_t ram_above_4g = 0;
  unsigned cpus = 1;  // Local APIC entries (IDs 0..cpus-1), 1..255
};

// The two blobs the tables live in (the fw_cfg file names are in acpi_loader.h).
enum class AcpiBlobId : uint8_t { Rsdp, Tables };

// `size` bytes at `offset` in blob `dest` hold an offset into blob `target`;
// linking adds the target blob's guest address.
struct AcpiPointer {
  AcpiBlobId dest;
  uint32_t offset;
  uint8_t size;  // 4 or 8
  AcpiBlobId target;
};

// The byte at `offset` of `blob` is set so that bytes [start, start+length)
// sum to 0 (mod 256). Applied in list order, after all pointers.
struct AcpiChecksum {
  AcpiBlobId blob;
  uint32_t offset, start, length;
};

// Where each table sits in the "tables" blob (for tests, dumps, debugging).
struct AcpiTableRef {
  std::string signature;
  uint32_t offset, length;
};

struct AcpiBlobs {
  std::vector<uint8_t> rsdp;    // 36 bytes, wants 16-byte alignment below 1 MiB
  std::vector<uint8_t> tables;  // FACS first: the blob wants 64-byte alignment
  std::vector<AcpiPointer> pointers;
  std::vector<AcpiChecksum> checksums;
  std::vector<AcpiTableRef> table_refs;

  std::vector<uint8_t>& blob(AcpiBlobId id) { return id == AcpiBlobId::Rsdp ? rsdp : tables; }
  const std::vector<uint8_t>& blob(AcpiBlobId id) const { return id == AcpiBlobId::Rsdp ? rsdp : tables; }
  // The table with this signature, or null.
  const AcpiTableRef* find(const std::string& signature) const;
};

// Required alignment of the blobs in guest memory.
constexpr uint32_t kAcpiRsdpAlign = 16;
constexpr uint32_t kAcpiTablesAlign = 64;  // the FACS at offset 0 needs it

// The PIIX4 PM I/O base (PMBA) the machine programs for direct boot and
// SeaBIOS programs itself; the DSDT's motherboard resources say the same.
constexpr uint16_t kAcpiPmIoBase = 0x600;
// PM I/O layout relative to PMBA (io/acpi_pm.h) and the other fixed
// resources the FADT and MADT describe.
constexpr uint16_t kAcpiPm1EvtOffset = 0x00, kAcpiPm1CntOffset = 0x04, kAcpiPmTmrOffset = 0x08,
                   kAcpiGpe0Offset = 0x0C;
constexpr uint8_t kAcpiSciIrq = 9;
constexpr uint64_t kAcpiLocalApicBase = 0xFEE00000ULL;
constexpr uint64_t kAcpiIoApicBase = 0xFEC00000ULL;
// The I/O APIC ID the MADT gives: 0, as QEMU's MADT (ACPI_BUILD_IOAPIC_ID)
// and pc64's IoApic reset value. Linux reprograms a clashing ID itself.
constexpr uint8_t kAcpiIoApicId = 0;

// Start of the 32-bit PCI memory window the DSDT's PCI0._CRS reports:
// RAM below 4 GiB rounded up to 256 MiB, but at least 2 GiB (SeaBIOS puts
// BARs at 0x80000000 or 0xC0000000 depending on RAM size; both lie inside).
// The window ends at 0xFEBFFFFF, below the I/O APIC. Throws
// std::invalid_argument if RAM below 4 GiB reaches past 0xE0000000.
uint32_t acpi_pci_window_start(uint64_t ram_below_4g);

// The DSDT as iasl compiled it (PMST = 0x80000000, iasl's checksum).
std::span<const uint8_t> acpi_dsdt_template();
// Offset of the DWord value of Name (PMST, ...) in `aml`, or -1 if the
// pattern NameOp 'PMST' DWordPrefix is absent or not unique.
long acpi_find_pmst(std::span<const uint8_t> aml);

// Builds every table for `cfg`. Throws std::invalid_argument for a config
// the tables cannot describe (0 or more than 255 CPUs, RAM into the window).
AcpiBlobs build_acpi(const AcpiConfig& cfg);

// Resolves pointers for blobs placed at `tables_addr` / `rsdp_addr` and
// computes the checksums, in place (what SeaBIOS's loader does to its copy).
// Throws std::invalid_argument if a 32-bit pointer would not fit.
void link_acpi(AcpiBlobs& blobs, uint64_t tables_addr, uint64_t rsdp_addr);

// Direct boot: links a copy of `blobs` for the given addresses and writes
// both blobs into guest RAM. Returns the RSDP address (for boot_params).
// Throws std::invalid_argument for misaligned addresses, overlapping blobs
// or a range that is not RAM.
uint64_t install_acpi(PhysicalMemory& mem, const AcpiBlobs& blobs, uint64_t tables_addr, uint64_t rsdp_addr);

// Direct boot layout: the last kAcpiDirectBootRegion bytes of RAM below
// 4 GiB hold the tables, then the RSDP (the kernel gets its address in
// boot_params, so it need not sit in the BIOS area). Reserve the region as
// ACPI in the e820 map: direct_boot_e820(below, above, kAcpiDirectBootRegion).
constexpr uint64_t kAcpiDirectBootRegion = 64 << 10;
// Installs `blobs` there and returns the RSDP address. Throws
// std::invalid_argument if RAM is too small or the blobs do not fit.
uint64_t install_acpi_direct_boot(PhysicalMemory& mem, const AcpiBlobs& blobs);

}  // namespace pc64
