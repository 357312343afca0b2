#!/usr/bin/env bash
# test.sh - run every jtarget test: unit tests, pax-exam itests and the real-initiator systests
# (mvn -B install), then the libiscsi conformance suite against a freshly started distribution.
# On Debian, first installs what the tests need when it is missing (apt-get; sudo when not root):
# libiscsi-bin qemu-utils qemu-block-extra tgt e2fsprogs nbdkit nbd-server libnbd-bin python3 qemu-system-x86 debootstrap, and a JDK (17+) and Maven.
# The conformance stage runs every LUN configuration of systests/conformance/runs.tsv (main file LUN, thin,
# removable, read-only) in one freshly started jtarget; see systests/conformance/conformance.sh.
# Prints per-stage results, the conformance per-family table, and last a line "N passed, N failed, ...".
# Exit: 0 when every Maven test passed, no conformance test failed in any run, and at least
#       systests/conformance/min-passed distinct conformance tests passed. Anything else fails the build.
# Env: MVN_ARGS extra Maven arguments (e.g. -o), NO_INSTALL=1 skips the package step,
#      MVN_TIMEOUT (default 4500 s) and CONFORMANCE_TIMEOUT (default 600 s) bound the two stages.
set -uo pipefail
cd "$(dirname "$0")" || exit 2
ROOT=$(pwd)
T0=$SECONDS
log() { printf '== test.sh [%4ds] %s\n' $((SECONDS - T0)) "$*"; }

