#include <doctest/doctest.h>

#include <vector>

#include "io/bochs_vbe.h"
#include "io/clock.h"
#include "io/vga.h"

using namespace pc64;

namespace {
struct Rig {
  PhysicalMemory mem{4 << 20};
  PortBus ports;
  VirtualClock clock;
  Vga vga{ports, mem, clock, 1u << 20};

  void out(uint16_t port, uint8_t v) { ports.port_write(port, 1, v); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(ports.port_read(port, 1)); }
  void sr(uint8_t i, uint8_t v) { out(0x3C4, i), out(0x3C5, v); }
  void gr(uint8_t i, uint8_t v) { out(0x3CE, i), out(0x3CF, v); }
  void cr(uint8_t i, uint8_t v) { out(0x3D4, i), out(0x3D5, v); }
  uint8_t rd(uint64_t a) { return static_cast<uint8_t>(mem.read(a, 1)); }
  void wr(uint64_t a, uint8_t v) { mem.write(a, 1, v); }
  uint32_t planes(uint32_t addr) const {
    uint32_t v = 0;
    for (unsigned p = 0; p < 4; ++p) v |= uint32_t(vga.plane_byte(p, addr)) << (8 * p);
    return v;
  }
  // Planar graphics with the A0000 64 KiB window, all defaults neutral.
  Rig() {
    out(0x3C2, 0x63);        // colour addressing, RAM enable
    sr(0x02, 0x0F);
    sr(0x04, 0x06);          // planar: odd/even off, chain-4 off
    gr(0x05, 0x00);
    gr(0x06, 0x05);          // graphics, A0000-AFFFF
    gr(0x08, 0xFF);
  }
};
}  // namespace

TEST_CASE("vga write mode 0: map mask, set/reset, rotate, bit mask") {
  Rig r;
  r.wr(0xA0010, 0xA5);
  CHECK(r.planes(0x10) == 0xA5A5A5A5u);
  r.sr(0x02, 0x05);  // planes 0 and 2 only
  r.wr(0xA0010, 0x3C);
  CHECK(r.planes(0x10) == 0xA53CA53Cu);
  r.sr(0x02, 0x0F);

  // Set/reset enabled for planes 0,1: their bytes come from GR00, not the CPU.
  r.gr(0x00, 0x0A);
  r.gr(0x01, 0x03);
  r.wr(0xA0020, 0x5A);
  CHECK(r.planes(0x20) == 0x5A5AFF00u);
  r.gr(0x01, 0x00);

  // Rotate right by 3.
  r.gr(0x03, 0x03);
  r.wr(0xA0021, 0x01);
  CHECK(r.planes(0x21) == 0x20202020u);
  r.gr(0x03, 0x00);

  // Bit mask keeps latched bits where the mask is 0.
  r.wr(0xA0030, 0x0F);
  (void)r.rd(0xA0030);  // latch 0x0F in every plane
  r.gr(0x08, 0xF0);
  r.wr(0xA0030, 0xA0);
  CHECK(r.planes(0x30) == 0xAFAFAFAFu);
  r.gr(0x08, 0xFF);
}

TEST_CASE("vga ALU functions combine data with the latches") {
  Rig r;
  r.wr(0xA0000, 0xCC);
  const uint8_t data = 0xAA;
  const uint8_t expect[4] = {0xAA, 0xCC & 0xAA, 0xCC | 0xAA, 0xCC ^ 0xAA};
  for (unsigned fn = 0; fn < 4; ++fn) {
    (void)r.rd(0xA0000);  // latches = 0xCC (written before each round)
    r.gr(0x03, static_cast<uint8_t>(fn << 3));
    r.wr(0xA0001, data);
    CHECK(r.planes(1) == expect[fn] * 0x01010101u);
    r.gr(0x03, 0);
  }
}

TEST_CASE("vga write mode 1 copies the latches; write modes 2 and 3") {
  Rig r;
  // Distinct bytes in each plane at address 0x100.
  for (unsigned p = 0; p < 4; ++p) {
    r.sr(0x02, static_cast<uint8_t>(1 << p));
    r.wr(0xA0100, static_cast<uint8_t>(0x11 * (p + 1)));
  }
  r.sr(0x02, 0x0F);
  CHECK(r.planes(0x100) == 0x44332211u);

  r.gr(0x05, 0x01);
  (void)r.rd(0xA0100);
  r.gr(0x08, 0x00);  // bit mask does not apply in write mode 1
  r.wr(0xA0200, 0x00);
  CHECK(r.planes(0x200) == 0x44332211u);
  r.gr(0x08, 0xFF);

  // Write mode 2: CPU bits 3:0 fill whole planes, bit mask selects bits.
  r.gr(0x05, 0x02);
  (void)r.rd(0xA0300);  // latches 0
  r.gr(0x08, 0x81);
  r.wr(0xA0300, 0x05);
  CHECK(r.planes(0x300) == 0x00810081u);

  // Write mode 3: set/reset is the colour, rotated CPU data AND bit mask is the mask.
  r.gr(0x05, 0x03);
  r.gr(0x00, 0x0C);
  r.gr(0x08, 0x3C);
  (void)r.rd(0xA0100);  // latches 44 33 22 11
  r.wr(0xA0100, 0xF0);  // mask = 0xF0 & 0x3C = 0x30
  CHECK(r.planes(0x100) == ((0x44u | 0x30) << 24 | (0x33u | 0x30) << 16 | (0x22u & ~0x30u) << 8 | (0x11u & ~0x30u)));
}

