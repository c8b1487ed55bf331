// Process-wide diagnostic log. Guest-visible behaviour never depends on it.
// Lives in mem/ because that is the bottom layer every other layer may use.
#pragma once
#include <cstdarg>

namespace pc64 {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3, Trace = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
inline bool log_enabled(LogLevel level) { return level <= log_level(); }

// printf-style; `component` names the part speaking ("pit", "cpu", ...).
void log_message(LogLevel level, const char* component, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace pc64

#define PC64_LOG(level, component, ...)                                    \
  do {                                                                     \
    if (::pc64::log_enabled(level)) ::pc64::log_message(level, component, __VA_ARGS__); \
  } while (0)
