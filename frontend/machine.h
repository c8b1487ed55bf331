// The whole emulated PC: owns guest RAM, the port and MMIO buses, the virtual
// clock with its event queue, the CPU and every device, and runs the loop
// (CPU budget = time to the next event; HLT skips to the next event).
// No globals: any number of Machines can live in one process.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bios/acpi_tables.h"
#include "bios/direct_boot.h"
#include "bios/seabios_config.h"
#include "cpu/cpu.h"
#include "frontend/machine_config.h"
#include "frontend/pc_board.h"
#include "io/clock.h"
#include "io/device.h"
#include "io/port_bus.h"
#include "mem/physical_memory.h"

namespace pc64 {

enum class ExitReason {
  None,              // still runnable
  PowerOff,          // the guest switched itself off (ACPI S5, ...)
  Stopped,           // the user or frontend asked to stop
  Paused,            // pause(): the machine is intact and run() goes on from here
  InstructionLimit,  // --max-instructions reached
  TripleFault,       // CPU shutdown and the machine is set to stop on it
  HaltedForever,     // HLT with no event left that could wake the CPU
  Breakpoint,        // a debugger breakpoint, watchpoint or event break (cpu().debug().take_stop())
};

// Process exit codes, documented in README.md.
int exit_code_for(ExitReason r);
const char* describe(ExitReason r);

class Machine {
 public:
  explicit Machine(const MachineConfig& config);  // throws std::runtime_error subclasses on bad config
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  const MachineConfig& config() const { return config_; }
  PhysicalMemory& memory() { return mem_; }
  PortBus& ports() { return ports_; }
  VirtualClock& clock() { return clock_; }
  Cpu& cpu() { return *cpu_; }

  // Takes ownership; the device is reset with the machine and serialised with it.
  Device& add_device(std::unique_ptr<Device> d);
  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }

  // Hardware reset of the CPU and every device (RAM keeps its contents).
  void reset();

  // Runs until something stops the machine or `max_instructions` more
  // instructions have retired (0: no limit of its own; the config's
  // max_instructions still applies to the total). Returns why it stopped;
  // ExitReason::None means the slice ended and the machine can run on.
  ExitReason run(uint64_t max_instructions = 0);

  // The PC's devices (null for a bare machine).
  PcBoard* board() { return board_.get(); }

  // A guest-initiated reset (keyboard controller, 0xCF9, port 0x92, triple
  // fault with --triple-fault reset): done by the loop at an instruction boundary.
  void request_reset();

  // Pauses the running machine at the next instruction boundary: run()
  // returns ExitReason::Paused and a later run() continues exactly there.
  void pause() { request_stop(ExitReason::Paused); }

  // Asks the loop to stop at the next instruction boundary. Safe to call from
  // device callbacks during run(), or from another thread (window, signal).
  void request_stop(ExitReason why);

  ExitReason exit_reason() const { return exit_reason_; }
  const std::string& exit_message() const { return exit_message_; }
  uint64_t instructions_retired() const { return retired_; }

 private:
  SeabiosSetup seabios_setup() const;
  AcpiConfig acpi_config() const;

  MachineConfig config_;
  PhysicalMemory mem_;
  PortBus ports_;
  VirtualClock clock_;
  std::unique_ptr<Cpu> cpu_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unique_ptr<PcBoard> board_;
  std::unique_ptr<DirectBoot> direct_boot_;  // --kernel: replaces the BIOS at every reset
  std::atomic<bool> reset_request_{false};
  std::atomic<int> stop_request_{0};  // an ExitReason, 0 = none
  ExitReason exit_reason_ = ExitReason::None;
  std::string exit_message_;
  uint64_t retired_ = 0;
};

}  // namespace pc64
