#!/usr/bin/env bash
# conformance.sh [URL] - the libiscsi conformance suite (iscsi-test-cu) against jtarget, in several runs, with a gate.
#   Without URL: starts the built distribution (bench/jtarget-peer.sh: temporary home, free 127.0.0.1 port),
#   configures one LUN per run of systests/conformance/runs.tsv through `bin/jtarget exec` (a thin memory
#   LUN, a removable one, a read-only one...), and runs the whole suite against LUN 0 (run "main") and against
#   each special LUN only the suites that need its property. A second portal gives SCSI.MultipathIO its second
#   path. The instance is stopped by PID at the end.
#   With URL (iscsi://host:port/<target-iqn>/<lun>): only run "main", against that LUN (e.g. of tgt).
#   The LUNs are overwritten (-d -S: data-loss tests and SANITIZE allowed).
# Each suite runs as its own iscsi-test-cu process with its own timeout, so a hang costs one suite, not
# the run; a target that dies is restarted for the following suites (and said so).
# Writes to $OUT (default systests/target/conformance):
#   runs/<run>/    results.tsv (TEST <TAB> PASSED|FAILED|SKIPPED|UNFINISHED|NOTRUN <TAB> first message), logs/
#   results.tsv    every run's results: TEST <TAB> RUN <TAB> STATUS <TAB> message
#   families.tsv   per family (SCSI, iSCSI) and suite: total, passed/failed/skipped in each run, best of the runs
#   families.md    the same as a Markdown table;  failed.txt  every test not passed or skipped, with its run
#   summary.txt    the summary line;  config.log  the exec configuration steps;  run.log  all console output
# Best of the runs, per test: failed if it failed (hung, was not run) in any run, else PASSED if it passed in
# some run, else SKIPPED. (Some libiscsi tests pass silently on a LUN without the property they need, e.g.
# StartStopUnit.PwrCnd on a fixed LUN: a failure in the run configured for them must not be hidden by that.)
# Gate: exit 0 only when no test failed, hung or was left unrun in any run (a failed configuration step leaves
# its run's tests unrun) AND at least min-passed (systests/conformance/min-passed, or $MIN_PASSED) distinct
# tests passed across the runs.
# Env: SUITE_TIMEOUT seconds per suite (default 240: Sanitize.Reset alone sleeps 60 s), TIMEOUT seconds for all runs (default 600; a clean run: ~1 min),
#      TESTS (default ALL; e.g. ALL.Read10) narrows every run, RUNS (default: every run in runs.tsv; e.g.
#      "main thin") or RUNS_FILE (default runs.tsv) choose the runs, INIT1/INIT2 initiator names, MPATH_URL
#      a second path to LUN 0 when a URL is given.
# CUnit has no "skipped" state: a test that passed but printed [SKIPPED] counts as skipped here.
# Exit: 0 gate met, 1 gate missed, 2 usage or a missing tool / distribution.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
usage() { sed -n '2,29p' "$0" >&2; exit 2; }
[ $# -le 1 ] || usage
case "${1:-}" in ""|iscsi://*/*/*) ;; *) echo "conformance: bad URL: $1" >&2; usage ;; esac
command -v iscsi-test-cu >/dev/null || { echo "conformance: iscsi-test-cu missing (apt-get install libiscsi-bin)" >&2; exit 2; }
OUT=${OUT:-$ROOT/systests/target/conformance}
TESTS=${TESTS:-ALL} SUITE_TIMEOUT=${SUITE_TIMEOUT:-240} TIMEOUT=${TIMEOUT:-600}
INIT1=${INIT1:-iqn.2026-11.org.example:init1} INIT2=${INIT2:-iqn.2026-11.org.example:init2}
MIN_PASSED=${MIN_PASSED:-$(grep -v '^#' "$HERE/min-passed" | tr -dc '0-9')}
IQN=iqn.2026-11.org.jtarget:default RUNS_FILE=${RUNS_FILE:-$HERE/runs.tsv}
JTARGET=${JTARGET:-$ROOT/distribution/target/jtarget/bin/jtarget}
if [ -z "${CONFORMANCE_LOGGING:-}" ]; then   # the console output is also kept in run.log
  # one run at a time per OUT: a second one would delete the first one's instance and results
  mkdir -p "$(dirname "$OUT")" && exec 9> "$OUT.lock" || exit 2
  if ! flock -n 9; then
    echo "conformance: another run is using $OUT; waiting for it (lock $OUT.lock)"
    flock -w "$TIMEOUT" 9 || { echo "conformance: $OUT still in use after ${TIMEOUT}s" >&2; exit 2; }
  fi
  rm -rf "$OUT" && mkdir -p "$OUT/runs" || exit 2
  CONFORMANCE_LOGGING=1 "$0" "$@" 9>&- 2>&1 | tee "$OUT/run.log"
  exit "${PIPESTATUS[0]}"
fi

# --- the runs ---------------------------------------------------------------------------------------------
names=() luns=() stores=() sets=() suites_of=()
while IFS=$'\t' read -r name lun store set suites extra; do
  case "$name" in ''|'#'*) continue ;; esac
  if ! [[ $lun =~ ^[0-9]+$ ]] || [ -z "$store" ] || [ -z "$set" ] || [ -z "$suites" ] || [ -n "${extra:-}" ]; then
    echo "conformance: runs.tsv: bad line for run '$name' (expected 5 tab-separated columns: run lun backstore set suites)" >&2
    exit 2
  fi
  if [ -n "${RUNS:-}" ] && [[ " $RUNS " != *" $name "* ]]; then continue; fi
  names+=("$name") luns+=("$lun") stores+=("$store") sets+=("$set") suites_of+=("$suites")
