#!/usr/bin/env bash
# build-image.sh - build (as root) the Debian 12 guest that KernelInitiatorIT boots under qemu (TCG) to test
# jtarget with the Linux kernel's initiators: iscsi_tcp + open-iscsi, dm-multipath with the ALUA prioritizer
# and device handler (multipath-tools), and the nbd client (nbd-client).
#
# Usage: build-image.sh [CACHE_DIR]      (default: $JTARGET_VM_CACHE, else ~/.cache/jtarget-vm)
# Prints the directory holding vmlinuz, initrd.img and root.img (raw ext4, made with mke2fs -d: no mount,
# no loop device). The image is cached in CACHE_DIR/<hash of this script>/ and rebuilt only when this
# script changes; older builds are removed. Needs debootstrap and mke2fs; the Debian mirror is the first
# Debian (bookworm) URI of the host's apt sources (JTARGET_VM_MIRROR overrides it).
#
# The guest's /sbin/jtarget-init (below) is its PID 1: it mounts the kernel file systems, starts udevd,
# configures eth0 for qemu's user-mode network (10.0.2.15, the host is 10.0.2.2), then runs the commands it
# reads on the serial console, one per line: "ID BASE64(shell command)". It answers each with the command's
# output and then a line "@@DONE ID EXIT_STATUS"; "@@READY" when it starts reading.
set -euo pipefail
SELF=$(readlink -f "$0")
CACHE=${1:-${JTARGET_VM_CACHE:-$HOME/.cache/jtarget-vm}}
HASH=$(sha256sum "$SELF" | cut -c1-16)
OUT=$CACHE/$HASH
log() { printf '== build-image [%4ds] %s\n' "$SECONDS" "$*" >&2; }

if [ -s "$OUT/root.img" ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ]; then
  echo "$OUT"; exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "build-image.sh: must run as root (debootstrap)" >&2; exit 2; }
for t in debootstrap mke2fs; do
  command -v "$t" >/dev/null || { echo "build-image.sh: $t is not installed (apt-get install debootstrap e2fsprogs)" >&2; exit 2; }
done

# the mirror: the first URI serving bookworm of the host's apt sources (deb822 .sources or one-line .list)
mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    case $f in
      *.sources) awk 'BEGIN { RS = ""; FS = "\n" }
                   /(^|\n)Suites:[^\n]*bookworm( |\n|$)/ {
                     for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, u, " "); print u[2]; exit } }' "$f" ;;
      *) awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f" ;;
    esac
  done | grep -v -- '-security' | head -1
}
MIRROR=${JTARGET_VM_MIRROR:-$(mirror)}
[ -n "$MIRROR" ] || { echo "build-image.sh: no Debian bookworm mirror in /etc/apt/sources*; set JTARGET_VM_MIRROR" >&2; exit 2; }

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
# kept when the build fails, to look into
trap 'st=$?; [ $st -eq 0 ] && rm -rf "$WORK" || echo "build-image.sh: failed (exit $st), kept $WORK" >&2' EXIT
trap 'echo "build-image.sh: line $LINENO failed: $BASH_COMMAND" >&2' ERR
ROOT=$WORK/root
log "debootstrap bookworm from $MIRROR into $ROOT"
# linux-image-amd64 pulls initramfs-tools; udev comes with open-iscsi and multipath-tools. INITRD=No: no initramfs
# with every module while the packages are configured, only the small one below. Packages are kept in debs/.
mkdir -p "$CACHE/debs"
INITRD=No debootstrap --cache-dir="$CACHE/debs" --variant=minbase --include=linux-image-amd64,open-iscsi,multipath-tools,nbd-client,sg3-utils,e2fsprogs,util-linux,iproute2,kmod,udev \
  bookworm "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log" >&2; exit 1; }
log "debootstrap done"

KVER=$(basename "$(ls -d "$ROOT"/lib/modules/*)")
# keep only the modules the guest uses and what they need (modprobe's dependency closure, from symbols)
NEED="virtio_pci virtio_blk virtio_net ext4 sd_mod sg iscsi_tcp dm_multipath dm_service_time dm_round_robin
  dm_queue_length scsi_dh_alua nbd crc32c_generic crc32c_intel crct10dif_generic crct10dif_pclmul crc64_rocksoft_generic"
