#include <doctest/doctest.h>

#include <vector>

#include "io/ioapic.h"

using namespace pc64;

namespace {
struct IoApicRig {
  PhysicalMemory mem{1 << 20};
  VirtualClock clock;
  LocalApic lapic{mem, clock};
  IoApic ioapic{mem, &lapic};
  static constexpr uint64_t kBase = IoApic::kDefaultBase;

  IoApicRig() { mem.write(LocalApic::kDefaultBase + LocalApic::kSvr, 4, 0x1FF); }
  uint32_t rd(uint8_t reg) {
    mem.write(kBase + IoApic::kIoRegSel, 4, reg);
    return static_cast<uint32_t>(mem.read(kBase + IoApic::kIoWin, 4));
  }
  void wr(uint8_t reg, uint32_t v) {
    mem.write(kBase + IoApic::kIoRegSel, 4, reg);
    mem.write(kBase + IoApic::kIoWin, 4, v);
  }
  void program(unsigned pin, uint64_t entry) {
    wr(static_cast<uint8_t>(0x11 + 2 * pin), static_cast<uint32_t>(entry >> 32));
    wr(static_cast<uint8_t>(0x10 + 2 * pin), static_cast<uint32_t>(entry));
  }
  bool irr(uint8_t v) {
    return mem.read(LocalApic::kDefaultBase + LocalApic::kIrr + (v >> 5) * 0x10, 4) >> (v & 31) & 1;
  }
  void lapic_eoi() { mem.write(LocalApic::kDefaultBase + LocalApic::kEoi, 4, 0); }
};
}  // namespace

TEST_CASE("IOAPIC identification and reset state") {
  IoApicRig r;
  CHECK(r.rd(IoApic::kIoApicVer) == 0x00170020);  // 24 entries, version 0x20
  CHECK(r.rd(IoApic::kIoApicId) == 0);
  r.wr(IoApic::kIoApicId, 0x0F000000);
  CHECK(r.rd(IoApic::kIoApicId) == 0x0F000000);
  for (unsigned pin = 0; pin < 24; ++pin) {
    CHECK(r.rd(static_cast<uint8_t>(0x10 + 2 * pin)) == IoApic::kMasked);
    CHECK(r.rd(static_cast<uint8_t>(0x11 + 2 * pin)) == 0);
  }
  CHECK(r.mem.read(IoApic::kDefaultBase + IoApic::kIoRegSel, 4) == 0x3F);  // last selected
}

TEST_CASE("IOAPIC masked pins deliver nothing") {
  IoApicRig r;
  r.ioapic.set_irq(5, true);
  CHECK_FALSE(r.lapic.interrupt_pending());
  r.program(5, 0x35 | IoApic::kMasked | IoApic::kLevelTriggered);
  CHECK_FALSE(r.lapic.interrupt_pending());
  // Unmasking an asserted level-triggered pin delivers it.
  r.program(5, 0x35 | IoApic::kLevelTriggered);
  CHECK(r.irr(0x35));
}

TEST_CASE("IOAPIC edge-triggered delivery: one message per rising edge") {
  IoApicRig r;
  r.program(4, 0x34);
  r.ioapic.set_irq(4, true);
  CHECK(r.irr(0x34));
  CHECK(r.lapic.acknowledge() == 0x34);
  r.lapic_eoi();
  r.ioapic.set_irq(4, true);  // still high: no new edge
  CHECK_FALSE(r.irr(0x34));
  r.ioapic.set_irq(4, false);
  r.ioapic.set_irq(4, true);
  CHECK(r.irr(0x34));
  CHECK((r.ioapic.redirection_entry(4) & IoApic::kRemoteIrr) == 0);
  // An edge while masked is lost.
  CHECK(r.lapic.acknowledge() == 0x34);
  r.lapic_eoi();
  r.ioapic.set_irq(4, false);
  r.program(4, 0x34 | IoApic::kMasked);
  r.ioapic.set_irq(4, true);
  r.program(4, 0x34);
  CHECK_FALSE(r.irr(0x34));
}

