// What SeaBIOS learns about the machine through fw_cfg: CPU count, RAM
// (etc/e820 and the legacy RAM size), boot order as OpenFirmware device
// paths of the IDE drives, and no interactive boot menu.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/fw_cfg.h"

namespace pc64 {

struct SeabiosSetup {
  uint64_t ram_below_4g = 0, ram_above_4g = 0;
  unsigned cpus = 1;
  // Boot devices in order, as QEMU names them on the "pc" machine's PIIX IDE
  // (device 1 function 1): channel and unit of each, e.g. {1, 0} = secondary master.
  struct IdeDrive {
    unsigned channel, unit;
    bool cdrom;
  };
  std::vector<IdeDrive> boot_order;
};

// OpenFirmware path SeaBIOS matches against its IDE drives.
std::string ide_boot_path(unsigned channel, unsigned unit);

void configure_seabios(FwCfg& fw, const SeabiosSetup& setup);

}  // namespace pc64
