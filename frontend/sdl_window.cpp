#include "frontend/sdl_window.h"

#include <SDL.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "frontend/ps2_keymap.h"

namespace pc64 {

SdlWindow::SdlWindow(InputSink& input, std::string machine_name) : input_(input), name_(std::move(machine_name)) {
  if (SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0)
    throw std::runtime_error(std::string("cannot open a window (SDL): ") + SDL_GetError());
  window_ = SDL_CreateWindow(name_.c_str(), SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640, 480,
                             SDL_WINDOW_HIDDEN | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  if (window_) renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_PRESENTVSYNC);
  if (window_ && !renderer_) renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_SOFTWARE);
  if (!window_ || !renderer_) {
    std::string why = SDL_GetError();
    if (window_) SDL_DestroyWindow(window_);
    SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
    throw std::runtime_error("cannot open a window (SDL): " + why);
  }
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
  update_title();
}

SdlWindow::~SdlWindow() {
  set_capture(false);
  if (texture_) SDL_DestroyTexture(texture_);
  SDL_DestroyRenderer(renderer_);
  SDL_DestroyWindow(window_);
  SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
}

bool SdlWindow::frame_due() const { return SDL_GetTicks64() - last_present_ms_ >= 16; }

void SdlWindow::display_size(const Framebuffer& fb, int& w, int& h) {
  // Classic VGA modes fill a 4:3 monitor whatever their pixel grid
  // (320x200 and 720x400 both); VBE modes have square pixels.
  if (fb.aspect_4_3) {
    w = static_cast<int>(std::max(fb.width, fb.height * 4 / 3));
    h = w * 3 / 4;
  } else {
    w = static_cast<int>(fb.width);
    h = static_cast<int>(fb.height);
  }
}

void SdlWindow::natural_size(const Framebuffer& fb, int& w, int& h) {
  display_size(fb, w, h);
  if (w <= 400) w *= 2, h *= 2;  // 320x240-class modes open at twice their size
}

void SdlWindow::present(const Framebuffer& fb, bool changed) {
  last_present_ms_ = SDL_GetTicks64();
  if (fb.width == 0 || fb.height == 0) return;
  int nw, nh;
  natural_size(fb, nw, nh);
  if (nw != natural_w_ || nh != natural_h_) {
    // A new guest mode: fit the window to it unless the user maximised it.
    natural_w_ = nw;
    natural_h_ = nh;
    if (!(SDL_GetWindowFlags(window_) & (SDL_WINDOW_MAXIMIZED | SDL_WINDOW_FULLSCREEN | SDL_WINDOW_FULLSCREEN_DESKTOP)))
      SDL_SetWindowSize(window_, nw, nh);
    needs_redraw_ = true;
  }
  if (!texture_ || tex_w_ != fb.width || tex_h_ != fb.height) {
    if (texture_) SDL_DestroyTexture(texture_);
    texture_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                                 static_cast<int>(fb.width), static_cast<int>(fb.height));
    if (!texture_) return;
    tex_w_ = fb.width;
    tex_h_ = fb.height;
    changed = true;
  }
  if (changed) {
    SDL_UpdateTexture(texture_, nullptr, fb.pixels.data(), static_cast<int>(fb.width * 4));
    needs_redraw_ = true;
  }
  if (!needs_redraw_) return;
  needs_redraw_ = false;

  int ow, oh;  // drawable size in real pixels (HiDPI)
  SDL_GetRendererOutputSize(renderer_, &ow, &oh);
  int bw, bh;  // the picture's 1x display size
  display_size(fb, bw, bh);
  SDL_Rect dst;
  const int k = std::min(ow / bw, oh / bh);
  if (k >= 1) {
    dst.w = bw * k, dst.h = bh * k;  // integer multiples of the display size when they fit
  } else if (bw * oh <= bh * ow) {
    dst.h = oh, dst.w = bw * oh / bh;  // else fit, keeping the aspect ratio
  } else {
    dst.w = ow, dst.h = bh * ow / bw;
  }
  dst.x = (ow - dst.w) / 2;
  dst.y = (oh - dst.h) / 2;
  SDL_SetRenderDrawColor(renderer_, 0, 0, 0, 255);
  SDL_RenderClear(renderer_);
  SDL_RenderCopy(renderer_, texture_, nullptr, &dst);
  SDL_RenderPresent(renderer_);
  if (!shown_) {
    SDL_ShowWindow(window_);
    shown_ = true;
  }
}

