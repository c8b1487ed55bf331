# Shared by the real-gdb tests (tests/cli/gdb_test.sh,
# tests/guests/gdb_linux_test.sh); sourced, not run. Sets up $tmp (removed on
# exit, with the pc64 in $pid killed if still running) and provides the port
# wait and the checks.
command -v gdb >/dev/null || { echo "gdb not installed (Debian package gdb)"; exit 1; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Sets $port to the TCP port pc64 (started with --gdb tcp:0, stderr in
# $tmp/err) announces; fails the test if none appears within 10 s.
wait_for_gdb_port() {
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/.*waiting for gdb on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/err")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "FAIL: pc64 did not listen"; cat "$tmp/err"; exit 1; }
}

fails=0
expect() {  # file pattern description
  if grep -q -- "$2" "$1"; then echo "ok   $3"; else echo "FAIL $3: no '$2' in $1"; fails=$((fails+1)); fi
}
