#!/usr/bin/env bash
# display_test.sh PC64 GUESTS_DIR BUDGET
#
# Issue 9, headless: the Debian kernel boots directly with the display
# initramfs, which loads bochs-drm (PCI std-vga, Bochs VBE DISPI registers,
# linear framebuffer BAR0); fbcon then draws tty1 on the framebuffer. /init
# writes a marker line and a row of all printable ASCII characters there and
# starts a shell on tty1. --keys types a command on the PS/2 keyboard (with
# Shift for the capitals and $ ( * ) @) that writes to the serial port, then
# `poweroff -f`. Passes when the serial log shows the framebuffer mode and
# the command's output, pc64 exits 0 (power off), and the PNG screenshot,
# read back glyph by glyph (png_text.py), shows the marker and the typed
# command lines: a broken LFB, mode or renderer path cannot produce that.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pc64=$1 guests=$2 budget=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
logdir="${PC64_GUEST_LOG_DIR:-$(cd "$here/../.." && pwd)/guests/logs}"
mkdir -p "$logdir"
log="$logdir/pc64-display.serial.log"
start=$SECONDS
timeout "${PC64_GUEST_TIMEOUT:-900}" "$pc64" --headless --serial "file:$log" --max-instructions "$budget" \
  --kernel "$guests/linux-direct/vmlinuz" --initrd "$guests/linux-display/initrd.cpio.gz" \
  --append "console=ttyS0,115200 panic=-1 rdinit=/init pc64.shell=1" \
  --keys '10:echo PC64-KEYS-$((6*7))@Shift >/dev/ttyS0\n' --keys '11:poweroff -f\n' \
  --screenshot "$tmp/screen.png" >/dev/null 2>"$tmp/err"
rc=$?
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
[ "$rc" -eq 0 ] || fail "pc64 exit $rc (wanted 0, guest power-off): $(tail -n 1 "$tmp/err")"
for want in "PC64-DISPLAY-FB: bochs-drmdrmfb 1024,768 32bpp" "PC64-DISPLAY-SHELL" "PC64-KEYS-42@Shift"; do
  if grep -a -F -q -- "$want" "$log"; then echo "ok   serial shows '$want'"
  else fail "serial log lacks '$want'"; fi
done
if python3 "$here/png_text.py" "$tmp/screen.png" --learn-row 1 --size 1024x768 >"$tmp/screen.txt"; then
  echo "--- screenshot text (1024x768):"; sed -n '1,12p' "$tmp/screen.txt" | sed '/^$/d'
  [ "$(head -n 1 "$tmp/screen.txt")" = "PC64-FBCON-MARKER: text on the bochs-drm framebuffer console" ] \
    || fail "screenshot row 0 is not the marker"
  for want in '/ # echo PC64-KEYS-$((6*7))@Shift >/dev/ttyS0' '/ # poweroff -f'; do
    grep -F -x -q -- "$want" "$tmp/screen.txt" || fail "screenshot lacks the line '$want'"
  done
else
  fail "the screenshot is not a 1024x768 console with a font row"
fi
grep -a -E "BUG:|Oops|WARNING:|Kernel panic" "$log" && fail "kernel errors in the log"
if [ "$fails" -ne 0 ]; then echo "--- last serial lines ($log):"; tail -n 15 "$log"; fi
echo "display: $((SECONDS - start))s, $fails failed: $(tail -n 1 "$tmp/err")"
[ "$fails" -eq 0 ]
