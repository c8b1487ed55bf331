#!/usr/bin/env bash
# ide_dd_bench.sh [PC64] [GUESTS_DIR]
#
# Issue 8's storage benchmark: the Linux test guest (linux-storage initramfs,
# pc64.test=ddbench) reads 64 MiB from the first IDE disk with
# `dd bs=1M count=64` through ata_piix, once with bus-master DMA (libata's
# default) and once with libata's dma=0 (PIO, pc64.pio=1). The host times the span between
# the guest's PC64-DD-START and PC64-DD-END serial lines and prints MB/s of
# host wall time for both.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pc64="${1:-$top/build/frontend/pc64}"
guests="${2:-$top/guests}"
for f in "$pc64" "$guests/linux-direct/vmlinuz" "$guests/linux-storage/initrd.cpio.gz"; do
  [ -e "$f" ] || { echo "ide_dd_bench: missing $f (build, then bash scripts/build-guests.sh)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 64 MiB of non-zero data, so the host side really reads.
head -c $((64 << 20)) /dev/urandom >"$tmp/disk.img"

run() {  # run LABEL EXTRA_APPEND
  "$pc64" --headless --serial stdio --max-instructions 40000000000 \
    --kernel "$guests/linux-direct/vmlinuz" --initrd "$guests/linux-storage/initrd.cpio.gz" \
    --append "console=ttyS0,115200 panic=-1 rdinit=/init pc64.test=ddbench $2" \
    --hda "$tmp/disk.img" --snapshot 2>"$tmp/err.$1" </dev/null |
    python3 -c '
import sys, time
label = sys.argv[1]
t0 = None
for line in sys.stdin:
    line = line.rstrip()
    if "PC64-DD-MODE" in line or "records out" in line:
        print(f"  {label}: guest: {line.strip()}")
    if "PC64-DD-START" in line:
        t0 = time.monotonic()
    elif "PC64-DD-END" in line and t0 is not None:
        dt = time.monotonic() - t0
        print(f"{label}: 64 MiB in {dt:.2f} s host wall time = {64 * 1.048576 / dt:.1f} MB/s")
        t0 = None
' "$1"
  tail -n 1 "$tmp/err.$1"
}
run dma ""
run pio "pc64.pio=1"
