#include "frontend/screen.h"

#include "frontend/png_writer.h"
#include "io/vga_render.h"
#include "io/vga_text.h"

namespace pc64 {

bool save_screenshot(Machine& m, const std::string& path, std::string* error) {
  PcBoard* b = m.board();
  if (!b || !b->vga) {
    if (error) *error = "the machine has no display";
    return false;
  }
  VgaRenderer r(b->vga->vga(), &b->vga->vbe());
  r.update(m.clock().now());
  const Framebuffer& fb = r.framebuffer();
  if (fb.width == 0 || fb.height == 0) {
    if (error) *error = "the display is blank (no mode set)";
    return false;
  }
  return write_png(path, fb.pixels.data(), fb.width, fb.height, fb.width, error);
}

std::string screen_text(Machine& m) {
  PcBoard* b = m.board();
  if (!b || !b->vga) return {};
  return vga_text_dump(b->vga->vga());
}

}  // namespace pc64
