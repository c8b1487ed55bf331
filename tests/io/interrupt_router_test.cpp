#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "io/acpi_pm.h"
#include "io/i440fx.h"
#include "io/interrupt_router.h"
#include "io/pci_bus.h"
#include "io/piix3_isa.h"

using namespace pc64;

namespace {
// Just enough of an 8259 pair for routing tests: edge-triggered, fixed
// priority, vectors 0x08 + irq, no masking.
class FakePic final : public LegacyPic {
 public:
  std::array<bool, 16> level{};
  std::array<bool, 16> requested{};
  void set_irq(unsigned irq, bool l) override {
    if (l && !level[irq]) requested[irq] = true;
    level[irq] = l;
  }
  bool intr_pending() const override {
    for (bool r : requested)
      if (r) return true;
    return false;
  }
  uint8_t acknowledge() override {
    for (unsigned i = 0; i < 16; ++i)
      if (requested[i]) {
        requested[i] = false;
        return static_cast<uint8_t>(0x08 + i);
      }
    return 0x0F;  // spurious IRQ7
  }
};

struct RouterRig {
  PhysicalMemory mem{1 << 20};
  PortBus ports;
  VirtualClock clock;
  LocalApic lapic{mem, clock};
  IoApic ioapic{mem, &lapic};
  FakePic pic;
  InterruptRouter router{pic, ioapic, lapic};

  void apic_wr(uint32_t reg, uint32_t v) { mem.write(LocalApic::kDefaultBase + reg, 4, v); }
  void ioapic_program(unsigned pin, uint64_t entry) {
    mem.write(IoApic::kDefaultBase, 4, 0x11 + 2 * pin);
    mem.write(IoApic::kDefaultBase + 0x10, 4, entry >> 32);
    mem.write(IoApic::kDefaultBase, 4, 0x10 + 2 * pin);
    mem.write(IoApic::kDefaultBase + 0x10, 4, entry & 0xFFFFFFFF);
  }
};
}  // namespace

TEST_CASE("router: LAPIC disabled in the MSR, the PIC is the CPU's INTR") {
  RouterRig r;
  REQUIRE(r.lapic.set_apic_base_msr(0xFEE00000ULL | LocalApic::kBaseBsp));
  CHECK_FALSE(r.router.intr_pending());
  r.router.set_irq(1, true);
  CHECK(r.pic.level[1]);
  CHECK(r.ioapic.pin_level(1));
  REQUIRE(r.router.intr_pending());
  CHECK(r.router.acknowledge_intr() == 0x09);
  CHECK_FALSE(r.router.intr_pending());
}

TEST_CASE("router: after reset LINT0 is masked; SeaBIOS's virtual wire lets the PIC through") {
  RouterRig r;
  r.router.set_irq(0, true);
  CHECK(r.pic.level[0]);
  CHECK(r.ioapic.pin_level(2));  // ISA IRQ0 arrives on IOAPIC pin 2
  CHECK_FALSE(r.ioapic.pin_level(0));
  CHECK_FALSE(r.router.intr_pending());  // LVT LINT0 masked (SDM reset state)
  r.apic_wr(LocalApic::kSvr, 0x1FF);
  r.apic_wr(LocalApic::kLvtLint0, 0x8700);  // ExtINT
  REQUIRE(r.router.intr_pending());
  CHECK(r.router.acknowledge_intr() == 0x08);
}

TEST_CASE("router: an ISA IRQ reaches the CPU through the IOAPIC and LAPIC in APIC mode") {
  RouterRig r;
  // What Linux does: enable the APIC, mask LINT0, program the IOAPIC.
  r.apic_wr(LocalApic::kSvr, 0x1FF);
  r.apic_wr(LocalApic::kLvtLint0, 0x10700);
  r.ioapic_program(2, 0x30);  // timer: IRQ0 on pin 2, vector 0x30
  r.ioapic_program(1, 0x31);
  r.router.set_irq(0, true);
  REQUIRE(r.router.intr_pending());
  CHECK(r.router.acknowledge_intr() == 0x30);
  CHECK_FALSE(r.router.intr_pending());  // in service; the PIC's request stays unseen
  r.router.set_irq(0, false);
  r.router.set_irq(1, true);
  // 0x31 is in class 3 like 0x30 in service: not deliverable until EOI.
  CHECK_FALSE(r.router.intr_pending());
  CHECK(r.router.acknowledge_intr() == 0xFF);
  r.apic_wr(LocalApic::kEoi, 0);
  REQUIRE(r.router.intr_pending());
  CHECK(r.router.acknowledge_intr() == 0x31);
}