# --- 1. packages -----------------------------------------------------------------------------------
install_missing() {
  local pkgs=() lean=()  # lean: installed without their Recommends
  command -v iscsi-test-cu >/dev/null && command -v iscsi-inq >/dev/null || pkgs+=(libiscsi-bin)
  command -v qemu-io >/dev/null && command -v qemu-img >/dev/null || pkgs+=(qemu-utils)
  # the iscsi block driver is a loadable module from qemu-block-extra
  if ! { command -v qemu-img >/dev/null && qemu-img --help 2>/dev/null | grep -qw iscsi; }; then pkgs+=(qemu-block-extra); fi
  command -v tgtd >/dev/null || pkgs+=(tgt)
  # FaultsIT/DurabilityIT (as root): ext4 on a loop device, e2fsck and debugfs on a copy of it
  command -v mkfs.ext4 >/dev/null && command -v debugfs >/dev/null || pkgs+=(e2fsprogs)
  # the nbd backstore's tests and NbdBackstoreIT: real NBD servers and nbdinfo/nbdcopy
  command -v nbdkit >/dev/null || pkgs+=(nbdkit)
  command -v nbd-server >/dev/null || pkgs+=(nbd-server)
  command -v nbdinfo >/dev/null || pkgs+=(libnbd-bin)
  # block backstore tests (as root): another process holding a loop device O_EXCL
  command -v python3 >/dev/null || pkgs+=(python3)
  # S3CephRgwTest: a throw-away Ceph cluster (one monitor, one OSD) and its RADOS Gateway (Debian's Ceph 16.2);
  # without Recommends, which would add ceph-mgr, ceph-mds, python packages and chrony (replacing the time daemon)
  command -v radosgw >/dev/null && command -v ceph-osd >/dev/null && command -v ceph-mon >/dev/null || lean+=(ceph-mon ceph-osd radosgw ceph-common)
  # KernelInitiatorIT (as root): a Debian guest under qemu (TCG) with the kernel's iSCSI, multipath and nbd clients
  command -v qemu-system-x86_64 >/dev/null || pkgs+=(qemu-system-x86)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || pkgs+=(debootstrap)
  command -v java >/dev/null || pkgs+=(default-jdk-headless)
  command -v mvn >/dev/null || pkgs+=(maven)
  [ ${#pkgs[@]} -eq 0 ] && [ ${#lean[@]} -eq 0 ] && { log "packages: all present"; return 0; }
  if [ "${NO_INSTALL:-0}" = 1 ] || ! command -v apt-get >/dev/null; then
    log "packages: missing ${pkgs[*]} ${lean[*]} (not installing; tests needing them are skipped)"; return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "packages: missing ${pkgs[*]} ${lean[*]}, not root and no sudo: install them first"; return 1; }
    sudo=(sudo)
  fi
  log "packages: installing ${pkgs[*]} ${lean[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
    { [ ${#pkgs[@]} -eq 0 ] || "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null; } &&
    { [ ${#lean[@]} -eq 0 ] || "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${lean[@]}" >/dev/null; } ||
    { log "packages: apt-get failed"; return 1; }
}
install_missing || exit 2
command -v mvn >/dev/null && command -v java >/dev/null || { log "java and mvn are required"; exit 2; }
jv=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
[ "${jv%%.*}" -ge 17 ] 2>/dev/null || { log "Java 17 or later required (found: ${jv:-none}); set JAVA_HOME"; exit 2; }

# --- 2. Maven: unit tests, itests, systests ------------------------------------------------------------
mkdir -p target
log "maven: mvn -B install ${MVN_ARGS:-} (log: target/test-mvn.log)"
# shellcheck disable=SC2086
# shown: one line per test class, the failure blocks of the "Results:" sections, the reactor summary
timeout -k 30 "${MVN_TIMEOUT:-4500}" mvn -B install ${MVN_ARGS:-} 2>&1 | tee target/test-mvn.log | awk '
  /^\[(ERROR|WARNING)\] (Failures|Errors|Flakes): *$/ { block = 1 }
  /^\[[A-Z]+\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$/ { block = 0 }
  block || /Tests run:.* -- in |Reactor Summary|SUCCESS \[|FAILURE \[|SKIPPED$|^\[INFO\] BUILD|^\[ERROR\] (Tests run|Failed to|.*\.java:\[)/ {
    print; fflush() }'
mvn_rc=${PIPESTATUS[0]}
# module totals are the "Tests run:" lines without "Time elapsed" (those are per class)
read -r m_run m_fail m_err m_skip < <(grep -E '^\[[A-Z]+\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' target/test-mvn.log |
  awk -F'[:,] *' '{ r += $2; f += $4; e += $6; s += $8 } END { print r + 0, f + 0, e + 0, s + 0 }')
m_failed=$((m_fail + m_err)) m_passed=$((m_run - m_fail - m_err - m_skip))
if [ "$mvn_rc" -eq 0 ]; then mvn_line="maven: $m_passed passed, $m_failed failed, $m_skip skipped (BUILD SUCCESS)"
elif [ "$mvn_rc" -eq 124 ] || [ "$mvn_rc" -eq 137 ]; then mvn_line="maven: TIMEOUT after ${MVN_TIMEOUT:-4500}s; $m_passed passed, $m_failed failed so far"
else mvn_line="maven: BUILD FAILED (exit $mvn_rc); $m_passed passed, $m_failed failed, $m_skip skipped"; fi
log "$mvn_line"
# a build that failed without a failing test (compile error, plugin failure) still counts as one failure
[ "$mvn_rc" -ne 0 ] && [ "$m_failed" -eq 0 ] && m_failed=1

# --- 3. libiscsi conformance against a freshly started distribution ----------------------------------
c_passed=0 c_failed=0 c_skipped=0 c_rc=2 c_line="conformance: not run"
if [ -x distribution/target/jtarget/bin/jtarget ]; then
  log "conformance: systests/conformance/conformance.sh (results: systests/target/conformance/)"
  TIMEOUT=${CONFORMANCE_TIMEOUT:-600} systests/conformance/conformance.sh
  c_rc=$?
  if [ -s systests/target/conformance/summary.txt ]; then
    c_line=$(cat systests/target/conformance/summary.txt)
    read -r c_passed c_failed c_skipped < <(sed -E 's/^conformance: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' \
      systests/target/conformance/summary.txt)
  else
    c_line="conformance: FAILED to run (exit $c_rc)" c_failed=1
  fi
else
  c_line="conformance: not run: no distribution/target/jtarget/bin/jtarget (the build failed)" c_failed=1
fi

# --- summary -------------------------------------------------------------------------------------------
echo
log "summary (after $((SECONDS - T0)) s)"
echo "  $mvn_line"
echo "  $c_line"
status=OK
[ "$mvn_rc" -ne 0 ] && status=FAILED
[ "$c_rc" -ne 0 ] && status=FAILED
echo "$((m_passed + c_passed)) passed, $((m_failed + c_failed)) failed, $((m_skip + c_skipped)) skipped" \
     "(conformance: distinct tests passed across its runs, failures in all runs) - $status"
[ "$status" = OK ]
