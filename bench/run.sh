#!/usr/bin/env bash
# The benchmark command: k2d's footprint, latency and deploy time beside the Docker
# engine's own figures, measured in one run and printed as a markdown table.
#
#   bench/run.sh            # full mode (about 25 minutes), table in target/bench/full.md
#   bench/run.sh --short    # a minute or two, table in target/bench/short.md (CI runs this)
#
# Like the test command it installs what is missing (Docker engine, test images, kubectl,
# the load tool oha from crates.io), starts the engine if none answers and builds k2d in
# release mode. Timings pass or fail nothing; the run fails only if a measurement could
# not be taken. BENCHMARKS.md explains the figures and the targets.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

mode=full
[ "${1:-}" = --short ] && mode=short

need_root
ensure_base_packages
ensure_client_tools
ensure_docker_engine
ensure_test_images
ensure_oha
[ -n "${K2D_BIN:-}" ] || { build_k2d_release; K2D_BIN="$K2D_RELEASE_BIN"; }

out="$K2D_REPO/target/bench/$mode.md"
args=(--k2d "$K2D_BIN" --kubectl "$K2D_TOOLS_BIN/kubectl-1.35" --oha "$K2D_OHA" --out "$out")
[ "$mode" = short ] && args+=(--short)
exec python3 "$K2D_REPO/bench/bench.py" "${args[@]}"