TEST_CASE("vga read modes 0 and 1") {
  Rig r;
  for (unsigned p = 0; p < 4; ++p) {
    r.sr(0x02, static_cast<uint8_t>(1 << p));
    r.wr(0xA0040, static_cast<uint8_t>(0xF0 >> p));  // plane p: bits (4-p)..(7-p)
  }
  r.sr(0x02, 0x0F);
  for (unsigned p = 0; p < 4; ++p) {
    r.gr(0x04, static_cast<uint8_t>(p));
    CHECK(r.rd(0xA0040) == (0xF0 >> p));
  }
  // Colour compare: pixel colour at bit b = sum of plane bits.
  r.gr(0x05, 0x08);
  r.gr(0x02, 0x0F);  // colour 15: only bit 4 has all four planes set
  r.gr(0x07, 0x0F);
  CHECK(r.rd(0xA0040) == 0x10);
  r.gr(0x07, 0x01);  // compare plane 0 only: bits 4..7
  CHECK(r.rd(0xA0040) == 0xF0);
  r.gr(0x07, 0x00);  // nothing cared about: all match
  CHECK(r.rd(0xA0040) == 0xFF);
  r.gr(0x02, 0x00);
  r.gr(0x07, 0x0F);  // colour 0: bits 0..0 (none set anywhere) -> bits 0-0 and below 1
  CHECK(r.rd(0xA0040) == 0x01);
  CHECK(r.vga.latch() == 0x1E3C78F0u);
}

TEST_CASE("vga chain-4 and odd/even addressing") {
  Rig r;
  r.sr(0x04, 0x0E);  // chain-4
  for (unsigned i = 0; i < 8; ++i) r.wr(0xA0000 + 0x100 + i, static_cast<uint8_t>(0x80 + i));
  // CPU address A goes to plane A&3 at plane address A&~3.
  CHECK(r.planes(0x100) == 0x83828180u);
  CHECK(r.planes(0x104) == 0x87868584u);
  CHECK(r.planes(0x101) == 0);
  for (unsigned i = 0; i < 8; ++i) CHECK(r.rd(0xA0100 + i) == 0x80 + i);

  // Odd/even text layout at B8000: characters in plane 0, attributes in plane 1.
  r.sr(0x04, 0x02);
  r.sr(0x02, 0x03);
  r.gr(0x05, 0x10);
  r.gr(0x06, 0x0E);
  r.wr(0xB8000, 'A');
  r.wr(0xB8001, 0x1F);
  r.wr(0xB8002, 'B');
  r.wr(0xB8003, 0x2E);
  CHECK(r.vga.plane_byte(0, 0) == 'A');
  CHECK(r.vga.plane_byte(1, 0) == 0x1F);
  CHECK(r.vga.plane_byte(0, 2) == 'B');
  CHECK(r.vga.plane_byte(1, 2) == 0x2E);
  CHECK(r.vga.plane_byte(0, 1) == 0);
  CHECK(r.rd(0xB8000) == 'A');
  CHECK(r.rd(0xB8003) == 0x2E);
  // GR04 bit 1 moves odd/even reads to planes 2/3.
  r.gr(0x04, 0x02);
  CHECK(r.rd(0xB8000) == 0);
  // The A0000 window is not decoded with memory map 3 (B8000-BFFFF).
  CHECK(r.rd(0xA0000) == 0xFF);
  r.wr(0xA0000, 0x55);
  CHECK(r.planes(0) == 0x1F41u);
  // Misc output RAM enable off: the window is dead.
  r.out(0x3C2, 0x61);
  CHECK(r.rd(0xB8000) == 0xFF);
}

