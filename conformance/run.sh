#!/usr/bin/env bash
# Runs the conformance suite; arguments go to pytest.
#
#   conformance/run.sh                 # everything
#   conformance/run.sh -k version      # one scenario
#   conformance/run.sh -m "not slow"   # skip the slow ones
#
# Before pytest it makes sure the venv, the client tools, a Docker engine and
# the test images are there (quick when they are), and builds k2d in release
# mode unless K2D_BIN names a binary. K2D_SKIP_SETUP=1 skips the set-up,
# K2D_NO_BUILD=1 the build. pytest's "no tests collected" (exit 5) is a failure.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

if [ "${K2D_SKIP_SETUP:-}" != 1 ]; then
  need_root
  ensure_base_packages
  ensure_client_tools
  ensure_venv
  ensure_docker_engine
  ensure_test_images
fi
if [ -z "${K2D_BIN:-}" ]; then
  [ "${K2D_NO_BUILD:-}" = 1 ] || build_k2d_release
  K2D_BIN="$K2D_RELEASE_BIN"
fi
[ -x "$K2D_BIN" ] || die "K2D_BIN=$K2D_BIN is not an executable k2d binary"
[ -x "$K2D_VENV/bin/python" ] || die "no venv at $K2D_VENV: run without K2D_SKIP_SETUP=1 once"
export K2D_BIN K2D_TOOLS
# cargo for the spec-extension scenario
ensure_cargo

cd "$K2D_REPO/conformance" || exit 1
"$K2D_VENV/bin/python" -m pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "conformance: pytest collected no tests (exit 5); that counts as a failure" >&2
  exit 1
fi
exit $rc
