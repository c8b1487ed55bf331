#!/usr/bin/env bash
# Real gdb against pc64 booting the Debian Linux test guest (issue 10):
# attach before the first instruction, break where the decompressed kernel
# starts (startup_64 at LOAD_PHYSICAL_ADDR 0x1000000, run there through the
# decompressor's identity map; nokaslr keeps it there; Debian's package
# ships only a stub System.map, so start_kernel's address is not at hand),
# continue, read $rip and memory, single-step, detach; the guest then boots
# on to its marker and powers off.
# Usage: gdb_linux_test.sh PC64 GUESTS_DIR
set -u
pc64=$1
guests=$2
[ -f "$guests/linux-direct/vmlinuz" ] || { echo "SKIP: no $guests/linux-direct (run scripts/build-guests.sh)"; exit 77; }
. "$(dirname "$0")/../cli/gdb_test_lib.sh"
addr=1000000

"$pc64" --headless --gdb tcp:0 --paused --max-instructions 12000000000 \
  --kernel "$guests/linux-direct/vmlinuz" --initrd "$guests/linux-direct/initrd.cpio.gz" \
  --append "console=ttyS0,115200 panic=-1 rdinit=/init nokaslr" >"$tmp/serial" 2>"$tmp/err" &
pid=$!
wait_for_gdb_port

timeout 600 gdb -nx -batch \
  -ex "target remote 127.0.0.1:$port" \
  -ex "break *0x$addr" \
  -ex "continue" \
  -ex 'printf "stopped rip=%#lx\n", $rip' \
  -ex 'x/2xb $rip' \
  -ex "stepi" \
  -ex 'printf "stepped rip=%#lx\n", $rip' \
  -ex "delete" \
  -ex "detach" >"$tmp/gdb.out" 2>&1
gdb_rc=$?
wait "$pid"
pc64_rc=$?
pid=

expect "$tmp/gdb.out" "Breakpoint 1, 0x0*$addr in" "breakpoint at startup_64 hit"
expect "$tmp/gdb.out" "stopped rip=0x$addr" "rip at startup_64"
expect "$tmp/gdb.out" "0x$addr:" "memory read at rip"
if grep -q "stepped rip=0x$addr\$" "$tmp/gdb.out" || ! grep -q "stepped rip=0x10000" "$tmp/gdb.out"; then
  echo "FAIL single step did not move rip"; fails=$((fails+1))
else
  echo "ok   single step"
fi
expect "$tmp/gdb.out" "detached\]" "detach"
expect "$tmp/serial" "PC64-GUEST-DONE" "guest boots on to its marker"
finish_gdb_test
