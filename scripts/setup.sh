#!/usr/bin/env bash
# Installs what pc64 needs from Debian's packages. Idempotent and quiet when
# everything is present. `setup.sh` = build + run; `setup.sh --tests` adds
# what the test suite and the guest images need.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libsdl2-dev libzydis-dev zlib1g-dev doctest-dev libcxxopts-dev acpica-tools seabios)
guest_pkgs=(busybox-static cpio isolinux syslinux syslinux-common syslinux-utils xorriso mtools dosfstools fdisk gcc-multilib)
test_pkgs=(nasm qemu-system-x86 qemu-utils xvfb xdotool x11-apps gdb)

pkgs=("${build_pkgs[@]}" "${guest_pkgs[@]}")
[ "${1:-}" = "--tests" ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
