#!/usr/bin/env bash
# fpu_compare.sh GUEST_NAME EXPECTED
#
# Issue 5's user-space guest check: the lines the guest's /init printed from
# tests/guests/fpu/fpu-checks.sh (PC64-FPU-BEGIN .. PC64-AWK-END) must equal
# the same program's output on the host (EXPECTED, recorded by
# scripts/build-guests.sh): SSE2/x87/SSE4.2 results, libm, printf/strtod,
# string functions and busybox awk, bit for bit.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The serial log pc64_guest.sh wrote for GUEST_NAME (same directory rule).
log="${PC64_GUEST_LOG_DIR:-$(cd "$here/../.." && pwd)/guests/logs}/pc64-$1.serial.log"
expected=$2
[ -s "$expected" ] || { echo "FAIL: no $expected (run scripts/build-guests.sh)"; exit 1; }
[ -s "$log" ] || { echo "FAIL: no serial log $log (the guest boot test writes it)"; exit 1; }
got=$(mktemp)
trap 'rm -f "$got"' EXIT
tr -d '\r' <"$log" | sed -n '/^PC64-FPU-BEGIN$/,/^PC64-AWK-END$/p' >"$got"
if ! grep -q '^PC64-AWK-END$' "$got"; then
  echo "FAIL: the guest did not print the whole FPU check (PC64-FPU-BEGIN .. PC64-AWK-END) in $log"
  tail -n 5 "$got"
  exit 1
fi
if ! diff -u "$expected" "$got" >"$got.diff"; then
  echo "FAIL: guest FPU/SIMD results differ from the host's ($(grep -c '^-[^-]' "$got.diff") lines):"
  head -n 60 "$got.diff"
  rm -f "$got.diff"
  exit 1
fi
rm -f "$got.diff"
echo "PASS: $(wc -l <"$got") lines of FPU/SIMD/awk results match the host's"
