#!/usr/bin/env bash
# Real gdb attaching to a running 64-bit guest (issue 10): without --paused
# pc64 runs the guest at once (tests/cli/gdb/guest64.asm enters long mode,
# loads XMM0 and ST0 and spins on a flag). gdb attaches later, which stops
# the guest; it gets the i386:x86-64 description and reads and writes the
# system, x87 and SSE registers; then `continue` and a Ctrl-C (SIGINT to gdb:
# gdb sends the 0x03 interrupt byte) stop the spinning guest again; gdb
# writes the flag and detaches, and the guest prints its marker and powers
# off.
set -u
pc64=$1
src=$(dirname "$0")/gdb/guest64.asm
. "$(dirname "$0")/gdb_test_lib.sh"
nasm -f bin -i "$(dirname "$src")/" -o "$tmp/guest.bin" "$src" || exit 1

"$pc64" --kernel "$tmp/guest.bin" --headless --gdb tcp:0 >"$tmp/serial" 2>"$tmp/err" &
pid=$!
wait_for_gdb_port
expect "$tmp/err" "gdb can attach on" "the guest runs without waiting for gdb"
sleep 0.5  # the guest reaches its spin loop within microseconds

# gdb in its own process group (set -m) so the SIGINT below reaches only it,
# as Ctrl-C on its terminal would.
set -m
timeout 60 gdb -nx -batch \
  -ex "target remote 127.0.0.1:$port" \
  -ex "show architecture" \
  -ex 'printf "attached rip=%#lx\n", $rip' \
  -ex "info registers cr0 cr3 cr4 efer" \
  -ex 'p/x $xmm0.uint128' \
  -ex 'p $st0' \
  -ex 'p $mxcsr' \
  -ex 'set $xmm1.v2_int64[0] = 0x5a5a' \
  -ex 'set $cr2 = 0xabc000' \
  -ex 'set $k_gs_base = 0xffff800000001000' \
  -ex "monitor r" \
  -ex "monitor r sse" \
  -ex "continue" \
  -ex 'printf "interrupted rip=%#lx\n", $rip' \
  -ex "set var *(char *)0x100200 = 1" \
  -ex "detach" >"$tmp/gdb.out" 2>&1 &
timeout_pid=$!
set +m
# Ctrl-C once gdb has resumed the guest (the last register dump printed,
# then `continue`). The signal goes to gdb itself: `timeout` would pass it on
# to its whole process group, and gdb takes a second Ctrl-C as "disconnect?".
for _ in $(seq 200); do
  grep -q "^xmm15" "$tmp/gdb.out" && break
  sleep 0.05
done
sleep 1.5
gdb_pid=$(pgrep -P "$timeout_pid" gdb)
[ -n "$gdb_pid" ] && kill -INT "$gdb_pid"
wait "$timeout_pid"
gdb_rc=$?
wait_for_pc64

expect "$tmp/gdb.out" 'currently "i386:x86-64"' "x86-64 description for a long-mode guest"
expect "$tmp/gdb.out" "attached rip=0x1000" "attaching stopped the running guest"
expect "$tmp/gdb.out" "cr0 *0x80000013 " "cr0 (PG MP ET PE)"
expect "$tmp/gdb.out" "cr3 *0x200000 " "cr3"
expect "$tmp/gdb.out" "cr4 *0x620 " "cr4"
expect "$tmp/gdb.out" "efer *0x500 " "efer (LMA LME)"
expect "$tmp/gdb.out" "0x99aabbccddeeff001122334455667788" "xmm0"
expect "$tmp/gdb.out" "= 2$" "st0"
expect "$tmp/gdb.out" "IM DM ZM OM UM PM" "mxcsr flags"
expect "$tmp/gdb.out" "cr2=0000000000abc000" "cr2 written by gdb reached the CPU"
expect "$tmp/gdb.out" "xmm1  00000000000000000000000000005a5a" "xmm1 written by gdb reached the CPU"
expect "$tmp/gdb.out" "Program received signal SIGINT" "Ctrl-C interrupted the running guest"
expect "$tmp/gdb.out" "interrupted rip=0x1000" "stopped in the spin loop"
expect "$tmp/gdb.out" "detached\]" "detach"
expect "$tmp/serial" "GDB64-GUEST-DONE" "the guest saw gdb's write and ran on to its marker"
finish_gdb_test
