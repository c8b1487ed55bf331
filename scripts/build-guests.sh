#!/usr/bin/env bash
# Build the test guest images for pc64 (and the QEMU reference check) into
# <repo>/guests/, from Debian packages only.
#
#   guests/linux-direct/{vmlinuz,initrd.cpio.gz,cmdline}   direct Linux boot
#   guests/linux-cd.iso                                   isolinux El Torito CD (isohybrid)
#   guests/linux-hd.img                                   64 MiB MBR disk, FAT16 + syslinux
#
# Packages are fetched with `apt-get download` into guests/cache/ and unpacked
# there; nothing is installed on the host and no loop mounts are used.
# Every output is rebuilt only when missing or older than its inputs (or this
# script). Once packages are cached, apt is not asked again (stable kernel for
# reproducible tests, works offline); PC64_GUESTS_REFRESH=1 re-resolves the
# packages and picks up newer versions. PC64_GUESTS_FORCE=1 rebuilds everything.
#
# needs: apt (apt-get, apt-cache), dpkg (dpkg-deb), busybox-static, cpio, gzip,
#        isolinux, syslinux, syslinux-common, xorriso, mtools, dosfstools, fdisk (sfdisk),
#        coreutils, file (optional, only for the final report)
# (syslinux-utils is not required: xorriso writes the isohybrid MBR itself.)
set -euo pipefail
shopt -s inherit_errexit      # also stop on errors inside $(fetch_pkg ...)

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
REPO="$(cd "$(dirname "$SCRIPT")/.." && pwd)"
OUT="$REPO/guests"
CACHE="$OUT/cache"
FORCE="${PC64_GUESTS_FORCE:-0}"
REFRESH="${PC64_GUESTS_REFRESH:-0}"

# Fixed timestamp for everything placed into images (reproducible-ish images).
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"

CMDLINE="console=ttyS0,115200 panic=-1 rdinit=/init"
HD_SIZE_MIB=64
HD_PART_START=2048                      # sectors (1 MiB alignment)

ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
ISOHDPFX_BIN=/usr/lib/ISOLINUX/isohdpfx.bin
LDLINUX_C32=/usr/lib/syslinux/modules/bios/ldlinux.c32
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin

log()  { printf 'build-guests: %s\n' "$*"; }
die()  { printf 'build-guests: error: %s\n' "$*" >&2; exit 1; }
step_start() { STEP_T0=$(date +%s.%N); }
BUILT=0
step_end()   { BUILT=1; log "$(awk -v a="$STEP_T0" -v b="$(date +%s.%N)" -v n="$1" 'BEGIN{printf "%-30s %.1fs", n, b-a}')"; }

# uptodate OUT IN... : true when OUT exists and is newer than every IN and this script.
uptodate() {
    local out="$1"; shift
    [[ "$FORCE" == 1 ]] && return 1
    [[ -e "$out" ]] || return 1
    local in
    for in in "$SCRIPT" "$@"; do
        [[ "$in" -nt "$out" ]] && return 1
    done
    return 0
}

for tool in apt-get apt-cache dpkg-deb cpio gzip xorriso mformat mcopy mkfs.fat sfdisk syslinux; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool '$tool' (see '# needs:' in $SCRIPT)"
done
for f in "$ISOLINUX_BIN" "$ISOHDPFX_BIN" "$LDLINUX_C32" "$MBR_BIN"; do
    [[ -f "$f" ]] || die "missing $f (install isolinux syslinux-common)"
done

mkdir -p "$CACHE" "$OUT/linux-direct"