TEST_CASE("vga register files: CRTC protect, mono/colour ports, attribute flip-flop, DAC") {
  Rig r;
  r.cr(0x11, 0x00);
  r.cr(0x00, 0x5F);
  r.cr(0x07, 0x00);
  r.cr(0x11, 0x80);  // protect CR00-CR07
  r.cr(0x00, 0x12);
  r.cr(0x07, 0xFF);  // only bit 4 (line compare bit 8) gets through
  r.out(0x3D4, 0x00);
  CHECK(r.in(0x3D5) == 0x5F);
  CHECK(r.vga.cr(0x07) == 0x10);
  CHECK(r.vga.line_compare() == 0x100);

  // Mono addressing: the CRTC moves to 0x3B4/0x3B5, 0x3D5 is not decoded.
  r.out(0x3C2, 0x62);
  CHECK(r.in(0x3CC) == 0x62);
  CHECK(r.in(0x3D5) == 0xFF);
  r.out(0x3B4, 0x0E);
  r.out(0x3B5, 0x07);
  CHECK(r.vga.cr(0x0E) == 0x07);
  r.out(0x3C2, 0x63);

  // 16-bit OUT writes index and data.
  r.ports.port_write(0x3C4, 2, 0x0302);
  CHECK(r.vga.sr(0x02) == 0x03);

  // Attribute controller: reading input status 1 resets the flip-flop.
  r.out(0x3C0, 0x15);  // junk: leaves the flip-flop in data state
  (void)r.in(0x3DA);
  r.out(0x3C0, 0x01);  // index 1
  r.out(0x3C0, 0x3F);
  r.out(0x3C0, 0x30);  // index 0x10 with PAS
  r.out(0x3C0, 0x41);
  CHECK(r.vga.ar(0x01) == 0x3F);
  CHECK(r.vga.ar(0x10) == 0x41);
  CHECK(r.in(0x3C0) == 0x30);
  CHECK(r.in(0x3C1) == 0x41);
  CHECK((r.vga.ar_index() & 0x20) == 0x20);

  // DAC: write index auto-increments after three components; 6-bit values.
  r.out(0x3C8, 0x10);
  for (uint8_t v : {0x01, 0x02, 0xFF, 0x04, 0x05, 0x06}) r.out(0x3C9, v);
  CHECK(r.in(0x3C8) == 0x12);
  CHECK(r.in(0x3C7) == 0x00);
  r.out(0x3C7, 0x10);
  CHECK(r.in(0x3C7) == 0x03);
  std::vector<uint8_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(r.in(0x3C9));
  CHECK(got == std::vector<uint8_t>{0x01, 0x02, 0x3F, 0x04, 0x05, 0x06});
  r.out(0x3C6, 0x0F);
  CHECK(r.in(0x3C6) == 0x0F);
}

