// Everything needed to build a Machine, filled from the command line (or by
// tests directly).
#pragma once
#include <cstdint>
#include <string>

namespace pc64 {

enum class SerialMode { Stdio, File, Tcp, None };
enum class TripleFaultAction { Reset, Stop };

struct MachineConfig {
  // false: only RAM, buses, clock and CPU (unit tests add their own devices).
  bool pc_board = true;
  uint64_t ram_bytes = 512ULL << 20;
  // Firmware: empty bios_path means "no firmware" (tests, bare machines).
  std::string bios_path;
  std::string vga_bios_path;
  // Drive specs: PATH[,rw|ro|snapshot][,format=raw|qcow2|vhd][,overlay=FILE].
  // Hard disks write to a qcow2 overlay (PATH.pc64-overlay.qcow2) unless told otherwise.
  std::string hda, hdb, cdrom;
  bool snapshot = false;  // --snapshot: hard-disk writes stay in memory
  std::string boot_order = "cd";  // QEMU-style letters: c = first hard disk, d = CD-ROM
  std::string kernel, initrd, append;
  bool headless = false;
  SerialMode serial = SerialMode::Stdio;
  std::string serial_path;
  // SerialMode::Stdio: also feed stdin to COM1 (the CLI sets it for --headless).
  bool serial_stdin = false;
  // SerialMode::Tcp: 127.0.0.1:serial_tcp_port; wait for the first client before running.
  uint16_t serial_tcp_port = 0;
  bool serial_tcp_wait = true;
  std::string debugcon_path;
  // 0 = no limit. The run stops with ExitReason::InstructionLimit when reached.
  uint64_t max_instructions = 0;
  // Guest time per retired instruction: the default makes 1 instruction 1 ns.
  uint64_t instructions_per_second = 1000000000ULL;
  TripleFaultAction on_triple_fault = TripleFaultAction::Stop;
  // RTC time at power-on, seconds since 1970 UTC. Fixed by default so runs
  // repeat exactly; --rtc host sets it from the host clock.
  int64_t rtc_start_time = 1767225600;  // 2026-01-01 00:00:00 UTC
};

}  // namespace pc64
