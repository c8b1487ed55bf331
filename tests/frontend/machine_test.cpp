// The Machine backbone: buses, the virtual clock and event queue, HLT skip,
// and that two machines in one process share nothing.
#include <doctest/doctest.h>

#include <vector>

#include "frontend/machine.h"

using namespace pc64;

namespace {

// A device with one port register, one MMIO register and a periodic timer that
// counts its firings and records the virtual times it saw.
class ProbeDevice : public Device, public PortHandler, public MmioHandler {
 public:
  ProbeDevice(Machine& m, uint16_t port, uint64_t mmio_base, uint64_t period_ns)
      : clock_(m.clock()), period_(period_ns), timer_(&ProbeDevice::tick, this, "probe") {
    m.ports().map(port, 4, this, "probe");
    m.memory().map_mmio(mmio_base, 0x1000, this, "probe");
  }
  const char* name() const override { return "probe"; }
  void reset() override {
    reg_ = 0;
    if (period_) clock_.schedule_in(timer_, period_);
  }
  void serialize(StateSerializer& s) override { s(reg_); }
  uint32_t io_read(uint16_t, unsigned) override { return reg_; }
  void io_write(uint16_t, unsigned, uint32_t v) override { reg_ = v; }
  uint64_t mmio_read(uint64_t off, unsigned) override { return reg_ + off; }
  void mmio_write(uint64_t, unsigned, uint64_t v) override { reg_ = static_cast<uint32_t>(v); }

  std::vector<uint64_t> fired_at;
  uint32_t reg_ = 0;

 private:
  static void tick(void* p) {
    auto* self = static_cast<ProbeDevice*>(p);
    self->fired_at.push_back(self->clock_.now());
    self->clock_.schedule_in(self->timer_, self->period_);
  }
  VirtualClock& clock_;
  uint64_t period_;
  Timer timer_;
};

MachineConfig bare(uint64_t ram) {
  MachineConfig c;
  c.ram_bytes = ram;  // no firmware, no PC devices: a bare machine
  c.pc_board = false;
  return c;
}

}  // namespace

TEST_CASE("two machines in one process are independent") {
  Machine a(bare(16 << 20)), b(bare(32 << 20));
  auto& pa = static_cast<ProbeDevice&>(a.add_device(std::make_unique<ProbeDevice>(a, 0x500, 0xFED00000, 1000)));
  auto& pb = static_cast<ProbeDevice&>(b.add_device(std::make_unique<ProbeDevice>(b, 0x500, 0xFED00000, 3000)));
  a.reset();
  b.reset();

  // Same port and MMIO address, different devices.
  a.ports().port_write(0x500, 4, 0x11111111);
  b.ports().port_write(0x500, 4, 0x22222222);
  CHECK(a.ports().port_read(0x500, 4) == 0x11111111);
  CHECK(b.ports().port_read(0x500, 4) == 0x22222222);
  CHECK(a.memory().read(0xFED00010, 4) == 0x11111111 + 0x10);
  CHECK(b.memory().read(0xFED00010, 4) == 0x22222222 + 0x10);

  // RAM is separate.
  a.memory().write(0x1000, 8, 0xAAAAAAAAAAAAAAAAULL);
  CHECK(b.memory().read(0x1000, 8) == 0);
  CHECK(a.memory().ram_size() == 16u << 20);
  CHECK(b.memory().ram_size() == 32u << 20);

  // Clocks advance separately: only a's clock moves.
  a.clock().advance_to(10000);
  CHECK(a.clock().now() == 10000);
  CHECK(b.clock().now() == 0);
  CHECK(pa.fired_at == std::vector<uint64_t>{1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000});
  CHECK(pb.fired_at.empty());
  b.clock().advance_to(7000);
  CHECK(pb.fired_at == std::vector<uint64_t>{3000, 6000});
  CHECK(pa.fired_at.size() == 10);
}

TEST_CASE("unclaimed ports read all-ones and drop writes") {
  Machine m(bare(4 << 20));
  CHECK(m.ports().port_read(0x1234, 1) == 0xFF);
  CHECK(m.ports().port_read(0x1234, 2) == 0xFFFF);
  CHECK(m.ports().port_read(0x1234, 4) == 0xFFFFFFFFu);
  m.ports().port_write(0x1234, 4, 0);  // nothing to see, nothing breaks
  CHECK(m.ports().port_read(0x1234, 4) == 0xFFFFFFFFu);
  CHECK(m.memory().read(0xF0000000, 4) == 0xFFFFFFFFu);  // unclaimed MMIO
}