TEST_CASE("router: PIRQ lines follow the PIIX3 route registers and share ISA lines") {
  RouterRig r;
  PhysicalMemory& mem = r.mem;
  PciBus bus{r.ports, mem, &r.router, InterruptRouter::kPirqBase};
  int resets = 0;
  Piix3Isa isa{bus, [&](unsigned p, int irq) { r.router.set_pirq_route(p, irq); }, [&](bool) { ++resets; }};
  // PIRQA-D are unrouted after reset.
  CHECK(isa.pirq_route(0) == -1);
  r.router.set_irq(InterruptRouter::kPirqBase + 0, true);
  CHECK(r.ioapic.pin_level(16));
  for (unsigned i = 0; i < 16; ++i) CHECK_FALSE(r.pic.level[i]);
  // SeaBIOS: PIRQA -> IRQ10 through config register 0x60.
  bus.config_write(1, 0, Piix3Isa::kPirqRc, 1, 10);
  CHECK(isa.pirq_route(0) == 10);
  CHECK(r.pic.level[10]);
  CHECK(r.ioapic.pin_level(10));
  // An ISA device on IRQ10 too: the line is the OR.
  r.router.set_irq(10, true);
  r.router.set_irq(InterruptRouter::kPirqBase + 0, false);
  CHECK(r.pic.level[10]);
  r.router.set_irq(10, false);
  CHECK_FALSE(r.pic.level[10]);
  // Reserved encodings (IRQ 0-2, 8, 13) and bit 7 disable the route.
  bus.config_write(1, 0, Piix3Isa::kPirqRc + 1, 1, 8);
  CHECK(isa.pirq_route(1) == -1);
  bus.config_write(1, 0, Piix3Isa::kPirqRc + 1, 1, 0x8B);
  CHECK(isa.pirq_route(1) == -1);
  // Port 0xCF9: RST_CPU asks for a reset.
  r.ports.port_write(0xCF9, 1, 0x02);
  CHECK(resets == 0);
  CHECK(r.ports.port_read(0xCF9, 1) == 0x02);
  r.ports.port_write(0xCF9, 1, 0x06);
  CHECK(resets == 1);
  // CONFIG_ADDRESS still works as a dword next to 0xCF9.
  r.ports.port_write(0xCF8, 4, 0x80000800);
  CHECK(r.ports.port_read(0xCFC, 4) == 0x70008086);
}

TEST_CASE("router: a PCI function's INTx# reaches the CPU through PIC and IOAPIC") {
  RouterRig r;
  PciBus bus{r.ports, r.mem, &r.router, InterruptRouter::kPirqBase};
  Piix3Isa isa{bus, [&](unsigned p, int irq) { r.router.set_pirq_route(p, irq); }, nullptr};
  struct Nic final : PciFunction {
    Nic() : PciFunction(0x10EC, 0x8139, 0x20, 0x020000) { set_interrupt_pin(1); }
  } nic;
  bus.add(nic, 3, 0);  // INTA# of slot 3 -> PIRQC
  bus.config_write(1, 0, Piix3Isa::kPirqRc + 2, 1, 11);
  REQUIRE(r.lapic.set_apic_base_msr(0xFEE00000ULL | LocalApic::kBaseBsp));  // legacy mode
  nic.set_irq_level(true);
  CHECK(r.pic.level[11]);
  REQUIRE(r.router.intr_pending());
  CHECK(r.router.acknowledge_intr() == 0x08 + 11);
  nic.set_irq_level(false);
  // APIC mode: GSI 11 level-triggered, as the MADT override for a PCI IRQ says.
  REQUIRE(r.lapic.set_apic_base_msr(0xFEE00000ULL | LocalApic::kBaseBsp | LocalApic::kBaseEnable));
  r.apic_wr(LocalApic::kSvr, 0x1FF);
  r.ioapic_program(11, 0x4B | IoApic::kLevelTriggered);
  nic.set_irq_level(true);
  REQUIRE(r.router.intr_pending());
  CHECK(r.router.acknowledge_intr() == 0x4B);
  nic.set_irq_level(false);
  r.apic_wr(LocalApic::kEoi, 0);
  CHECK((r.ioapic.redirection_entry(11) & IoApic::kRemoteIrr) == 0);
  CHECK_FALSE(r.router.intr_pending());
}

