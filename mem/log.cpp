#include "mem/log.h"

#include <atomic>
#include <cstdio>

namespace pc64 {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Warn)};
const char* const kNames[] = {"error", "warn", "info", "debug", "trace"};
}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

void log_message(LogLevel level, const char* component, const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "pc64 [%s] %s: %s\n", kNames[static_cast<int>(level)], component, line);
}

}  // namespace pc64
