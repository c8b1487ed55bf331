#!/usr/bin/env bash
# debugcon_test.sh PC64 BUDGET: boots SeaBIOS with no disks and `--debugcon
# FILE` for BUDGET instructions; FILE must hold SeaBIOS's own log (port
# 0x402), from its banner through the PCI/ATA probes to the boot attempt,
# and nothing of it may reach the serial port.
set -uo pipefail
pc64=$1 budget=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$pc64" --headless --serial "file:$tmp/serial.log" --debugcon "$tmp/debugcon.log" \
  --max-instructions "$budget" 2>"$tmp/err"
rc=$?
fails=0
[ "$rc" -eq 3 ] || { echo "FAIL pc64 exit $rc (wanted 3, instruction limit): $(tail -n 1 "$tmp/err")"; fails=$((fails+1)); }
for want in "SeaBIOS (version" "BUILD:" "Found 1 cpu(s)" "PCI: Using 00:02.0 for primary VGA" \
            "Running option rom" "ACPI: parse DSDT at" "Searching bootorder for:" "Booting from" \
            "No bootable device."; do
  if grep -F -q -- "$want" "$tmp/debugcon.log"; then echo "ok   debugcon has '$want'"
  else echo "FAIL debugcon lacks '$want'"; fails=$((fails+1)); fi
done
if grep -F -q "SeaBIOS (version" "$tmp/serial.log"; then
  echo "FAIL the SeaBIOS log also went to the serial port"; fails=$((fails+1))
fi
echo "debugcon: $(wc -l <"$tmp/debugcon.log") lines; $((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ] || { echo "--- debugcon tail:"; tail -n 15 "$tmp/debugcon.log"; }
[ "$fails" -eq 0 ]