TEST_CASE("a halted CPU skips virtual time to each event in deadline order") {
  Machine m(bare(4 << 20));
  auto& p = static_cast<ProbeDevice&>(m.add_device(std::make_unique<ProbeDevice>(m, 0x600, 0xFED01000, 0)));
  m.reset();
  std::vector<int> order;
  struct Ev {
    std::vector<int>* order;
    int id;
    static void fire(void* s) {
      auto* e = static_cast<Ev*>(s);
      e->order->push_back(e->id);
    }
  } e1{&order, 1}, e2{&order, 2}, e3{&order, 3}, e4{&order, 4};
  Timer t1(&Ev::fire, &e1, "t1"), t2(&Ev::fire, &e2, "t2"), t3(&Ev::fire, &e3, "t3"), t4(&Ev::fire, &e4, "t4");
  m.clock().schedule(t3, 5'000'000);
  m.clock().schedule(t1, 1'000'000);
  m.clock().schedule(t2, 2'000'000);
  m.clock().schedule(t4, 2'000'000);  // same deadline as t2: fires after it (armed later)
  m.clock().cancel(t4);
  m.clock().schedule(t4, 2'000'000);
  // A ROM of HLT instructions at the reset vector: the CPU halts (IF=0 after
  // reset, so nothing wakes it), and the machine jumps from deadline to
  // deadline; with no events left the run ends.
  m.memory().map_rom(0xFFFF0000, std::vector<uint8_t>(0x10000, 0xF4), "hlt rom");
  m.reset();
  ExitReason why = m.run();
  CHECK(why == ExitReason::HaltedForever);
  CHECK(order == std::vector<int>{1, 2, 4, 3});
  CHECK(m.clock().now() >= 5'000'000);
  CHECK(p.fired_at.empty());
}

TEST_CASE("virtual time follows retired instructions at the configured rate") {
  VirtualClock c(250'000'000);  // 4 ns per instruction
  std::vector<uint64_t> seen;
  struct Ctx {
    VirtualClock* c;
    std::vector<uint64_t>* seen;
    static void fire(void* p) {
      auto* x = static_cast<Ctx*>(p);
      x->seen->push_back(x->c->now());
    }
  } ctx{&c, &seen};
  Timer t(&Ctx::fire, &ctx, "t");
  c.schedule(t, 100);
  CHECK(c.budget_to_next_event(1'000'000) == 25);
  c.retire(24);
  CHECK(c.now() == 96);
  CHECK(seen.empty());
  c.retire(1);
  CHECK(c.now() == 100);
  CHECK(seen == std::vector<uint64_t>{100});
  CHECK(c.budget_to_next_event(77) == 77);  // no event: the cap
  // Fractions carry over: 3 instructions at 3 per 10 ns.
  VirtualClock slow(300'000'000);
  slow.retire(1);
  slow.retire(1);
  slow.retire(1);
  CHECK(slow.now() == 10);
}

TEST_CASE("instruction limit and stop requests end the run") {
  MachineConfig c = bare(4 << 20);
  c.max_instructions = 5;
  Machine m(c);
  m.request_stop(ExitReason::PowerOff);
  CHECK(m.run() == ExitReason::PowerOff);
  CHECK(exit_code_for(ExitReason::PowerOff) == 0);
  CHECK(exit_code_for(ExitReason::InstructionLimit) == 3);
  CHECK(exit_code_for(ExitReason::TripleFault) == 4);
}

TEST_CASE("pause returns from run and a later run continues where it was") {
  Machine m(bare(4 << 20));
  // A ROM at the reset vector that loops forever: jmp $ (EB FE).
  std::vector<uint8_t> rom(0x10000, 0x90);
  rom[0xFFF0] = 0xEB;
  rom[0xFFF1] = 0xFE;
  m.memory().map_rom(0xFFFF0000, rom, "loop rom");
  m.reset();
  CHECK(m.run(1000) == ExitReason::None);  // slice over, still runnable
  CHECK(m.instructions_retired() == 1000);
  m.pause();
  CHECK(m.run() == ExitReason::Paused);
  uint64_t at = m.instructions_retired();
  CHECK(m.run(500) == ExitReason::None);
  CHECK(m.instructions_retired() == at + 500);
  CHECK(m.cpu().state().rip == 0xFFF0);
}
