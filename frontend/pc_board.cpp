#include "frontend/pc_board.h"

#include <stdexcept>

#include "io/ata_disk.h"
#include "io/atapi_cdrom.h"
#include "io/disk_image_open.h"
#include "io/tcp_char_backend.h"

namespace pc64 {

namespace {
template <class T, class... Args>
T* make(const std::function<void(std::unique_ptr<Device>)>& own, Args&&... args) {
  auto d = std::make_unique<T>(std::forward<Args>(args)...);
  T* raw = d.get();
  own(std::move(d));
  return raw;
}
}  // namespace

PcBoard::PcBoard(const MachineConfig& config, PhysicalMemory& mem, PortBus& ports, VirtualClock& clock, BoardHooks hooks,
                 const std::function<void(std::unique_ptr<Device>)>& own, std::vector<uint8_t> vga_rom) {
  // Interrupt controllers first: everything else raises lines into them.
  pic = make<Pic8259>(own, ports);
  pic_adapter_ = std::make_unique<LegacyPicAdapter<Pic8259>>(*pic);
  lapic = make<LocalApic>(own, mem, clock);
  ioapic = make<IoApic>(own, mem, lapic);  // after the LAPIC: it listens for EOIs
  router = make<InterruptRouter>(own, *pic_adapter_, *ioapic, *lapic);

  // PCI: 00.0 host bridge, 01.0 ISA bridge, 01.3 power management.
  pci = make<PciBus>(own, ports, mem, router, InterruptRouter::kPirqBase);
  host_bridge = make<I440fx>(own, *pci, mem);
  InterruptRouter* r = router;
  isa_bridge = make<Piix3Isa>(
      own, *pci, [r](unsigned pirq, int irq) { r->set_pirq_route(pirq, irq); },
      [reset = hooks.reset](bool) { reset(); });
  pm = make<AcpiPm>(own, *pci, ports, clock, IrqLine(router, AcpiPm::kSciIrq), hooks.power_off);

  // The ISA devices on their classic ports and IRQs.
  pit = make<Pit8254>(own, ports, clock, IrqLine(router, 0));
  rtc = make<RtcCmos>(own, ports, clock, IrqLine(router, 8), config.rtc_start_time);
  rtc->set_memory_sizes(mem.ram_below_4g(), mem.ram_above_4g());
  rtc->set_cpu_count(1);
  rtc->set_equipment(0);  // no floppies; FPU and PS/2 mouse present
  rtc->set_boot_order(config.boot_order);
  kbc = make<I8042>(own, ports, IrqLine(router, 1), IrqLine(router, 12), [&mem](bool on) { mem.set_a20(on); },
                    hooks.reset);
  kbc->attach_clock(clock);
  port92 = make<Port92>(own, ports, [&mem](bool on) { mem.set_a20(on); }, hooks.reset);
  coprocessor_error = make<CoprocessorError>(own, ports, IrqLine(router, CoprocessorError::kIrq));
  router->connect_ferr([c = coprocessor_error](bool asserted) { c->set_ferr(asserted); });
  router->connect_ignne([c = coprocessor_error] { return c->ignne(); });

  switch (config.serial) {
    case SerialMode::Stdio:
      serial_out = std::make_unique<StdioCharBackend>(stdout, config.serial_stdin ? 0 : -1);
      break;
    case SerialMode::Tcp:
      serial_out = std::make_unique<TcpCharBackend>(config.serial_tcp_port, config.serial_tcp_wait);
      break;
    case SerialMode::File: serial_out = std::make_unique<FileCharBackend>(config.serial_path); break;
    case SerialMode::None: serial_out = std::make_unique<NullCharBackend>(); break;
  }
  com1 = make<Uart16550>(own, ports, clock, 0x3F8, IrqLine(router, 4), serial_out.get());
  com2 = make<Uart16550>(own, ports, clock, 0x2F8, IrqLine(router, 3), nullptr);
  if (serial_out->has_input()) serial_in = std::make_unique<SerialInputPump>(clock, *serial_out, *com1);
  if (!config.debugcon_path.empty()) debugcon_out = std::make_unique<FileCharBackend>(config.debugcon_path);
  debug_ports = make<DebugPorts>(own, ports, debugcon_out.get());

  // 00:01.1 IDE: --hda primary master, --hdb primary slave, --cdrom secondary master.
  ide = make<PiixIde>(own, *pci, router, kSlotPiix, kFnIde);
  auto disk = [&](const std::string& spec, unsigned channel, unsigned unit) {
    if (spec.empty()) return;
    DiskSpec d = parse_disk_spec(spec, config.snapshot ? DiskWriteMode::Snapshot : DiskWriteMode::Overlay);
    if (d.options.mode == DiskWriteMode::Overlay && d.options.overlay_path.empty())
      d.options.overlay_path = d.path + ".pc64-overlay.qcow2";
    ide->channel(channel).attach(unit, std::make_unique<AtaDisk>(open_disk_image(d.path, d.options),
                                                                 "PC64-HD" + std::to_string(channel * 2 + unit)));
  };
  disk(config.hda, 0, 0);
  disk(config.hdb, 0, 1);
  if (!config.cdrom.empty()) {
    DiskSpec d = parse_disk_spec(config.cdrom, DiskWriteMode::ReadOnly);
    auto drive = std::make_unique<AtapiCdrom>(open_disk_image(d.path, d.options));
    cdrom = drive.get();
    ide->channel(1).attach(0, std::move(drive));
  } else {
    auto drive = std::make_unique<AtapiCdrom>();  // an empty drive, as QEMU's default
    cdrom = drive.get();
    ide->channel(1).attach(0, std::move(drive));
  }

  // 00:02.0 std-vga with the Bochs VBE extension; SeaBIOS loads its ROM.
  vga = make<StdVgaPci>(own, *pci, clock, std::move(vga_rom), Vga::kDefaultVramBytes, kSlotVga);

  fw_cfg = make<FwCfg>(own, ports, mem);
}

void PcBoard::change_cdrom(const std::string& spec) {
  DiskSpec d = parse_disk_spec(spec, DiskWriteMode::ReadOnly);
  cdrom->insert_medium(open_disk_image(d.path, d.options));  // opened first: a bad file keeps the old disc
}

void PcBoard::eject_cdrom(bool force) {
  if (cdrom->locked() && !force)
    throw std::runtime_error("the guest has locked the CD-ROM tray (PREVENT MEDIUM REMOVAL); force to eject anyway");
  cdrom->remove_medium();
}

void PcBoard::configure_for_direct_boot() {
  // PMBA = 0x600 with the I/O space enabled, as SeaBIOS's piix4_pm_setup does.
  pci->config_write(kSlotPiix, kFnPm, AcpiPm::kPmba, 4, 0x600 | 1);
  pci->config_write(kSlotPiix, kFnPm, AcpiPm::kPmregmisc, 1, 1);
  // IDETIM: IDE decode enable on both channels (SeaBIOS's piix_ide_setup);
  // Linux's ata_piix skips a channel whose enable bit is clear.
  pci->config_write(kSlotPiix, kFnIde, 0x40, 2, 0x8000);
  pci->config_write(kSlotPiix, kFnIde, 0x42, 2, 0x8000);
  // PAM: 0xC0000-0xFFFFF read/write to RAM (PAM0 has only its high nibble).
  for (uint8_t reg = 0x59; reg <= 0x5F; ++reg)
    pci->config_write(kSlotHostBridge, 0, reg, 1, reg == 0x59 ? 0x30 : 0x33);
}

}  // namespace pc64
