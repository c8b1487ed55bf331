#!/usr/bin/env bash
# Build the test guest images for pc64 (and the QEMU reference check) into
# <repo>/guests/, from Debian packages only.
#
#   guests/linux-direct/{vmlinuz,initrd.cpio.gz,cmdline}   direct Linux boot
#   guests/linux-direct/fpu-checks.expected               what tests/guests/fpu/ prints natively
#   guests/linux-cd.iso                                   isolinux El Torito CD (isohybrid)
#   guests/linux-i386/{vmlinuz,initrd.cpio.gz}, guests/linux-i386.iso
#                                                         32-bit kernel (686-pae) + i386 busybox
#   guests/linux-i386/fpu-checks.expected                 what tests/guests/fpu/ prints natively, 32-bit
#   guests/linux-hd.img                                   64 MiB MBR disk, FAT16 + syslinux
#   guests/linux-storage/{initrd.cpio.gz,disk.img,cd.iso}  ata_piix storage test (pc64.test=storage):
#                                                         initramfs + IDE/SCSI/FS modules, FAT disk, data CD
#   guests/linux-display/initrd.cpio.gz                   bochs-drm + fbcon display/keyboard test
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
#        kmod (depmod), coreutils, gcc + libc6-dev (static glibc, for tests/guests/fpu),
#        gcc-multilib (gcc -m32 -static, the 32-bit FPU check; the host must run i386 binaries),
#        file (optional, only for the final report)
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

for tool in gcc apt-get apt-cache dpkg-deb cpio gzip xorriso mformat mcopy mkfs.fat sfdisk syslinux; do
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
# APT_OPTS (extra apt options) and PKG_DIR_SUFFIX are set by fetch_i386 for
# the other architecture's packages.
APT_OPTS=()
PKG_DIR_SUFFIX=""
PKG_ARCH_GLOB="$(dpkg --print-architecture)"  # offline fallback: the cached .deb of this architecture
fetch_pkg() {
    local pkg="$1"; shift
    local dir="$CACHE/$pkg$PKG_DIR_SUFFIX" stamp="$CACHE/$pkg$PKG_DIR_SUFFIX/.unpacked-from"
    local deb
    # Fast path: already unpacked from a cached .deb and no refresh asked for.
    if [[ "$REFRESH" != 1 && "$FORCE" != 1 && -f "$stamp" ]]; then
        read -r deb _ < "$stamp"
        if [[ -s "$CACHE/$deb" && ! "$CACHE/$deb" -nt "$stamp" && "$(cat "$stamp")" == "$deb $*" ]]; then
            echo "$dir"; return 0
        fi
    fi
    deb="$(cd "$CACHE" && apt-get "${APT_OPTS[@]}" download --print-uris "$pkg" 2>/dev/null | awk 'NR==1{print $2}' || true)"
    [[ -n "$deb" ]] || deb="$(cd "$CACHE" && ls -t "${pkg}"_*_$PKG_ARCH_GLOB.deb 2>/dev/null | head -n1 || true)"
    [[ -n "$deb" ]] || die "apt cannot find package '$pkg' (apt-get update?)"
    if [[ ! -s "$CACHE/$deb" ]]; then
        log "downloading $deb" >&2
        (cd "$CACHE" && apt-get "${APT_OPTS[@]}" download -qq -o APT::Sandbox::User="$(id -un)" "$pkg" >&2) \
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
echo "== dmesg ACPI|IOAPIC|clocksource|x86/fpu"
dmesg | grep -E 'ACPI|IOAPIC|clocksource|x86/fpu'
if [ -x /bin/pc64-fpu-checks ]; then
    # User-space FPU/SIMD results; compared with the host's (fpu-checks.expected).
    # Console log level 1 keeps kernel messages out of the compared lines.
    dmesg -n 1
    /bin/pc64-fpu-checks
fi
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

# busybox_root DIR: a fresh initramfs tree with busybox and all its applets in /bin.
busybox_root() {
    local root="$1" applet
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root}
    cp "$BUSYBOX_SRC" "$root/bin/busybox"
    for applet in $("$root/bin/busybox" --list); do
        [[ "$applet" == busybox || "$applet" == linuxrc || "$applet" == init ]] && continue
        ln -sf busybox "$root/bin/$applet"
    done
}

