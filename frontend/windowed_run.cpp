#include "frontend/windowed_run.h"

#include <unistd.h>

#include <chrono>

#include "frontend/debug_control.h"
#include "frontend/key_script.h"
#include "frontend/monitor.h"
#include "frontend/sdl_window.h"
#include "frontend/terminal.h"
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

ExitReason run_windowed(Machine& m, const std::function<bool()>& between_slices) {
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
  Monitor mon(m);
  LineInput terminal(STDIN_FILENO, STDOUT_FILENO);
  double mips = 0;
  for (;;) {
    // run_guest: a breakpoint at the current RIP (where a session left the
    // guest) does not stop it again.
    RunOutcome r = run_guest(m, kSlice);
    bool open_monitor = false;
    if (r.reason == ExitReason::Breakpoint) {
      terminal.write(describe_stop(r.stop) + "\n");
      open_monitor = true;
    } else if (r.reason != ExitReason::None) {
      return r.reason;
    }
    if (!window.poll_events()) return ExitReason::Stopped;
    if (between_slices && between_slices()) return ExitReason::Stopped;
    if (window.take_monitor_request()) open_monitor = true;
    if (open_monitor) {
      window.set_status(mips, true);
      // The monitor on the terminal while the window waits (Ctrl+Alt+2, or
      // a breakpoint set from it); `c` or the end of input comes back here.
      if (monitor_session(mon, terminal, true)) return ExitReason::Stopped;
      window.set_status(mips, false);
      last = std::chrono::steady_clock::now();
      last_retired = m.instructions_retired();
      continue;
    }
    if (window.frame_due()) {
      bool changed = renderer.update(m.clock().now());
      window.present(renderer.framebuffer(), changed);
      auto now = std::chrono::steady_clock::now();
      double secs = std::chrono::duration<double>(now - last).count();
      if (secs >= 1.0) {
        mips = (m.instructions_retired() - last_retired) / secs / 1e6;
        window.set_status(mips, false);
        last = now;
        last_retired = m.instructions_retired();
      }
    }
  }
}

}  // namespace pc64
