// The guest's screen as files: a PNG of what the display shows, and the
// text-mode screen as UTF-8 (for tests and scripts).
#pragma once
#include <string>

#include "frontend/machine.h"

namespace pc64 {

// Renders the current display state and writes it as a PNG. Returns false
// with `error` set if the machine has no display or the file cannot be written.
bool save_screenshot(Machine& m, const std::string& path, std::string* error);

// The text screen (80x25 or whatever the CRTC describes), CP437 as UTF-8,
// one line per row; empty if the machine has no display.
std::string screen_text(Machine& m);

}  // namespace pc64