# pack_initramfs DIR OUT: DIR as a reproducible gzip'd newc cpio archive at OUT.
pack_initramfs() {
    local root="$1" out="$2"
    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort \
        | cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -9 -n) > "$out.tmp"
    mv "$out.tmp" "$out"
}

# ---------------------------------------------------------------- FPU/SIMD user-space check
# tests/guests/fpu/fpu_test.c, linked statically with the host's glibc, goes
# into the initramfs with the script that runs it and busybox awk. The same
# script runs natively here: its output is what the guest must print. AVX and
# FMA are masked from glibc's ifunc selection so the host takes the code paths
# the pc64 CPU (SSE4.2, no AVX) takes.
FPU_SRC="$REPO/tests/guests/fpu"
FPU_BIN="$CACHE/fpu-test"
FPU_TUNABLES="glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4,-AVX512F,-AVX512VL,-AVX_Fast_Unaligned_Load"
if ! uptodate "$FPU_BIN" "$FPU_SRC/fpu_test.c"; then
    step_start
    gcc -static -O2 -o "$FPU_BIN.tmp" "$FPU_SRC/fpu_test.c" -lm \
        || die "gcc -static failed on $FPU_SRC/fpu_test.c (install build-essential: static glibc)"
    mv "$FPU_BIN.tmp" "$FPU_BIN"
    step_end "fpu-test (gcc -static)"
fi
if ! uptodate "$D/fpu-checks.expected" "$FPU_BIN" "$FPU_SRC/fpu-checks.sh" "$BUSYBOX_SRC"; then
    GLIBC_TUNABLES="$FPU_TUNABLES" "$BUSYBOX_SRC" sh "$FPU_SRC/fpu-checks.sh" "$BUSYBOX_SRC" "$FPU_BIN" \
        > "$D/fpu-checks.expected.tmp" 2>&1 || die "fpu-checks failed natively"
    mv "$D/fpu-checks.expected.tmp" "$D/fpu-checks.expected"
fi

if ! uptodate "$D/initrd.cpio.gz" "$BUSYBOX_SRC" "$FPU_BIN" "$FPU_SRC/fpu-checks.sh"; then
    step_start
    root="$CACHE/initramfs-root"
    busybox_root "$root"
    write_init "$root/init"
    cp "$FPU_BIN" "$root/bin/fpu-test"
    cp "$FPU_SRC/fpu-checks.sh" "$root/bin/pc64-fpu-checks"
    pack_initramfs "$root" "$D/initrd.cpio.gz"
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
# isolinux_iso OUT VMLINUZ INITRD LABEL: an isohybrid El Torito CD that boots
# VMLINUZ with INITRD through ISOLINUX.
isolinux_iso() {
    local out="$1" vmlinuz="$2" initrd="$3" label="$4" iso="$CACHE/iso-root"
    rm -rf "$iso"
    mkdir -p "$iso/isolinux"
    cp "$vmlinuz" "$iso/vmlinuz"
    cp "$initrd" "$iso/initrd.gz"
    cp "$ISOLINUX_BIN" "$LDLINUX_C32" "$iso/isolinux/"
    loader_cfg > "$iso/isolinux/isolinux.cfg"
    find "$iso" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    if ! xorriso -report_about WARNING -as mkisofs -quiet \
        -o "$out.tmp" -V "$label" -R -J \
        -isohybrid-mbr "$ISOHDPFX_BIN" \
        -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table \
        "$iso" 2>"$CACHE/xorriso.log"; then
        cat "$CACHE/xorriso.log" >&2; die "xorriso failed"
    fi
    mv "$out.tmp" "$out"
}

