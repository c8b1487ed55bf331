#include <doctest/doctest.h>

#include <vector>

#include "io/lapic.h"

using namespace pc64;

namespace {
struct ApicRig {
  PhysicalMemory mem{1 << 20};
  VirtualClock clock;
  LocalApic apic{mem, clock};
  static constexpr uint64_t kBase = LocalApic::kDefaultBase;

  uint32_t rd(uint32_t reg) { return static_cast<uint32_t>(mem.read(kBase + reg, 4)); }
  void wr(uint32_t reg, uint32_t v) { mem.write(kBase + reg, 4, v); }
  void enable() { wr(LocalApic::kSvr, 0x1FF); }
  bool irr_bit(uint8_t v) { return rd(LocalApic::kIrr + (v >> 5) * 0x10) >> (v & 31) & 1; }
  bool isr_bit(uint8_t v) { return rd(LocalApic::kIsr + (v >> 5) * 0x10) >> (v & 31) & 1; }
  void fixed(uint8_t v, bool level = false) {
    ApicMessage m;
    m.vector = v;
    m.level_triggered = level;
    REQUIRE(apic.deliver(m));
  }
};
}  // namespace

TEST_CASE("LAPIC reset state through MMIO") {
  ApicRig r;
  CHECK(r.rd(LocalApic::kVersionReg) == 0x00050014);
  CHECK(r.rd(LocalApic::kId) == 0);
  CHECK(r.rd(LocalApic::kSvr) == 0xFF);
  CHECK(r.rd(LocalApic::kDfr) == 0xFFFFFFFF);
  for (uint32_t reg = LocalApic::kLvtTimer; reg <= LocalApic::kLvtError; reg += 0x10)
    CHECK(r.rd(reg) == LocalApic::kLvtMasked);
  CHECK(r.apic.apic_base_msr() == (0xFEE00000ULL | LocalApic::kBaseEnable | LocalApic::kBaseBsp));
  CHECK_FALSE(r.apic.software_enabled());
  // Narrow reads see the low bytes; bytes 4-15 of a slot read 0.
  CHECK(r.mem.read(LocalApic::kDefaultBase + 0x30, 1) == 0x14);
  CHECK(r.mem.read(LocalApic::kDefaultBase + 0x32, 1) == 0x05);
  CHECK(r.mem.read(LocalApic::kDefaultBase + 0x34, 4) == 0);
}

TEST_CASE("LAPIC timer one-shot counts down against the virtual clock") {
  ApicRig r;
  r.enable();
  r.wr(LocalApic::kTimerDivide, 0xB);  // divide by 1: one count per ns
  r.wr(LocalApic::kLvtTimer, 0x30);
  r.wr(LocalApic::kTimerInitialCount, 1000);
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 1000);
  r.clock.advance_to(400);
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 600);
  CHECK_FALSE(r.apic.interrupt_pending());
  r.clock.advance_to(999);
  CHECK_FALSE(r.irr_bit(0x30));
  r.clock.advance_to(1000);
  CHECK(r.irr_bit(0x30));
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 0);
  CHECK(r.apic.acknowledge() == 0x30);
  r.wr(LocalApic::kEoi, 0);
  r.clock.advance_to(100000);
  CHECK_FALSE(r.apic.interrupt_pending());  // one shot only
  // Writing 0 stops a running timer.
  r.wr(LocalApic::kTimerInitialCount, 500);
  r.wr(LocalApic::kTimerInitialCount, 0);
  r.clock.advance_to(200000);
  CHECK_FALSE(r.apic.interrupt_pending());
}

TEST_CASE("LAPIC timer divide configuration") {
  ApicRig r;
  r.enable();
  r.wr(LocalApic::kTimerDivide, 0x3);  // divide by 16
  CHECK(r.rd(LocalApic::kTimerDivide) == 0x3);
  r.wr(LocalApic::kLvtTimer, 0x31);
  r.wr(LocalApic::kTimerInitialCount, 100);
  r.clock.advance_to(800);
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 50);
  r.clock.advance_to(1599);
  CHECK_FALSE(r.irr_bit(0x31));
  r.clock.advance_to(1600);
  CHECK(r.irr_bit(0x31));
  // Divide by 128 (1010b) and by 2 (0000b).
  r.wr(LocalApic::kTimerDivide, 0xA);
  r.wr(LocalApic::kTimerInitialCount, 10);
  r.clock.advance_to(1600 + 640);
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 5);
  r.wr(LocalApic::kTimerDivide, 0x0);  // the count continues at the new rate
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 5);
  r.clock.advance_to(1600 + 640 + 6);
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 2);
}

