#!/usr/bin/env bash
# s3.sh - the s3 backstore's cost: sequential 1 MiB writes through jtarget (iSCSI LUN 1 on an s3 backstore),
#   flush included, against the backstore's own S3 client PUTting 1 MiB objects with the same parallelism
#   (the upload pool's 8 threads) straight to the same S3Proxy. Starts S3Proxy 2.6.0 (filesystem backend in
#   $OUT/s3data) and the built distribution (jtarget-peer.sh, throw-away home) on free 127.0.0.1 ports and
#   stops both by PID.
# Through jtarget: one qemu-io process writes MB MiB as 1 MiB aio_writes, QD at a time (pattern 0xa5: objects
#   of zeros would be deleted, not stored), then SYNCHRONIZE CACHE (qemu-io flush); timed from start to exit.
# Straight: S3PutBench (backstores/s3 test classes) PUTs MB objects of 1 MiB, PAR in parallel.
# Prints MiB/s of both and the ratio. Raw output in $OUT; CPU seconds of jtarget, S3Proxy (and qemu-io) per run in cpu.log.
# And "bound": the most the ratio can be on this machine when both sides are CPU-bound on the same cores, i.e. if
#   jtarget cost only what its S3 client costs straight: (client + server) / (client + server + qemu-io), in CPU
#   seconds of the timed PUTs and of the initiator, which the straight side does not have.
# Both sides are measured warm, as a long-running target is: jtarget first runs WARMUP untimed rounds (its JIT
#   compiler otherwise took ~40 % of its CPU in the first timed run, async-profiler; after 3 rounds it still cost
#   jtarget 2.1-2.5 CPU s in the first timed run against 1.1-1.7 after 6), S3PutBench first PUTs WARM
#   untimed objects in its own JVM.
# Env: MB (default 256, within the default 256 MiB cache), QD (default 8), PAR (default 8: POOL_THREADS),
#      RUNS (default 2, each prints a row), WARMUP (default 6 rounds of MB MiB), WARM (default 512 PUTs),
#      OUT (default bench/target/s3), S3PROXY_JAR, JTARGET,
#      SERVER=rgw: a Ceph RADOS Gateway instead of S3Proxy (Debian's ceph-mon, ceph-osd, radosgw: a throw-away
#      cluster of one monitor and one memstore OSD under $OUT/ceph, started by CephRgwMain from the test classes);
#      its CPU is the three daemons'.
#      PEER=1 (the default where s3backer, tgtd and /dev/fuse are there, as root): also the open-source way to an
#      S3 LUN today, tgt (rdwr) serving the file of an s3backer mount (FUSE, 1 MiB blocks, PAR upload threads, a
#      block cache of MB blocks) on the same server, with the same qemu-io writes. s3backer 1.5's fsync does not
#      wait for its uploads, so that side is timed until its stats file shows every block uploaded (none dirty).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MB=${MB:-256} QD=${QD:-8} PAR=${PAR:-8} RUNS=${RUNS:-2} WARMUP=${WARMUP:-6} WARM=${WARM:-512} OUT=${OUT:-$HERE/target/s3}
S3PROXY_JAR=${S3PROXY_JAR:-$HOME/.m2/repository/org/gaul/s3proxy/2.6.0/s3proxy-2.6.0-jar-with-dependencies.jar}
IQN=iqn.2026-11.org.jtarget:default INIT=iqn.2026-11.org.example:s3-bench
PEER=${PEER:-$([ "$(id -u)" = 0 ] && [ -e /dev/fuse ] && command -v s3backer >/dev/null && command -v tgtd >/dev/null && echo 1 || echo 0)}
ACCESS=bench SECRET=bench-secret-0123456789   # a throw-away server's key, not a secret
CP=$ROOT/backstores/s3/target/test-classes:$ROOT/backstores/s3/target/classes
[ -f "$S3PROXY_JAR" ] || { echo "s3.sh: $S3PROXY_JAR missing (mvn -o -pl backstores/s3 -am test-compile fetches it)" >&2; exit 2; }
[ -f "$ROOT/backstores/s3/target/test-classes/org/jtarget/backstore/s3/internal/S3PutBench.class" ] ||
  { echo "s3.sh: S3PutBench not built (mvn -o -q -pl backstores/s3 -am test-compile)" >&2; exit 2; }
