// Running a machine in an SDL2 window: the guest's display at ~60 Hz, the
// host keyboard and mouse to the PS/2 devices, closing the window stops the
// machine. Only built with PC64_SDL.
#pragma once
#include <functional>

#include "frontend/machine.h"

namespace pc64 {

// Returns why the machine stopped. Throws std::runtime_error if no window
// can be opened (no display): the caller falls back to headless.
// `between_slices`, if given, runs between slices of guest time (it may
// block: a gdb session); true stops the machine.
ExitReason run_windowed(Machine& m, const std::function<bool()>& between_slices = {});

}  // namespace pc64
