#include <doctest/doctest.h>

#include <string>

#include "bios/seabios_config.h"

using namespace pc64;

TEST_CASE("SeaBIOS learns RAM, CPUs and boot order through fw_cfg") {
  PhysicalMemory mem(4 << 20);
  PortBus ports;
  FwCfg fw(ports, mem);
  SeabiosSetup s;
  s.ram_below_4g = 0xC0000000;
  s.ram_above_4g = 1ULL << 30;
  s.boot_order = {{1, 0, true}, {0, 0, false}};
  configure_seabios(fw, s);
  const auto* e820 = fw.file("etc/e820");
  REQUIRE(e820);
  CHECK(e820->size() == 40);
  const auto* order = fw.file("bootorder");
  REQUIRE(order);
  CHECK(std::string(order->begin(), order->end()) ==
        "/pci@i0cf8/ide@1,1/drive@1/disk@0\n/pci@i0cf8/ide@1,1/drive@0/disk@0\n");
  ports.port_write(FwCfg::kPortSelector, 2, FwCfg::kNbCpus);
  CHECK(ports.port_read(FwCfg::kPortData, 1) == 1);
}
