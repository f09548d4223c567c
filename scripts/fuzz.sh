#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for a fixed time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default: 300 s per target, every target
#
# Environment:
#   K2D_FUZZ_SANITIZER  address (default) or none (no ASan: a faster build; CI uses it)
#   K2D_FUZZ_DEV=1      build without optimizations (cargo fuzz --dev): the build takes a
#                       fraction of the optimized one, each run is slower; CI uses it
#   K2D_FUZZ_MERGE=1    afterwards, merge what the run found into fuzz/corpus/<target>
#                       (minimized: only inputs that add coverage are kept; commit them)
#
# The only toolchain is stable, and cargo-fuzz needs nightly flags (-Z, sanitizers):
# RUSTC_BOOTSTRAP=1 lets stable accept them. Each run starts from the committed corpus
# (fuzz/corpus/<target>, read only) and writes new inputs to target/fuzz-corpus/<target>.
# A crash stops the run with the input in fuzz/artifacts/<target>/: fix the bug, then add
# the input to fuzz/corpus/<target>/ so the corpus replay test (tests/fuzz_corpus.rs) keeps it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_PER_TARGET="${1:-300}"
shift || true
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(body protobuf patch selectors)
SANITIZER="${K2D_FUZZ_SANITIZER:-address}"
BUILD=(-s "$SANITIZER")
[ "${K2D_FUZZ_DEV:-0}" = 1 ] && BUILD+=(--dev)

ensure_cargo_fuzz
export RUSTC_BOOTSTRAP=1
cd "$K2D_REPO/fuzz"

started=$(date +%s)
log "building the fuzz targets (${BUILD[*]})"
"$K2D_CARGO_FUZZ" build "${BUILD[@]}" >&2
log "built in $(($(date +%s) - started)) s"

for t in "${TARGETS[@]}"; do
  work="$K2D_REPO/target/fuzz-corpus/$t"
  mkdir -p "$work" "corpus/$t"
  log "fuzzing $t for ${SECONDS_PER_TARGET}s"
  out="$K2D_REPO/target/fuzz-$t.log"
  if ! "$K2D_CARGO_FUZZ" run "${BUILD[@]}" "$t" "$work" "corpus/$t" -- \
      -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 >"$out" 2>&1; then
    tail -n 60 "$out" >&2
    die "fuzz target $t failed (log: $out; the input is in fuzz/artifacts/$t/)"
  fi
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$out" >&2 || true
  if [ "${K2D_FUZZ_MERGE:-0}" = 1 ]; then
    log "merging new inputs of $t into fuzz/corpus/$t"
    "$K2D_CARGO_FUZZ" run "${BUILD[@]}" "$t" "corpus/$t" "$work" -- -merge=1 >/dev/null 2>&1
  fi
done
log "fuzzing done in $(($(date +%s) - started)) s"