TEST_CASE("LAPIC timer periodic mode reloads") {
  ApicRig r;
  r.enable();
  r.wr(LocalApic::kTimerDivide, 0xB);
  r.wr(LocalApic::kLvtTimer, LocalApic::kLvtTimerPeriodic | 0x40);
  r.wr(LocalApic::kTimerInitialCount, 5000);
  for (int i = 1; i <= 3; ++i) {
    r.clock.advance_to(5000ULL * i - 1);
    CHECK_FALSE(r.apic.interrupt_pending());
    r.clock.advance_to(5000ULL * i);
    REQUIRE(r.apic.interrupt_pending());
    CHECK(r.apic.acknowledge() == 0x40);
    r.wr(LocalApic::kEoi, 0);
  }
  r.clock.advance_to(15000 + 1250);
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 3750);
  // Masked: counting goes on, no interrupt.
  r.wr(LocalApic::kLvtTimer, LocalApic::kLvtTimerPeriodic | LocalApic::kLvtMasked | 0x40);
  r.clock.advance_to(40000);
  CHECK_FALSE(r.irr_bit(0x40));
  CHECK(r.rd(LocalApic::kTimerCurrentCount) == 5000);
}

TEST_CASE("LAPIC priority: TPR, PPR, ISR ordering and EOI") {
  ApicRig r;
  r.enable();
  r.fixed(0x45);
  r.fixed(0x62);
  r.wr(LocalApic::kTpr, 0x70);
  CHECK(r.rd(LocalApic::kPpr) == 0x70);
  CHECK_FALSE(r.apic.interrupt_pending());  // class 6 <= class 7
  CHECK(r.apic.acknowledge() == 0xFF);       // spurious vector, nothing moved to ISR
  CHECK(r.irr_bit(0x62));
  r.wr(LocalApic::kTpr, 0x50);
  REQUIRE(r.apic.interrupt_pending());
  CHECK(r.apic.acknowledge() == 0x62);
  CHECK(r.isr_bit(0x62));
  CHECK_FALSE(r.irr_bit(0x62));
  CHECK(r.rd(LocalApic::kPpr) == 0x60);
  CHECK_FALSE(r.apic.interrupt_pending());  // 0x45 is below the in-service class
  // A higher class nests.
  r.fixed(0x81);
  REQUIRE(r.apic.interrupt_pending());
  CHECK(r.apic.acknowledge() == 0x81);
  CHECK(r.rd(LocalApic::kPpr) == 0x80);
  r.wr(LocalApic::kEoi, 0);  // ends 0x81, the highest in service
  CHECK_FALSE(r.isr_bit(0x81));
  CHECK(r.isr_bit(0x62));
  r.wr(LocalApic::kEoi, 0);
  CHECK(r.rd(LocalApic::kPpr) == 0x50);
  CHECK_FALSE(r.apic.interrupt_pending());  // TPR 0x50 still blocks class 4
  r.wr(LocalApic::kTpr, 0);
  REQUIRE(r.apic.interrupt_pending());
  CHECK(r.apic.acknowledge() == 0x45);
  // Software-disabled: nothing is delivered.
  r.fixed(0x90);
  r.wr(LocalApic::kSvr, 0xFF);
  CHECK_FALSE(r.apic.interrupt_pending());
}

