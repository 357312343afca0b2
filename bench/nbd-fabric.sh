#!/usr/bin/env bash
# nbd-fabric.sh - the NBD export fabric against nbdkit: qemu-img bench over NBD on jtarget (export "bench",
#   LUN 0 a file backstore on a 1 GiB image) and on `nbdkit file` serving that same image file, one after
#   the other. Starts the built distribution (jtarget-peer.sh, throw-away home) and nbdkit on free
#   127.0.0.1 ports; stops both by PID.
# Probes: 4 KiB reads and 64 KiB writes at queue depth 32 (qemu-img bench -t none, sequential).
# Prints one row per probe: IOPS on jtarget, IOPS on nbdkit, ratio, and each side's CPU time per command
#   (utime+stime of the server process from /proc over the timed run, also in $OUT/cpu.log). Raw output in $OUT.
# Env: SECS per probe (default 5), WARMUP seconds of untimed 4 KiB reads and 64 KiB writes on jtarget first
#      (default 20), and at least WARMUP_WRITES of those writes (default 50000; 0 for time only),
#      OUT (default bench/target/nbd-fabric), JTARGET (launcher, see jtarget-peer.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${SECS:-5} WARMUP=${WARMUP:-20} WARMUP_WRITES=${WARMUP_WRITES:-50000} OUT=${OUT:-$HERE/target/nbd-fabric}
command -v nbdkit >/dev/null || { echo "nbd-fabric.sh: nbdkit missing (apt-get install nbdkit)" >&2; exit 2; }
command -v qemu-img >/dev/null || { echo "nbd-fabric.sh: qemu-img missing (apt-get install qemu-utils)" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT"
JPORT=$("$HERE/free-port.sh") || exit 1
NPORT=$("$HERE/free-port.sh") || exit 1
XPORT=$("$HERE/free-port.sh") || exit 1
NPID=
cleanup() { "$HERE/jtarget-peer.sh" stop "$JPORT" "$OUT" >/dev/null; [ -n "$NPID" ] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null; }
trap cleanup EXIT
"$HERE/jtarget-peer.sh" start "$JPORT" "$OUT" || exit 1
JT=${JTARGET:-$HERE/../distribution/target/jtarget/bin/jtarget}
for c in "backstore:create bench file file=bench.img size=1G" "target:create --fabric nbd bench" "tpg:create bench 1" \
         "tpg:set bench 1 generate_node_acls true" "portal:add bench 1 127.0.0.1:$XPORT" "lun:add bench 1 0 bench"; do
  "$JT" --home "$OUT/home" exec "$c" >>"$OUT/setup.log" || { echo "nbd-fabric.sh: $c failed" >&2; exit 1; }
done
IMG=$(find "$OUT/home/data" -name bench.img | head -1)
[ -f "$IMG" ] || { echo "nbd-fabric.sh: bench.img not found under $OUT/home/data" >&2; exit 1; }
# written through once, so that neither server pays for allocating the file's blocks
dd if=/dev/zero of="$IMG" bs=1M count=1024 conv=notrunc,fsync status=none
nbdkit -f -i 127.0.0.1 -p "$NPORT" file "$IMG" > "$OUT/nbdkit.log" 2>&1 &
NPID=$!
for _ in $(seq 100); do nbdinfo "nbd://127.0.0.1:$NPORT" >/dev/null 2>&1 && break; sleep 0.1; done

JNBD="driver=raw,file.driver=nbd,file.host=127.0.0.1,file.port=$XPORT,file.export=bench"
KNBD="driver=raw,file.driver=nbd,file.host=127.0.0.1,file.port=$NPORT"

JPID=$(cat "$OUT/home/run/jtarget.pid" 2>/dev/null || cat "$OUT/jtarget.pid")
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }  # user+system CPU, 1/100 s
iops() {  # opts rw bs qd pid label: count-based qemu-img bench, calibrated to about SECS seconds; prints IOPS and
          # the server's CPU per command (us); the server's CPU also goes to cpu.log
  local w= count=5000 t c0 cpu=0
  [ "$2" = w ] && w=-w
  run() { timeout -k 5 $((SECS * 3 + 60)) qemu-img bench --image-opts -t none -c "$1" -d "$4" -s "$3" $w "$2" 2>>"$OUT/qemu.log" \
          | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p'; }
  t=$(run $count "$1" "$3" "$4")
  [ -n "$t" ] && count=$(awk -v c=$count -v t="$t" -v s="$SECS" 'BEGIN { n = c * s / (t > 0.001 ? t : 0.001); print int(n < 1000 ? 1000 : n) }') \
              && { c0=$(ticks "$5"); t=$(run "$count" "$1" "$3" "$4"); cpu=$(($(ticks "$5") - c0))
                   awk -v c="$count" -v n="$cpu" -v what="$6" \
                     'BEGIN { printf "%s: %d commands, CPU per command %.1f us\n", what, c, n * 1e4 / c }' >> "$OUT/cpu.log"; }
  awk -v c=$count -v t="${t:-0}" -v n="$cpu" 'BEGIN { printf "%.0f %.1f", (t > 0) ? c / t : 0, n * 1e4 / c }'
}

if [ "$WARMUP" -gt 0 ]; then
  end=$((SECONDS + WARMUP)) writes=0
  # both probes' paths (as nbd.sh), so that the JIT has compiled the write path too: on a loaded machine 20 s
  # are far fewer commands than the JIT needs (CPU per 64 KiB write falls from ~300 us to its floor after ~50k)
  while [ $SECONDS -lt $end ] || [ $writes -lt "$WARMUP_WRITES" ]; do
    qemu-img bench --image-opts -t none -c 20000 -d 32 -s 4096 "$JNBD" >/dev/null 2>&1 || break
    qemu-img bench --image-opts -t none -c 10000 -d 32 -s 65536 -w "$JNBD" >/dev/null 2>&1 || break
    writes=$((writes + 10000))
  done
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/cpu.log"
printf '%-28s %12s %12s %8s %14s %14s\n' "probe (IOPS)" "jtarget nbd" "nbdkit file" "ratio" "jtarget us/cmd" "nbdkit us/cmd"
for p in "r 4096 32" "w 65536 32"; do
  set -- $p
  read -r j jc < <(iops "$JNBD" "$1" "$2" "$3" "$JPID" "$p jtarget")
  read -r n nc < <(iops "$KNBD" "$1" "$2" "$3" "$NPID" "$p nbdkit")
  printf '%-28s %12s %12s %8s %14s %14s\n' "$([ "$1" = w ] && echo write || echo read) bs=$2 qd=$3" "$j" "$n" \
    "$(awk -v a="$j" -v b="$n" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" "$jc" "$nc"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/cpu.log"
cat "$OUT/cpu.log" >&2
