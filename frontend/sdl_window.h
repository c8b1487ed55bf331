// The SDL2 window: shows the guest's framebuffer scaled to the window
// (integer factors when they fit, else the largest aspect-correct size,
// letterboxed), and turns host keyboard and mouse input into PS/2 events.
//
// Host-time pacing: the caller asks frame_due() (about 60 Hz of host time)
// and presents only then, and the texture is uploaded only when the
// renderer reports a change. The window never touches the machine: input
// goes out through InputSink, status comes in through set_status().
#pragma once
#include <cstdint>
#include <string>

#include "io/vga_render.h"

struct SDL_Window;
struct SDL_Renderer;
struct SDL_Texture;
union SDL_Event;

namespace pc64 {

class InputSink {
 public:
  virtual ~InputSink() = default;
  // A key went down (or repeats while held) or up. `set2_code` as in
  // frontend/ps2_keymap.h; set2_bytes() gives the wire bytes.
  virtual void key(uint16_t set2_code, bool down) = 0;
  // Relative motion: dx right, dy down (screen directions; the PS/2 mouse
  // model flips y), dz wheel clicks away from the user positive; buttons
  // bit 0 left, bit 1 right, bit 2 middle.
  virtual void mouse(int dx, int dy, int dz, unsigned buttons) = 0;
};

class SdlWindow {
 public:
  // Opens the window (hidden until the first frame). Throws std::runtime_error
  // with SDL's reason if there is no display.
  SdlWindow(InputSink& input, std::string machine_name);
  ~SdlWindow();
  SdlWindow(const SdlWindow&) = delete;
  SdlWindow& operator=(const SdlWindow&) = delete;

  // True when about 1/60 s of host time has passed since the last present().
  bool frame_due() const;
  // Shows `fb`. `changed` false re-presents the old texture only when the
  // window itself needs it (exposed, resized).
  void present(const Framebuffer& fb, bool changed);
  // Handles pending events. Returns false once the user closed the window.
  bool poll_events();
  // Title: "<name> - <MIPS> MIPS [- Paused] [- Ctrl+Alt+G releases the mouse]".
  void set_status(double mips, bool paused);
  // Ctrl+Alt+2 was pressed since the last call (open the monitor).
  bool take_monitor_request();
  bool mouse_captured() const { return captured_; }

 private:
  void handle(const SDL_Event& e);
  void set_capture(bool on);
  void release_all_keys();
  void update_title();
  static void display_size(const Framebuffer& fb, int& w, int& h);
  static void natural_size(const Framebuffer& fb, int& w, int& h);

  InputSink& input_;
  std::string name_;
  SDL_Window* window_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
  SDL_Texture* texture_ = nullptr;
  unsigned tex_w_ = 0, tex_h_ = 0;
  int natural_w_ = 0, natural_h_ = 0;  // last guest mode's display size
  bool shown_ = false, needs_redraw_ = true;
  bool captured_ = false, monitor_request_ = false;
  unsigned buttons_ = 0;
  uint64_t last_present_ms_ = 0;
  double mips_ = 0;
  bool paused_ = false;
  bool pressed_[512] = {};  // SDL scancodes currently down (for release on focus loss)
};

}  // namespace pc64