TEST_CASE("router: NMI through LINT1") {
  RouterRig r;
  r.router.set_nmi(true);
  CHECK_FALSE(r.router.take_nmi());  // LINT1 masked after reset
  r.router.set_nmi(false);
  r.apic_wr(LocalApic::kSvr, 0x1FF);
  r.apic_wr(LocalApic::kLvtLint1, 0x8400);
  r.router.set_nmi(true);
  CHECK(r.router.take_nmi());
  CHECK_FALSE(r.router.take_nmi());
}

TEST_CASE("router state round-trips") {
  RouterRig a;
  a.router.set_pirq_route(1, 5);
  a.router.set_irq(InterruptRouter::kPirqBase + 1, true);
  a.router.set_irq(4, true);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.router.serialize(save);
  RouterRig b;
  StateSerializer load(blob.data(), blob.size());
  b.router.serialize(load);
  CHECK(load.at_end());
  CHECK(b.router.isa_line(5));
  CHECK(b.router.isa_line(4));
  b.router.set_irq(InterruptRouter::kPirqBase + 1, false);  // the route was restored
  CHECK_FALSE(b.router.isa_line(5));
}

TEST_CASE("random port and MMIO accesses to the chipset never crash or hang") {
  RouterRig r;
  PciBus bus{r.ports, r.mem, &r.router, InterruptRouter::kPirqBase};
  int offs = 0, resets = 0;
  Piix3Isa isa{bus, [&](unsigned p, int irq) { r.router.set_pirq_route(p, irq); }, [&](bool) { ++resets; }};
  AcpiPm pm{bus, r.ports, r.clock, IrqLine(&r.router, AcpiPm::kSciIrq), [&] { ++offs; }};
  I440fx host{bus, r.mem};
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  const unsigned sizes[] = {1, 2, 4};
  for (int i = 0; i < 100000; ++i) {
    uint64_t x = next();
    unsigned size = sizes[x % 3];
    uint32_t value = static_cast<uint32_t>(next());
    if ((x & 0xFF) == 0) value = 0xFFFFFFFF;
    bool write = (x >> 8) & 1;
    switch ((x >> 9) % 6) {
      case 0:  // CONFIG_ADDRESS aimed at our functions
        r.ports.port_write(0xCF8, 4, 0x80000000u | ((x >> 16) % 2) << 11 | ((x >> 20) & 7) << 8 | (value & 0xFC));
        break;
      case 1: {
        uint16_t port = static_cast<uint16_t>(0xCFC + ((x >> 16) & 3));
        if (write) r.ports.port_write(port, size, value); else r.ports.port_read(port, size);
        break;
      }
      case 2: {  // PM, SMBus and APM ports wherever they are
        uint16_t port = static_cast<uint16_t>((x >> 16) & 1 ? 0xB2 + ((x >> 20) & 1) : pm.pm_io_base() + ((x >> 20) & 0x3F));
        if (write) r.ports.port_write(port, size, value); else r.ports.port_read(port, size);
        break;
      }
      case 3: {  // LAPIC
        uint64_t a = LocalApic::kDefaultBase + ((x >> 16) & 0xFFF);
        if (write) r.mem.write(a, size, value); else r.mem.read(a, size);
        break;
      }
      case 4: {  // IOAPIC
        uint64_t a = IoApic::kDefaultBase + ((x >> 16) & 0x4F);
        if (write) r.mem.write(a, size, value); else r.mem.read(a, size);
        break;
      }
      case 5:  // interrupt lines, time, the CPU side
        r.router.set_irq(static_cast<unsigned>((x >> 16) % 21), (x >> 24) & 1);
        r.clock.advance_to(r.clock.now() + ((x >> 32) & 0xFFFF));
        if (r.router.intr_pending()) r.router.acknowledge_intr();
        r.router.take_nmi();
        break;
    }
  }
  // Time still moves in bounded steps of work (no timer storm).
  r.clock.advance_to(r.clock.now() + 1000000000ULL);
  CHECK(true);
}
