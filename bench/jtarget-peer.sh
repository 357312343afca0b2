#!/usr/bin/env bash
# jtarget-peer.sh start|stop PORT DIR - run the built distribution as a throw-away instance.
#   start: bin/jtarget --home DIR/home --portal 127.0.0.1:PORT (stdin /dev/null, own session), waits until
#          LUN 0 of the default target answers INQUIRY, prints its URL. PID in DIR/jtarget.pid, console
#          output in DIR/jtarget.log. A first start creates the default 1 GiB file backstore on LUN 0.
#   stop:  SIGTERM to that PID (and its process group), SIGKILL if it lingers past $STOP_WAIT s (default 20).
#          DIR is kept (the home survives, so a second start restores the saved configuration).
# Env: JTARGET (launcher, default <repo>/distribution/target/jtarget/bin/jtarget), START_WAIT seconds
#      (default 90), IQN of the target to wait for (default iqn.2026-11.org.jtarget:default), BLOCK (a block
#      device: start also creates a block backstore on it as LUN 1 and prints that URL; bench.sh BLOCK=1),
#      BLOCK_PARAMS (more key=value parameters of that backstore, e.g. direct=false).
set -u
usage() { sed -n '2,10p' "$0" >&2; exit 2; }
[ $# -eq 3 ] && [[ $2 =~ ^[0-9]+$ ]] || usage
CMD=$1 PORT=$2 DIR=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JTARGET=${JTARGET:-$ROOT/distribution/target/jtarget/bin/jtarget}
IQN=${IQN:-iqn.2026-11.org.jtarget:default}
START_WAIT=${START_WAIT:-90} STOP_WAIT=${STOP_WAIT:-20}
PIDF=$DIR/jtarget.pid
URL=iscsi://127.0.0.1:$PORT/$IQN/0
alive() { [ -s "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }

stop() {
  alive || { echo "jtarget-peer: not running (no live process in $PIDF)"; rm -f "$PIDF"; return 0; }
  local pid; pid=$(cat "$PIDF")
  # setsid made pid a process-group leader: TERM the group so a wrapper script's java child gets it too
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq $((STOP_WAIT * 2))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "jtarget-peer: pid $pid ignored SIGTERM for ${STOP_WAIT}s, killing" >&2
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  fi
  rm -f "$PIDF"; echo "jtarget-peer: stopped pid $pid"
}

start() {
  [ -x "$JTARGET" ] || { echo "jtarget-peer: $JTARGET missing (build first: mvn -B install -DskipTests)" >&2; exit 2; }
  alive && { echo "jtarget-peer: already running, pid $(cat "$PIDF")" >&2; exit 1; }
  mkdir -p "$DIR/home" || exit 1
  setsid "$JTARGET" --home "$DIR/home" --portal "127.0.0.1:$PORT" >> "$DIR/jtarget.log" 2>&1 < /dev/null &
  echo $! > "$PIDF"
  local t0=$SECONDS
  while :; do
    alive || { echo "jtarget-peer: exited during start-up, see $DIR/jtarget.log:" >&2; tail -20 "$DIR/jtarget.log" >&2
               rm -f "$PIDF"; exit 1; }
    # port open first (cheap), then a real login + INQUIRY: the LUN may bind after the fabric listens
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null &&
       timeout -k 2 10 iscsi-inq "$URL" >/dev/null 2>&1; then break; fi
    if [ $((SECONDS - t0)) -ge "$START_WAIT" ]; then
      echo "jtarget-peer: $URL not answering after ${START_WAIT}s, see $DIR/jtarget.log" >&2; stop >&2; exit 1
    fi
    sleep 0.5
  done
  if [ -n "${BLOCK:-}" ]; then
    { "$JTARGET" --home "$DIR/home" exec "backstore:create blk block device=$BLOCK ${BLOCK_PARAMS:-}" &&
      "$JTARGET" --home "$DIR/home" exec "lun:add $IQN 1 1 blk"; } >&2 || { stop >&2; exit 1; }
    URL=${URL%/0}/1
  fi
  echo "jtarget-peer: pid $(cat "$PIDF") serving $URL (ready in $((SECONDS - t0))s)"
}

case $CMD in start) start ;; stop) stop ;; *) usage ;; esac