TEST_CASE("IOAPIC level-triggered: remote IRR until the LAPIC's EOI") {
  IoApicRig r;
  r.program(9, 0x39 | IoApic::kLevelTriggered);
  r.ioapic.set_irq(9, true);
  CHECK(r.irr(0x39));
  CHECK((r.ioapic.redirection_entry(9) & IoApic::kRemoteIrr) != 0);
  CHECK((r.rd(0x10 + 18) & IoApic::kRemoteIrr) != 0);
  CHECK(r.lapic.acknowledge() == 0x39);
  r.ioapic.set_irq(9, true);  // level held: no second message while remote IRR is set
  CHECK_FALSE(r.irr(0x39));
  r.lapic_eoi();  // the device still asserts: delivered again
  CHECK(r.irr(0x39));
  CHECK((r.ioapic.redirection_entry(9) & IoApic::kRemoteIrr) != 0);
  CHECK(r.lapic.acknowledge() == 0x39);
  r.ioapic.set_irq(9, false);  // the handler quietened the device
  r.lapic_eoi();
  CHECK_FALSE(r.irr(0x39));
  CHECK((r.ioapic.redirection_entry(9) & IoApic::kRemoteIrr) == 0);
  // Remote IRR is read-only to the guest.
  r.ioapic.set_irq(9, true);
  CHECK(r.lapic.acknowledge() == 0x39);
  r.wr(0x10 + 18, 0x39 | IoApic::kLevelTriggered);
  CHECK((r.ioapic.redirection_entry(9) & IoApic::kRemoteIrr) != 0);
  // The EOI register (version 0x20) clears it directly.
  r.ioapic.set_irq(9, false);
  r.mem.write(IoApic::kDefaultBase + IoApic::kEoiReg, 4, 0x39);
  CHECK((r.ioapic.redirection_entry(9) & IoApic::kRemoteIrr) == 0);
  // Switching the entry to edge clears a stuck remote IRR.
  r.ioapic.set_irq(9, true);
  CHECK((r.ioapic.redirection_entry(9) & IoApic::kRemoteIrr) != 0);
  r.program(9, 0x39);
  CHECK((r.ioapic.redirection_entry(9) & IoApic::kRemoteIrr) == 0);
}

TEST_CASE("IOAPIC destinations: physical and logical") {
  IoApicRig r;
  r.program(10, (uint64_t{5} << 56) | 0x3A | IoApic::kLevelTriggered);  // APIC ID 5: nobody
  r.ioapic.set_irq(10, true);
  CHECK_FALSE(r.irr(0x3A));
  CHECK((r.ioapic.redirection_entry(10) & IoApic::kRemoteIrr) == 0);
  r.ioapic.set_irq(10, false);
  r.mem.write(LocalApic::kDefaultBase + LocalApic::kLdr, 4, 0x02000000);
  r.program(10, (uint64_t{0x02} << 56) | (1 << 11) | 0x3A);  // logical, flat, bit 1
  r.ioapic.set_irq(10, true);
  CHECK(r.irr(0x3A));
  // Lowest priority to the one CPU; NMI delivery mode.
  r.program(11, (uint64_t{0xFF} << 56) | 0x100 | 0x3B);
  r.ioapic.set_irq(11, true);
  CHECK(r.irr(0x3B));
  r.program(12, 0x400);
  r.ioapic.set_irq(12, true);
  CHECK(r.lapic.take_nmi());
}

TEST_CASE("IOAPIC state round-trips") {
  IoApicRig a;
  a.program(3, 0x43 | IoApic::kLevelTriggered);
  a.ioapic.set_irq(3, true);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.ioapic.serialize(save);
  IoApicRig b;
  StateSerializer load(blob.data(), blob.size());
  b.ioapic.serialize(load);
  CHECK(load.at_end());
  CHECK(b.ioapic.redirection_entry(3) == a.ioapic.redirection_entry(3));
  CHECK(b.ioapic.pin_level(3));
}
