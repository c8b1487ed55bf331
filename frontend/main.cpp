// pc64: command-line entry point.
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include <unistd.h>

#include "frontend/gdb_stub.h"
#include "frontend/key_script.h"
#include "frontend/machine.h"
#include "frontend/monitor.h"
#include "frontend/options.h"
#include "frontend/screen.h"
#include "frontend/terminal.h"
#ifdef PC64_HAVE_SDL
#include "frontend/windowed_run.h"
#endif
#include "mem/log.h"

#ifndef PC64_VERSION
#define PC64_VERSION "0.0.0"
#endif

namespace {
pc64::Machine* g_machine_for_signal = nullptr;  // only for Ctrl-C; the machine itself has no globals
// Ctrl-C: 0 stops pc64; in the monitor 1 pauses the running guest, 2 (at
// the prompt) is ignored so no pause request lingers for the next `c`.
volatile sig_atomic_t g_ctrl_c_mode = 0;

void on_interrupt(int sig) {
  if (!g_machine_for_signal) return;
  if (sig == SIGINT && g_ctrl_c_mode == 2) return;
  if (sig == SIGINT && g_ctrl_c_mode == 1) g_machine_for_signal->pause();
  else g_machine_for_signal->request_stop(pc64::ExitReason::Stopped);
}
}  // namespace

int main(int argc, char** argv) {
  pc64::CommandLine cl;
  try {
    cl = pc64::parse_command_line(argc, argv);
  } catch (const pc64::UsageError& e) {
    std::fprintf(stderr, "pc64: %s\n", e.what());
    return 2;
  }
  if (cl.show_help) {
    std::fputs(cl.help_text.c_str(), stdout);
    return 0;
  }
  if (cl.show_version) {
    std::printf("pc64 %s\n", PC64_VERSION);
    return 0;
  }
  if (cl.debug) pc64::set_log_level(pc64::LogLevel::Debug);

  try {
    pc64::Machine machine(cl.config);
    g_machine_for_signal = &machine;
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    std::unique_ptr<pc64::KeyPlayer> key_player;
    if (!cl.keys.empty() && machine.board())
      key_player = std::make_unique<pc64::KeyPlayer>(
          machine.clock(), cl.keys, [&machine](uint16_t code, bool down) { machine.board()->kbc->key(code, down); });
    if (cl.monitor) {
      int fd = cl.monitor_tcp ? pc64::accept_one_tcp(cl.monitor_port, "monitor") : -1;
      pc64::LineInput input(fd >= 0 ? fd : STDIN_FILENO, fd >= 0 ? fd : STDOUT_FILENO);
      pc64::Monitor mon(machine);
      mon.set_interrupt_check([&input] { return input.poll_pause(); });
      // Without --paused the guest starts at once, as if `c` had been typed:
      // Ctrl-C or `p` brings the prompt. Otherwise it runs only when a
      // command says so (s, c, next, until).
      g_ctrl_c_mode = 1;
      if (!cl.paused) input.write(mon.execute("c"));
      if (!mon.quit_requested())
        pc64::monitor_session(mon, input, false, [](bool at_prompt) { g_ctrl_c_mode = at_prompt ? 2 : 1; });
      if (fd >= 0) close(fd);
      return 0;
    }
    // --gdb: gdb attaching stops the guest (as Ctrl-C would) until it
    // detaches; with --paused the guest waits for gdb before its first
    // instruction, like QEMU's -S.
    std::unique_ptr<pc64::GdbStub> stub;
    bool killed = false;
    if (cl.gdb) {
      stub = std::make_unique<pc64::GdbStub>(machine);
      stub->set_arch(cl.gdb_arch);
      stub->listen(cl.gdb_port);
      if (cl.paused) {
        std::fprintf(stderr, "pc64: waiting for gdb on 127.0.0.1:%u\n", stub->port());
        if (stub->serve() == pc64::GdbStub::End::Killed) return 0;
        // Detached or disconnected: the guest runs on; gdb may attach again.
      } else {
        std::fprintf(stderr, "pc64: gdb can attach on 127.0.0.1:%u\n", stub->port());
      }
    }
    auto serve_debugger = [&]() {
      if (stub && stub->connection_pending() && stub->serve() == pc64::GdbStub::End::Killed) killed = true;
      return killed;
    };
    pc64::ExitReason why = pc64::ExitReason::None;
    bool ran = false;
#ifdef PC64_HAVE_SDL
    if (!cl.config.headless) {
      try {
        why = pc64::run_windowed(machine, stub ? std::function<bool()>(serve_debugger) : std::function<bool()>());
        ran = true;
      } catch (const std::runtime_error& e) {
        std::fprintf(stderr, "pc64: no window (%s): running headless\n", e.what());
      }
    }
#else
    if (!cl.config.headless) std::fprintf(stderr, "pc64: built without SDL2: running headless\n");
#endif
    if (!ran && stub) {
      // Slices of ~1 ms of guest time: how long an attaching gdb waits.
      constexpr uint64_t kGdbPollSlice = 1'000'000;
      do why = machine.run(kGdbPollSlice);
      while (why == pc64::ExitReason::None && !serve_debugger());
    } else if (!ran) {
      why = machine.run();
    }
    if (killed) return 0;  // gdb's kill: QEMU also just ends
    g_machine_for_signal = nullptr;
    std::fflush(stdout);
    const pc64::CpuState& st = machine.cpu().state();
    std::fprintf(stderr, "pc64: %s after %llu instructions (CS:RIP %04x:%#llx)%s%s\n", pc64::describe(why),
                 static_cast<unsigned long long>(machine.instructions_retired()), st.seg[pc64::CS].selector,
                 static_cast<unsigned long long>(st.rip), machine.exit_message().empty() ? "" : ": ",
                 machine.exit_message().c_str());
    if (!cl.screenshot.empty()) {
      std::string err;
      if (!pc64::save_screenshot(machine, cl.screenshot, &err))
        std::fprintf(stderr, "pc64: --screenshot %s: %s\n", cl.screenshot.c_str(), err.c_str());
    }
    if (!cl.screen_text.empty()) {
      std::FILE* f = std::fopen(cl.screen_text.c_str(), "w");
      if (!f) {
        std::fprintf(stderr, "pc64: --screen-text %s: cannot write\n", cl.screen_text.c_str());
      } else {
        std::string text = pc64::screen_text(machine);
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
      }
    }
    return pc64::exit_code_for(why);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pc64: %s\n", e.what());
    return 2;
  }
}
