#!/usr/bin/env bash
# Start/stop smoke test of the assembled distribution, run by hand after `mvn package`:
#
#   distribution/src/test/smoke/smoke-test.sh [DIST]      (DIST default: distribution/target/jtarget)
#
# Starts jtarget as a daemon in a temporary home on a free loopback port, checks that every bundle is
# active and the deploy/ bundles were hot-deployed, that libiscsi sees the default target and LUN 0,
# that a second instance in the same home is refused, that SIGTERM exits 0 and saves conf/jtarget.json,
# and that a restart restores the target. SMOKE_SKIP_ISCSI=1 skips the iSCSI checks; SMOKE_KEEP=1 keeps
# the home. Needs libiscsi-bin (iscsi-ls, iscsi-inq) and python3 (to pick a free port).
set -uo pipefail

here="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dist="${1:-$here/../../../target/jtarget}"
dist="$(cd -P "$dist" && pwd)" || { echo "no distribution at ${1:-distribution/target/jtarget}" >&2; exit 2; }
jtarget="$dist/bin/jtarget"
iqn="iqn.2026-11.org.jtarget:default"

home="$(mktemp -d /tmp/jtarget-smoke.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
pid=""
failures=0

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; fi
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then echo "home kept: $home"; else rm -rf "$home"; fi
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: polls every 0.25 s
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.25
  done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  "$jtarget" --home "$home" --portal "127.0.0.1:$port" </dev/null >>"$home/stdout.log" 2>&1 &
  pid=$!
  if wait_for 60 "$jtarget" --home "$home" exec lb; then
    pass "started (pid $pid, home $home, portal 127.0.0.1:$port); exec channel answers"
  else
    fail "no answer on the exec channel within 60 s"; tail -20 "$home/stdout.log"; exit 1
  fi
}

stop() {
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then fail "still running 30 s after SIGTERM"; return; fi
  wait "$pid"; local status=$?
  pid=""
  [ "$status" = 0 ] && pass "SIGTERM: exited with status 0" || fail "SIGTERM: exit status $status (expected 0)"
}

check_iscsi() {
  [ "${SMOKE_SKIP_ISCSI:-0}" = 1 ] && { echo "SKIP iSCSI checks (SMOKE_SKIP_ISCSI=1)"; return; }
  if wait_for 30 listening; then pass "portal 127.0.0.1:$port is listening"; else fail "nothing listens on 127.0.0.1:$port"; return; fi
  local out
  out="$(iscsi-ls -s "iscsi://127.0.0.1:$port" 2>&1)"
  if grep -q "$iqn" <<<"$out"; then pass "iscsi-ls lists $iqn"; else fail "iscsi-ls: $out"; fi
  if out="$(iscsi-inq "iscsi://127.0.0.1:$port/$iqn/0" 2>&1)"; then
    pass "iscsi-inq LUN 0: $(grep -m1 -i 'product' <<<"$out" | tr -s ' ')"
  else
    fail "iscsi-inq LUN 0: $out"
  fi
}

[ -x "$jtarget" ] || { echo "no $jtarget: run mvn package first" >&2; exit 2; }

echo "== first start"
start
lb="$("$jtarget" --home "$home" exec lb)"
# lb rows: "ID|State|Level|Name". Fragments (SPI Fly, a framework extension) stay Resolved.
inactive="$(awk -F'|' '$1 ~ /^ *[0-9]+$/ && $2 !~ /Active/ && $4 !~ /Fragment|SPI Fly/' <<<"$lb")"
[ -z "$inactive" ] && pass "all $(grep -c "^ *[0-9]*|" <<<"$lb") bundles active (the SPI Fly fragment resolved)" || fail "bundles not active: $inactive"
for b in "iSCSI fabric" "NBD export fabric" "file backstore" "memory backstore"; do
  grep -q "Active.*jtarget $b" <<<"$lb" && pass "deploy/: jtarget $b hot-deployed and active" \
    || fail "deploy/: jtarget $b is not active"
done
check_iscsi

"$jtarget" --home "$home" --portal "127.0.0.1:$port" </dev/null >"$home/second.log" 2>&1; status=$?
[ "$status" = 4 ] && grep -q "already running" "$home/second.log" \
  && pass "second instance refused: $(cat "$home/second.log")" \
  || fail "second instance: status $status (expected 4): $(cat "$home/second.log")"

stop
[ -s "$home/conf/jtarget.json" ] && pass "conf/jtarget.json saved ($(wc -c <"$home/conf/jtarget.json") bytes)" \
  || fail "conf/jtarget.json missing or empty after stop"

echo "== restart on the same home"
start
check_iscsi
[ -f "$home/logs/jtarget.log.1" ] && pass "previous run's log kept as logs/jtarget.log.1" \
  || fail "logs/jtarget.log.1 missing after restart"
stop

if [ "$failures" = 0 ]; then echo "smoke test passed"; else echo "smoke test: $failures failure(s)"; exit 1; fi
