#!/usr/bin/env bash
# Checks pc64's command-line contract: --help/--version, and that bad input
# gives exactly one error line naming the option, exit code 2, no core dump.
set -u
pc64=$1
fails=0
passes=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {  # name expected_rc stderr_pattern -- args...
  local name=$1 want_rc=$2 pattern=$3
  shift 4
  "$pc64" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -ne "$want_rc" ]; then
    echo "FAIL $name: exit code $rc, wanted $want_rc"; cat "$tmp/err"; fails=$((fails+1)); return
  fi
  if [ "$want_rc" -eq 2 ] && [ "$lines" -ne 1 ]; then
    echo "FAIL $name: $lines lines on stderr, wanted one"; cat "$tmp/err"; fails=$((fails+1)); return
  fi
  if ! grep -q -- "$pattern" "$tmp/err" "$tmp/out"; then
    echo "FAIL $name: output lacks '$pattern'"; cat "$tmp/err" "$tmp/out"; fails=$((fails+1)); return
  fi
  echo "ok   $name"; passes=$((passes+1))
}

check "help lists options" 0 "--max-instructions" -- --help
for opt in --memory --hda --hdb --cdrom --boot --kernel --initrd --append --headless --serial --bios; do
  grep -q -- "$opt" "$tmp/out" || { echo "FAIL help lacks $opt"; fails=$((fails+1)); }
done
check "version" 0 "pc64 " -- --version
check "unknown option" 2 "no-such-option" -- --no-such-option
check "bad size" 2 "--memory: '12Q' is not a size" -- -m 12Q
check "size out of range" 2 "--memory: .* out of range" -- -m 1T
check "size overflow" 2 "is not a size" -- -m 99999999999999999999G
check "missing image" 2 "--hda: cannot read '$tmp/none.img': No such file" -- --hda "$tmp/none.img"
check "missing cdrom" 2 "--cdrom: cannot read" -- --cdrom "$tmp/none.iso"
check "missing kernel" 2 "--kernel: cannot read" -- --kernel "$tmp/vmlinuz"
check "initrd without kernel" 2 "--initrd: needs --kernel" -- --initrd /dev/null
check "bad serial" 2 "--serial: 'tcp' is not" -- --serial tcp
check "bad boot device" 2 "--boot: unknown boot device 'x'" -- --boot x
check "bad instruction count" 2 "--max-instructions: 'lots'" -- --max-instructions lots
check "stray argument" 2 "unexpected argument 'disk.img'" -- disk.img
printf 'not a bios' >"$tmp/bad.bin"
check "bios not a bios image" 2 "BIOS image '$tmp/bad.bin' has size 10" -- --bios "$tmp/bad.bin" --headless
# The monitor on stdio: starts paused at the reset vector, steps, quits cleanly.
out=$(printf 'r\ns 1\nfrob\nquit\n' | "$pc64" --monitor stdio --paused --headless --serial none 2>&1)
if echo "$out" | grep -q "rip=000000000000fff0" && echo "$out" | grep -q "executed 1 instruction" &&
   echo "$out" | grep -qi "unknown command"; then
  echo "ok   monitor on stdio"; passes=$((passes+1))
else
  echo "FAIL monitor on stdio:"; echo "$out" | head -20; fails=$((fails+1))
fi
check "bad gdb spec" 2 "--gdb: 'udp:1' is not supported" -- --gdb udp:1
check "bad gdb port" 2 "--gdb: bad port '99999'" -- --gdb tcp:99999
check "bad monitor port" 2 "--monitor: bad port 'x'" -- --monitor tcp:x
check "monitor and gdb" 2 "cannot be used together" -- --monitor stdio --gdb tcp:1234
check "paused alone" 2 "--paused: needs --gdb or --monitor" -- --paused
check "bad gdb arch" 2 "--gdb-arch: 'arm' is not auto" -- --gdb tcp:0 --gdb-arch arm
# The monitor drives the multiboot test guest: breakpoint, continue, registers, memory.
if nasm -f bin -i "$(dirname "$0")/gdb/" -o "$tmp/guest.bin" "$(dirname "$0")/gdb/guest.asm"; then
  out=$(printf 'b 0x100080\nc\nr\nx/1dd 0x100100\ninfo break\ndelete 1\nc\nquit\n' |
        "$pc64" --kernel "$tmp/guest.bin" --monitor stdio --paused --headless 2>&1)
  if echo "$out" | grep -q "breakpoint 1 at 0x100080" && echo "$out" | grep -q "rcx=0000000000000064" &&
     echo "$out" | grep -q "0000000000100100: 100" && echo "$out" | grep -q "hits 1" &&
     echo "$out" | grep -q "GDB-GUEST-DONE" && echo "$out" | grep -q "the guest powered off"; then
    echo "ok   monitor breakpoint on a guest"; passes=$((passes+1))
  else
    echo "FAIL monitor breakpoint on a guest:"; echo "$out" | head -40; fails=$((fails+1))
  fi
  # The monitor over TCP (127.0.0.1): same commands through a socket.
  "$pc64" --kernel "$tmp/guest.bin" --monitor tcp:0 --paused --headless >"$tmp/mon.out" 2>"$tmp/mon.err" &
  mpid=$!
  sleep 0.5
  port=$(sed -n 's/.*monitor waiting on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/mon.err")
  if [ -n "$port" ] && exec 3<>"/dev/tcp/127.0.0.1/$port"; then
    printf 'b 0x100080\nc\nquit\n' >&3
    tcp_out=$(timeout 10 cat <&3)
    exec 3<&-
  fi
  wait "$mpid"
  if echo "${tcp_out:-}" | grep -q "breakpoint 1 at 0x100080" && echo "${tcp_out:-}" | grep -q "bye"; then
    echo "ok   monitor over tcp"; passes=$((passes+1))
  else
    echo "FAIL monitor over tcp:"; cat "$tmp/mon.err"; echo "${tcp_out:-}" | head; fails=$((fails+1))
  fi
fi
# Without --paused the monitor's guest runs at once (an implicit c): the
# multiboot guest prints its marker and powers off before the first command.
if [ -f "$tmp/guest.bin" ]; then
  out=$(printf 'r\nquit\n' | timeout 20 "$pc64" --kernel "$tmp/guest.bin" --monitor stdio --headless 2>&1)
  marker_line=$(echo "$out" | grep -n "GDB-GUEST-DONE" | head -1 | cut -d: -f1)
  regs_line=$(echo "$out" | grep -n "rcx=0000000000000064" | head -1 | cut -d: -f1)
  if [ -n "$marker_line" ] && [ -n "$regs_line" ] && [ "$marker_line" -lt "$regs_line" ] &&
     echo "$out" | grep -q "the guest powered off"; then
    echo "ok   monitor without --paused runs the guest at once"; passes=$((passes+1))
  else
    echo "FAIL monitor without --paused:"; echo "$out" | head -20; fails=$((fails+1))
  fi
fi
ls core* >/dev/null 2>&1 && { echo "FAIL a core file was left"; fails=$((fails+1)); }
echo "cli: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
