#include "frontend/machine.h"

#include <algorithm>

#include "bios/acpi_loader.h"
#include "bios/acpi_tables.h"
#include "bios/firmware.h"
#include "bios/seabios_config.h"

namespace pc64 {

int exit_code_for(ExitReason r) {
  switch (r) {
    case ExitReason::None:
    case ExitReason::PowerOff:
    case ExitReason::Stopped:
    case ExitReason::Paused:
    case ExitReason::Breakpoint:
      return 0;
    case ExitReason::InstructionLimit:
      return 3;
    case ExitReason::TripleFault:
      return 4;
    case ExitReason::HaltedForever:
      return 5;
  }
  return 1;
}

const char* describe(ExitReason r) {
  switch (r) {
    case ExitReason::None: return "running";
    case ExitReason::PowerOff: return "the guest powered off";
    case ExitReason::Stopped: return "stopped";
    case ExitReason::Paused: return "paused";
    case ExitReason::InstructionLimit: return "instruction limit reached";
    case ExitReason::TripleFault: return "the guest triple-faulted (CPU shutdown)";
    case ExitReason::HaltedForever: return "the guest halted with nothing left to wake it";
    case ExitReason::Breakpoint: return "debugger breakpoint";
  }
  return "?";
}

Machine::Machine(const MachineConfig& config)
    : config_(config), mem_(config.ram_bytes), clock_(config.instructions_per_second) {
  cpu_ = std::make_unique<Cpu>(mem_, ports_);
  if (config_.pc_board) {
    BoardHooks hooks{[this] { request_reset(); }, [this] { request_stop(ExitReason::PowerOff); }};
    std::vector<uint8_t> vga_rom;
    if (config_.kernel.empty() && !config_.vga_bios_path.empty())
      vga_rom = read_firmware_file(config_.vga_bios_path, "VGA BIOS image");
    board_ = std::make_unique<PcBoard>(config_, mem_, ports_, clock_, hooks,
                                       [this](std::unique_ptr<Device> d) { add_device(std::move(d)); },
                                       std::move(vga_rom));
    cpu_->set_interrupt_source(board_->router);
  }
  if (!config_.kernel.empty()) {
    if (!board_) throw BootError("--kernel needs the PC board");
    direct_boot_ = std::make_unique<DirectBoot>(config_.kernel, config_.initrd, config_.append);
  } else if (!config_.bios_path.empty()) {
    map_system_bios(mem_, read_firmware_file(config_.bios_path, "BIOS image"), config_.bios_path);
    if (board_) {
      configure_seabios(*board_->fw_cfg, seabios_setup());
      // pc64's ACPI tables, which SeaBIOS places and links with the table loader.
      AcpiBlobs acpi = build_acpi(acpi_config());
      board_->fw_cfg->add_file(kAcpiRsdpFile, acpi.rsdp);
      board_->fw_cfg->add_file(kAcpiTablesFile, acpi.tables);
      board_->fw_cfg->add_file(kAcpiTableLoaderFile, table_loader_commands(acpi));
    }
  }
  reset();
}

Machine::~Machine() = default;

Device& Machine::add_device(std::unique_ptr<Device> d) {
  devices_.push_back(std::move(d));
  return *devices_.back();
}

AcpiConfig Machine::acpi_config() const {
  AcpiConfig c;
  c.ram_below_4g = mem_.ram_below_4g();
  c.ram_above_4g = mem_.ram_above_4g();
  return c;
}

SeabiosSetup Machine::seabios_setup() const {
  SeabiosSetup s;
  s.ram_below_4g = mem_.ram_below_4g();
  s.ram_above_4g = mem_.ram_above_4g();
  // QEMU's placement: --hda primary master, --hdb primary slave, --cdrom secondary master.
  for (char c : config_.boot_order) {
    if (c == 'd' && !config_.cdrom.empty()) s.boot_order.push_back({1, 0, true});
    if (c == 'c' && !config_.hda.empty()) s.boot_order.push_back({0, 0, false});
  }
  return s;
}

void Machine::reset() {
  mem_.set_a20(true);
  for (auto& d : devices_) d->reset();
  cpu_->reset();
  if (direct_boot_) {
    board_->configure_for_direct_boot();
    uint64_t rsdp = install_acpi_direct_boot(mem_, build_acpi(acpi_config()));
    apply_boot_state(*cpu_, direct_boot_->load(mem_, kAcpiDirectBootRegion, rsdp));
  }
}

void Machine::request_reset() {
  reset_request_ = true;
  cpu_->request_stop();
}

void Machine::request_stop(ExitReason why) {
  int expected = 0;
  stop_request_.compare_exchange_strong(expected, static_cast<int>(why));
  cpu_->request_stop();
}

ExitReason Machine::run(uint64_t max_instructions) {
  constexpr uint64_t kSlice = 1ULL << 20;  // bounds the latency of stop requests
  const uint64_t start = retired_;
  exit_reason_ = ExitReason::None;
  for (;;) {
    if (int s = stop_request_.exchange(0)) {
      exit_reason_ = static_cast<ExitReason>(s);
      break;
    }
    if (reset_request_.exchange(false)) reset();
    if (cpu_->shutdown()) {
      if (config_.on_triple_fault == TripleFaultAction::Reset) {
        reset();
      } else {
        exit_reason_ = ExitReason::TripleFault;
        exit_message_ = cpu_->shutdown_reason();
        break;
      }
    }
    uint64_t cap = kSlice;
    if (max_instructions) {
      uint64_t done = retired_ - start;
      if (done >= max_instructions) break;  // slice over: ExitReason::None
      cap = std::min(cap, max_instructions - done);
    }
    if (config_.max_instructions) {
      if (retired_ >= config_.max_instructions) {
        exit_reason_ = ExitReason::InstructionLimit;
        break;
      }
      cap = std::min(cap, config_.max_instructions - retired_);
    }
    cpu_->set_time_base(clock_.now());
    uint64_t n = cpu_->run(clock_.budget_to_next_event(cap));
    retired_ += n;
    clock_.retire(n);
    if (cpu_->debug().stop_pending()) {
      exit_reason_ = ExitReason::Breakpoint;
      break;
    }
    if (n == 0 && cpu_->halted() && !stop_request_.load()) {
      uint64_t next = clock_.next_deadline();
      if (next == VirtualClock::kNever) {
        exit_reason_ = ExitReason::HaltedForever;
        break;
      }
      clock_.advance_to(next);  // HLT: skip idle time to the next event
    }
  }
  return exit_reason_;
}

}  // namespace pc64
