#!/usr/bin/env bash
# bench.sh - side-by-side throughput of jtarget and Linux tgt (userspace) on loopback.
#   Starts the built distribution (temporary home, LUN 0 = the default 1 GiB file backstore) and tgtd
#   (LUN 1 = a 1 GiB sparse file, rdwr backing store) on two free 127.0.0.1 ports, runs the same probes
#   (perf.sh: iscsi-perf reads, qemu-img bench reads and writes) against each in turn, and prints one row
#   per probe: IOPS of both and the ratio jtarget/tgt. Both targets are stopped by PID on exit.
#   Client and targets share the same CPUs: compare ratios, not absolute figures, across machines.
# Env: SECS per probe (default 3), WARMUP seconds of untimed reads before the probes, followed by a fixed count of writes (default 20), OUT directory for raw output (default bench/target/bench),
#      ONLY=jtarget|tgt to measure one side, JTARGET (launcher, see jtarget-peer.sh),
#      BLOCK=1: both serve one loop device over a 1 GiB sparse file (as root), four sides in this order:
#        jtarget (block backstore, default direct=true, plus BLOCK_PARAMS), tgt-direct (rdwr, --bsoflags
#        direct), tgt (rdwr, buffered: TGT_BSOFLAGS, default none), jtarget-buffered (BLOCK_PARAMS and
#        direct=false); the device's page cache is dropped (blockdev --flushbufs) before each side.
#        Ratios: j/tgt = jtarget/tgt (issue 7's), direct = jtarget/tgt-direct, buffered =
#        jtarget-buffered/tgt (like for like). LIKE=0 measures only jtarget and tgt.
#        Then the floor under the qd1 qemu-img probes: 4 KiB O_DIRECT on the device alone (dd; and qemu-img
#        bench straight on it, no network) plus a bare TCP round trip (round-trip.c, where cc is), the latency
#        of a target and an iSCSI initiator that cost nothing, and so the most any target's ratio to tgt can be
#        at queue depth 1.
#      Each probe line also gives the target process's CPU per command (perf.sh CPU_PID); table in cpu.txt.
# Exit: 0 when every probe ran on every measured side, 1 otherwise, 2 when a tool is missing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export SECS=${SECS:-3}
WARMUP=${WARMUP:-20}
OUT=${OUT:-$HERE/target/bench} ONLY=${ONLY:-}
command -v iscsi-perf >/dev/null || { echo "bench: iscsi-perf missing (apt-get install libiscsi-bin)" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT" || exit 2

PORT= PEER= SIDEDIR= LOOPDEV=
SIDES="jtarget tgt"
if [ "${BLOCK:-}" = 1 ]; then
  truncate -s 1G "$OUT/block.img" && LOOPDEV=$(losetup -f --show "$OUT/block.img") ||
    { echo "bench: BLOCK=1 needs root and losetup" >&2; exit 2; }
  export BLOCK=$LOOPDEV BACKING=$LOOPDEV
  echo "bench: both targets serve $LOOPDEV (sparse $OUT/block.img)" >&2
  [ "${LIKE:-1}" = 1 ] && SIDES="jtarget tgt-direct tgt jtarget-buffered"
else
  unset BLOCK
fi
cleanup() {
  [ -n "$PORT" ] && "$HERE/$PEER" stop "$PORT" "$SIDEDIR" >/dev/null
  [ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

warmup() {  # url; reads (small and large) for WARMUP seconds, then a fixed count of small and large writes,
            # then 3 s of reads and 2000 writes at queue depth 1
  local half=$(((WARMUP + 1) / 2)) opts
  timeout -k 5 $((half + 30)) iscsi-perf -i iqn.2026-11.org.example:warmup -m 32 -b 8 -t "$half" "$1" >/dev/null 2>&1
  timeout -k 5 $((half + 30)) iscsi-perf -i iqn.2026-11.org.example:warmup -m 8 -b 128 -t "$half" "$1" >/dev/null 2>&1
  [[ $1 =~ ^iscsi://([^/]+)/([^/]+)/([0-9]+)$ ]] && command -v qemu-img >/dev/null || return 0
  opts="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=${BASH_REMATCH[1]},file.target=${BASH_REMATCH[2]}"
  opts+=",file.lun=${BASH_REMATCH[3]},file.initiator-name=iqn.2026-11.org.example:warmup"
  timeout -k 5 60 qemu-img bench --image-opts -t none -w -c 50000 -d 32 -s 4096 "$opts" >/dev/null 2>&1
  timeout -k 5 60 qemu-img bench --image-opts -t none -w -c 5000 -d 32 -s 65536 "$opts" >/dev/null 2>&1
  # and one command at a time: a JVM target completing requests on the caller's thread at queue depth 1 (and
  # only there) was otherwise still compiling that path during the first probe (C2 at half a core)
  timeout -k 5 30 iscsi-perf -i iqn.2026-11.org.example:warmup -m 1 -b 8 -t 3 "$1" >/dev/null 2>&1
  timeout -k 5 60 qemu-img bench --image-opts -t none -w -c 2000 -d 1 -s 4096 "$opts" >/dev/null 2>&1
  return 0
}

measure() {  # side; starts it (env per side), runs perf.sh against the URL it printed, stops it
  local side=$1 url pidfile rc=0
  local -a env=()
  SIDEDIR=$OUT/$side
  case $side in
    jtarget*) PEER=jtarget-peer.sh pidfile=$SIDEDIR/home/run/jtarget.pid
              [ "$side" = jtarget-buffered ] &&
                env=(BLOCK_PARAMS="$(echo "${BLOCK_PARAMS:-}" | sed 's/\bdirect=[^ ]*//g') direct=false") ;;
    tgt*)     PEER=tgt-peer.sh pidfile=$SIDEDIR/tgtd.pid
              command -v tgtd >/dev/null || { echo "bench: tgtd missing (apt-get install tgt)" >&2; exit 2; }
              [ "$side" = tgt-direct ] && env=(TGT_BSOFLAGS=direct) ;;
  esac
  [ -n "$LOOPDEV" ] && blockdev --flushbufs "$LOOPDEV"  # no side reads what the one before left cached
  PORT=$("$HERE/free-port.sh") || exit 1
  if ! url=$(env "${env[@]}" "$HERE/$PEER" start "$PORT" "$SIDEDIR" 2>"$OUT/$side.start.err" |
             sed -n 's/.* serving \(iscsi:[^ ]*\).*/\1/p'); [ -z "$url" ]; then
    echo "bench: $side did not start:" >&2; cat "$OUT/$side.start.err" >&2; rc=1
  else
    echo "bench: $side at $url ${env[*]}, SECS=$SECS per probe, WARMUP=${WARMUP}s, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    # The same untimed load first on every side: a JVM target runs interpreted until the JIT has compiled
    # its read and write paths (on 2 cores that takes ~15-20 s of load; tgt needs none, and gets it too).
    [ "$WARMUP" -gt 0 ] && warmup "$url"
    CPU_PID=$(cat "$pidfile" 2>/dev/null) "$HERE/perf.sh" "$url" | tee "$OUT/$side.perf" | sed "s/^/  $side /" >&2
  fi
  "$HERE/$PEER" stop "$PORT" "$SIDEDIR" >/dev/null; PORT=
  return $rc
}

[ -n "$ONLY" ] && SIDES=$(for side in $SIDES; do [[ $side == "$ONLY"* ]] && echo "$side"; done)
ok=0
for side in $SIDES; do measure "$side" || ok=1; done
for side in $SIDES; do touch "$OUT/$side.perf"; done

# perf line: "perf: <tool> <pattern> bs=<b> qd=<q>: <iops> IOPS, <mb> MB/s, lat <us> us[, cpu <us> us/cmd]"
# (or ": FAILED"); one column per side, then the ratios whose two sides were measured
table() {  # value: iops|cpu
  (cd "$OUT" && awk -v what="$1" -v sides="$SIDES" '
  function key(l) { sub(/^perf: /, "", l); sub(/:.*/, "", l); return l }
  function iops(l) { if (l !~ / IOPS,/) return -1; sub(/.*: /, "", l); return l + 0 }
  function cpu(l) { if (l !~ / us\/cmd/) return -1; sub(/.*, cpu /, "", l); return l + 0 }
  function r(a, b, k) { return ((a, k) in v && (b, k) in v && v[a, k] > 0 && v[b, k] > 0) ? sprintf("%.2f", v[a, k] / v[b, k]) : "n/a" }
  { side = FILENAME; sub(/\.perf$/, "", side) }
  /^perf: .* (IOPS|FAILED)/ { k = key($0); if (!(k in seen)) { seen[k] = 1; order[++n] = k }
                              v[side, k] = (what == "cpu") ? cpu($0) : iops($0) }
  END {
    ns = split(sides, s, " ")
    printf "%-40s", (what == "cpu") ? "probe (CPU us/command)" : "probe (IOPS)"
    for (i = 1; i <= ns; i++) printf " %16s", s[i]
    if (what != "cpu") {
      printf " %7s", "j/tgt"
      if (sides ~ /tgt-direct/) printf " %7s %8s", "direct", "buffered"
    }
    printf "\n"
    for (j = 1; j <= n; j++) { k = order[j]; printf "%-40s", k
      for (i = 1; i <= ns; i++) printf " %16s", ((s[i], k) in v && v[s[i], k] >= 0) ? v[s[i], k] : "n/a"
      if (what != "cpu") {
        printf " %7s", r("jtarget", "tgt", k)
        if (sides ~ /tgt-direct/) printf " %7s %8s", r("jtarget", "tgt-direct", k), r("jtarget-buffered", "tgt", k)
      }
      printf "\n" }
  }' $(for side in $SIDES; do echo "$side.perf"; done))
}
table iops | tee "$OUT/table.txt"
table cpu > "$OUT/cpu.txt"
floor() {  # BLOCK=1: the qd1 floor (see the head of this file); prints two lines
  local n=20000 rtt dr dw qr qw
  us() { awk -v a="$1" -v b="$2" -v n=$n 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }'; }
  dd_us() { local t0 t1; t0=$(date +%s.%N); dd "$@" bs=4k count=$n status=none || return; t1=$(date +%s.%N); us "$t0" "$t1"; }
  qemu_us() { local t try; for try in 1 2 3; do  # (once seen failing right after the side before: retried)
      t=$(qemu-img bench -f raw -t none -i native -c $n -d 1 -s 4096 $1 "$LOOPDEV" 2>>"$OUT/floor.err" |
          sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p')
      [ -n "$t" ] && { awk -v t="$t" -v n=$n 'BEGIN { printf "%.1f", t * 1e6 / n }'; return; }; sleep 1
    done; }
  command -v cc >/dev/null || { echo "bench: qd1 floor skipped: no C compiler (cc) for round-trip.c"; return; }
  cc -O2 -o "$OUT/round-trip" "$HERE/round-trip.c" || { echo "bench: qd1 floor skipped: round-trip.c does not compile"; return; }
  dr=$(dd_us if="$LOOPDEV" of=/dev/null iflag=direct) dw=$(dd_us if=/dev/zero of="$LOOPDEV" oflag=direct)
  qr=$(qemu_us) qw=$(qemu_us -w) rtt=$("$OUT/round-trip" "$("$HERE/free-port.sh")" $n | awk '{ print $1 }')
  (cd "$OUT" && awk -v dr="$dr" -v dw="$dw" -v qr="$qr" -v qw="$qw" -v t="$rtt" '
    function most(lat, tgt) { return (tgt > 0 && lat > t) ? sprintf("%.0f/s (%.2fx tgt)", 1e6 / lat, 1e6 / lat / tgt) : "n/a" }
    /^perf: qemu-img-bench seqread bs=4096 qd=1: .* IOPS/ { sub(/.*: /, ""); tr = $1 }
    /^perf: qemu-img-bench seqwrite bs=4096 qd=1: .* IOPS/ { sub(/.*: /, ""); tw = $1 }
    END { printf "bench: qd1 floor: 4 KiB O_DIRECT on the device alone (dd) %s us per read, %s per write; a bare TCP round trip %s us\n", dr, dw, t
          printf "bench: qd1 floor: a target and initiator that cost nothing: reads %s, writes %s; with qemu-img costing what it does" \
                 " straight on the device (%s, %s us): reads %s, writes %s\n", most(dr + t, tr), most(dw + t, tw), qr, qw,
                 most(qr + t, tr), most(qw + t, tw) }' tgt.perf)
}
[ -n "$LOOPDEV" ] && [[ " $SIDES " == *" tgt "* ]] && floor | tee -a "$OUT/table.txt"
echo "bench: target CPU per command in $OUT/cpu.txt (the loop device's kernel worker not counted)"
(cd "$OUT" && grep -q FAILED $(for side in $SIDES; do echo "$side.perf"; done)) && ok=1
echo "bench: raw output in $OUT"
exit $ok