done < "$RUNS_FILE"
[ ${#names[@]} -gt 0 ] || { echo "conformance: no run selected (RUNS=${RUNS:-}; see $HERE/runs.tsv)" >&2; exit 2; }

# "ALL.Suite.Test" lines; ALL holds every SCSI and iSCSI suite (LINUX needs a local SG device)
iscsi-test-cu --list 2>/dev/null | grep -E '^ALL\.[^.]+\.[^.]+$' > "$OUT/all.list"
grep -E "^${TESTS//./\\.}(\\.|$)" "$OUT/all.list" > "$OUT/tests.list"
[ -s "$OUT/tests.list" ] || { echo "conformance: no test matches TESTS=$TESTS" >&2; exit 2; }

# --- the target ---------------------------------------------------------------------------------------------
URL=${1:-} GIVEN=${1:+1} MPATH_URL=${MPATH_URL:-} PORT= PORT2= PEER=$ROOT/bench/jtarget-peer.sh
INST=$(cd -P "$OUT" && pwd)/instance TMP_INST=
# exec talks over the Unix socket HOME/run/control.sock, whose path must fit in sun_path (108 bytes): a deep
# OUT gets a short temporary instance directory instead, whose logs are copied to OUT/instance at the end
if [ $((${#INST} + 22)) -gt 96 ]; then   # with some margin
  TMP_INST=$(mktemp -d "${TMPDIR:-/tmp}/jtarget-conformance.XXXXXX") || exit 2
  INST=$TMP_INST
fi
finish() {
  [ -n "$PORT" ] && "$PEER" stop "$PORT" "$INST" >/dev/null
  if [ -n "$TMP_INST" ]; then
    mkdir -p "$OUT/instance" && cp -r "$TMP_INST/jtarget.log" "$TMP_INST/home/logs" "$OUT/instance/" 2>/dev/null
    rm -rf "$TMP_INST"
  fi
}
trap finish EXIT
declare -A config_error=()
jexec() {  # one console command in the instance; its output goes to config.log, a failure to config_error
  local run=$1 cmd=$2 out rc
  out=$("$JTARGET" --home "$INST/home" exec "$cmd" 2>&1); rc=$?
  printf '$ jtarget exec %q   (run %s, exit %d)\n%s\n' "$cmd" "$run" "$rc" "$out" >> "$OUT/config.log"
  [ "$rc" -eq 0 ] && return 0
  config_error[$run]="'$cmd' exited $rc: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200)"
  return 1
}
if [ -z "$URL" ]; then
  PORT=$("$ROOT/bench/free-port.sh") || exit 2
  trap 'exit 130' INT TERM
  started=$("$PEER" start "$PORT" "$INST") || { echo "conformance: jtarget did not start" >&2; exit 2; }
  echo "conformance: $started"
  # a second portal on the same TPG gives SCSI.MultipathIO its second path
  if [ "${MPATH:-1}" = 1 ] && PORT2=$("$ROOT/bench/free-port.sh") &&
     jexec main "portal:add $IQN 1 127.0.0.1:$PORT2"; then :
  else
    echo "conformance: no second portal for SCSI.MultipathIO (see $OUT/config.log)"; PORT2=
  fi
  for i in "${!names[@]}"; do
    run=${names[$i]} store=${stores[$i]}
    [ "$store" = - ] && continue
    bs=conf-$run ok=1
    # shellcheck disable=SC2086 # TYPE KEY=VALUE... are words
    jexec "$run" "backstore:create $bs $store" || ok=0
    if [ "$ok" = 1 ] && [ "${sets[$i]}" != - ]; then
      IFS=, read -ra kvs <<< "${sets[$i]}"
      for kv in "${kvs[@]}"; do jexec "$run" "backstore:set $bs ${kv%%=*} ${kv#*=}" || { ok=0; break; }; done
    fi
    [ "$ok" = 1 ] && jexec "$run" "lun:add $IQN 1 ${luns[$i]} $bs"
  done
fi

# --- running the suites -------------------------------------------------------------------------------------
t0=$SECONDS restarts=0 gave_up=
for i in "${!names[@]}"; do
  run=${names[$i]} lun=${luns[$i]} dir=$OUT/runs/${names[$i]}
  mkdir -p "$dir/logs"
  inc= exc=   # suites column: comma-separated selections, "-Suite.Test" entries leave tests out
  for x in ${suites_of[$i]//,/ }; do case $x in -*) exc+="${exc:+|}${x#-}" ;; *) inc+="${inc:+|}$x" ;; esac; done
  if [ "$inc" = ALL ]; then cp "$OUT/tests.list" "$dir/tests.list"
  else grep -E "^ALL\.(${inc//./\\.})(\.|$)" "$OUT/tests.list" > "$dir/tests.list"; fi
  if [ -n "$exc" ]; then
    grep -vE "^ALL\.(${exc//./\\.})(\.|$)" "$dir/tests.list" > "$dir/tests.list.tmp"; mv "$dir/tests.list.tmp" "$dir/tests.list"
  fi
  if [ -n "$GIVEN" ] && [ "${stores[$i]}" != - ]; then
    echo "conformance: run $run: not run (its LUN is configured only in a jtarget started here)"; : > "$dir/tests.list"
  fi
  [ -s "$dir/tests.list" ] || continue
  if [ -n "$GIVEN" ]; then url=$URL mpath=$MPATH_URL
  else url=iscsi://127.0.0.1:$PORT/$IQN/$lun mpath=${PORT2:+iscsi://127.0.0.1:$PORT2/$IQN/$lun}; fi
  # The second path only for the run "multipath": given one, libiscsi uses that persistent session as
  # the "second connection" of other tests, which leave state on it (Sanitize.Reservations' RESERVE(6),
  # PreventAllow.LUNReset's 29h/03h) that later tests (Sanitize.Reset, PreventAllow.2ITNexuses) trip over.
  [ -n "$GIVEN" ] || [ "$run" = multipath ] || mpath=
  desc="LUN $lun: $([ "${stores[$i]}" = - ] && echo "backstore default" || echo "${stores[$i]}")"
  [ "${sets[$i]}" != - ] && desc="$desc, ${sets[$i]}"
  if [ -n "${config_error[$run]:-}" ]; then
    echo "conformance: run $run ($desc): CONFIGURATION FAILED, $(wc -l < "$dir/tests.list") tests not run: ${config_error[$run]}"
    continue
  fi
  echo "conformance: run $run ($desc): iscsi-test-cu -d -S against $url${mpath:+ and $mpath}"
  mapfile -t suites < <(cut -d. -f2 "$dir/tests.list" | awk '!seen[$0]++')
  for s in "${suites[@]}"; do
    [ -n "$gave_up" ] && break
    left=$((TIMEOUT - (SECONDS - t0)))
    if [ "$left" -le 0 ]; then echo "conformance: TIMEOUT ${TIMEOUT}s reached, suite $s and later not run"; gave_up=1; break; fi
    st=$SECONDS
    # the whole suite in one process, or its tests one by one when TESTS or the run selects some of them
    if [ "$(grep -c "^ALL\.$s\." "$dir/tests.list")" -eq "$(grep -c "^ALL\.$s\." "$OUT/all.list")" ]; then
      patterns=("ALL.$s")
    else mapfile -t patterns < <(grep "^ALL\.$s\." "$dir/tests.list"); fi
    : > "$dir/logs/$s.log"
    for pat in "${patterns[@]}"; do
      left=$((TIMEOUT - (SECONDS - t0)))
      [ "$left" -gt 0 ] || break
      # unbuffered, so that a suite killed by the timeout still shows which test hung
      timeout -k 10 $((left < SUITE_TIMEOUT ? left : SUITE_TIMEOUT)) stdbuf -o0 \
        iscsi-test-cu -v -d -S --test="$pat" -i "$INIT1" -I "$INIT2" "$url" ${mpath:+"$mpath"} >> "$dir/logs/$s.log" 2>&1
      rc=$?
    done
    note=$(awk '/^  Test: /{n++} /^FAILED/{f++} END { printf "%d tests, %d failed", n, f + 0 }' "$dir/logs/$s.log")
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && note="$note, HUNG: killed after $((SECONDS - st))s"
    printf 'conformance:   %-10s %-26s %s (%ds)\n' "$run" "$s" "$note" $((SECONDS - st))
    pid=$(cat "$INST/jtarget.pid" 2>/dev/null)
    if [ -n "$PORT" ] && ! { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }; then
      restarts=$((restarts + 1))
      echo "conformance: jtarget DIED during $run suite $s (restart $restarts; see $INST/jtarget.log)"
      if [ "$restarts" -gt 3 ]; then echo "conformance: too many crashes, remaining suites not run"; gave_up=1
      elif ! "$PEER" start "$PORT" "$INST" >/dev/null; then echo "conformance: restart failed, remaining suites not run"; gave_up=1; fi
    fi
  done
done
echo "conformance: runs took $((SECONDS - t0))s"

# --- results per run --------------------------------------------------------------------------------------
# Console format (CUnit basic, verbose): "Suite: S", "  Test: T ...<test output>passed|FAILED".
parse_log() {
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
  ' "$@"
}
: > "$OUT/results.tsv"
for i in "${!names[@]}"; do
  run=${names[$i]} dir=$OUT/runs/${names[$i]}
  [ -s "$dir/tests.list" ] || continue
  logs=()
  for s in $(cut -d. -f2 "$dir/tests.list" | awk '!seen[$0]++'); do [ -f "$dir/logs/$s.log" ] && logs+=("$dir/logs/$s.log"); done
  { [ ${#logs[@]} -gt 0 ] && parse_log "${logs[@]}"; } > "$dir/results.tsv"
  # tests that never started (configuration failed, suite hung earlier, target gone, time spent) are NOTRUN
  why=${config_error[$run]:+configuration failed: ${config_error[$run]}}
  awk -F'\t' -v OFS='\t' -v res="$dir/results.tsv" -v why="$why" '
    FILENAME == res { split($1, p, "."); ran[p[2] "." p[3]] = 1; next }
    { split($0, p, "."); if (!((p[2] "." p[3]) in ran))
        print ((p[2] ~ /^iSCSI/) ? "iSCSI" : "SCSI") "." p[2] "." p[3], "NOTRUN", why }' \
    "$dir/results.tsv" "$dir/tests.list" >> "$dir/results.tsv"
  awk -F'\t' -v OFS='\t' -v run="$run" '{ print $1, run, $2, $3 }' "$dir/results.tsv" >> "$OUT/results.tsv"
done

# --- merged table: per group, each run's passed/failed/skipped and the best of the runs ---------------------
awk -F'\t' -v OFS='\t' -v runs="${names[*]}" '
  { if (!($1 in seen)) { seen[$1] = 1; tests[++nt] = $1 }
    st[$1, $2] = $3 }
  END {
    nr = split(runs, R, " ")
    for (i = 1; i <= nt; i++) {
      t = tests[i]; split(t, p, "."); best = ""
      for (k = 1; k <= nr; k++) if ((t, R[k]) in st) {
        s = st[t, R[k]]
        if (s != "PASSED" && s != "SKIPPED") best = "FAILED"
        else if (best != "FAILED" && (s == "PASSED" || best == "")) best = s }
      for (j = 1; j <= 2; j++) {
        g = (j == 1) ? p[1] : p[1] "." p[2]
        if (!(g in tot)) order[++ng] = g
        tot[g]++; if (best == "PASSED") bp[g]++; else if (best == "SKIPPED") bs[g]++; else bf[g]++
        for (k = 1; k <= nr; k++) if ((t, R[k]) in st) {
          s = st[t, R[k]]; n[g, R[k]]++
          if (s == "PASSED") ps[g, R[k]]++; else if (s == "SKIPPED") sk[g, R[k]]++; else fl[g, R[k]]++ } } }
    head = "group" OFS "total"; for (k = 1; k <= nr; k++) head = head OFS R[k]
    print head, "passed", "failed", "skipped"; fflush()
    for (i = 1; i <= ng; i++) {
      g = order[i]; line = g OFS tot[g]
      for (k = 1; k <= nr; k++)
        line = line OFS (((g, R[k]) in n) ? (ps[g, R[k]] + 0) "/" (fl[g, R[k]] + 0) "/" (sk[g, R[k]] + 0) : "-")
      print line, bp[g] + 0, bf[g] + 0, bs[g] + 0 | "LC_ALL=C sort" } }
' "$OUT/results.tsv" > "$OUT/families.tsv"

# Markdown: the suites, then the family totals (cells: passed / failed / skipped)
awk -F'\t' '
  NR == 1 { nc = NF; printf "| Suite | Tests |"; for (c = 3; c <= nc - 3; c++) printf " %s |", $c
            print " Best: passed | failed | skipped |"
            printf "|---|--:|"; for (c = 3; c <= nc - 3; c++) printf "--:|"; print "--:|--:|--:|"; next }
  { row = "| " ($1 ~ /\./ ? $1 : "**" $1 "**") " | " $2 " |"
    for (c = 3; c <= nc - 3; c++) { v = $c; gsub("/", " / ", v); row = row " " v " |" }
    row = row " " $(nc - 2) " | " $(nc - 1) " | " $nc " |"
    if ($1 ~ /\./) { body = body row "\n"; next }
    foot = foot row "\n"; all[2] += $2                     # a family: add it to the grand total
    for (c = 3; c <= nc; c++) if ($c ~ /\//) { split($c, w, "/"); for (j = 1; j <= 3; j++) cell[c, j] += w[j]; ran[c] = 1 }
                              else if ($c != "-") all[c] += $c }
  END { row = "| **All** | " all[2] " |"
        for (c = 3; c <= nc - 3; c++) row = row " " ((c in ran) ? cell[c, 1] " / " cell[c, 2] " / " cell[c, 3] : "-") " |"
        printf "%s%s%s %d | %d | %d |\n", body, foot, row, all[nc - 2], all[nc - 1], all[nc] }
' "$OUT/families.tsv" > "$OUT/families.md"

awk -F'\t' '$3 != "PASSED" && $3 != "SKIPPED" { print $1 " [" $2 "]" (($3 != "FAILED") ? " (" $3 ")" : "") (($4 != "") ? ": " $4 : "") }' \
  "$OUT/results.tsv" > "$OUT/failed.txt"

echo "conformance: per family and suite, in each run passed/failed/skipped, and the best of the runs:"
awk -F'\t' '{ line = sprintf("  %-34s %5s", $1, $2); for (c = 3; c <= NF - 3; c++) line = line sprintf(" %10s", $c)
              printf "%s %7s %7s %7s\n", line, $(NF - 2), $(NF - 1), $NF }' "$OUT/families.tsv"
if [ -s "$OUT/failed.txt" ]; then
  n=$(wc -l < "$OUT/failed.txt")
  echo "conformance: not passed ($n):"; head -40 "$OUT/failed.txt" | sed 's/^/  /'
  [ "$n" -gt 40 ] && echo "  ... and $((n - 40)) more in $OUT/failed.txt"
fi

# --- summary and gate -----------------------------------------------------------------------------------------
per_run=$(awk -F'\t' -v runs="${names[*]}" '
  { n[$2]++; if ($3 == "PASSED") p[$2]++; else if ($3 == "SKIPPED") s[$2]++; else f[$2]++ }
  END { nr = split(runs, R, " ")
        for (k = 1; k <= nr; k++) if (R[k] in n) printf "%s%s %d/%d/%d of %d", (out++ ? ", " : ""), R[k], p[R[k]], f[R[k]], s[R[k]], n[R[k]] }
' "$OUT/results.tsv")
read -r DP DS DT < <(awk -F'\t' '$1 == "SCSI" || $1 == "iSCSI" { p += $(NF - 2); s += $NF; t += $2 } END { print p + 0, s + 0, t + 0 }' "$OUT/families.tsv")
read -r F U N < <(awk -F'\t' '{ c[$3]++ } END { print c["FAILED"] + 0, c["UNFINISHED"] + 0, c["NOTRUN"] + 0 }' "$OUT/results.tsv")
MP=$(awk -F'\t' '$2 == "main" && $3 == "PASSED"' "$OUT/results.tsv" | wc -l)
line="conformance: $DP passed, $((F + U + N)) failed, $DS skipped of $DT (passed: distinct across runs; failed: in all runs)"
grep -q $'\tmain\t' "$OUT/results.tsv" && line="$line; main run alone $MP passed"
line="$line; per run passed/failed/skipped: $per_run"
[ "$U" -gt 0 ] && line="$line; $U hung"
[ "$N" -gt 0 ] && line="$line; $N not run"
[ ${#config_error[@]} -gt 0 ] && line="$line; configuration failed for run(s) ${!config_error[*]}"
[ "$restarts" -gt 0 ] && line="$line; target died $restarts times"
need=$((MIN_PASSED > 0 ? MIN_PASSED : 1))   # a run where nothing passed never meets the gate
if [ $((F + U + N)) -eq 0 ] && [ "$DP" -ge "$need" ]; then line="$line - gate met (0 failed, >= $need passed)"; gate=0
else
  why=()
  [ $((F + U + N)) -gt 0 ] && why+=("$((F + U + N)) failed")
  [ "$DP" -lt "$need" ] && why+=("$DP < $need passed")
  line="$line - GATE MISSED: $(IFS=,; echo "${why[*]}" | sed 's/,/, /g')"; gate=1
fi
echo "$line" > "$OUT/summary.txt"
echo "$line"
exit $gate