ISO="$OUT/linux-cd.iso"
if ! uptodate "$ISO" "$D/vmlinuz" "$D/initrd.cpio.gz" "$ISOLINUX_BIN" "$LDLINUX_C32"; then
    step_start
    isolinux_iso "$ISO" "$D/vmlinuz" "$D/initrd.cpio.gz" PC64_LINUX
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

# ---------------------------------------------------------------- 32-bit (i386) guest
# Debian's i386 kernel (linux-image-686-pae: protected mode with PAE paging)
# and i386 busybox, booted directly (32-bit boot protocol) and from an
# isolinux CD. The i386 package lists live in a private apt state under the
# cache, so the host's dpkg/apt configuration is left alone (no
# `dpkg --add-architecture`); only `apt-get update` against those private
# lists, when they are missing or PC64_GUESTS_REFRESH=1.
I386="$OUT/linux-i386"
I386_APT_DIR="$CACHE/apt-i386"
I386_APT=(-o APT::Architecture=i386 -o APT::Architectures::=i386
          -o Dir::State::Lists="$I386_APT_DIR/lists" -o Dir::Cache="$I386_APT_DIR/cache"
          -o Dir::State::status=/dev/null)
fetch_i386() {
    local APT_OPTS=("${I386_APT[@]}") PKG_DIR_SUFFIX=-i386 PKG_ARCH_GLOB=i386
    fetch_pkg "$@"
}
K32PKG=""
[[ "$REFRESH" != 1 && -s "$CACHE/kernel-package-i386" ]] && K32PKG="$(cat "$CACHE/kernel-package-i386")"
if [[ -z "$K32PKG" ]]; then
    mkdir -p "$I386_APT_DIR/lists/partial" "$I386_APT_DIR/cache/archives/partial"
    if [[ "$REFRESH" == 1 ]] || ! ls "$I386_APT_DIR"/lists/*binary-i386_Packages* >/dev/null 2>&1; then
        log "apt-get update (i386 lists, private to $I386_APT_DIR)"
        # A failing secondary index (e.g. security mid-sync) is tolerated when
        # the main i386 list arrived.
        apt-get "${I386_APT[@]}" update -qq >"$CACHE/apt-i386.log" 2>&1 || true
        ls "$I386_APT_DIR"/lists/*_main_binary-i386_Packages* >/dev/null 2>&1 \
            || { cat "$CACHE/apt-i386.log" >&2; die "no i386 package list from apt (see above)"; }
    fi
    K32PKG="$(apt-cache "${I386_APT[@]}" depends linux-image-686-pae | awk '/Depends: linux-image/{print $2; exit}')"
    [[ -n "$K32PKG" ]] || die "cannot resolve linux-image-686-pae's kernel package (i386)"
    echo "$K32PKG" > "$CACHE/kernel-package-i386"
fi
K32VER="${K32PKG#linux-image-}"
K32DIR="$(fetch_i386 "$K32PKG" ./boot)"
BB32DIR="$(fetch_i386 busybox-static)"
[[ -f "$K32DIR/boot/vmlinuz-$K32VER" ]] || die "no vmlinuz-$K32VER in $K32PKG"
[[ -x "$BB32DIR/bin/busybox" ]] || die "no busybox in busybox-static:i386"
mkdir -p "$I386"
if ! uptodate "$I386/vmlinuz" "$K32DIR/boot/vmlinuz-$K32VER"; then
    cp "$K32DIR/boot/vmlinuz-$K32VER" "$I386/vmlinuz.tmp" && mv "$I386/vmlinuz.tmp" "$I386/vmlinuz"
    echo "$K32VER" > "$I386/kernel-version"
fi
# The FPU/SIMD check again as 32-bit code (x87 for double arithmetic, the
# i386 glibc and busybox awk): built with gcc -m32 and run here, with the
# i386 busybox, to record what the 32-bit guest must print.
FPU_BIN32="$CACHE/fpu-test-i386"
if ! uptodate "$FPU_BIN32" "$FPU_SRC/fpu_test.c"; then
    step_start
    gcc -m32 -static -O2 -o "$FPU_BIN32.tmp" "$FPU_SRC/fpu_test.c" -lm \
        || die "gcc -m32 -static failed on $FPU_SRC/fpu_test.c (install gcc-multilib)"
    mv "$FPU_BIN32.tmp" "$FPU_BIN32"
    step_end "fpu-test-i386 (gcc -m32 -static)"
fi
if ! uptodate "$I386/fpu-checks.expected" "$FPU_BIN32" "$FPU_SRC/fpu-checks.sh" "$BB32DIR/bin/busybox"; then
    GLIBC_TUNABLES="$FPU_TUNABLES" "$BB32DIR/bin/busybox" sh "$FPU_SRC/fpu-checks.sh" "$BB32DIR/bin/busybox" \
        "$FPU_BIN32" > "$I386/fpu-checks.expected.tmp" 2>&1 \
        || die "fpu-checks (i386) failed natively: can this host run i386 binaries (CONFIG_IA32_EMULATION)?"
    mv "$I386/fpu-checks.expected.tmp" "$I386/fpu-checks.expected"
fi
if ! uptodate "$I386/initrd.cpio.gz" "$BB32DIR/bin/busybox" "$FPU_BIN32" "$FPU_SRC/fpu-checks.sh"; then
    step_start
    root="$CACHE/initramfs-i386-root"
    # The applet links come from the amd64 busybox (same Debian version and
    # configuration).
    busybox_root "$root"
    cp "$BB32DIR/bin/busybox" "$root/bin/busybox"
    write_init "$root/init"
    cp "$FPU_BIN32" "$root/bin/fpu-test"
    cp "$FPU_SRC/fpu-checks.sh" "$root/bin/pc64-fpu-checks"
    pack_initramfs "$root" "$I386/initrd.cpio.gz"
    step_end "linux-i386/initrd.cpio.gz"
fi
if ! uptodate "$OUT/linux-i386.iso" "$I386/vmlinuz" "$I386/initrd.cpio.gz" "$ISOLINUX_BIN" "$LDLINUX_C32"; then
    step_start
    isolinux_iso "$OUT/linux-i386.iso" "$I386/vmlinuz" "$I386/initrd.cpio.gz" PC64_LINUX32
    step_end "linux-i386.iso"
fi

# ---------------------------------------------------------------- storage test (ata_piix)
# The Debian kernel builds the IDE/SCSI/filesystem drivers as modules, so the
# storage guest is the busybox initramfs plus exactly those .ko files (and
# their dependencies, in load order) and an /init that, given
# `pc64.test=storage` on the kernel command line, mounts a small FAT disk and
# an ISO9660 CD through ata_piix, checks known files on both, writes a file to
# the disk, syncs and powers off. Without the flag it is the normal guest init.
S="$OUT/linux-storage"
STORAGE_MODULES="ata_piix sd_mod sr_mod isofs vfat msdos nls_cp437 nls_ascii nls_utf8"
ST_DISK_TEXT="PC64 storage test: hello from the disk"
ST_CD_TEXT="PC64 storage test: hello from the CD"
ST_WRITE_TEXT="PC64 storage test: written by the guest"
ST_DISK_MIB=16
mkdir -p "$S"

# Data files placed on both media: a short text and a 1 MiB file whose
# sha256 the guest checks (multi-sector, multi-PRD DMA transfers).
st_data="$CACHE/storage-data"
if ! uptodate "$st_data/big.bin"; then
    rm -rf "$st_data"; mkdir -p "$st_data"
    seq 1 200000 > "$st_data/big.bin"; truncate -s 1M "$st_data/big.bin"
    printf '%s\n' "$ST_DISK_TEXT" > "$st_data/hello.txt"
    printf '%s\n' "$ST_CD_TEXT" > "$st_data/cd.txt"
fi
ST_BIG_SHA="$(sha256sum "$st_data/big.bin" | awk '{print $1}')"

# All of /lib/modules/<ver>/ from the kernel package; the .deb carries no
# modules.dep (Debian runs depmod at install time), so generate it here.
kmod_root="$CACHE/kernel-modules"
kmod_dir="$kmod_root/lib/modules/$KVER"
kdeb="$(awk '{print $1}' "$KDIR/.unpacked-from")"
if [[ "$FORCE" == 1 || ! -s "$kmod_dir/modules.dep" || "$(cat "$kmod_root/.unpacked-from" 2>/dev/null)" != "$kdeb" ]]; then
    step_start
    command -v depmod >/dev/null 2>&1 || die "missing tool 'depmod' (install kmod)"
    rm -rf "$kmod_root"; mkdir -p "$kmod_root"
    dpkg-deb --fsys-tarfile "$CACHE/$kdeb" | tar -x -C "$kmod_root" "./lib/modules/$KVER"
    # Compressed modules (.ko.xz/.ko.zst) would need a modprobe that understands them.
    if find "$kmod_dir" -name '*.ko.*' | grep -q .; then
        find "$kmod_dir" -name '*.ko.xz' -exec xz -d {} +
        find "$kmod_dir" -name '*.ko.zst' -exec zstd -q -d --rm {} +
    fi
    depmod -b "$kmod_root" "$KVER"
    echo "$kdeb" > "$kmod_root/.unpacked-from"
    step_end "kernel modules + depmod"
fi

# module_load_order MODULE...: the module paths (relative to lib/modules/<ver>/)
# to insmod, dependencies first. modules.dep lists a module's dependencies deepest-last.
module_load_order() {
    local m line deps d seen=" "
    for m in "$@"; do
        line="$(grep -E "/${m}\.ko:" "$kmod_dir/modules.dep")" || die "module $m not in modules.dep"
        deps=( ${line#*:} )
        for (( d=${#deps[@]}-1; d>=0; d-- )); do
            [[ "$seen" == *" ${deps[d]} "* ]] || { echo "${deps[d]}"; seen+="${deps[d]} "; }
        done
        [[ "$seen" == *" ${line%%:*} "* ]] || { echo "${line%%:*}"; seen+="${line%%:*} "; }
    done
}

# copy_modules ROOT MODULE...: the modules and their dependencies into
# ROOT/lib/modules/<ver>/, with the insmod order in load-order there.
copy_modules() {
    local root="$1" m; shift
    local mdir="$root/lib/modules/$KVER"
    mkdir -p "$mdir"
    module_load_order "$@" > "$mdir/load-order"
    while read -r m; do
        mkdir -p "$mdir/$(dirname "$m")"
        cp "$kmod_dir/$m" "$mdir/$m"
    done < "$mdir/load-order"
}

write_storage_init() {
    # /init: the normal guest init unless pc64.test=storage is on the command line.
    # (Parameters with a dot are not handed to init, so read /proc/cmdline.)
    cat > "$1/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
test=
grep -q 'pc64.test=storage' /proc/cmdline && test=storage
grep -q 'pc64.test=ddbench' /proc/cmdline && test=ddbench
umount /proc
[ "$test" = storage ] && exec /storage-test
[ "$test" = ddbench ] && exec /dd-bench
exec /guest-init
EOF
    write_init "$1/guest-init"
    cat > "$1/dd-bench" <<'EOF'
#!/bin/sh
# benchmarks/ide_dd_bench.sh: sequential read of 64 MiB from the first IDE
# disk with dd; the host times the span between the two markers.
export PATH=/bin:/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
KVER=$(uname -r)
# pc64.pio=1: libata without DMA (a module parameter: insmod does not read
# the kernel command line).
dma=
grep -q 'pc64.pio=1' /proc/cmdline && dma=dma=0
while read -r m; do
    case "$m" in
        *libata.ko*) insmod "/lib/modules/$KVER/$m" $dma ;;
        *) insmod "/lib/modules/$KVER/$m" ;;
    esac
done < "/lib/modules/$KVER/load-order"
i=0
while [ ! -b /dev/sda ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
echo "PC64-DD-MODE: $(cat /sys/class/ata_device/dev1.0/xfer_mode 2>/dev/null)"
echo "PC64-DD-START"
dd if=/dev/sda of=/dev/null bs=1M count=64
echo "PC64-DD-END"
poweroff -f
while true; do sleep 3600; done
EOF
    chmod 755 "$1/dd-bench"
    cat > "$1/storage-test" <<EOF
#!/bin/sh
# pc64 storage test (issue 8): IDE disk + CD through ata_piix.
export PATH=/bin:/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
KVER=\$(uname -r)
DISK_TEXT="$ST_DISK_TEXT"
CD_TEXT="$ST_CD_TEXT"
WRITE_TEXT="$ST_WRITE_TEXT"
BIG_SHA="$ST_BIG_SHA"
EOF
    cat >> "$1/storage-test" <<'EOF'
storage_dmesg() {
    echo "== dmesg ata|scsi|sd|sr|fat|isofs"
    dmesg | grep -E 'ata[0-9]|ata_piix|scsi|sd [0-9]|sr [0-9]|\[sd[a-z]\]|sr0|cdrom|FAT|fat|ISO|isofs|I/O error|blk_update'
    echo "== interrupts"
    grep -E 'CPU|ata|timer' /proc/interrupts
}
fail() {
    echo "PC64-STORAGE-FAIL: $*"
    storage_dmesg
    sync
    poweroff -f
    while true; do sleep 3600; done
}
# wait_dev DEV: poll for a device node for up to ~60 s (the SCSI scan is
# asynchronous; libata's reset/identify timeouts are tens of seconds).
wait_dev() {
    i=0
    while [ ! -b "$1" ]; do
        i=$((i + 1))
        [ $i -gt 600 ] && return 1
        sleep 0.1
    done
}
echo
echo "PC64-STORAGE-START"
# ata_piix ignores a channel whose IDETIM IDE Decode Enable (bit 15, i.e. bit 7
# of config bytes 41h/43h; PIIX3 data sheet 2.3.5) is clear; firmware sets it.
cfg=/sys/bus/pci/devices/0000:00:01.1/config
cfgbyte() { dd if=$cfg bs=1 skip=$1 count=1 2>/dev/null | od -An -tu1 | tr -d ' '; }
t41=$(cfgbyte 65); t43=$(cfgbyte 67)
echo "PC64-STORAGE-IDETIM: 41h=$t41 43h=$t43"
if [ $((t41 & 128)) -eq 0 ] || [ $((t43 & 128)) -eq 0 ]; then
    if grep -q 'pc64.storage_idetim_fix' /proc/cmdline; then
        echo "PC64-STORAGE-NOTE: setting IDETIM decode enable from the guest (diagnostic flag)"
        printf '\200' | dd of=$cfg bs=1 seek=65 conv=notrunc 2>/dev/null
        printf '\200' | dd of=$cfg bs=1 seek=67 conv=notrunc 2>/dev/null
        echo "PC64-STORAGE-IDETIM: 41h=$(cfgbyte 65) 43h=$(cfgbyte 67)"
    else
        fail "IDETIM IDE decode enable clear at boot: ata_piix will ignore the channels"
    fi
fi
while read -r m; do
    insmod "/lib/modules/$KVER/$m" || fail "insmod $m"
done < "/lib/modules/$KVER/load-order"
echo "PC64-STORAGE-MODULES-LOADED"
wait_dev /dev/sda1 || fail "no /dev/sda1"
wait_dev /dev/sr0 || fail "no /dev/sr0"
echo "PC64-STORAGE-DEVICES: $(cat /sys/block/sda/size) sectors on sda, $(cat /sys/block/sr0/size) on sr0"
mkdir -p /mnt/disk /mnt/cd
mount -t vfat -o ro /dev/sda1 /mnt/disk || fail "mount sda1 ro"
[ "$(cat /mnt/disk/hello.txt)" = "$DISK_TEXT" ] || fail "hello.txt: '$(cat /mnt/disk/hello.txt)'"
[ "$(sha256sum /mnt/disk/big.bin | cut -d' ' -f1)" = "$BIG_SHA" ] || fail "disk big.bin checksum"
echo "PC64-DISK-READ-OK"
mount -t iso9660 -o ro /dev/sr0 /mnt/cd || fail "mount sr0"
[ "$(cat /mnt/cd/cd.txt)" = "$CD_TEXT" ] || fail "cd.txt: '$(cat /mnt/cd/cd.txt)'"
[ "$(sha256sum /mnt/cd/big.bin | cut -d' ' -f1)" = "$BIG_SHA" ] || fail "cd big.bin checksum"
echo "PC64-CD-READ-OK"
mount -o remount,rw /mnt/disk || fail "remount sda1 rw"
echo "$WRITE_TEXT" > /mnt/disk/written.txt || fail "write written.txt"
sync
umount /mnt/disk || fail "umount sda1"
# Read it back from the device, not the page cache.
echo 3 > /proc/sys/vm/drop_caches
mount -t vfat -o ro /dev/sda1 /mnt/disk || fail "re-mount sda1"
[ "$(cat /mnt/disk/written.txt)" = "$WRITE_TEXT" ] || fail "written.txt read back: '$(cat /mnt/disk/written.txt)'"
umount /mnt/disk
umount /mnt/cd
echo "PC64-DISK-WRITE-OK"
storage_dmesg
echo "PC64-STORAGE-DONE"
sync
poweroff -f
echo "PC64-GUEST-POWEROFF-FAILED"
while true; do sleep 3600; done
EOF
    chmod 755 "$1/init" "$1/storage-test"
}

if ! uptodate "$S/initrd.cpio.gz" "$BUSYBOX_SRC" "$kmod_dir/modules.dep"; then
    step_start
    root="$CACHE/storage-initramfs-root"
    busybox_root "$root"
    copy_modules "$root" $STORAGE_MODULES
    write_storage_init "$root"
    pack_initramfs "$root" "$S/initrd.cpio.gz"
    step_end "linux-storage/initrd.cpio.gz"
fi

# A 16 MiB MBR disk with one FAT16 partition at 1 MiB (no boot loader).
if ! uptodate "$S/disk.img" "$st_data/big.bin"; then
    step_start
    img="$S/disk.img.tmp"
    rm -f "$img"
    truncate -s "${ST_DISK_MIB}M" "$img"
    part_sectors=$(( ST_DISK_MIB * 2048 - HD_PART_START ))
    sfdisk --quiet --no-reread --no-tell-kernel "$img" <<EOF
label: dos
label-id: 0x50433653
unit: sectors

start=$HD_PART_START, size=$part_sectors, type=e
EOF
    mkfs.fat -F 16 -n PC64STORAGE --invariant -g 255/63 \
        --offset "$HD_PART_START" -h "$HD_PART_START" \
        "$img" $(( part_sectors / 2 )) >/dev/null
    export MTOOLS_SKIP_CHECK=1
    mcopy -m -i "$img@@$(( HD_PART_START * 512 ))" "$st_data/hello.txt" "$st_data/big.bin" ::/
    mv "$img" "$S/disk.img"
    echo "$(( HD_PART_START * 512 ))" > "$S/disk-partition-offset"
    step_end "linux-storage/disk.img"
fi

if ! uptodate "$S/cd.iso" "$st_data/big.bin"; then
    step_start
    if ! xorriso -report_about WARNING -as mkisofs -quiet \
        -o "$S/cd.iso.tmp" -V PC64_STORAGE -R -J \
        "$st_data/cd.txt" "$st_data/big.bin" 2>"$CACHE/xorriso-storage.log"; then
        cat "$CACHE/xorriso-storage.log" >&2; die "xorriso (storage cd) failed"
    fi
    mv "$S/cd.iso.tmp" "$S/cd.iso"
    step_end "linux-storage/cd.iso"
fi

# ---------------------------------------------------------------- display test (bochs-drm)
# Issue 9: the busybox initramfs plus bochs-drm (drm, kms helpers, ttm) as
# modules. /init loads them, waits for the DRM driver's fbdev (fbcon then
# draws the VTs on the Bochs VBE linear framebuffer), writes a marker on the
# framebuffer console (tty1) and either powers off or, with pc64.shell=1,
# runs a shell on tty1 that reads the PS/2 keyboard (it echoes typed text on
# the screen; the tests type commands that also write to the serial port).
V="$OUT/linux-display"
DISPLAY_MODULES="bochs"
mkdir -p "$V"

write_display_init() {
    cat > "$1/init" <<'EOF'
#!/bin/sh
# pc64 display test (issue 9): bochs-drm + fbcon, keyboard shell on tty1.
export PATH=/bin:/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
KVER=$(uname -r)
fail() {
    echo "PC64-DISPLAY-FAIL: $*"
    dmesg | grep -i -E 'bochs|drm|fb|console' | tail -n 30
    poweroff -f
    while true; do sleep 3600; done
}
echo
echo "PC64-DISPLAY-START"
while read -r m; do
    insmod "/lib/modules/$KVER/$m" || fail "insmod $m"
done < "/lib/modules/$KVER/load-order"
i=0
while [ ! -e /sys/class/graphics/fb0/virtual_size ]; do
    i=$((i + 1)); [ $i -gt 300 ] && fail "no /dev/fb0 after loading bochs-drm"
    sleep 0.1
done
echo "PC64-DISPLAY-FB: $(cat /sys/class/graphics/fb0/name) $(cat /sys/class/graphics/fb0/virtual_size) $(cat /sys/class/graphics/fb0/bits_per_pixel)bpp"
dmesg | grep -i -E 'bochs|fbcon|frame buffer' | tail -n 5
# Clear tty1 and write the marker at its top left.
printf '\033[H\033[2J' > /dev/tty1
echo "PC64-FBCON-MARKER: text on the bochs-drm framebuffer console" > /dev/tty1
# Row 2: every printable ASCII character, from which the test learns the glyphs.
awk 'BEGIN { for (i = 33; i < 127; i++) printf "%c", i; print "" }' > /dev/tty1
echo "PC64-DISPLAY-READY"
if grep -q 'pc64.shell=1' /proc/cmdline; then
    echo "PC64-DISPLAY-SHELL"
    exec setsid sh -c 'exec sh </dev/tty1 >/dev/tty1 2>&1'
fi
echo "PC64-GUEST-DONE"
poweroff -f
echo "PC64-GUEST-POWEROFF-FAILED"
while true; do sleep 3600; done
EOF
    chmod 755 "$1/init"
}

if ! uptodate "$V/initrd.cpio.gz" "$BUSYBOX_SRC" "$kmod_dir/modules.dep"; then
    step_start
    root="$CACHE/display-initramfs-root"
    busybox_root "$root"
    copy_modules "$root" $DISPLAY_MODULES
    write_display_init "$root"
    pack_initramfs "$root" "$V/initrd.cpio.gz"
    step_end "linux-display/initrd.cpio.gz"
fi

if [[ $BUILT == 0 ]]; then
    log "guests up to date (kernel $KVER) in $OUT"
    exit 0
fi
log "kernel $KVER; outputs in $OUT:"
if command -v file >/dev/null 2>&1; then
    (cd "$OUT" && file linux-direct/vmlinuz linux-direct/initrd.cpio.gz linux-cd.iso linux-hd.img \
        linux-i386/vmlinuz linux-i386/initrd.cpio.gz linux-i386.iso \
        linux-storage/initrd.cpio.gz linux-storage/disk.img linux-storage/cd.iso linux-display/initrd.cpio.gz) \
        | sed 's/^/  /'
fi