for m in $NEED; do chroot "$ROOT" modprobe -S "$KVER" -D "$m" 2>/dev/null || true; done |
  awk '$1 == "insmod" { print $2 }' | sort -u >"$WORK/keep"
grep -q '/sd_mod\.ko' "$WORK/keep" && grep -q '/iscsi_tcp\.ko' "$WORK/keep" || { echo "build-image.sh: no module list" >&2; exit 1; }
find "$ROOT/lib/modules/$KVER/kernel" -name '*.ko*' | sed "s|^$ROOT||" | { grep -vxF -f "$WORK/keep" || true; } |
  sed "s|^|$ROOT|" | xargs -r rm -f
find "$ROOT/lib/modules/$KVER/kernel" -type d -empty -delete
chroot "$ROOT" depmod -a "$KVER"
# a small initramfs: only what mounting /dev/vda (ext4 on virtio) needs
printf 'virtio_pci\nvirtio_blk\next4\n' >>"$ROOT/etc/initramfs-tools/modules"
sed -i 's/^MODULES=.*/MODULES=list/' "$ROOT/etc/initramfs-tools/initramfs.conf"
rm -f "$ROOT"/boot/initrd.img-*
chroot "$ROOT" update-initramfs -c -k "$KVER" >"$WORK/initramfs.log" 2>&1 || { cat "$WORK/initramfs.log" >&2; exit 1; }

cp "$ROOT/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$WORK/initrd.img"
rm -rf "$ROOT"/boot/* "$ROOT"/usr/share/{doc,man,info,locale}/* "$ROOT"/var/cache/apt/* "$ROOT"/var/lib/apt/lists/*

echo "jtarget-vm" >"$ROOT/etc/hostname"
echo "InitiatorName=iqn.2026-11.org.jtarget:kernel-guest" >"$ROOT/etc/iscsi/initiatorname.iscsi"
cat >"$ROOT/sbin/jtarget-init" <<'INIT'
#!/bin/bash
# PID 1 of the jtarget test guest (see systests/vm/build-image.sh)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mountpoint -q /proc || mount -t proc proc /proc; mountpoint -q /sys || mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /run/lock; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /run; mkdir -p /run/lock
mount -o remount,rw /
exec </dev/ttyS0 >/dev/ttyS0 2>&1
stty -echo -onlcr
echo 4 >/proc/sys/kernel/printk          # kernel messages stay in dmesg, not on the console protocol
hostname jtarget-vm
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add; udevadm settle --timeout=60
ip link set lo up
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2
echo "@@READY $(uname -r)"
while IFS= read -r line; do
  id=${line%% *}
  cmd=$(printf '%s' "${line#* }" | base64 -d 2>/dev/null) || { echo "@@DONE $id 254"; continue; }
  bash -c "$cmd" </dev/null
  echo "@@DONE $id $?"
done
echo "@@EOF"; sync; echo o >/proc/sysrq-trigger
INIT
chmod 755 "$ROOT/sbin/jtarget-init"

SIZE_MB=$(( $(du -sm "$ROOT" | cut -f1) * 5 / 4 + 64 ))
log "mke2fs -d: ${SIZE_MB} MiB root image"
mke2fs -q -t ext4 -L jtarget-vm -d "$ROOT" "$WORK/root.img" "${SIZE_MB}M" >&2
rm -rf "$ROOT"
mkdir -p "$OUT.new" && mv "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/root.img" "$OUT.new/"
find "$CACHE" -mindepth 1 -maxdepth 1 ! -name "$HASH.new" ! -name "$(basename "$WORK")" ! -name debs -exec rm -rf {} +
mv "$OUT.new" "$OUT"
log "built $OUT: $(du -sh "$OUT" | cut -f1) (root.img ${SIZE_MB} MiB)"
echo "$OUT"
