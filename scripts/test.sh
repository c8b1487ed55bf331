#!/usr/bin/env bash
# Builds pc64 and runs every test: README's test command and what CI runs.
#   1. installs dependencies (scripts/setup.sh --tests)
#   2. Release build in build/: unit tests + CLI tests + guest tests (ctest)
#   3. ASan+UBSan build in build-asan/ on the portable floating-point path
#      (PC64_SOFTFLOAT=ON): the unit tests again
#   4. guest images from Debian packages (guests/, cached) and the QEMU
#      reference check that proves them (skipped without qemu-system-x86_64)
# Set PC64_SKIP_ASAN=1 or PC64_SKIP_GUESTS=1 to leave a stage out locally.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
start=$SECONDS

stage() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - start)); }

stage "dependencies"
bash scripts/setup.sh --tests

stage "release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPC64_SANITIZE=OFF >/dev/null
cmake --build build -j"$jobs"

if [ "${PC64_SKIP_GUESTS:-0}" != 1 ]; then
  stage "guest images"
  bash scripts/build-guests.sh
fi

stage "release tests"
ctest_args=(--output-on-failure -j"$jobs")
[ "${PC64_SKIP_GUESTS:-0}" = 1 ] && ctest_args+=(-LE guest)
(cd build && ctest "${ctest_args[@]}")

if [ "${PC64_SKIP_ASAN:-0}" != 1 ]; then
  stage "sanitizer build (ASan+UBSan, portable FPU path)"
  # PC64_SOFTFLOAT=ON: x87 and SSE arithmetic run on pc64's own software
  # floating point here (what non-x86-64 hosts use), so every run checks both
  # paths against the host CPU with the same differential tests (issue 5) at
  # no extra build; the host-unit path is the release build's. The host path
  # is a few inline asm statements, so the sanitizers lose little.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g1 -DPC64_SANITIZE=ON -DPC64_SDL=OFF \
    -DPC64_SOFTFLOAT=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  stage "sanitizer unit tests (portable FPU path)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$jobs" -L unit)
fi

if [ "${PC64_SKIP_GUESTS:-0}" != 1 ]; then
  stage "QEMU reference check of the guest images"
  bash tests/guests/qemu_reference.sh || rc=$?
  if [ "${rc:-0}" -ne 0 ] && [ "${rc:-0}" -ne 77 ]; then exit "$rc"; fi
fi

stage "all tests passed"
