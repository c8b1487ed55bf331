// Cpu: the public wrapper around Core, plus reset and state (de)serialization.
#include "cpu/cpu.h"

#include "cpu/core.h"

namespace pc64 {

void Core::reset() {
  CpuState fresh;
  s = fresh;
  for (unsigned k = 0; k < kSegCount; ++k) {
    s.seg[k].selector = 0;
    s.seg[k].base = 0;
    s.seg[k].limit = 0xFFFF;
    s.seg[k].attr = 0x93;  // present, read/write data, accessed
  }
  s.seg[CS].selector = 0xF000;
  s.seg[CS].base = 0xFFFF0000;
  s.seg[CS].attr = 0x9B;
  s.rip = 0xFFF0;
  s.gpr[RDX] = 0x00010676;  // processor signature (CPUID.1:EAX)
  s.cr0 = CR0_CD | CR0_NW | CR0_ET;
  s.gdtr = {0, 0xFFFF};
  s.idtr = {0, 0xFFFF};
  s.ldtr.limit = s.tr.limit = 0xFFFF;
  s.ldtr.attr = 0x82;
  s.tr.attr = 0x8B;
  s.dr[6] = 0xFFFF0FF0;
  s.dr[7] = 0x400;
  halted = shutdown = stop_requested = false;
  shutdown_reason.clear();
  irq_shadow = 0;
  nmi_blocked = false;
  pdptes_loaded = false;
  tlb.flush_all();
  blocks.clear();
  ++chain_epoch;
  update_mode();
}

Cpu::Cpu(PhysicalMemory& mem, PortIo& io) : core_(std::make_unique<Core>(mem, io)) {}
Cpu::~Cpu() = default;

void Cpu::set_interrupt_source(InterruptSource* src) {
  core_->intr = src;
  core_->irq_poll = true;
}
void Cpu::reset() { core_->reset(); }
uint64_t Cpu::run(uint64_t budget) { return core_->run(budget); }
bool Cpu::halted() const { return core_->halted; }
bool Cpu::shutdown() const { return core_->shutdown; }
const std::string& Cpu::shutdown_reason() const { return core_->shutdown_reason; }
void Cpu::request_stop() {
  core_->stop_requested = true;
  core_->irq_poll = true;  // leave the chained path (Core::run)
}
void Cpu::set_time_base(uint64_t ns) { core_->time_base_ns = ns; }
CpuState& Cpu::state() { return core_->s; }
const CpuState& Cpu::state() const { return core_->s; }
uint64_t Cpu::undefined_opcode_count() const { return core_->ud_count; }

void Cpu::state_changed() {
  // An edited CR3/CR0/CR4 has not been loaded by a MOV: take the PDPTEs now
  // if they are valid, else let the walker read them from memory.
  core_->pdptes_loaded = false;
  if (core_->pae_paging()) core_->load_pdptes(core_->s.cr3);
  core_->update_mode();
  core_->tlb.flush_all();
  ++core_->chain_epoch;
}

void Cpu::enter_long_mode_identity(uint64_t tables, uint64_t map_bytes) {
  Core& c = *core_;
  const uint64_t gib = (map_bytes + (1ull << 30) - 1) >> 30;
  const uint64_t gdt = tables, pml4 = tables + 0x1000, pdpt = tables + 0x2000, pd = tables + 0x3000;
  auto w64 = [&](uint64_t pa, uint64_t v) { c.mem.write(pa, 8, v); };
  // GDT: null, 0x08 ring-0 code64, 0x10 ring-0 data, 0x18 ring-3 code32,
  // 0x20 ring-3 data, 0x28 ring-3 code64 (the SYSRET layout).
  const uint64_t descriptors[] = {0, 0x00AF9A000000FFFF, 0x00CF92000000FFFF, 0x00CFFA000000FFFF,
                                  0x00CFF2000000FFFF, 0x00AFFA000000FFFF};
  for (unsigned k = 0; k < 6; ++k) w64(gdt + 8 * k, descriptors[k]);
  c.s.gdtr = {gdt, 6 * 8 - 1};
  for (uint64_t k = 0; k < 512; ++k) {
    w64(pml4 + 8 * k, 0);
    w64(pdpt + 8 * k, 0);
  }
  w64(pml4, pdpt | 0x7);  // present, writable, user
  for (uint64_t g = 0; g < gib; ++g) {
    w64(pdpt + 8 * g, (pd + 0x1000 * g) | 0x7);
    for (uint64_t k = 0; k < 512; ++k) {
      uint64_t pa = (g << 30) + (k << 21);
      w64(pd + 0x1000 * g + 8 * k, pa < map_bytes ? (pa | 0x87) : 0);  // 2 MiB page, P RW US PS
    }
  }
  c.s.cr3 = pml4;
  c.s.cr4 |= CR4_PAE;
  c.s.efer |= EFER_LME | EFER_LMA;
  c.s.cr0 = (c.s.cr0 | CR0_PE | CR0_PG | CR0_ET) & ~uint64_t(CR0_CD | CR0_NW);
  Segment code;
  code.selector = 0x08;
  code.limit = 0xFFFFFFFF;
  code.attr = 0x9B | 0x2000 | 0x8000;  // present, code, L, G (as descriptor 0x08)
  Segment data;
  data.selector = 0x10;
  data.limit = 0xFFFFFFFF;
  data.attr = 0x93 | 0x4000 | 0x8000;
  c.s.seg[CS] = code;
  for (unsigned seg : {ES, SS, DS, FS, GS}) c.s.seg[seg] = data;
  c.s.cpl = 0;
  state_changed();
}

void Cpu::serialize(StateSerializer& s) {
  Core& c = *core_;
  s.tag(0x43505531);  // "CPU1"
  c.materialize_flags();
  s(c.s);
  s(c.halted);
  s(c.shutdown);
  s(c.irq_shadow);
  s(c.nmi_blocked);
  s(c.shutdown_reason);
  if (s.loading()) {
    c.pdptes_loaded = false;
    if (c.pae_paging()) c.load_pdptes(c.s.cr3);
    c.update_mode();
    c.tlb.flush_all();
    c.blocks.clear();
  }
}

uint64_t Cpu::rflags() { return core_->rflags(); }
DebugTraps& Cpu::debug() { return core_->dbg; }
Cpu::Stats Cpu::stats() const { return {core_->blocks.size(), core_->tlb.fills}; }

}  // namespace pc64
