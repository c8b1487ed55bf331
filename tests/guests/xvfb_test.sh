#!/usr/bin/env bash
# xvfb_test.sh PC64 GUESTS_DIR BUDGET
#
# Issue 9, the real SDL window: under Xvfb (xvfb-run), pc64 runs windowed
# (no --headless) with the display guest (bochs-drm + fbcon, a shell on
# tty1). When the guest's shell is up, xdotool types a command through the X
# server's XTEST keyboard into the focused SDL window: X key events -> SDL
# scancodes -> PS/2 set 2 -> i8042 -> Linux atkbd -> tty1. The command writes
# to the serial port, so the log proves the keys arrived. Then an X screen
# dump (xwd) of the window must show, read glyph by glyph, the marker and the
# typed line, and its top rows must equal pc64's own --screenshot pixel for
# pixel. Then Ctrl+Alt+2 in the window pauses the guest and opens the
# monitor on pc64's terminal (here a pipe): `r` must print the registers and
# `c` return to the window. Finally `poweroff -f` is typed and pc64 must exit 0.
# needs: xvfb (xvfb-run, Xvfb), xdotool, x11-apps (xwd), python3
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${1:-}" != --inside ]; then
  for t in xvfb-run xdotool xwd python3; do
    command -v "$t" >/dev/null || { echo "FAIL missing '$t' (bash scripts/setup.sh --tests)"; exit 1; }
  done
  exec xvfb-run -a -s "-screen 0 1920x1200x24" bash "${BASH_SOURCE[0]}" --inside "$@"
fi
shift
pc64=$1 guests=$2 budget=$3
tmp=$(mktemp -d)
logdir="${PC64_GUEST_LOG_DIR:-$(cd "$here/../.." && pwd)/guests/logs}"
mkdir -p "$logdir"
log="$logdir/pc64-xvfb.serial.log"
: >"$log"
start=$SECONDS
mkfifo "$tmp/monitor-in"
"$pc64" --serial "file:$log" --max-instructions "$budget" \
  --kernel "$guests/linux-direct/vmlinuz" --initrd "$guests/linux-display/initrd.cpio.gz" \
  --append "console=ttyS0,115200 panic=-1 rdinit=/init pc64.shell=1" \
  --screenshot "$tmp/pc64.png" <"$tmp/monitor-in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/monitor-in"  # the monitor's input: kept open, written later
trap 'exec 3>&-; kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
# wait_for TEXT SECONDS: until the serial log shows TEXT (or pc64 ends).
wait_for() {
  local t=0
  until grep -a -F -q -- "$1" "$log"; do
    kill -0 $pid 2>/dev/null || return 1
    [ $t -ge $(( $2 * 10 )) ] && return 1
    sleep 0.1; t=$((t + 1))
  done
}
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
if ! wait_for PC64-DISPLAY-SHELL "${PC64_GUEST_TIMEOUT:-900}"; then
  echo "FAIL the guest's shell did not start: $(tail -n 1 "$tmp/err")"; tail -n 15 "$log"; exit 1
fi
echo "ok   guest shell on tty1 after $((SECONDS - start))s"
wid=$(xdotool search --sync --onlyvisible --name '^pc64' | head -n 1)
[ -n "$wid" ] || { echo "FAIL no pc64 window on the X display"; exit 1; }
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
sleep 0.5
xdotool type --delay 40 'echo PC64-XKEYS-$((6*7)) >/dev/ttyS0'
xdotool key Return
if wait_for PC64-XKEYS-42 300; then echo "ok   keys typed into the SDL window reached the guest"
else fail "the typed command never ran (serial log lacks PC64-XKEYS-42)"; fi
sleep 2  # a few 60 Hz frames of host time: the echo is on screen
eval "$(xdotool getwindowgeometry --shell "$wid")"  # X Y WIDTH HEIGHT
xwd -root -silent >"$tmp/x.xwd" || fail "xwd failed"
# The monitor chord: the guest pauses until `c`.
xdotool key ctrl+alt+2
printf 'r\nc\n' >&3
t=0
until grep -q 'rip=' "$tmp/out" && [ "$(grep -c '(pc64) ' "$tmp/out")" -ge 1 ]; do
  [ $t -ge 600 ] && break; sleep 0.1; t=$((t + 1))
done
if grep -q 'rip=' "$tmp/out" && grep -q 'mode=' "$tmp/out"; then echo "ok   Ctrl+Alt+2 opened the monitor on the terminal; r printed the registers"
else fail "Ctrl+Alt+2 did not open the monitor (pc64 output: $(head -c 300 "$tmp/out"))"; fi
xdotool type --delay 40 'poweroff -f'
xdotool key Return
for _ in $(seq 1 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
wait $pid
rc=$?
[ "$rc" -eq 0 ] || fail "pc64 exit $rc (wanted 0, guest power-off): $(tail -n 1 "$tmp/err")"
python3 - "$here" "$tmp/x.xwd" "$tmp/pc64.png" "$X" "$Y" "$WIDTH" "$HEIGHT" <<'PY' || fails=$((fails + 1))
import sys
sys.path.insert(0, sys.argv[1])
import png_text
x0, y0, w, h = map(int, sys.argv[4:8])
W, H, screen = png_text.read_xwd(sys.argv[2])
ok = True
if (w, h) != (1024, 768):
    print(f'FAIL the window is {w}x{h}, expected 1024x768 (scale 1 of the guest mode)'); ok = False
win = [row[x0:x0 + 1024] for row in screen[y0:y0 + 768]]
text = png_text.read_text(win, learn_row=1)
if text[0] != 'PC64-FBCON-MARKER: text on the bochs-drm framebuffer console':
    print(f'FAIL the X window row 0 reads {text[0]!r}'); ok = False
if '/ # echo PC64-XKEYS-$((6*7)) >/dev/ttyS0' not in text:
    print('FAIL the X window does not show the typed line:'); print('\n'.join(t for t in text if t)); ok = False
pw, ph, own = png_text.read_png(sys.argv[3])
same = all(own[y][:1024] == win[y] for y in range(32))
print(('ok   ' if same else 'FAIL ') + "the X window's top rows equal pc64's own PNG pixel for pixel")
if ok:
    print('ok   the X window shows the marker and the typed command')
sys.exit(0 if ok and same else 1)
PY
echo "xvfb: $((SECONDS - start))s, $fails failed: $(tail -n 1 "$tmp/err")"
[ "$fails" -eq 0 ]
