#!/usr/bin/env bash
# pc64_guest.sh PC64 NAME BUDGET EXPECTED_EXIT MARKER... -- PC64_ARGS...
#
# A guest test: runs `PC64 --headless --serial file:LOG --max-instructions
# BUDGET PC64_ARGS`, then passes when pc64 exited with EXPECTED_EXIT and the
# serial log shows every MARKER in order. A MARKER written as `!TEXT` must
# NOT appear anywhere in the log (e.g. `!Oops`). Bounded by the instruction budget
# (deterministic), with a generous wall-clock guard against hangs.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pc64=$1 name=$2 budget=$3 want_rc=$4
shift 4
markers=()
forbidden=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    !*) forbidden+=("${1#!}") ;;
    *) markers+=("$1") ;;
  esac
  shift
done
[ "${1:-}" = "--" ] && shift

logdir="${PC64_GUEST_LOG_DIR:-$(cd "$here/../.." && pwd)/guests/logs}"
mkdir -p "$logdir"
log="$logdir/pc64-$name.serial.log"
err="$logdir/pc64-$name.stderr.log"
: >"$log"
start=$SECONDS
timeout "${PC64_GUEST_TIMEOUT:-900}" "$pc64" --headless --serial "file:$log" --max-instructions "$budget" "$@" \
  >/dev/null 2>"$err"
rc=$?
secs=$((SECONDS - start))
if ! bash "$here/expect_markers.sh" "$log" "${markers[@]}"; then
  echo "FAIL $name: markers missing after ${secs}s (pc64 exit $rc): $(tail -n 1 "$err")"
  echo "--- last serial lines ($log):"; tail -n 20 "$log"
  exit 1
fi
for f in "${forbidden[@]}"; do
  if grep -F -q -- "$f" "$log"; then
    echo "FAIL $name: the log shows '$f':"; grep -F -m 3 -- "$f" "$log"
    exit 1
  fi
done
if [ "$rc" -ne "$want_rc" ]; then
  echo "FAIL $name: pc64 exited $rc, expected $want_rc: $(tail -n 1 "$err")"
  exit 1
fi
echo "PASS $name in ${secs}s: $(tail -n 1 "$err")"