# ---------------------------------------------------------------- packages
# fetch_pkg PKG [PATH-IN-PACKAGE...]: download PKG's .deb into the cache (if the
# candidate version is not there yet) and unpack it into $CACHE/PKG/. With
# paths given, only those are extracted (the kernel package is mostly modules).
# Prints the unpack directory.
fetch_pkg() {
    local pkg="$1"; shift
    local dir="$CACHE/$pkg" stamp="$CACHE/$pkg/.unpacked-from"
    local deb
    # Fast path: already unpacked from a cached .deb and no refresh asked for.
    if [[ "$REFRESH" != 1 && "$FORCE" != 1 && -f "$stamp" ]]; then
        read -r deb _ < "$stamp"
        if [[ -s "$CACHE/$deb" && ! "$CACHE/$deb" -nt "$stamp" && "$(cat "$stamp")" == "$deb $*" ]]; then
            echo "$dir"; return 0
        fi
    fi
    deb="$(cd "$CACHE" && apt-get download --print-uris "$pkg" 2>/dev/null | awk 'NR==1{print $2}' || true)"
    [[ -n "$deb" ]] || deb="$(cd "$CACHE" && ls -t "${pkg}"_*.deb 2>/dev/null | head -n1 || true)"
    [[ -n "$deb" ]] || die "apt cannot find package '$pkg' (apt-get update?)"
    if [[ ! -s "$CACHE/$deb" ]]; then
        log "downloading $deb" >&2
        (cd "$CACHE" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" "$pkg" >&2) \
            || die "apt-get download $pkg failed"
        [[ -s "$CACHE/$deb" ]] || die "apt-get download $pkg did not produce $deb"
    fi
    if [[ "$FORCE" == 1 || ! -f "$stamp" || "$(cat "$stamp")" != "$deb $*" || "$CACHE/$deb" -nt "$stamp" ]]; then
        log "unpacking $deb" >&2
        rm -rf "$dir"; mkdir -p "$dir"
        if [[ $# -eq 0 ]]; then
            dpkg-deb -x "$CACHE/$deb" "$dir"
        else
            dpkg-deb --fsys-tarfile "$CACHE/$deb" | tar -x -C "$dir" "$@"
        fi
        echo "$deb $*" > "$stamp"
    fi
    echo "$dir"
}

# The kernel package linux-image-amd64 currently depends on (remembered in the cache).
KPKG=""
[[ "$REFRESH" != 1 && -s "$CACHE/kernel-package" ]] && KPKG="$(cat "$CACHE/kernel-package")"
if [[ -z "$KPKG" ]]; then
    KPKG="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image/{print $2; exit}')"
    [[ -n "$KPKG" ]] || die "cannot resolve linux-image-amd64's kernel package"
    echo "$KPKG" > "$CACHE/kernel-package"
fi
KVER="${KPKG#linux-image-}"

KDIR="$(fetch_pkg "$KPKG" ./boot)"
BBDIR="$(fetch_pkg busybox-static)"

KERNEL_SRC="$KDIR/boot/vmlinuz-$KVER"
BUSYBOX_SRC="$BBDIR/bin/busybox"
[[ -f "$KERNEL_SRC" ]] || die "no $KERNEL_SRC in $KPKG"
[[ -x "$BUSYBOX_SRC" ]] || die "no busybox in busybox-static"

# ---------------------------------------------------------------- direct boot
D="$OUT/linux-direct"

if ! uptodate "$D/vmlinuz" "$KERNEL_SRC"; then
    step_start
    cp "$KERNEL_SRC" "$D/vmlinuz.tmp" && mv "$D/vmlinuz.tmp" "$D/vmlinuz"
    echo "$KVER" > "$D/kernel-version"
    cp "$KDIR/boot/config-$KVER" "$D/kernel-config" 2>/dev/null || true
    step_end "linux-direct/vmlinuz"
fi

if ! uptodate "$D/cmdline"; then
    printf '%s\n' "$CMDLINE" > "$D/cmdline"
fi

write_init() {
    cat > "$1" <<'EOF'
#!/bin/sh
# pc64 test guest init (busybox). Output goes to /dev/console (= ttyS0).
export PATH=/bin:/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo
echo "PC64-GUEST-READY"
echo "== uname"
uname -a
echo "== cpuinfo"
cat /proc/cpuinfo
echo "== dev"
ls /dev
echo "== date"
date
echo "== dmesg ACPI|IOAPIC|clocksource"
dmesg | grep -E 'ACPI|IOAPIC|clocksource'
echo "== end"
if grep -q 'pc64.shell=1' /proc/cmdline; then
    echo "PC64-GUEST-SHELL"
    exec setsid cttyhack sh
fi
echo "PC64-GUEST-DONE"
sync
poweroff -f
# poweroff failed (no ACPI power-off?): stay quiet forever.
echo "PC64-GUEST-POWEROFF-FAILED"
while true; do sleep 3600; done
EOF
    chmod 755 "$1"
}

if ! uptodate "$D/initrd.cpio.gz" "$BUSYBOX_SRC"; then
    step_start
    root="$CACHE/initramfs-root"
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root}
    cp "$BUSYBOX_SRC" "$root/bin/busybox"
    for applet in $("$root/bin/busybox" --list); do
        [[ "$applet" == busybox || "$applet" == linuxrc || "$applet" == init ]] && continue
        ln -sf busybox "$root/bin/$applet"
    done
    write_init "$root/init"
    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort \
        | cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -9 -n) > "$D/initrd.cpio.gz.tmp"
    mv "$D/initrd.cpio.gz.tmp" "$D/initrd.cpio.gz"
    step_end "linux-direct/initrd.cpio.gz"
fi

# Common boot-loader config body for isolinux/syslinux.
loader_cfg() {
    cat <<EOF
serial 0 115200
default linux
prompt 0
timeout 0
label linux
  kernel /vmlinuz
  append initrd=/initrd.gz $CMDLINE
EOF
}

# ---------------------------------------------------------------- CD (isolinux)
ISO="$OUT/linux-cd.iso"
if ! uptodate "$ISO" "$D/vmlinuz" "$D/initrd.cpio.gz" "$ISOLINUX_BIN" "$LDLINUX_C32"; then
    step_start
    iso="$CACHE/iso-root"
    rm -rf "$iso"
    mkdir -p "$iso/isolinux"
    cp "$D/vmlinuz" "$iso/vmlinuz"
    cp "$D/initrd.cpio.gz" "$iso/initrd.gz"
    cp "$ISOLINUX_BIN" "$LDLINUX_C32" "$iso/isolinux/"
    loader_cfg > "$iso/isolinux/isolinux.cfg"
    find "$iso" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    if ! xorriso -report_about WARNING -as mkisofs -quiet \
        -o "$ISO.tmp" -V PC64_LINUX -R -J \
        -isohybrid-mbr "$ISOHDPFX_BIN" \
        -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table \
        "$iso" 2>"$CACHE/xorriso.log"; then
        cat "$CACHE/xorriso.log" >&2; die "xorriso failed"
    fi
    mv "$ISO.tmp" "$ISO"
    step_end "linux-cd.iso"
fi

# ---------------------------------------------------------------- HD (syslinux on FAT16)
HD="$OUT/linux-hd.img"
if ! uptodate "$HD" "$D/vmlinuz" "$D/initrd.cpio.gz" "$MBR_BIN" "$LDLINUX_C32"; then
    step_start
    img="$HD.tmp"
    rm -f "$img"
    truncate -s "${HD_SIZE_MIB}M" "$img"
    total_sectors=$(( HD_SIZE_MIB * 2048 ))
    part_sectors=$(( total_sectors - HD_PART_START ))
    offset=$(( HD_PART_START * 512 ))
    # One active FAT16 (LBA) partition filling the disk.
    sfdisk --quiet --no-reread --no-tell-kernel "$img" <<EOF
label: dos
label-id: 0x50433634
unit: sectors

start=$HD_PART_START, size=$part_sectors, type=e, bootable
EOF
    # Geometry 255/63 matches the CHS values sfdisk writes into the MBR.
    mkfs.fat -F 16 -n PC64LINUX --invariant -g 255/63 \
        --offset "$HD_PART_START" -h "$HD_PART_START" \
        "$img" $(( part_sectors / 2 )) >/dev/null
    cfg="$CACHE/syslinux.cfg"
    loader_cfg > "$cfg"
    export MTOOLS_SKIP_CHECK=1
    mcopy -m -i "$img@@$offset" "$D/vmlinuz" ::/vmlinuz
    mcopy -m -i "$img@@$offset" "$D/initrd.cpio.gz" ::/initrd.gz
    mcopy -m -i "$img@@$offset" "$cfg" ::/syslinux.cfg
    syslinux --install --offset "$offset" "$img"
    # syslinux's MBR boot code (first 440 bytes; keeps disk id + partition table).
    dd if="$MBR_BIN" of="$img" bs=440 count=1 conv=notrunc status=none
    mv "$img" "$HD"
    step_end "linux-hd.img"
fi

if [[ $BUILT == 0 ]]; then
    log "guests up to date (kernel $KVER) in $OUT"
    exit 0
fi
log "kernel $KVER; outputs in $OUT:"
if command -v file >/dev/null 2>&1; then
    (cd "$OUT" && file linux-direct/vmlinuz linux-direct/initrd.cpio.gz linux-cd.iso linux-hd.img) \
        | sed 's/^/  /'
fi
