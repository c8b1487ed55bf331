// The i440FX + PIIX3/PIIX4 PC that pc64 emulates (QEMU's "pc" machine):
// which devices exist, at which ports/addresses/IRQs, and how they are wired
// to each other. The Machine owns the devices; the board keeps typed
// pointers to them for wiring, the monitor and the frontends.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "frontend/machine_config.h"
#include "io/acpi_pm.h"
#include "io/atapi_cdrom.h"
#include "io/char_backend.h"
#include "io/debug_ports.h"
#include "io/clock.h"
#include "io/fw_cfg.h"
#include "io/i440fx.h"
#include "io/i8042.h"
#include "io/interrupt_router.h"
#include "io/ioapic.h"
#include "io/lapic.h"
#include "io/pci_bus.h"
#include "io/pic8259.h"
#include "io/piix_ide.h"
#include "io/pit8254.h"
#include "io/piix3_isa.h"
#include "io/port92.h"
#include "io/coprocessor_error.h"
#include "io/port_bus.h"
#include "io/rtc_cmos.h"
#include "io/serial_input_pump.h"
#include "io/std_vga_pci.h"
#include "io/uart16550.h"
#include "mem/physical_memory.h"

namespace pc64 {

// What the board asks of the machine that owns it.
struct BoardHooks {
  std::function<void()> reset;      // a guest-initiated reset (0xCF9, port 0x92, i8042)
  std::function<void()> power_off;  // ACPI S5
};

struct PcBoard {
  // Builds every device, registering its ports/MMIO/timers; `own` receives
  // ownership of each device in construction order. `vga_rom` may be empty.
  // Opens the disk images named in `config` (throws DiskImageError).
  PcBoard(const MachineConfig& config, PhysicalMemory& mem, PortBus& ports, VirtualClock& clock, BoardHooks hooks,
          const std::function<void(std::unique_ptr<Device>)>& own, std::vector<uint8_t> vga_rom);

  Pic8259* pic = nullptr;
  LocalApic* lapic = nullptr;
  IoApic* ioapic = nullptr;
  InterruptRouter* router = nullptr;
  PciBus* pci = nullptr;
  I440fx* host_bridge = nullptr;
  Piix3Isa* isa_bridge = nullptr;
  AcpiPm* pm = nullptr;
  FwCfg* fw_cfg = nullptr;
  Port92* port92 = nullptr;
  CoprocessorError* coprocessor_error = nullptr;
  Pit8254* pit = nullptr;
  RtcCmos* rtc = nullptr;
  I8042* kbc = nullptr;
  Uart16550* com1 = nullptr;
  Uart16550* com2 = nullptr;
  DebugPorts* debug_ports = nullptr;
  PiixIde* ide = nullptr;
  StdVgaPci* vga = nullptr;
  AtapiCdrom* cdrom = nullptr;  // secondary master, always present (maybe empty)

  // Host ends of COM1 and the debug console (flushed at exit).
  std::unique_ptr<CharBackend> serial_out, debugcon_out;
  // Host input (stdin, TCP) into COM1; null when the backend has none.
  std::unique_ptr<SerialInputPump> serial_in;

  // PCI slots as QEMU's "pc" places them (SeaBIOS and the DSDT's _PRT agree).
  static constexpr uint8_t kSlotHostBridge = 0, kSlotPiix = 1, kSlotVga = 2;
  static constexpr uint8_t kFnIsa = 0, kFnIde = 1, kFnPm = 3;

  // Programs what SeaBIOS would for a kernel booted without it: the PIIX4
  // PM I/O window at 0x600 and the legacy BIOS area as RAM.
  void configure_for_direct_boot();

  // Runtime media change (the monitor's `change cdrom FILE` / `eject cdrom`).
  // change_cdrom: opens `spec` (PATH[,format=...], read-only) and puts it in
  // the drive, closing the tray; the guest's next command gets UNIT
  // ATTENTION (MEDIUM MAY HAVE CHANGED) and GET EVENT STATUS NOTIFICATION
  // reports NewMedia. Throws (DiskImageError / std::runtime_error, with the
  // reason) if the image cannot be opened; the old medium then stays.
  void change_cdrom(const std::string& spec);
  // eject_cdrom: removes the medium (GESN: MediaRemoval; commands then get
  // NOT READY, MEDIUM NOT PRESENT). A tray the guest locked with PREVENT
  // MEDIUM REMOVAL is refused with std::runtime_error unless `force`.
  void eject_cdrom(bool force = false);

 private:
  std::unique_ptr<LegacyPicAdapter<Pic8259>> pic_adapter_;
};

}  // namespace pc64
