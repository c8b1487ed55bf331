#include "frontend/windowed_run.h"

#include <chrono>

#include "frontend/key_script.h"
#include "frontend/sdl_window.h"
#include "io/vga_render.h"

namespace pc64 {

namespace {
// Host input to the i8042's keyboard and mouse. Keys go through a KeyPlayer
// on the virtual clock: the window delivers its events between slices of
// guest time, and a burst must not overflow the keyboard's buffer.
class BoardInput final : public InputSink {
 public:
  BoardInput(PcBoard& b, VirtualClock& clock)
      : b_(b), keys_(clock, {}, [&b](uint16_t code, bool down) { b.kbc->key(code, down); }) {}
  void key(uint16_t set2_code, bool down) override { keys_.push(set2_code, down, kLiveKeySpacingNs); }
  void mouse(int dx, int dy, int dz, unsigned buttons) override { b_.kbc->mouse_event(dx, dy, dz, buttons); }

 private:
  PcBoard& b_;
  KeyPlayer keys_;
};
}  // namespace

ExitReason run_windowed(Machine& m) {
  PcBoard* board = m.board();
  if (!board || !board->vga) throw std::runtime_error("the machine has no display");
  BoardInput input(*board, m.clock());
  // The host's auto-repeat drives repeats here (Ps2Keyboard::detach_clock).
  board->kbc->keyboard().detach_clock();
  SdlWindow window(input, "pc64");
  VgaRenderer renderer(board->vga->vga(), &board->vga->vbe());
  // Slices short enough that the window stays responsive at any guest speed.
  constexpr uint64_t kSlice = 2'000'000;
  auto last = std::chrono::steady_clock::now();
  uint64_t last_retired = m.instructions_retired();
  for (;;) {
    ExitReason why = m.run(kSlice);
    if (why != ExitReason::None) return why;
    if (!window.poll_events()) return ExitReason::Stopped;
    if (window.frame_due()) {
      bool changed = renderer.update(m.clock().now());
      window.present(renderer.framebuffer(), changed);
      auto now = std::chrono::steady_clock::now();
      double secs = std::chrono::duration<double>(now - last).count();
      if (secs >= 1.0) {
        window.set_status((m.instructions_retired() - last_retired) / secs / 1e6, false);
        last = now;
        last_retired = m.instructions_retired();
      }
    }
  }
}

}  // namespace pc64
