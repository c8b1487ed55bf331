#include "io/piix3_isa.h"

#include "mem/log.h"

namespace pc64 {

Piix3Isa::Piix3Isa(PciBus& bus, std::function<void(unsigned, int)> route_changed,
                   std::function<void(bool)> reset_request)
    : PciFunction(0x8086, 0x7000, 0x00, 0x060100),
      route_changed_(std::move(route_changed)),
      reset_request_(std::move(reset_request)) {
  set_header_type(0x80);  // multi-function: IDE at .1, power management at .3
  // Bridge-specific registers are plain storage (as in QEMU), with the
  // data-sheet power-on values software may read back.
  set_wmask(0x40, 0xC0, 0xFF);
  set_default8(0x4C, 0x4D);  // IORT: ISA I/O recovery timer
  set_default8(0x4E, 0x03);  // XBCS: BIOS chip select for 0xE0000-0xFFFFF
  for (unsigned i = 0; i < 4; ++i) set_default8(kPirqRc + i, kPirqDisable);
  set_default8(0x69, 0x02);  // TOM: top of memory 1 MiB
  set_default8(0x70, 0x80);  // MBIRQ0: motherboard IRQ routing disabled
  set_default8(0x71, 0x80);
  set_default8(0x76, 0x0C);  // MBDMA0/1: disabled
  set_default8(0x77, 0x0C);
  set_default8(0x78, 0x02);  // PCSC: PCI chip select control
  set_default8(0xA0, 0x08);  // SMICNTL
  set_default8(0xA8, 0x0F);  // SEE: system event enable
  bus.add(*this, 1, 0);
  bus.set_port_cf9_handler(this);
}

int Piix3Isa::pirq_route(unsigned pirq) const {
  if (pirq >= 4) return -1;
  uint8_t v = read8(kPirqRc + pirq);
  if (v & kPirqDisable) return -1;
  unsigned irq = v & 0x0F;
  // IRQ 0, 1, 2, 8 and 13 are reserved encodings (data sheet §2.2.10).
  if (irq <= 2 || irq == 8 || irq == 13) return -1;
  return static_cast<int>(irq);
}

void Piix3Isa::announce_routes() {
  if (!route_changed_) return;
  for (unsigned p = 0; p < 4; ++p) route_changed_(p, pirq_route(p));
}

void Piix3Isa::config_written(uint8_t offset, unsigned size) {
  if (offset < kPirqRc + 4 && offset + size > kPirqRc) announce_routes();
}

void Piix3Isa::reset() {
  reset_config();
  rcr_ = 0;
  announce_routes();
}

uint32_t Piix3Isa::io_read(uint16_t, unsigned) { return rcr_; }

void Piix3Isa::io_write(uint16_t, unsigned, uint32_t value) {
  rcr_ = value & kRcSysRst;  // RST_CPU is not stored: it acts
  if (value & kRcRstCpu) {
    PC64_LOG(LogLevel::Info, "piix3", "%s reset requested through port 0xCF9", (value & kRcSysRst) ? "hard" : "soft");
    if (reset_request_) reset_request_(value & kRcSysRst);
  }
}

void Piix3Isa::serialize(StateSerializer& s) {
  s.tag(0x50495833);  // "PIX3"
  serialize_config(s);
  s(rcr_);
  if (s.loading()) announce_routes();
}

}  // namespace pc64
