#!/usr/bin/env bash
# storage_test.sh PC64 [BUDGET]
#
# Issue 8's guest test: direct-boots the Debian kernel with the storage
# initramfs (guests/linux-storage/, from scripts/build-guests.sh) and
# `pc64.test=storage`, with guests/linux-storage/disk.img as the primary IDE
# master (default overlay mode, overlay in a temporary directory) and
# guests/linux-storage/cd.iso as the secondary master. The guest loads
# ata_piix & co., reads known files from the FAT disk and the ISO9660 CD,
# writes written.txt to the disk, syncs and powers off. Then:
#   - the serial log shows the markers in order and no kernel error, pc64 exited 0;
#   - the base image's sha256 is unchanged (writes went to the overlay only);
#   - the overlay exists and `qemu-img check` is clean;
#   - the overlay (converted to raw) holds written.txt with the known content.
# Prints PASS/FAIL lines; exits non-zero on any failure.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pc64=${1:?usage: storage_test.sh PC64 [BUDGET]}
budget=${2:-10000000000}
guests="$repo/guests"
st="$guests/linux-storage"
base="$st/disk.img"
iso="$st/cd.iso"
# Must match ST_WRITE_TEXT in scripts/build-guests.sh.
write_text="PC64 storage test: written by the guest"

failures=0
pass() { echo "PASS storage: $*"; }
fail() { echo "FAIL storage: $*"; failures=$((failures + 1)); }

for f in "$guests/linux-direct/vmlinuz" "$st/initrd.cpio.gz" "$base" "$iso" "$st/disk-partition-offset"; do
  [ -f "$f" ] || { echo "FAIL storage: missing $f (run scripts/build-guests.sh)"; exit 1; }
done
for tool in qemu-img mtype sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL storage: missing tool $tool"; exit 1; }
done
part_offset=$(cat "$st/disk-partition-offset")

tmp="$(mktemp -d "${TMPDIR:-/tmp}/pc64-storage.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
overlay="$tmp/ov.qcow2"
logdir="${PC64_GUEST_LOG_DIR:-$guests/logs}"
mkdir -p "$logdir"
log="$logdir/pc64-linux-storage.serial.log"
err="$logdir/pc64-linux-storage.stderr.log"
: >"$log"

# PC64_STORAGE_IDETIM_FIX=1: the guest sets PIIX IDETIM decode enable itself
# (diagnostic only: lets the rest of the test run while firmware does not).
extra_append=""
[ "${PC64_STORAGE_IDETIM_FIX:-0}" = 1 ] && extra_append=" pc64.storage_idetim_fix"

base_sha_before=$(sha256sum "$base" | cut -d' ' -f1)
rm -f "$base.pc64-overlay.qcow2"   # a stale default overlay must not matter either

start=$SECONDS
timeout "${PC64_GUEST_TIMEOUT:-900}" "$pc64" --headless --serial "file:$log" --max-instructions "$budget" \
  --kernel "$guests/linux-direct/vmlinuz" --initrd "$st/initrd.cpio.gz" \
  --append "console=ttyS0,115200 panic=-1 rdinit=/init pc64.test=storage$extra_append" \
  --hda "$base,overlay=$overlay" --cdrom "$iso" >/dev/null 2>"$err"
rc=$?
secs=$((SECONDS - start))
echo "storage: pc64 exit $rc after ${secs}s: $(tail -n 1 "$err")"

if bash "$here/expect_markers.sh" "$log" "PC64-STORAGE-START" "PC64-STORAGE-MODULES-LOADED" \
    "PC64-STORAGE-DEVICES" "PC64-DISK-READ-OK" "PC64-CD-READ-OK" "PC64-DISK-WRITE-OK" \
    "PC64-STORAGE-DONE" "reboot: Power down"; then
  pass "guest markers in order"
else
  fail "guest markers missing"
  echo "--- guest failure / ata|scsi lines ($log):"
  grep -a -E 'PC64-STORAGE-FAIL|ata[0-9]|scsi|sd[ a]|sr[ 0]|I/O error|exception|timeout' "$log" | tail -n 40
  echo "--- last serial lines:"; tail -n 15 "$log"
fi
for bad in "PC64-STORAGE-FAIL" "BUG:" "Oops" "WARNING:" "Kernel panic" "I/O error"; do
  if grep -a -F -q -- "$bad" "$log"; then fail "the log shows '$bad': $(grep -a -F -m 1 -- "$bad" "$log")"; fi
done
[ "$rc" -eq 0 ] && pass "pc64 exited 0" || fail "pc64 exited $rc, expected 0"

base_sha_after=$(sha256sum "$base" | cut -d' ' -f1)
[ "$base_sha_after" = "$base_sha_before" ] && pass "base image unchanged ($base_sha_after)" \
  || fail "base image changed: $base_sha_before -> $base_sha_after"
[ ! -e "$base.pc64-overlay.qcow2" ] || fail "pc64 created the default overlay despite overlay="

if [ -s "$overlay" ]; then
  if qemu-img check "$overlay" >"$tmp/check.log" 2>&1; then
    pass "overlay exists, qemu-img check clean"
  else
    fail "qemu-img check on the overlay:"; cat "$tmp/check.log"
  fi
  if qemu-img convert -O raw "$overlay" "$tmp/out.raw" 2>"$tmp/convert.log"; then
    got=$(MTOOLS_SKIP_CHECK=1 mtype -i "$tmp/out.raw@@$part_offset" ::/written.txt 2>&1 | tr -d '\r')
    [ "$got" = "$write_text" ] && pass "overlay holds written.txt: '$got'" \
      || fail "written.txt in the overlay: '$got', expected '$write_text'"
    got=$(MTOOLS_SKIP_CHECK=1 mtype -i "$tmp/out.raw@@$part_offset" ::/hello.txt 2>&1 | tr -d '\r')
    [ "$got" = "PC64 storage test: hello from the disk" ] && pass "overlay still reads the base's hello.txt" \
      || fail "hello.txt through the overlay: '$got'"
  else
    fail "qemu-img convert failed: $(cat "$tmp/convert.log")"
  fi
else
  fail "no overlay at $overlay"
fi

if [ "$failures" -ne 0 ]; then
  echo "FAIL storage: $failures check(s) failed (serial log $log)"
  exit 1
fi
echo "PASS storage in ${secs}s: $(tail -n 1 "$err")"