TEST_CASE("LAPIC self-IPI, shorthands, NMI and illegal vectors") {
  ApicRig r;
  r.enable();
  r.wr(LocalApic::kIcrLow, 0x00040050);  // fixed, vector 0x50, shorthand self
  CHECK(r.irr_bit(0x50));
  CHECK((r.rd(LocalApic::kIcrLow) & (1u << 12)) == 0);  // delivery status idle
  r.wr(LocalApic::kIcrHigh, 0x00000000);                // physical destination 0 = us
  r.wr(LocalApic::kIcrLow, 0x00000051);
  CHECK(r.irr_bit(0x51));
  r.wr(LocalApic::kIcrHigh, 0x05000000);  // another CPU: dropped
  r.wr(LocalApic::kIcrLow, 0x00000052);
  CHECK_FALSE(r.irr_bit(0x52));
  r.wr(LocalApic::kIcrLow, 0x000C0053);  // all excluding self
  CHECK_FALSE(r.irr_bit(0x53));
  r.wr(LocalApic::kIcrLow, 0x00080054);  // all including self
  CHECK(r.irr_bit(0x54));
  r.wr(LocalApic::kIcrLow, 0x000C4500);  // SeaBIOS's INIT to the others: harmless
  r.wr(LocalApic::kIcrLow, 0x000C4600 | 0x9F);
  CHECK_FALSE(r.apic.nmi_pending());
  r.wr(LocalApic::kIcrLow, 0x00040400);  // NMI to self
  CHECK(r.apic.take_nmi());
  CHECK_FALSE(r.apic.take_nmi());
  // Vector 5 is illegal: ESR bit 5 after the ESR write that latches it.
  r.wr(LocalApic::kLvtError, 0xFE);
  r.wr(LocalApic::kIcrLow, 0x00040005);
  CHECK(r.rd(LocalApic::kEsr) == 0);
  r.wr(LocalApic::kEsr, 0);
  CHECK(r.rd(LocalApic::kEsr) == LocalApic::kEsrSendIllegalVector);
  CHECK(r.irr_bit(0xFE));  // the error LVT fired
  r.wr(LocalApic::kEsr, 0);
  CHECK(r.rd(LocalApic::kEsr) == 0);
}

TEST_CASE("LAPIC logical destinations and level-triggered EOI broadcast") {
  ApicRig r;
  r.enable();
  std::vector<uint8_t> eois;
  r.apic.add_eoi_listener([&](uint8_t v) { eois.push_back(v); });
  ApicMessage m;
  m.vector = 0x60;
  m.logical = true;
  m.destination = 0x01;
  CHECK_FALSE(r.apic.deliver(m));  // LDR 0: matches nothing
  r.wr(LocalApic::kLdr, 0x01000000);
  CHECK(r.apic.deliver(m));
  r.wr(LocalApic::kDfr, 0x0FFFFFFF);  // cluster model
  CHECK(r.rd(LocalApic::kDfr) == 0x0FFFFFFF);
  r.wr(LocalApic::kLdr, 0x21000000);  // cluster 2, member 1
  m.destination = 0x21;
  CHECK(r.apic.deliver(m));
  m.destination = 0x31;
  CHECK_FALSE(r.apic.deliver(m));
  m.destination = 0xF1;  // all clusters
  CHECK(r.apic.deliver(m));

  r.fixed(0x70, true);
  CHECK(((r.rd(LocalApic::kTmr + 0x30) >> 16) & 1) == 1);
  CHECK(r.apic.acknowledge() == 0x70);
  r.wr(LocalApic::kEoi, 0);
  REQUIRE(eois.size() == 1);
  CHECK(eois[0] == 0x70);
  CHECK(r.apic.acknowledge() == 0x60);
  r.wr(LocalApic::kEoi, 0);  // edge: no broadcast
  CHECK(eois.size() == 1);
}

TEST_CASE("LAPIC software disable masks the LVT; LINT pins") {
  ApicRig r;
  r.enable();
  r.wr(LocalApic::kLvtLint0, 0x8700);  // SeaBIOS: ExtINT, level
  r.wr(LocalApic::kLvtLint1, 0x8400);  // NMI
  CHECK(r.rd(LocalApic::kLvtLint0) == 0x8700);
  CHECK(r.apic.extint_enabled());
  r.apic.set_lint(1, true);
  CHECK(r.apic.take_nmi());
  r.apic.set_lint(1, true);  // no new edge
  CHECK_FALSE(r.apic.take_nmi());
  r.apic.set_lint(1, false);
  r.wr(LocalApic::kSvr, 0xFF);
  CHECK(r.rd(LocalApic::kLvtLint0) == (0x8700 | LocalApic::kLvtMasked));
  CHECK_FALSE(r.apic.extint_enabled());
  r.wr(LocalApic::kLvtLint0, 0x0700);  // cannot unmask while software-disabled
  CHECK(r.rd(LocalApic::kLvtLint0) == (0x0700 | LocalApic::kLvtMasked));
  r.apic.set_lint(1, true);
  CHECK_FALSE(r.apic.take_nmi());
}

