#!/usr/bin/env bash
# Builds pc64 and boots the default guest (the linux-cd test image, through
# SeaBIOS) in a window when a display is present, headless otherwise (pc64
# falls back by itself); the guest's serial console is on stdout either way.
# Extra arguments go to pc64 (e.g. --headless).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)"
bash scripts/build-guests.sh
exec build/frontend/pc64 -m 512M --cdrom guests/linux-cd.iso --boot d "$@"
