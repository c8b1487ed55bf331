#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "io/fw_cfg.h"

using namespace pc64;

namespace {
struct Rig {
  PhysicalMemory mem{4 << 20};
  PortBus ports;
  FwCfg fw{ports, mem};
  std::string read_item(uint16_t key, size_t n) {
    ports.port_write(FwCfg::kPortSelector, 2, key);
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>(ports.port_read(FwCfg::kPortData, 1));
    return s;
  }
  void dma(uint64_t desc_addr, uint32_t control, uint32_t len, uint64_t target) {
    uint8_t d[16];
    uint32_t c = __builtin_bswap32(control), l = __builtin_bswap32(len);
    uint64_t t = __builtin_bswap64(target);
    std::memcpy(d, &c, 4);
    std::memcpy(d + 4, &l, 4);
    std::memcpy(d + 8, &t, 8);
    mem.write_bytes(desc_addr, d, 16);
    // SeaBIOS writes the address as two big-endian dwords, high first.
    ports.port_write(FwCfg::kPortDma, 4, __builtin_bswap32(static_cast<uint32_t>(desc_addr >> 32)));
    ports.port_write(FwCfg::kPortDma + 4, 4, __builtin_bswap32(static_cast<uint32_t>(desc_addr)));
  }
};
}  // namespace

TEST_CASE("fw_cfg signature, ID and the DMA probe") {
  Rig r;
  CHECK(r.read_item(FwCfg::kSignature, 4) == "QEMU");
  std::string id = r.read_item(FwCfg::kId, 4);
  CHECK(static_cast<uint8_t>(id[0]) == 3);
  CHECK(r.ports.port_read(FwCfg::kPortDma, 4) == 0x554D4551u);  // "QEMU" read little-endian
  // Past the end of an item reads zero; an unknown selector reads zero.
  CHECK(r.read_item(FwCfg::kSignature, 6).substr(4) == std::string(2, '\0'));
  CHECK(r.read_item(0x7777, 2) == std::string(2, '\0'));
}

TEST_CASE("fw_cfg file directory lists files big-endian") {
  Rig r;
  uint16_t k1 = r.fw.add_file("etc/e820", std::vector<uint8_t>(40, 0xAB));
  uint16_t k2 = r.fw.add_file("bootorder", {'/', 'x', '\n'});
  CHECK(k1 == FwCfg::kFileFirst);
  CHECK(k2 == FwCfg::kFileFirst + 1);
  std::string dir = r.read_item(FwCfg::kFileDir, 4 + 2 * 64);
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(dir[i]); };
  CHECK(u8(3) == 2);  // count
  CHECK(u8(4 + 3) == 40);  // size of entry 0
  CHECK(((u8(8) << 8) | u8(9)) == k1);
  CHECK(dir.substr(12, 8) == "etc/e820");
  CHECK(u8(64 + 4 + 3) == 3);
  CHECK(dir.substr(64 + 12, 9) == "bootorder");
  // Replacing a file keeps its selector.
  CHECK(r.fw.add_file("bootorder", {'/', 'y', '\n'}) == k2);
  CHECK(r.read_item(k2, 3) == "/y\n");
}

TEST_CASE("fw_cfg DMA read with select, skip, and errors") {
  Rig r;
  uint16_t k = r.fw.add_file("etc/test", {1, 2, 3, 4, 5, 6, 7, 8});
  r.dma(0x1000, (uint32_t{k} << 16) | FwCfg::kDmaSelect | FwCfg::kDmaRead, 3, 0x2000);
  CHECK(r.mem.read(0x1000, 4) == 0);  // control cleared: success
  CHECK(r.mem.read(0x2000, 4) == 0x030201u);
  r.dma(0x1000, FwCfg::kDmaSkip, 2, 0);
  r.dma(0x1000, FwCfg::kDmaRead, 4, 0x3000);  // continues at offset 5, past the end reads zero
  CHECK(r.mem.read(0x3000, 4) == 0x000080706u);
  // A DMA target outside RAM is refused and reported in the control word.
  r.dma(0x1000, FwCfg::kDmaRead, 4, 0x7FFF0000);
  CHECK(r.mem.read(0x1000, 4) == 0x01000000u);  // be32 error bit
}
