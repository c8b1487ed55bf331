#!/usr/bin/env bash
# qemu_reference.sh [direct|cd|hd|i386 ...]
#
# Reference check: boot the test guests built by scripts/build-guests.sh under
# QEMU (TCG) and require that the serial console shows PC64-GUEST-READY and
# then PC64-GUEST-DONE. This proves the guest images themselves are good, so a
# failure of the same guest under pc64 is pc64's fault.
#
# With no argument all guests run (i386: the 32-bit CD); otherwise only the named ones.
# Exit status: 0 all passed, 1 some failed, 2 usage error,
#              77 QEMU not installed (ctest: set SKIP_RETURN_CODE 77).
#
# Environment:
#   PC64_GUEST_TIMEOUT   wall-clock seconds per boot (default 300)
#   PC64_GUEST_LOG_DIR   where serial logs go (default <repo>/guests/logs)
#   QEMU                 qemu binary (default qemu-system-x86_64)
set -euo pipefail

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
HERE="$(dirname "$SCRIPT")"
REPO="$(cd "$HERE/../.." && pwd)"
GUESTS="$REPO/guests"
EXPECT="$HERE/expect_markers.sh"
QEMU="${QEMU:-qemu-system-x86_64}"
TIMEOUT="${PC64_GUEST_TIMEOUT:-300}"
LOGDIR="${PC64_GUEST_LOG_DIR:-$GUESTS/logs}"

if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "SKIP: qemu-system-x86_64 not installed"
    exit 77
fi

ALL=(direct cd hd i386)
if [[ $# -eq 0 ]]; then
    SEL=("${ALL[@]}")
else
    SEL=()
    for g in "$@"; do
        case "$g" in
            direct|cd|hd|i386) SEL+=("$g") ;;
            *) echo "usage: $0 [direct|cd|hd|i386 ...]" >&2; exit 2 ;;
        esac
    done
fi

# Build (or refresh) the guests when any output is missing. build-guests.sh is
# cached, so running it is cheap when everything is there already.
need_build=0
for f in linux-direct/vmlinuz linux-direct/initrd.cpio.gz linux-direct/cmdline linux-cd.iso linux-hd.img linux-i386.iso; do
    [[ -e "$GUESTS/$f" ]] || need_build=1
done
if [[ $need_build == 1 ]]; then
    "$REPO/scripts/build-guests.sh"
fi

mkdir -p "$LOGDIR"

QEMU_COMMON=(-accel tcg -m 512M -nographic -no-reboot -serial stdio -monitor none)

fail=0
for g in "${SEL[@]}"; do
    case "$g" in
        direct) args=(-kernel "$GUESTS/linux-direct/vmlinuz"
                      -initrd "$GUESTS/linux-direct/initrd.cpio.gz"
                      -append "$(cat "$GUESTS/linux-direct/cmdline")") ;;
        cd)     args=(-cdrom "$GUESTS/linux-cd.iso" -boot d) ;;
        hd)     args=(-drive "file=$GUESTS/linux-hd.img,format=raw,if=ide,snapshot=on" -boot c) ;;
        i386)   args=(-cdrom "$GUESTS/linux-i386.iso" -boot d) ;;
    esac
    log="$LOGDIR/qemu-$g.log"
    t0=$(date +%s.%N)
    rc=0
    timeout --kill-after=10 "$TIMEOUT" "$QEMU" "${QEMU_COMMON[@]}" "${args[@]}" \
        </dev/null >"$log" 2>&1 || rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    why=""
    if ! msg=$("$EXPECT" "$log" PC64-GUEST-READY PC64-GUEST-DONE 2>&1); then
        why="$msg"
    elif [[ $rc == 124 || $rc == 137 ]]; then
        why="markers seen but QEMU did not power off within ${TIMEOUT}s"
    elif [[ $rc != 0 ]]; then
        why="QEMU exited with status $rc"
    fi
    if [[ -z "$why" ]]; then
        printf 'PASS  %-6s %6ss  (log %s)\n' "$g" "$secs" "$log"
    else
        [[ $rc == 124 || $rc == 137 ]] && why="$why (timed out after ${TIMEOUT}s)"
        printf 'FAIL  %-6s %6ss  %s  (log %s)\n' "$g" "$secs" "$why" "$log"
        fail=1
    fi
done
exit $fail
