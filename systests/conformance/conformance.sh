#!/usr/bin/env bash
# conformance.sh [URL] - the libiscsi conformance suite (iscsi-test-cu) against jtarget, with a pass gate.
#   Without URL: starts the built distribution (bench/jtarget-peer.sh: temporary home, free 127.0.0.1 port)
#   and tests LUN 0 of its default target (a fresh 1 GiB file backstore), then stops it by PID.
#   With URL (iscsi://host:port/<target-iqn>/<lun>): tests that LUN of a running target (e.g. tgt).
#   The LUN is overwritten (-d -S: data-loss tests and SANITIZE allowed).
# Each suite runs as its own iscsi-test-cu process with its own timeout, so a hang costs one suite, not
# the run; a target that dies is restarted for the following suites (and said so).
# Writes to $OUT (default systests/target/conformance):
#   results.tsv   FAMILY.Suite.Test <TAB> PASSED|FAILED|SKIPPED|UNFINISHED|NOTRUN <TAB> first message
#   families.tsv  per family (SCSI, iSCSI) and per suite: passed failed skipped total
#   failed.txt    failed, unfinished and not-run tests;  summary.txt  the summary line;  run.log, logs/
# Gate: exit 1 when fewer tests passed than the threshold in systests/conformance/min-passed (or $MIN_PASSED).
# Env: SUITE_TIMEOUT seconds per suite (default 300), TIMEOUT seconds for the whole run (default 2400),
#      TESTS (default ALL: every SCSI and iSCSI suite; or e.g. ALL.Read10), INIT1/INIT2 initiator names,
#      MPATH_URL a second path to the same LUN (with jtarget started here: a second portal is added unless MPATH=0).
# CUnit has no "skipped" state: a test that passed but printed [SKIPPED] counts as skipped here.
# Exit: 0 gate met, 1 gate missed, 2 usage or a missing tool / distribution.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
usage() { sed -n '2,19p' "$0" >&2; exit 2; }
[ $# -le 1 ] || usage
case "${1:-}" in ""|iscsi://*/*/*) ;; *) echo "conformance: bad URL: $1" >&2; usage ;; esac
command -v iscsi-test-cu >/dev/null || { echo "conformance: iscsi-test-cu missing (apt-get install libiscsi-bin)" >&2; exit 2; }
OUT=${OUT:-$ROOT/systests/target/conformance}
TESTS=${TESTS:-ALL} SUITE_TIMEOUT=${SUITE_TIMEOUT:-300} TIMEOUT=${TIMEOUT:-2400}
INIT1=${INIT1:-iqn.2026-11.org.example:init1} INIT2=${INIT2:-iqn.2026-11.org.example:init2}
MIN_PASSED=${MIN_PASSED:-$(grep -v '^#' "$HERE/min-passed" | tr -dc '0-9')}
rm -rf "$OUT" && mkdir -p "$OUT/logs" || exit 2

URL=${1:-} MPATH_URL=${MPATH_URL:-} PORT= PEER=$ROOT/bench/jtarget-peer.sh INST=$OUT/instance
if [ -z "$URL" ]; then
  PORT=$("$ROOT/bench/free-port.sh") || exit 2
  trap '"$PEER" stop "$PORT" "$INST" >/dev/null' EXIT
  trap 'exit 130' INT TERM
  started=$("$PEER" start "$PORT" "$INST") || { echo "conformance: jtarget did not start" >&2; exit 2; }
  echo "conformance: $started"
  URL=iscsi://127.0.0.1:$PORT/iqn.2026-11.org.jtarget:default/0
  # a second portal on the same TPG gives SCSI.MultipathIO its second path to LUN 0
  if [ "${MPATH:-1}" = 1 ] && PORT2=$("$ROOT/bench/free-port.sh") &&
     "${JTARGET:-$ROOT/distribution/target/jtarget/bin/jtarget}" --home "$INST/home" \
       exec "portal:add iqn.2026-11.org.jtarget:default 1 127.0.0.1:$PORT2" > "$OUT/mpath.log" 2>&1; then
    MPATH_URL=iscsi://127.0.0.1:$PORT2/iqn.2026-11.org.jtarget:default/0
  else
    echo "conformance: no second portal for SCSI.MultipathIO (see $OUT/mpath.log)"
  fi
fi
echo "conformance: iscsi-test-cu -d -S --test=$TESTS against $URL${MPATH_URL:+ and $MPATH_URL} (gate: >= $MIN_PASSED passed)"

# "ALL.Suite.Test" lines; ALL holds every SCSI and iSCSI suite (LINUX needs a local SG device)
iscsi-test-cu --list 2>/dev/null | grep -E "^${TESTS//./\\.}(\\.|$)" | grep -E '^ALL\.[^.]+\.[^.]+$' > "$OUT/tests.list"
[ -s "$OUT/tests.list" ] || { echo "conformance: no test matches TESTS=$TESTS" >&2; exit 2; }
mapfile -t suites < <(cut -d. -f2 "$OUT/tests.list" | awk '!seen[$0]++')

t0=$SECONDS restarts=0
for s in "${suites[@]}"; do
  left=$((TIMEOUT - (SECONDS - t0)))
  if [ "$left" -le 0 ]; then echo "conformance: TIMEOUT ${TIMEOUT}s reached, suite $s and later not run"; break; fi
  st=$SECONDS
  # unbuffered, so that a suite killed by the timeout still shows which test hung
  timeout -k 10 $((left < SUITE_TIMEOUT ? left : SUITE_TIMEOUT)) stdbuf -o0 \
    iscsi-test-cu -v -d -S --test="ALL.$s" -i "$INIT1" -I "$INIT2" "$URL" ${MPATH_URL:+"$MPATH_URL"} > "$OUT/logs/$s.log" 2>&1
  rc=$?
  note=$(awk '/^  Test: /{n++} /^passed|^FAILED/{d++} /^FAILED/{f++}
              END { printf "%d tests, %d failed", n, f + 0 }' "$OUT/logs/$s.log")
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && note="$note, HUNG: killed after $((SECONDS - st))s"
  printf 'conformance: %-28s %s (%ds)\n' "$s" "$note" $((SECONDS - st))
  if [ -n "$PORT" ] && ! kill -0 "$(cat "$INST/jtarget.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
    restarts=$((restarts + 1))
    echo "conformance: jtarget DIED during suite $s (restart $restarts; see $INST/jtarget.log)"
    [ "$restarts" -gt 3 ] && { echo "conformance: too many crashes, remaining suites not run"; break; }
    "$PEER" start "$PORT" "$INST" >/dev/null || { echo "conformance: restart failed, remaining suites not run"; break; }
  fi
done
for s in "${suites[@]}"; do [ -f "$OUT/logs/$s.log" ] && cat "$OUT/logs/$s.log"; done > "$OUT/run.log"

# Console format (CUnit basic, verbose): "Suite: S", "  Test: T ...<test output>passed|FAILED".
awk -v OFS='\t' '
  function flush() {
    if (name == "") return
    st = (res == "") ? "UNFINISHED" : (res == "FAILED") ? "FAILED" : (skip ? "SKIPPED" : "PASSED")
    print ((suite ~ /^iSCSI/) ? "iSCSI" : "SCSI") "." suite "." name, st, note
    name = ""
  }
  /^Run Summary:/ { flush(); next }
  /^Suite: /      { flush(); suite = substr($0, 8); next }
  /^  Test: /     { flush(); i = index($0, " ..."); if (!i) i = length($0) + 1; name = substr($0, 9, i - 9)
                    res = ""; skip = 0; note = ""; $0 = substr($0, i + 4) }
  name != "" && res == "" {
    if (/^passed/) { res = "passed"; next }   # text after the verdict belongs to teardown
    if (/^FAILED/) { res = "FAILED"; next }
    if (/\[SKIPPED\]/) skip = 1
    if (note == "" && /\[(SKIPPED|FAILED)\]/) { note = $0; sub(/^ +/, "", note) }
    next
  }
  name != "" && res == "FAILED" && note == "" && /^ +1\. / { note = $0; sub(/^ +/, "", note) }
  END { flush() }
' "$OUT/run.log" > "$OUT/results.tsv"
# tests that never started (suite hung earlier, target gone, time budget spent) count as NOTRUN
awk -F'\t' -v OFS='\t' -v res="$OUT/results.tsv" 'FILENAME == res { split($1, p, "."); ran[p[2] "." p[3]] = 1; next }
  { split($0, p, "."); if (!((p[2] "." p[3]) in ran))
      print ((p[2] ~ /^iSCSI/) ? "iSCSI" : "SCSI") "." p[2] "." p[3], "NOTRUN", "" }' \
  "$OUT/results.tsv" "$OUT/tests.list" >> "$OUT/results.tsv"

awk -F'\t' -v OFS='\t' '
  { split($1, p, ".")
    for (j = 1; j <= 2; j++) { g = (j == 1) ? p[1] : p[1] "." p[2]
      if (!(g in tot)) order[++cnt] = g
      tot[g]++; if ($2 == "PASSED") ps[g]++; else if ($2 == "SKIPPED") sk[g]++; else fl[g]++ } }
  END { print "group", "passed", "failed", "skipped", "total"; fflush()
        for (i = 1; i <= cnt; i++) { g = order[i]; print g, ps[g] + 0, fl[g] + 0, sk[g] + 0, tot[g] | "LC_ALL=C sort" } }
' "$OUT/results.tsv" > "$OUT/families.tsv"

awk -F'\t' '$2 != "PASSED" && $2 != "SKIPPED" { print $1 (($2 != "FAILED") ? " (" $2 ")" : "") }' \
  "$OUT/results.tsv" > "$OUT/failed.txt"

echo "conformance: per family and suite (passed failed skipped total):"
awk -F'\t' '{ printf "  %-36s %6s %6s %7s %5s\n", $1, $2, $3, $4, $5 }' "$OUT/families.tsv"
if [ -s "$OUT/failed.txt" ]; then
  echo "conformance: not passed ($(wc -l < "$OUT/failed.txt")):"; sed 's/^/  /' "$OUT/failed.txt"
fi

read -r P F S U N T < <(awk -F'\t' '{ c[$2]++ } END { print c["PASSED"]+0, c["FAILED"]+0, c["SKIPPED"]+0,
                                                           c["UNFINISHED"]+0, c["NOTRUN"]+0, NR }' "$OUT/results.tsv")
line="conformance: $P passed, $((F + U + N)) failed, $S skipped of $T"
[ "$U" -gt 0 ] && line="$line ($U hung)"
[ "$N" -gt 0 ] && line="$line ($N not run)"
[ "$restarts" -gt 0 ] && line="$line (target died $restarts times)"
need=$((MIN_PASSED > 0 ? MIN_PASSED : 1))   # a run where nothing passed never meets the gate
if [ "$P" -ge "$need" ]; then line="$line - gate met (>= $need)"; gate=0
else line="$line - GATE MISSED: $P < $need"; gate=1; fi
echo "$line" | tee "$OUT/summary.txt"
exit $gate