qemu-img --help 2>/dev/null | grep -q iscsi || { echo "s3.sh: qemu-img with iscsi missing (qemu-utils qemu-block-extra)" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT/s3data/luns"
if [ "${SERVER:-s3proxy}" = rgw ]; then
  command -v radosgw >/dev/null || { echo "s3.sh: SERVER=rgw needs radosgw, ceph-osd, ceph-mon (apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common)" >&2; exit 2; }
  ACCESS=jtarget-test SECRET=s3cr3t-Test-Key-0123456789   # CephRgwServer's throw-away test user
  mkfifo "$OUT/rgw.in"
  java -Djtarget.ceph.memstore.bytes=$((8 << 30)) -cp "$CP" org.jtarget.backstore.s3.internal.CephRgwMain "$OUT/ceph" luns < "$OUT/rgw.in" > "$OUT/rgw.log" 2>&1 &
  SPID=$!
  exec 4> "$OUT/rgw.in"   # CephRgwMain serves until this closes
  for _ in $(seq 360); do grep -q '^pids ' "$OUT/rgw.log" && break; kill -0 "$SPID" 2>/dev/null || break; sleep 0.5; done
  grep -q '^pids ' "$OUT/rgw.log" || { echo "s3.sh: Ceph RGW did not start, see $OUT/rgw.log" >&2; exec 4>&-; wait "$SPID"; exit 1; }
  SPORT=$(sed -n 's/^endpoint http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/rgw.log")
  SPIDS=$(sed -n 's/^pids //p' "$OUT/rgw.log")
  stop_server() { exec 4>&-; wait "$SPID" 2>/dev/null; }
else
  SPORT=$("$HERE/free-port.sh") || exit 1
  printf '%s\n' "s3proxy.endpoint=http://127.0.0.1:$SPORT" jclouds.provider=filesystem "jclouds.filesystem.basedir=$OUT/s3data" \
    s3proxy.authorization=aws-v2-or-v4 "s3proxy.identity=$ACCESS" "s3proxy.credential=$SECRET" > "$OUT/s3proxy.properties"
  java -Xmx512m -jar "$S3PROXY_JAR" --properties "$OUT/s3proxy.properties" > "$OUT/s3proxy.log" 2>&1 &
  SPID=$! SPIDS=$!
  stop_server() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
fi
JPORT=$("$HERE/free-port.sh") || exit 1
while [ "$JPORT" = "$SPORT" ]; do JPORT=$("$HERE/free-port.sh") || exit 1; done
BPID= TPORT=
stop_peer() {
  [ -n "$TPORT" ] && "$HERE/tgt-peer.sh" stop "$TPORT" "$OUT/tgt" >/dev/null
  if [ -n "$BPID" ]; then umount "$OUT/s3b" 2>/dev/null || umount -l "$OUT/s3b" 2>/dev/null; kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; fi
}
cleanup() { "$HERE/jtarget-peer.sh" stop "$JPORT" "$OUT" >/dev/null; stop_peer; stop_server; }
trap cleanup EXIT
for _ in $(seq 120); do (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null && break; sleep 0.5; done
if [ "$PEER" = 1 ]; then  # tgt on an s3backer mount of the same bucket (its own prefix)
  mkdir -p "$OUT/s3b" && (umask 077 && printf '%s:%s\n' "$ACCESS" "$SECRET" > "$OUT/s3b.access")
  s3backer -f --accessFile="$OUT/s3b.access" --baseURL="http://127.0.0.1:$SPORT/" --authVersion=aws4 --blockSize=1m \
    --size=$((MB * 2))m --blockCacheSize="$MB" --blockCacheThreads="$PAR" --prefix=s3b/ --force luns "$OUT/s3b" > "$OUT/s3backer.log" 2>&1 &
  BPID=$!
  for _ in $(seq 50); do [ -e "$OUT/s3b/stats" ] && break; sleep 0.2; done
  [ -e "$OUT/s3b/stats" ] || { echo "s3.sh: s3backer did not mount, see $OUT/s3backer.log" >&2; exit 1; }
  TPORT=$("$HERE/free-port.sh") || exit 1
  while [ "$TPORT" = "$SPORT" ] || [ "$TPORT" = "$JPORT" ]; do TPORT=$("$HERE/free-port.sh") || exit 1; done
  BACKING="$OUT/s3b/file" "$HERE/tgt-peer.sh" start "$TPORT" "$OUT/tgt" > /dev/null || exit 1
  TGT="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$TPORT,file.target=iqn.2026-11.org.example:tgt1,file.lun=1,file.initiator-name=$INIT"
fi
"$HERE/jtarget-peer.sh" start "$JPORT" "$OUT" || exit 1
JT=${JTARGET:-$ROOT/distribution/target/jtarget/bin/jtarget}
"$JT" --home "$OUT/home" exec "backstore:create s1 s3 bucket=luns size=$((MB * 2))M endpoint=http://127.0.0.1:$SPORT path_style=true access_key=$ACCESS secret_key=$SECRET" || exit 1
"$JT" --home "$OUT/home" exec "lun:add $IQN 1 1 s1" || exit 1
ISCSI="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$JPORT,file.target=$IQN,file.lun=1,file.initiator-name=$INIT"

JPID=$(cat "$OUT/home/run/jtarget.pid" 2>/dev/null || cat "$OUT/jtarget.pid")
now() { date +%s.%N; }
ticks() { local p t=0; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }  # user+system CPU, 1/100 s
TIMED=(); [ -x /usr/bin/time ] && TIMED=(/usr/bin/time -f "%U %S" -o "$OUT/qemu.time")  # the initiator's own CPU too
cpu() { local j=$(($(ticks "$JPID") - j0)) s=$(($(ticks $SPIDS) - s0)) q=""
        [ "${2:-}" = qemu ] && [ -s "$OUT/qemu.time" ] && q=$(awk '{ printf " qemu-io %.2f", $1 + $2 }' "$OUT/qemu.time")
        printf '%s: cpu seconds jtarget %d.%02d '"${SERVER:-s3proxy}"' %d.%02d%s\n' "$1" $((j / 100)) $((j % 100)) $((s / 100)) $((s % 100)) "$q" >> "$OUT/cpu.log"; }
uploaded() { awk '/^http_normal_blocks_written/ { w = $2 } /^block_cache_dirty_ratio/ { d = $2 } END { print (d + 0 == 0) ? w : -1 }' "$OUT/s3b/stats"; }
jtarget_run() {  # offset in MiB [image]: MB MiB of 1 MiB aio_writes, QD in flight, then flush; prints MiB/s
  local image=${2:-$ISCSI} args=() i t0 t1 w0
  for ((i = 0; i < MB; i++)); do
    args+=(-c "aio_write -q -P 0xa5 $(($1 + i))M 1M")
    [ $(((i + 1) % QD)) -eq 0 ] && args+=(-c aio_flush)
  done
  args+=(-c aio_flush -c flush)
  [ "$image" = "$ISCSI" ] || w0=$(awk '/^http_normal_blocks_written/ { print $2 }' "$OUT/s3b/stats")
  t0=$(now)
  rm -f "$OUT/qemu.time"
  "${TIMED[@]}" timeout -k 5 600 qemu-io --image-opts -t none "${args[@]}" "$image" >> "$OUT/qemu.log" 2>&1 || { echo 0; return; }
  if [ "$image" != "$ISCSI" ]; then  # s3backer: until every block written is uploaded (at most 10 min)
    for _ in $(seq 30000); do [ "$(uploaded)" -ge $((w0 + MB)) ] && break; sleep 0.02; done
  fi
  t1=$(now)
  awk -v m="$MB" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", m / (b - a) }'
}
direct_run() {  # run number: prints MiB/s; the timed PUTs' CPU seconds (client, server) in $OUT/direct.$1
  S3_BENCH_SERVER_PIDS="$SPIDS" java -cp "$CP" org.jtarget.backstore.s3.internal.S3PutBench "http://127.0.0.1:$SPORT" luns \
    "$ACCESS" - "$MB" "$PAR" 1048576 "putbench$1/" "$WARM" 2>>"$OUT/direct.log" | tee -a "$OUT/direct.log" > "$OUT/direct.$1"
  sed -n 's/.*: \([0-9.]*\) MiB\/s$/\1/p' "$OUT/direct.$1"
}
# The most the ratio can be here when both sides are CPU-bound on the same cores: jtarget costing no more than its
# S3 client does straight (the iSCSI target free), the initiator's CPU (qemu-io's, which the straight side does not
# have) still spent: (client + server) / (client + server + qemu-io), CPU seconds of the same MB MiB.
bound() { awk -v q="$(awk '{ print $1 + $2 }' "$OUT/qemu.time" 2>/dev/null)" \
    '/^cpu seconds client/ { c = $4; s = $6 } END { if (q > 0 && c + s > 0) printf "%.2f", (c + s) / (c + s + q); else print "-" }' "$OUT/direct.$1"; }
export S3_SECRET_KEY=$SECRET
for ((w = 0; w < WARMUP; w++)); do jtarget_run $(((w % 2) * MB)) > /dev/null; done  # the JVM compiles, connections open
[ "$PEER" = 1 ] && jtarget_run 0 "$TGT" > /dev/null  # the peer's connections open, its block cache fills
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
if [ "$PEER" = 1 ]; then
  printf '%-40s %12s %12s %8s %8s %16s %8s %6s\n' "probe (MiB/s)" "via jtarget" "S3 client" "ratio" "bound" "tgt+s3backer" "ratio" "load"
else
  printf '%-40s %12s %12s %8s %8s %6s\n' "probe (MiB/s)" "via jtarget" "S3 client" "ratio" "bound" "load"
fi
for ((r = 1; r <= RUNS; r++)); do
  j0=$(ticks "$JPID") s0=$(ticks $SPIDS); j=$(jtarget_run $(((r % 2) * MB))); cpu "run $r via jtarget" qemu
  j0=$(ticks "$JPID") s0=$(ticks $SPIDS); d=$(direct_run "$r"); cpu "run $r straight (with warm-up PUTs)"
  echo "run $r straight, timed PUTs: $(grep "^cpu seconds" "$OUT/direct.$r")" >> "$OUT/cpu.log"
  b=$(bound "$r")  # qemu.time is still the via-jtarget run's
  if [ "$PEER" = 1 ]; then
    p0=$(ticks "$BPID" "$(cat "$OUT/tgt/tgtd.pid")") s0=$(ticks $SPIDS); p=$(jtarget_run $(((r % 2) * MB)) "$TGT")
    pc=$(($(ticks "$BPID" "$(cat "$OUT/tgt/tgtd.pid")") - p0)) sc=$(($(ticks $SPIDS) - s0))
    printf 'run %d via tgt+s3backer: cpu seconds tgt+s3backer %d.%02d %s %d.%02d%s\n' "$r" $((pc / 100)) $((pc % 100)) \
      "${SERVER:-s3proxy}" $((sc / 100)) $((sc % 100)) "$([ -s "$OUT/qemu.time" ] && awk '{ printf " qemu-io %.2f", $1 + $2 }' "$OUT/qemu.time")" >> "$OUT/cpu.log"
    printf '%-40s %12s %12s %8s %8s %16s %8s %6s\n' "seq write 1M qd=$QD ${MB}M+flush / PUT x$PAR" "$j" "$d" "$(ratio "$j" "$d")" \
      "$b" "$p" "$(ratio "$p" "$d")" "$(cut -d' ' -f1 /proc/loadavg)"
  else
    printf '%-40s %12s %12s %8s %8s %6s\n' "seq write 1M qd=$QD ${MB}M+flush / PUT x$PAR" "$j" "$d" "$(ratio "$j" "$d")" \
      "$b" "$(cut -d' ' -f1 /proc/loadavg)"
  fi
done
