#!/usr/bin/env bash
# expect_markers.sh LOGFILE MARKER1 [MARKER2 ...]
#
# Exit 0 when every MARKER occurs in LOGFILE, in the given order (each one
# after the end of the previous match). Markers are fixed strings; each must
# lie within one line. Otherwise print which marker is missing and exit 1.
# Exit 2 on usage errors. Carriage returns (serial consoles emit CRLF) and
# other bytes are tolerated.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 LOGFILE MARKER..." >&2
    exit 2
fi
log="$1"; shift
if [[ ! -r "$log" ]]; then
    echo "expect_markers: cannot read log '$log'" >&2
    exit 2
fi

# Markers are passed through the environment (no awk escape processing).
i=0
for m in "$@"; do
    export "PC64_MARKER_$i=$m"
    i=$((i + 1))
done

LC_ALL=C awk -v n="$#" -v logname="$log" '
BEGIN { k = 0; if (n == 0) exit 0 }
{
    line = $0
    while (k < n) {
        m = ENVIRON["PC64_MARKER_" k]
        p = index(line, m)
        if (p == 0) break
        line = substr(line, p + length(m))
        k++
    }
    if (k >= n) exit 0
}
END {
    if (k < n) {
        m = ENVIRON["PC64_MARKER_" k]
        if (k == 0) printf "expect_markers: marker \"%s\" not found in %s\n", m, logname > "/dev/stderr"
        else printf "expect_markers: marker \"%s\" not found after \"%s\" in %s\n", m, ENVIRON["PC64_MARKER_" (k - 1)], logname > "/dev/stderr"
        exit 1
    }
}' "$log"
