# Shared by the real-gdb tests (tests/cli/gdb_test.sh,
# tests/guests/gdb_linux_test.sh); sourced, not run. Sets up $tmp (removed on
# exit, with the pc64 in $pid killed if still running) and provides the port
# wait and the checks.
command -v gdb >/dev/null || { echo "gdb not installed (Debian package gdb)"; exit 1; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Sets $port to the TCP port pc64 (started with --gdb tcp:0, stderr in
# $tmp/err) announces ("waiting for gdb on" with --paused, else "gdb can
# attach on"); fails the test if none appears within 10 s.
wait_for_gdb_port() {
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/.*gdb[a-z ]* on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/err")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "FAIL: pc64 did not listen"; cat "$tmp/err"; exit 1; }
}

fails=0
expect() {  # file pattern description
  if grep -q -- "$2" "$1"; then echo "ok   $3"; else echo "FAIL $3: no '$2' in $1"; fails=$((fails+1)); fi
}

# Waits up to 10 s for pc64 ($pid) to end and sets $pc64_rc; a pc64 still
# running then is killed and fails the test (a test never hangs on it).
wait_for_pc64() {
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL pc64 still running 10 s after gdb ended"; fails=$((fails+1))
    kill "$pid"
  fi
  wait "$pid"
  pc64_rc=$?
  pid=
}

# The exit codes of gdb ($gdb_rc) and pc64 ($pc64_rc) must be 0; on any
# failure shows gdb's output, pc64's stderr and the serial tail. Exits.
finish_gdb_test() {
  [ "$gdb_rc" -eq 0 ] || { echo "FAIL gdb exit code $gdb_rc"; fails=$((fails+1)); }
  [ "$pc64_rc" -eq 0 ] || { echo "FAIL pc64 exit code $pc64_rc (guest did not power off)"; fails=$((fails+1)); }
  if [ "$fails" -ne 0 ]; then
    echo "--- gdb output"; cat "$tmp/gdb.out"; echo "--- pc64 stderr"; cat "$tmp/err"
    echo "--- serial (tail)"; tail -20 "$tmp/serial"
  fi
  exit "$fails"
}