TEST_CASE("vga vertical retrace follows the virtual clock") {
  Rig r;
  // Mode 3 timing: 100 chars x 9 dots at 28.322 MHz, 449 lines, retrace at line 0x19C for 2 lines.
  r.out(0x3C2, 0x67);
  r.sr(0x01, 0x00);
  const uint8_t crtc[] = {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
                          0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
  r.cr(0x11, 0);
  for (uint8_t i = 0; i < sizeof crtc; ++i) r.cr(i, crtc[i]);
  const uint64_t line = 100ull * 9 * 1000000000ull / 28322000;
  CHECK(r.vga.line_ns() == line);
  CHECK(r.vga.vertical_total() == 449);
  CHECK(r.vga.frame_ns() == line * 449);  // ~70 Hz

  auto status_at = [&](uint64_t t) {
    r.clock.advance_to(t);
    return r.in(0x3DA);
  };
  CHECK((status_at(10 * line) & 0x08) == 0);         // active display
  CHECK((status_at(10 * line) & 0x01) == 0);
  CHECK((status_at(10 * line + line - 10) & 0x01) == 0x01);  // horizontal blank at the end of the line
  CHECK((status_at(400 * line) & 0x09) == 0x01);     // vertical blank, not yet retrace
  CHECK((status_at(0x19C * line + 5) & 0x09) == 0x09);
  CHECK((status_at(0x19E * line + 5) & 0x08) == 0);  // retrace lasted 2 lines (CR11 low nibble 0xE)
  const uint64_t f = r.vga.frame_ns();
  CHECK((status_at(3 * f + 0x19C * line + 5) & 0x08) == 0x08);  // next frames too
}

TEST_CASE("vga state round-trips through serialize") {
  Rig r;
  r.wr(0xA1234, 0x5A);
  r.out(0x3C8, 7);
  r.out(0x3C9, 1);
  r.out(0x3C9, 2);
  r.out(0x3C9, 3);
  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  r.vga.serialize(save);

  Rig r2;
  StateSerializer load(blob.data(), blob.size());
  r2.vga.serialize(load);
  CHECK(load.at_end());
  CHECK(r2.planes(0x1234) == 0x5A5A5A5Au);
  CHECK(r2.vga.dac_entry(7)[2] == 3);
  CHECK(r2.vga.gr(0x06) == 0x05);

  std::vector<uint8_t> cut(blob.begin(), blob.begin() + 100);
  StateSerializer bad(cut.data(), cut.size());
  CHECK_THROWS_AS(r2.vga.serialize(bad), StateError);
}

TEST_CASE("bochs vbe: id, caps, enable, banks, linear framebuffer") {
  Rig r;
  BochsVbe vbe(r.ports, r.vga);
  auto wreg = [&](uint16_t i, uint16_t v) {
    r.ports.port_write(0x1CE, 2, i);
    r.ports.port_write(0x1CF, 2, v);
  };
  auto rreg = [&](uint16_t i) {
    r.ports.port_write(0x1CE, 2, i);
    return r.ports.port_read(0x1CF, 2);
  };
  CHECK(rreg(vbe::kIndexId) == 0xB0C5);
  wreg(vbe::kIndexId, 0xB0C0);
  CHECK(rreg(vbe::kIndexId) == 0xB0C0);
  wreg(vbe::kIndexId, 0x1234);  // not a DISPI id: ignored
  CHECK(rreg(vbe::kIndexId) == 0xB0C0);
  CHECK(rreg(vbe::kIndexVideoMemory64K) == 16);  // 1 MiB in this rig

  wreg(vbe::kIndexEnable, vbe::kGetCaps);
  CHECK(rreg(vbe::kIndexXres) == vbe::kMaxXres);
  CHECK(rreg(vbe::kIndexBpp) == 32);
  wreg(vbe::kIndexEnable, 0);

  r.vga.vram()[5] = 0x77;
  wreg(vbe::kIndexXres, 640);
  wreg(vbe::kIndexYres, 480);
  wreg(vbe::kIndexBpp, 16);
  wreg(vbe::kIndexEnable, vbe::kEnabled | vbe::kLfbEnabled);
  CHECK(vbe.enabled());
  CHECK(vbe.line_bytes() == 1280);
  CHECK(r.vga.vram()[5] == 0);  // enabling without NOCLEARMEM clears the screen
  CHECK(rreg(vbe::kIndexVirtHeight) == (1u << 20) / 1280);

  // Banked window: bank 3 is VRAM 0x30000.
  wreg(vbe::kIndexBank, 3);
  r.wr(0xA0010, 0xAB);
  CHECK(r.vga.vram()[0x30010] == 0xAB);
  CHECK(r.rd(0xA0010) == 0xAB);
  CHECK(r.rd(0xB0000) == 0xFF);
  // The LFB sees the same bytes.
  CHECK(vbe.lfb().mmio_read(0x30010, 1) == 0xAB);
  vbe.lfb().mmio_write(0x40000, 4, 0x11223344);
  CHECK(r.vga.vram()[0x40000] == 0x44);
  CHECK(vbe.lfb().mmio_read(0x40000, 4) == 0x11223344u);
  CHECK(vbe.lfb().mmio_read((1u << 20) - 2, 4) == 0xFFFFFFFFu);  // past VRAM

  // Offsets move the start; a screen that would run past VRAM is refused.
  wreg(vbe::kIndexYOffset, 10);
  wreg(vbe::kIndexXOffset, 8);
  CHECK(vbe.start_offset() == 10 * 1280 + 16);
  wreg(vbe::kIndexYOffset, 500);
  CHECK(rreg(vbe::kIndexYOffset) == 0);
  // Bad depth falls back to 8; too-large heights are clamped to VRAM.
  wreg(vbe::kIndexBpp, 13);
  CHECK(rreg(vbe::kIndexBpp) == 8);
  wreg(vbe::kIndexBpp, 32);
  wreg(vbe::kIndexYres, 4000);
  CHECK(rreg(vbe::kIndexYres) == (1u << 20) / (640 * 4));

  // NOCLEARMEM keeps VRAM on a fresh enable; disabling restores the VGA window.
  wreg(vbe::kIndexEnable, 0);
  CHECK(!r.vga.vbe_window_enabled());
  r.vga.vram()[7] = 0x99;
  wreg(vbe::kIndexEnable, vbe::kEnabled | vbe::kNoClearMem);
  CHECK(r.vga.vram()[7] == 0x99);

  std::vector<uint8_t> blob;
  StateSerializer save(blob);
  vbe.serialize(save);
  Rig r2;
  BochsVbe vbe2(r2.ports, r2.vga);
  StateSerializer load(blob.data(), blob.size());
  vbe2.serialize(load);
  CHECK(vbe2.enabled());
  CHECK(vbe2.bpp() == 32);
  CHECK(r2.vga.vbe_window_enabled());
}
