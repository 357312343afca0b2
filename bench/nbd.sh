#!/usr/bin/env bash
# nbd.sh - the nbd backstore's cost: qemu-img bench through jtarget (iSCSI LUN 1 on an nbd backstore) against
#   qemu-img bench straight on the same nbdkit export. Starts nbdkit (memory plugin, 1 GiB) and the built
#   distribution (jtarget-peer.sh, throw-away home) on free 127.0.0.1 ports; stops both by PID.
# Probes: 4 KiB reads at queue depth 32, 64 KiB writes at queue depth 32 (qemu-img bench -t none, sequential).
# Prints one row per probe: IOPS via jtarget, IOPS straight on nbdkit, ratio. With nbdkit's nbd plugin installed
#   (RELAY=1, the default then) also the peer for the relay itself: IOPS through a second nbdkit that forwards to
#   the first (nbdkit's nbd plugin, libnbd: an NBD server and client in C, as jtarget is an iSCSI target and NBD
#   client), and its ratio to straight. With a C compiler (BYTES=1, the default then) also the floor for any
#   relay: IOPS through byte-relay.c, which forwards bytes between qemu-img and nbdkit and understands nothing
#   (read and write, one process per connection), and its ratio to straight. Raw output in $OUT; CPU time per
#   command of jtarget and nbdkit (utime+stime from /proc) and their context switches per command (voluntary and
#   not, summed over the threads alive at the end) in $OUT/cpu.log.
# Env: SECS per probe (default 5), WARMUP seconds of untimed 4 KiB reads and 64 KiB writes through jtarget first
#      (default 30),
#      OUT (default bench/target/nbd), JTARGET (launcher, see jtarget-peer.sh), PERF=1: also syscalls and context
#      switches per command of every thread (perf stat, which slows both sides a little) in cpu.log.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${SECS:-5} WARMUP=${WARMUP:-30} OUT=${OUT:-$HERE/target/nbd} PERF=${PERF:-0}
RELAY=${RELAY:-$(nbdkit nbd --version >/dev/null 2>&1 && echo 1 || echo 0)}
BYTES=${BYTES:-$(command -v cc >/dev/null && echo 1 || echo 0)}
IQN=iqn.2026-11.org.jtarget:default INIT=iqn.2026-11.org.example:nbd-bench
command -v nbdkit >/dev/null || { echo "nbd.sh: nbdkit missing (apt-get install nbdkit)" >&2; exit 2; }
qemu-img --help 2>/dev/null | grep -q iscsi || { echo "nbd.sh: qemu-img with iscsi missing (qemu-utils qemu-block-extra)" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT"
NPORT=$("$HERE/free-port.sh") || exit 1
nbdkit -f -i 127.0.0.1 -p "$NPORT" memory 1G > "$OUT/nbdkit.log" 2>&1 &
NPID=$!
JPORT=$("$HERE/free-port.sh") || exit 1
while [ "$JPORT" = "$NPORT" ]; do JPORT=$("$HERE/free-port.sh") || exit 1; done
RPID=
if [ "$RELAY" = 1 ]; then  # the relay peer: nbdkit's nbd plugin forwarding to the nbdkit above
  RPORT=$("$HERE/free-port.sh") || exit 1
  while [ "$RPORT" = "$NPORT" ] || [ "$RPORT" = "$JPORT" ]; do RPORT=$("$HERE/free-port.sh") || exit 1; done
  nbdkit -f -i 127.0.0.1 -p "$RPORT" nbd hostname=127.0.0.1 port="$NPORT" > "$OUT/relay.log" 2>&1 &
  RPID=$!
fi
BPID=
if [ "$BYTES" = 1 ]; then  # the floor: a relay in C that moves bytes and nothing else
  cc -O2 -o "$OUT/byte-relay" "$HERE/byte-relay.c" || { echo "nbd.sh: byte-relay.c does not compile (BYTES=0 leaves it out)" >&2; exit 1; }
  BPORT=$("$HERE/free-port.sh") || exit 1
  while [ "$BPORT" = "$NPORT" ] || [ "$BPORT" = "$JPORT" ] || [ "$BPORT" = "${RPORT:-}" ]; do BPORT=$("$HERE/free-port.sh") || exit 1; done
  "$OUT/byte-relay" "$BPORT" "$NPORT" > "$OUT/byte-relay.log" 2>&1 &
  BPID=$!
fi
cleanup() { "$HERE/jtarget-peer.sh" stop "$JPORT" "$OUT" >/dev/null; kill "$NPID" $RPID $BPID 2>/dev/null; wait "$NPID" $RPID $BPID 2>/dev/null; }
trap cleanup EXIT
"$HERE/jtarget-peer.sh" start "$JPORT" "$OUT" || exit 1
JT=${JTARGET:-$HERE/../distribution/target/jtarget/bin/jtarget}
"$JT" --home "$OUT/home" exec "backstore:create n1 nbd uri=nbd://127.0.0.1:$NPORT" || exit 1
"$JT" --home "$OUT/home" exec "lun:add $IQN 1 1 n1" || exit 1

ISCSI="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$JPORT,file.target=$IQN,file.lun=1,file.initiator-name=$INIT"
NBD="driver=raw,file.driver=nbd,file.host=127.0.0.1,file.port=$NPORT"
RELAYED="driver=raw,file.driver=nbd,file.host=127.0.0.1,file.port=${RPORT:-0}"
BYTED="driver=raw,file.driver=nbd,file.host=127.0.0.1,file.port=${BPORT:-0}"

JPID=$(cat "$OUT/home/run/jtarget.pid" 2>/dev/null || cat "$OUT/jtarget.pid")
TIMED=(); [ -x /usr/bin/time ] && TIMED=(/usr/bin/time -f "%U %S" -o "$OUT/qemu.time")  # qemu-img's own CPU too
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }  # user+system CPU, 1/100 s
reaped() { [ -n "$1" ] && awk '{ print $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0; }  # of ended children
jit() {  # CPU of the JIT compiler threads alive now, 1/100 s (compilation still going on inflates jtarget's figure)
  local t n=0 c; for t in /proc/"$1"/task/*; do
    read -r c < "$t/comm" 2>/dev/null || continue
    case $c in "C1 Compiler"*|"C2 Compiler"*) n=$((n + $(sed 's/^.*) //' "$t/stat" | awk '{ print $12 + $13 }'))) ;; esac
  done; echo $n; }
csw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'; }  # of live threads
counted() {  # label count command...: runs the command (prints its output), appends the cost per command to cpu.log
  local what=$1 c=$2 j0 n0 r0 js ns c0 pj pn out; shift 2
  j0=$(ticks "$JPID") n0=$(ticks "$NPID") js=$(csw "$JPID") ns=$(csw "$NPID") c0=$(jit "$JPID")
  r0=$([ -n "$RPID" ] && ticks "$RPID" || echo 0) b0=$(reaped "$BPID")
  if [ "$PERF" = 1 ]; then  # syscalls and context switches of every thread, also of those that end meanwhile
    perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$JPID" -o "$OUT/perf.jtarget" & pj=$!
    perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$NPID" -o "$OUT/perf.nbdkit" & pn=$!
    sleep 1  # until perf is attached
  fi
  rm -f "$OUT/qemu.time"; out=$("$@")
  [ -n "$BPID" ] && sleep 0.3  # byte-relay's child for this connection ends and is reaped
  awk -v c="$c" -v j=$(($(ticks "$JPID") - j0)) -v n=$(($(ticks "$NPID") - n0)) -v what="$what" \
      -v js=$(($(csw "$JPID") - js)) -v ns=$(($(csw "$NPID") - ns)) -v q="$(cat "$OUT/qemu.time" 2>/dev/null)" \
      -v k=$(($(jit "$JPID") - c0)) -v r=$(($([ -n "$RPID" ] && ticks "$RPID" || echo 0) - r0)) -v b=$(($(reaped "$BPID") - b0)) \
    'BEGIN { split(q, t, " "); printf "%s: CPU per command: jtarget %.0f us (JIT compiler %.0f us of it), nbdkit %.0f us, relay %.0f us, byte-relay %.0f us, qemu-img %s;" \
             " context switches per command: jtarget %.2f, nbdkit %.2f\n", what, j * 1e4 / c, k * 1e4 / c, n * 1e4 / c, r * 1e4 / c, b * 1e4 / c,
             q == "" ? "-" : sprintf("%.0f us", (t[1] + t[2]) * 1e6 / c), (js > 0 ? js / c : 0), (ns > 0 ? ns / c : 0) }' >> "$OUT/cpu.log"
  if [ "$PERF" = 1 ]; then
    kill -INT "$pj" "$pn"; wait "$pj" "$pn"
    perfed() { awk -F, -v c="$c" '$3 ~ /sys_enter/ { s = $1 } $3 ~ /context-switches/ { w = $1 } END { printf "%.2f syscalls, %.2f context switches", s / c, w / c }' "$1"; }
    echo "$what: perf per command: jtarget $(perfed "$OUT/perf.jtarget"); nbdkit $(perfed "$OUT/perf.nbdkit")" >> "$OUT/cpu.log"
  fi
  echo "$out"
}
iops() {  # opts rw bs qd label: count-based qemu-img bench, calibrated to about SECS seconds; prints IOPS
  local w= count=5000 t
  [ "$2" = w ] && w=-w
  run() { "${TIMED[@]}" timeout -k 5 $((SECS * 3 + 60)) qemu-img bench --image-opts -t none -c "$1" -d "$4" -s "$3" $w "$2" 2>>"$OUT/qemu.log" \
          | sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p'; }
  t=$(run $count "$1" "$3" "$4")
  [ -n "$t" ] && count=$(awk -v c=$count -v t="$t" -v s="$SECS" 'BEGIN { n = c * s / (t > 0.001 ? t : 0.001); print int(n < 1000 ? 1000 : n) }') \
              && t=$(counted "$5" "$count" run "$count" "$1" "$3" "$4")
  awk -v c=$count -v t="${t:-0}" 'BEGIN { printf "%.0f", (t > 0) ? c / t : 0 }'
}

# nbdkit's memory plugin allocates its sparse array on first write: whichever side wrote first would pay
# for it (~4x nbdkit's CPU per 64 KiB write). Write the whole export once, straight, before measuring.
qemu-img bench --image-opts -t none -c 16384 -d 32 -s 65536 -w --pattern=0x5a "$NBD" >/dev/null 2>&1 ||
  { echo "nbd.sh: filling the export straight on nbdkit failed, see $OUT" >&2; exit 1; }
if [ "$WARMUP" -gt 0 ]; then
  end=$((SECONDS + WARMUP))
  while [ $SECONDS -lt $end ]; do  # both probes' paths, so that the JIT has compiled the write path too
    qemu-img bench --image-opts -t none -c 20000 -d 32 -s 4096 "$ISCSI" >/dev/null 2>&1 || break
    qemu-img bench --image-opts -t none -c 5000 -d 32 -s 65536 -w "$ISCSI" >/dev/null 2>&1 || break
  done
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
head=$(printf '%-28s %12s %12s %8s' "probe (IOPS)" "via jtarget" "nbdkit" "ratio")
[ "$RELAY" = 1 ] && head="$head $(printf '%12s %8s' "via relay" "ratio")"
[ "$BYTES" = 1 ] && head="$head $(printf '%12s %8s' "via bytes" "ratio")"
echo "$head"
for p in "r 4096 32" "w 65536 32"; do
  set -- $p
  j=$(iops "$ISCSI" "$1" "$2" "$3" "$p via jtarget"); n=$(iops "$NBD" "$1" "$2" "$3" "$p straight")
  row=$(printf '%-28s %12s %12s %8s' "$([ "$1" = w ] && echo write || echo read) bs=$2 qd=$3" "$j" "$n" "$(ratio "$j" "$n")")
  if [ "$RELAY" = 1 ]; then
    r=$(iops "$RELAYED" "$1" "$2" "$3" "$p via relay")
    row="$row $(printf '%12s %8s' "$r" "$(ratio "$r" "$n")")"
  fi
  if [ "$BYTES" = 1 ]; then
    b=$(iops "$BYTED" "$1" "$2" "$3" "$p via bytes")
    row="$row $(printf '%12s %8s' "$b" "$(ratio "$b" "$n")")"
  fi
  echo "$row"
done
