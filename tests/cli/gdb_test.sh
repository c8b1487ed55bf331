#!/usr/bin/env bash
# Real gdb (Debian's gdb, batch mode) against pc64's gdb stub: a multiboot
# guest (tests/cli/gdb/guest.asm, assembled now) counts to 100 in 32-bit
# protected mode, prints a marker and powers off. pc64 starts --paused; gdb
# attaches (and gets the i386 description: the guest is not in long mode),
# sets a breakpoint and a watchpoint, continues, reads registers (general,
# control, x87) and memory, single-steps, runs a monitor command, and
# detaches; the guest must then run on to its marker.
set -u
pc64=$1
src=$(dirname "$0")/gdb/guest.asm
. "$(dirname "$0")/gdb_test_lib.sh"
nasm -f bin -i "$(dirname "$src")/" -o "$tmp/guest.bin" "$src" || exit 1

"$pc64" --kernel "$tmp/guest.bin" --headless --gdb tcp:0 --paused >"$tmp/serial" 2>"$tmp/err" &
pid=$!
wait_for_gdb_port

timeout 60 gdb -nx -batch \
  -ex "target remote 127.0.0.1:$port" \
  -ex "show architecture" \
  -ex 'printf "start eip=%#x\n", $eip' \
  -ex "info registers cr0" \
  -ex 'set $st0 = 1.25' \
  -ex 'printf "st0=%g\n", $st0' \
  -ex "watch *(int *)0x100100" \
  -ex "continue" \
  -ex "delete" \
  -ex "break *0x100080" \
  -ex "continue" \
  -ex "info registers eip" \
  -ex 'printf "ecx=%d\n", $ecx' \
  -ex "x/4xb 0x100100" \
  -ex "stepi" \
  -ex 'printf "after-step eip=%#x\n", $eip' \
  -ex "monitor r" \
  -ex "monitor r fpu" \
  -ex "delete" \
  -ex "detach" >"$tmp/gdb.out" 2>&1
gdb_rc=$?
# The guest runs on after the detach and powers off.
wait_for_pc64

expect "$tmp/gdb.out" 'currently "i386"' "i386 description for a 32-bit guest"
expect "$tmp/gdb.out" "start eip=0x100020" "stopped before the first instruction (--paused)"
expect "$tmp/gdb.out" "cr0 *0x11 " "control register cr0 (PE, ET)"
expect "$tmp/gdb.out" "st0=1.25" "x87 register written and read back"
expect "$tmp/gdb.out" "atchpoint 1: \*(int \*)0x100100" "watchpoint hit reported"
expect "$tmp/gdb.out" "New value = 1" "watchpoint new value"
expect "$tmp/gdb.out" "Breakpoint 2, 0x0*100080" "breakpoint hit"
expect "$tmp/gdb.out" "eip *0x100080" "eip at the breakpoint"
expect "$tmp/gdb.out" "ecx=100" "register read"
expect "$tmp/gdb.out" "0x100100:.*0x64.*0x00.*0x00.*0x00" "memory read"
expect "$tmp/gdb.out" "after-step eip=0x100084" "single step (mov dx, imm16 is 4 bytes)"
expect "$tmp/gdb.out" "rip=0000000000100084" "monitor command through qRcmd"
expect "$tmp/gdb.out" "st0.*1.25" "gdb's st0 write reached the CPU (monitor r fpu)"
expect "$tmp/gdb.out" "detached\]" "detach"
expect "$tmp/serial" "GDB-GUEST-DONE" "guest runs on to its marker after detach"
finish_gdb_test
