#!/usr/bin/env bash
# bench.sh - side-by-side throughput of jtarget and Linux tgt (userspace) on loopback.
#   Starts the built distribution (temporary home, LUN 0 = the default 1 GiB file backstore) and tgtd
#   (LUN 1 = a 1 GiB sparse file, rdwr backing store) on two free 127.0.0.1 ports, runs the same probes
#   (perf.sh: iscsi-perf reads, qemu-img bench reads and writes) against each in turn, and prints one row
#   per probe: IOPS of both and the ratio jtarget/tgt. Both targets are stopped by PID on exit.
#   Client and targets share the same CPUs: compare ratios, not absolute figures, across machines.
# Env: SECS per probe (default 3), WARMUP seconds of untimed reads before the probes, followed by a fixed count of writes (default 20), OUT directory for raw output (default bench/target/bench),
#      ONLY=jtarget|tgt to measure one side, JTARGET (launcher, see jtarget-peer.sh),
#      BLOCK=1: both serve one loop device over a 1 GiB sparse file (as root): jtarget's block backstore
#      (O_DIRECT) against tgt's rdwr on the same device.
# Exit: 0 when every probe ran on every measured side, 1 otherwise, 2 when a tool is missing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export SECS=${SECS:-3}
WARMUP=${WARMUP:-20}
OUT=${OUT:-$HERE/target/bench} ONLY=${ONLY:-}
command -v iscsi-perf >/dev/null || { echo "bench: iscsi-perf missing (apt-get install libiscsi-bin)" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT" || exit 2

JPORT= TPORT= LOOPDEV=
if [ "${BLOCK:-}" = 1 ]; then
  truncate -s 1G "$OUT/block.img" && LOOPDEV=$(losetup -f --show "$OUT/block.img") ||
    { echo "bench: BLOCK=1 needs root and losetup" >&2; exit 2; }
  export BLOCK=$LOOPDEV BACKING=$LOOPDEV
  echo "bench: both targets serve $LOOPDEV (sparse $OUT/block.img)" >&2
else
  unset BLOCK
fi
cleanup() {
  [ -n "$JPORT" ] && "$HERE/jtarget-peer.sh" stop "$JPORT" "$OUT/jtarget" >/dev/null
  [ -n "$TPORT" ] && "$HERE/tgt-peer.sh" stop "$TPORT" "$OUT/tgt" >/dev/null
  [ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

warmup() {  # url; reads (small and large) for WARMUP seconds, then a fixed count of small and large writes
  local half=$(((WARMUP + 1) / 2)) opts
  timeout -k 5 $((half + 30)) iscsi-perf -i iqn.2026-11.org.example:warmup -m 32 -b 8 -t "$half" "$1" >/dev/null 2>&1
  timeout -k 5 $((half + 30)) iscsi-perf -i iqn.2026-11.org.example:warmup -m 8 -b 128 -t "$half" "$1" >/dev/null 2>&1
  [[ $1 =~ ^iscsi://([^/]+)/([^/]+)/([0-9]+)$ ]] && command -v qemu-img >/dev/null || return 0
  opts="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=${BASH_REMATCH[1]},file.target=${BASH_REMATCH[2]}"
  opts+=",file.lun=${BASH_REMATCH[3]},file.initiator-name=iqn.2026-11.org.example:warmup"
  timeout -k 5 60 qemu-img bench --image-opts -t none -w -c 50000 -d 32 -s 4096 "$opts" >/dev/null 2>&1
  timeout -k 5 60 qemu-img bench --image-opts -t none -w -c 5000 -d 32 -s 65536 "$opts" >/dev/null 2>&1
  return 0
}

measure() {  # side start-command... ; runs perf.sh against the URL the start command printed
  local side=$1; shift
  local url
  if ! url=$("$@" 2>"$OUT/$side.start.err" | sed -n 's/.* serving \(iscsi:[^ ]*\).*/\1/p'); [ -z "$url" ]; then
    echo "bench: $side did not start:" >&2; cat "$OUT/$side.start.err" >&2; return 1
  fi
  echo "bench: $side at $url, SECS=$SECS per probe, WARMUP=${WARMUP}s" >&2
  # The same untimed load first on both sides: a JVM target runs interpreted until the JIT has compiled
  # its read and write paths (on 2 cores that takes ~15-20 s of load; tgt needs none, and gets it too).
  [ "$WARMUP" -gt 0 ] && warmup "$url"
  "$HERE/perf.sh" "$url" | tee "$OUT/$side.perf" | sed "s/^/  $side /" >&2
}

ok=0
if [ "$ONLY" != tgt ]; then
  JPORT=$("$HERE/free-port.sh") || exit 1
  measure jtarget "$HERE/jtarget-peer.sh" start "$JPORT" "$OUT/jtarget" || ok=1
  "$HERE/jtarget-peer.sh" stop "$JPORT" "$OUT/jtarget" >/dev/null; JPORT=
fi
if [ "$ONLY" != jtarget ]; then
  command -v tgtd >/dev/null || { echo "bench: tgtd missing (apt-get install tgt)" >&2; exit 2; }
  TPORT=$("$HERE/free-port.sh") || exit 1
  measure tgt "$HERE/tgt-peer.sh" start "$TPORT" "$OUT/tgt" || ok=1
  "$HERE/tgt-peer.sh" stop "$TPORT" "$OUT/tgt" >/dev/null; TPORT=
fi
touch "$OUT/jtarget.perf" "$OUT/tgt.perf"

# perf line: "perf: <tool> <pattern> bs=<b> qd=<q>: <iops> IOPS, <mb> MB/s, lat <us> us" (or ": FAILED")
awk '
  function key(l) { sub(/^perf: /, "", l); sub(/:.*/, "", l); return l }
  function iops(l) { if (l !~ / IOPS,/) return -1; sub(/.*: /, "", l); return l + 0 }
  { side = (FILENAME ~ /jtarget\.perf$/) ? 1 : 2 }   # by name: an empty file has no first line
  /^perf: .* (IOPS|FAILED)/ { k = key($0); if (!(k in seen)) { seen[k] = 1; order[++n] = k }; v[side, k] = iops($0) }
  END {
    printf "%-42s %12s %12s %8s\n", "probe (IOPS)", "jtarget", "tgt", "j/tgt"
    for (i = 1; i <= n; i++) { k = order[i]; j = ((1, k) in v) ? v[1, k] : -1; t = ((2, k) in v) ? v[2, k] : -1
      printf "%-42s %12s %12s %8s\n", k, (j < 0 ? "n/a" : j), (t < 0 ? "n/a" : t),
             (j > 0 && t > 0) ? sprintf("%.2f", j / t) : "n/a" }
  }' "$OUT/jtarget.perf" "$OUT/tgt.perf" | tee "$OUT/table.txt"
grep -q FAILED "$OUT/jtarget.perf" "$OUT/tgt.perf" && ok=1
echo "bench: raw output in $OUT"
exit $ok