TEST_CASE("IA32_APIC_BASE relocates and disables the APIC") {
  ApicRig r;
  CHECK_FALSE(r.apic.set_apic_base_msr(0xFEE00000ULL | LocalApic::kBaseEnable | LocalApic::kBaseExtd));
  CHECK_FALSE(r.apic.set_apic_base_msr(0xFEE00001ULL | LocalApic::kBaseEnable));
  r.enable();
  REQUIRE(r.apic.set_apic_base_msr(0xFED00000ULL | LocalApic::kBaseEnable | LocalApic::kBaseBsp));
  CHECK(r.mem.read(0xFED00030, 4) == 0x00050014);
  CHECK(r.mem.read(0xFEE00030, 4) == 0xFFFFFFFF);
  CHECK(r.mem.read(0xFED000F0, 4) == 0x1FF);  // relocation keeps the state
  REQUIRE(r.apic.set_apic_base_msr(0xFED00000ULL | LocalApic::kBaseBsp));  // disable
  CHECK_FALSE(r.apic.hardware_enabled());
  CHECK(r.mem.read(0xFED00030, 4) == 0xFFFFFFFF);
  ApicMessage m;
  m.vector = 0x40;
  CHECK_FALSE(r.apic.deliver(m));
  // Disabled LINT1 is the plain NMI pin.
  r.apic.set_lint(1, true);
  CHECK(r.apic.take_nmi());
  REQUIRE(r.apic.set_apic_base_msr(0xFEE00000ULL | LocalApic::kBaseEnable | LocalApic::kBaseBsp));
  CHECK(r.mem.read(0xFEE000F0, 4) == 0xFF);  // back to the reset state
}

TEST_CASE("LAPIC state round-trips with a running timer") {
  ApicRig a;
  a.enable();
  a.wr(LocalApic::kTimerDivide, 0xB);
  a.wr(LocalApic::kLvtTimer, 0x33);
  a.wr(LocalApic::kTimerInitialCount, 10000);
  a.fixed(0x44);
  a.clock.advance_to(2500);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  a.apic.serialize(save);

  ApicRig b;
  b.clock.set_now(2500);
  StateSerializer load(blob.data(), blob.size());
  b.apic.serialize(load);
  CHECK(load.at_end());
  CHECK(b.rd(LocalApic::kTimerCurrentCount) == 7500);
  CHECK(b.irr_bit(0x44));
  b.clock.advance_to(10000);
  CHECK(b.irr_bit(0x33));
}

TEST_CASE("LAPIC LINT0 in fixed mode: edge once per rising edge; level with remote IRR until EOI") {
  ApicRig r;
  r.enable();
  r.wr(LocalApic::kLvtLint0, 0x0031);  // fixed, edge, vector 0x31
  r.apic.set_lint(0, true);
  CHECK(r.irr_bit(0x31));
  CHECK(r.apic.acknowledge() == 0x31);
  r.apic.set_lint(0, true);  // no new edge
  CHECK_FALSE(r.irr_bit(0x31));
  r.wr(LocalApic::kEoi, 0);
  r.apic.set_lint(0, false);

  // Level-triggered: remote IRR (bit 14) is set on acceptance and cleared by
  // the EOI; a pin still asserted then is delivered again.
  r.wr(LocalApic::kLvtLint0, 0x8032);
  r.apic.set_lint(0, true);
  CHECK(r.irr_bit(0x32));
  CHECK((r.rd(LocalApic::kLvtLint0) & LocalApic::kLvtRemoteIrr) != 0);
  CHECK(r.apic.acknowledge() == 0x32);
  r.apic.set_lint(0, true);  // still asserted, in service: nothing new
  CHECK_FALSE(r.irr_bit(0x32));
  r.wr(LocalApic::kEoi, 0);
  CHECK(r.irr_bit(0x32));  // line still high: again
  CHECK(r.apic.acknowledge() == 0x32);
  r.apic.set_lint(0, false);
  r.wr(LocalApic::kEoi, 0);
  CHECK_FALSE(r.irr_bit(0x32));
  CHECK((r.rd(LocalApic::kLvtLint0) & LocalApic::kLvtRemoteIrr) == 0);
  r.wr(LocalApic::kLvtLint0, 0x8032 | LocalApic::kLvtRemoteIrr);  // read-only bit
  CHECK((r.rd(LocalApic::kLvtLint0) & LocalApic::kLvtRemoteIrr) == 0);

  // Masked while asserted, delivered when unmasked.
  r.wr(LocalApic::kLvtLint0, 0x18033);
  r.apic.set_lint(0, true);
  CHECK_FALSE(r.irr_bit(0x33));
  r.wr(LocalApic::kLvtLint0, 0x8033);
  CHECK(r.irr_bit(0x33));
}