bool SdlWindow::poll_events() {
  SDL_Event e;
  bool open = true;
  while (SDL_PollEvent(&e)) {
    if (e.type == SDL_QUIT || (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_CLOSE)) open = false;
    else handle(e);
  }
  return open;
}

void SdlWindow::handle(const SDL_Event& e) {
  switch (e.type) {
    case SDL_KEYDOWN:
    case SDL_KEYUP: {
      const bool down = e.type == SDL_KEYDOWN;
      const SDL_Scancode sc = e.key.keysym.scancode;
      const Uint16 mod = e.key.keysym.mod;
      const bool chord = (mod & KMOD_CTRL) && (mod & KMOD_ALT);
      // Host chords, swallowed before the guest sees the key.
      if (chord && sc == SDL_SCANCODE_G) {
        if (down && !e.key.repeat) set_capture(false);
        return;
      }
      if (chord && sc == SDL_SCANCODE_2) {
        if (down && !e.key.repeat) monitor_request_ = true;
        return;
      }
      const uint16_t code = hid_usage_to_set2(static_cast<unsigned>(sc));
      if (code == 0 || static_cast<unsigned>(sc) >= sizeof pressed_) return;
      if (!down && !pressed_[sc]) return;  // its make code never went out
      pressed_[sc] = down;
      input_.key(code, down);  // a repeat re-sends make: the typematic repeat
      return;
    }
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP: {
      if (!captured_) {
        if (e.type == SDL_MOUSEBUTTONDOWN && e.button.button == SDL_BUTTON_LEFT) set_capture(true);
        return;  // the capturing click is not the guest's
      }
      unsigned bit = e.button.button == SDL_BUTTON_LEFT ? 1 : e.button.button == SDL_BUTTON_RIGHT ? 2
                   : e.button.button == SDL_BUTTON_MIDDLE ? 4 : 0;
      if (!bit) return;
      if (e.type == SDL_MOUSEBUTTONDOWN) buttons_ |= bit;
      else buttons_ &= ~bit;
      input_.mouse(0, 0, 0, buttons_);
      return;
    }
    case SDL_MOUSEMOTION:
      if (captured_) input_.mouse(e.motion.xrel, e.motion.yrel, 0, buttons_);
      return;
    case SDL_MOUSEWHEEL:
      if (captured_) {
        const int dz = e.wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e.wheel.y : e.wheel.y;
        if (dz) input_.mouse(0, 0, dz, buttons_);
      }
      return;
    case SDL_WINDOWEVENT:
      if (e.window.event == SDL_WINDOWEVENT_FOCUS_LOST) {
        // Keys released while another window has focus would stay down in the guest.
        release_all_keys();
        set_capture(false);
      } else if (e.window.event == SDL_WINDOWEVENT_EXPOSED || e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
        needs_redraw_ = true;
      }
      return;
    default:
      return;
  }
}

void SdlWindow::release_all_keys() {
  for (unsigned sc = 0; sc < sizeof pressed_; ++sc)
    if (pressed_[sc]) {
      pressed_[sc] = false;
      const uint16_t code = hid_usage_to_set2(sc);
      if (code != kSet2Pause) input_.key(code, false);
    }
  if (buttons_) {
    buttons_ = 0;
    input_.mouse(0, 0, 0, 0);
  }
}

void SdlWindow::set_capture(bool on) {
  if (on == captured_) return;
  if (SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE) != 0 && on) return;  // no relative mode: stay uncaptured
  SDL_SetWindowGrab(window_, on ? SDL_TRUE : SDL_FALSE);
  captured_ = on;
  if (!on && buttons_) {
    buttons_ = 0;
    input_.mouse(0, 0, 0, 0);
  }
  update_title();
}

void SdlWindow::set_status(double mips, bool paused) {
  if (mips == mips_ && paused == paused_) return;
  mips_ = mips;
  paused_ = paused;
  update_title();
}

bool SdlWindow::take_monitor_request() {
  const bool r = monitor_request_;
  monitor_request_ = false;
  return r;
}

void SdlWindow::update_title() {
  std::string t = name_;
  if (mips_ > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " - %.0f MIPS", mips_);
    t += buf;
  }
  if (paused_) t += " - Paused";
  if (captured_) t += " - Ctrl+Alt+G releases the mouse";
  SDL_SetWindowTitle(window_, t.c_str());
}

}  // namespace pc64
