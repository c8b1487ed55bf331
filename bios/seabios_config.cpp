#include "bios/seabios_config.h"

#include "bios/e820.h"

namespace pc64 {

std::string ide_boot_path(unsigned channel, unsigned unit) {
  return "/pci@i0cf8/ide@1,1/drive@" + std::to_string(channel) + "/disk@" + std::to_string(unit);
}

void configure_seabios(FwCfg& fw, const SeabiosSetup& setup) {
  fw.set_u16(FwCfg::kNbCpus, static_cast<uint16_t>(setup.cpus));
  fw.set_u16(FwCfg::kMaxCpus, static_cast<uint16_t>(setup.cpus));
  fw.set_u64(FwCfg::kRamSize, setup.ram_below_4g + setup.ram_above_4g);
  fw.set_u16(FwCfg::kBootMenu, 0);
  fw.add_file("etc/e820", encode_fw_cfg_e820(firmware_e820(setup.ram_below_4g, setup.ram_above_4g)));
  std::string order;
  for (const auto& d : setup.boot_order) order += ide_boot_path(d.channel, d.unit) + "\n";
  if (!order.empty()) fw.add_file("bootorder", std::vector<uint8_t>(order.begin(), order.end()));
  // Do not sit in the "No bootable device" retry loop forever in tests: SeaBIOS
  // retries after this many milliseconds (value little-endian u32).
  fw.add_file("etc/boot-fail-wait", {0x10, 0x27, 0, 0});  // 10 s
}

}  // namespace pc64
