#!/usr/bin/env bash
# screen_test.sh PC64 ISO: boots the CD through SeaBIOS for a fixed budget
# (enough for isolinux to load the kernel), then checks what the VGA text
# screen shows (the text dump) and that the PNG screenshot is a real image of
# that screen (size and non-blank pixels).
set -uo pipefail
pc64=$1 iso=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$pc64" --headless --serial none --cdrom "$iso" --boot d --max-instructions 250000000 \
  --screen-text "$tmp/screen.txt" --screenshot "$tmp/screen.png" 2>"$tmp/err"
rc=$?
fails=0
[ "$rc" -eq 3 ] || { echo "FAIL pc64 exit $rc (wanted 3, instruction limit): $(cat "$tmp/err")"; fails=$((fails+1)); }
for want in "SeaBIOS (version" "Booting from DVD/CD" "ISOLINUX 6.04" "Loading /vmlinuz... ok" "Loading /initrd.gz...ok"; do
  if grep -F -q -- "$want" "$tmp/screen.txt"; then echo "ok   text screen shows '$want'"
  else echo "FAIL text screen lacks '$want'"; fails=$((fails+1)); fi
done
# PNG: signature, IHDR 720x400 (80x25 cells of 9x16), and more than one colour.
python3 - "$tmp/screen.png" <<'PY' || fails=$((fails+1))
import sys, struct, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h = struct.unpack('>II', d[16:24])
assert (w, h) == (720, 400), f'unexpected size {w}x{h}'
pos, idat = 8, b''
while pos < len(d):
    n, t = struct.unpack('>I4s', d[pos:pos + 8])
    if t == b'IDAT': idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
lit = sum(1 for i in range(0, len(raw), 3) if raw[i:i + 3] not in (b'\x00\x00\x00',))
assert lit > 1000, f'screenshot nearly blank ({lit} lit samples)'
print(f'ok   screenshot {w}x{h} with text pixels')
PY
echo "screen: $((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
