// The VGA text screen as UTF-8, for guest tests that assert on what the
// guest shows ("SeaBIOS", "boot:"). Characters are mapped from code page 437,
// the VGA ROM font's character set, to Unicode.
#pragma once
#include <cstdint>
#include <string>

#include "io/vga.h"

namespace pc64 {

// Unicode code point of CP437 character `c` (0x00 reads as a space).
uint32_t cp437_to_unicode(uint8_t c);
void append_utf8(std::string& out, uint32_t code_point);

// The visible text screen (CRTC geometry, start address, address mode), one
// line per character row, each ending in '\n', trailing spaces removed.
// Empty when the VGA is in a graphics mode or the Bochs VBE is enabled.
std::string vga_text_dump(const Vga& vga);

}  // namespace pc64
