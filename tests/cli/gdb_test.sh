#!/usr/bin/env bash
# Real gdb (Debian's gdb, batch mode) against pc64's gdb stub: a multiboot
# guest (tests/cli/gdb/guest.asm, assembled now) counts to 100, prints a
# marker and powers off. gdb attaches, sets a breakpoint and a watchpoint,
# continues, reads registers and memory, single-steps, runs a monitor
# command, and detaches; the guest must then run on to its marker.
set -u
pc64=$1
src=$(dirname "$0")/gdb/guest.asm
. "$(dirname "$0")/gdb_test_lib.sh"
nasm -f bin -o "$tmp/guest.bin" "$src" || exit 1

"$pc64" --kernel "$tmp/guest.bin" --headless --gdb tcp:0 >"$tmp/serial" 2>"$tmp/err" &
pid=$!
wait_for_gdb_port

timeout 60 gdb -nx -batch \
  -ex "target remote 127.0.0.1:$port" \
  -ex "watch *(int *)0x100100" \
  -ex "continue" \
  -ex "delete" \
  -ex "break *0x100080" \
  -ex "continue" \
  -ex "info registers rip" \
  -ex 'printf "rcx=%d\n", $rcx' \
  -ex "x/4xb 0x100100" \
  -ex "stepi" \
  -ex 'printf "after-step rip=%#lx\n", $rip' \
  -ex "monitor r" \
  -ex "delete" \
  -ex "detach" >"$tmp/gdb.out" 2>&1
gdb_rc=$?
# The guest runs on after the detach and powers off.
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
wait "$pid"
pc64_rc=$?
pid=

expect "$tmp/gdb.out" "atchpoint 1: \*(int \*)0x100100" "watchpoint hit reported"
expect "$tmp/gdb.out" "New value = 1" "watchpoint new value"
expect "$tmp/gdb.out" "Breakpoint 2, 0x0*100080" "breakpoint hit"
expect "$tmp/gdb.out" "rip *0x100080" "rip at the breakpoint"
expect "$tmp/gdb.out" "rcx=100" "register read"
expect "$tmp/gdb.out" "0x100100:.*0x64.*0x00.*0x00.*0x00" "memory read"
expect "$tmp/gdb.out" "after-step rip=0x100084" "single step (mov dx, imm16 is 4 bytes)"
expect "$tmp/gdb.out" "rip=0000000000100084" "monitor command through qRcmd"
expect "$tmp/gdb.out" "detached\]" "detach"
expect "$tmp/serial" "GDB-GUEST-DONE" "guest runs on to its marker after detach"
[ "$gdb_rc" -eq 0 ] || { echo "FAIL gdb exit code $gdb_rc"; fails=$((fails+1)); }
[ "$pc64_rc" -eq 0 ] || { echo "FAIL pc64 exit code $pc64_rc"; fails=$((fails+1)); }
if [ "$fails" -ne 0 ]; then
  echo "--- gdb output"; cat "$tmp/gdb.out"; echo "--- pc64 stderr"; cat "$tmp/err"
fi
exit "$fails"
