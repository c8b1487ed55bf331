// pc64: command-line entry point.
#include <csignal>
#include <cstdio>
#include <exception>

#include "frontend/machine.h"
#include "frontend/options.h"
#include "mem/log.h"

#ifndef PC64_VERSION
#define PC64_VERSION "0.0.0"
#endif

namespace {
pc64::Machine* g_machine_for_signal = nullptr;  // only for Ctrl-C; the machine itself has no globals

void on_interrupt(int) {
  if (g_machine_for_signal) g_machine_for_signal->request_stop(pc64::ExitReason::Stopped);
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
    pc64::ExitReason why = machine.run();
    g_machine_for_signal = nullptr;
    std::fflush(stdout);
    const pc64::CpuState& st = machine.cpu().state();
    std::fprintf(stderr, "pc64: %s after %llu instructions (CS:RIP %04x:%#llx)%s%s\n", pc64::describe(why),
                 static_cast<unsigned long long>(machine.instructions_retired()), st.seg[pc64::CS].selector,
                 static_cast<unsigned long long>(st.rip), machine.exit_message().empty() ? "" : ": ",
                 machine.exit_message().c_str());
    return pc64::exit_code_for(why);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pc64: %s\n", e.what());
    return 2;
  }
}
