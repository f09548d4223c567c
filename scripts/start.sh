#!/usr/bin/env bash
# Starts k2d on this machine (Debian 12, as root): builds it, makes sure a Docker
# engine answers (starting dockerd if needed), runs `k2d serve` in the
# background and waits until it is ready. Re-running it is safe: a k2d that
# already runs the current build is left alone; after a rebuild it is restarted.
#
# Environment (all optional; k2d itself reads the K2D_* ones):
#   K2D_DATA_DIR        data directory (default /var/lib/k2d): CA, certificates,
#                       admin token, kubeconfig, the store
#   K2D_PORT            HTTPS port (default 6443)
#   K2D_LISTEN_ADDRESS  address to listen on (k2d's default when unset)
#   K2D_ADVERTISE_ADDRESS, K2D_ENGINE, K2D_LOG_LEVEL   passed through to k2d
#   K2D_LOG_FILE        default /var/log/k2d.log
#   K2D_PID_FILE        default $K2D_DATA_DIR/k2d.pid
# Stop it with scripts/stop.sh.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
export K2D_DATA_DIR="${K2D_DATA_DIR:-/var/lib/k2d}"
export K2D_PORT="${K2D_PORT:-6443}"
LOG_FILE="${K2D_LOG_FILE:-/var/log/k2d.log}"
PID_FILE="${K2D_PID_FILE:-$K2D_DATA_DIR/k2d.pid}"
BIN="$K2D_RELEASE_BIN"

apt_install ca-certificates curl busybox-static docker.io
build_k2d_release
ensure_docker_engine

# The address to probe: the listen address unless it is a wildcard.
probe_host=127.0.0.1
case "${K2D_LISTEN_ADDRESS:-}" in
  "" | 0.0.0.0 | "::" | "[::]") ;;
  *:*) probe_host="[${K2D_LISTEN_ADDRESS#[}"; probe_host="${probe_host%]}]" ;;
  *) probe_host="$K2D_LISTEN_ADDRESS" ;;
esac

k2d_ready() {
  [ -s "$K2D_DATA_DIR/token" ] && [ -s "$K2D_DATA_DIR/ca.crt" ] || return 1
  curl -fsS --max-time 5 --cacert "$K2D_DATA_DIR/ca.crt" \
    -H "Authorization: Bearer $(cat "$K2D_DATA_DIR/token")" \
    "https://$probe_host:$K2D_PORT/readyz" >/dev/null 2>&1
}

running_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  # alive, not a zombie, and still a k2d (pids are reused)
  pid_is k2d "$pid" && echo "$pid"
}

bin_sum=$(sha256sum "$BIN" | cut -d' ' -f1)
if pid=$(running_pid); then
  if [ "$(cat "$PID_FILE.binsum" 2>/dev/null)" = "$bin_sum" ] && k2d_ready; then
    log "k2d is already running (pid $pid) with the current build"
    already=1
  else
    log "k2d (pid $pid) runs an older build: restarting it"
    kill -TERM "$pid"
    for _ in $(seq 1 30); do pid_is k2d "$pid" || break; sleep 0.5; done
    pid_is k2d "$pid" && { warn "k2d did not stop on SIGTERM; killing it"; kill -KILL "$pid"; }
  fi
fi

if [ -z "${already:-}" ]; then
  mkdir -p "$K2D_DATA_DIR" "$(dirname "$LOG_FILE")" "$(dirname "$PID_FILE")"
  chmod 700 "$K2D_DATA_DIR"
  echo "===== $(date -u +%Y-%m-%dT%H:%M:%SZ) starting $BIN serve" >>"$LOG_FILE"
  detached "$BIN" serve </dev/null >>"$LOG_FILE" 2>&1
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$bin_sum" >"$PID_FILE.binsum"
  log "started k2d (pid $pid), log: $LOG_FILE"
  ok=
  for _ in $(seq 1 120); do
    if k2d_ready; then ok=1; break; fi
    pid_is k2d "$pid" || break
    sleep 0.5
  done
  if [ -z "$ok" ]; then
    echo "----- last lines of $LOG_FILE -----" >&2
    tail -n 40 "$LOG_FILE" >&2
    pid_is k2d "$pid" && die "k2d (pid $pid) did not answer /readyz on https://$probe_host:$K2D_PORT within 60 s"
    die "k2d exited during start-up (see $LOG_FILE)"
  fi
fi

kubectl_hint="kubectl"
if ! command -v kubectl >/dev/null 2>&1; then
  if [ -x "$K2D_TOOLS_BIN/kubectl-1.35" ]; then
    kubectl_hint="$K2D_TOOLS_BIN/kubectl-1.35"
  else
    kubectl_hint="kubectl   # none installed; ./scripts/test.sh puts kubectl/helm into $K2D_TOOLS_BIN"
  fi
fi
cat <<EOF

k2d is ready on https://$probe_host:$K2D_PORT (pid $(cat "$PID_FILE"), log $LOG_FILE).
Kubeconfig (admin): $K2D_DATA_DIR/kubeconfig

    export KUBECONFIG=$K2D_DATA_DIR/kubeconfig
    $kubectl_hint get namespaces

For another machine, print a kubeconfig with its address:
    $BIN kubeconfig --data-dir $K2D_DATA_DIR --server https://<this host>:$K2D_PORT
Stop it with: $K2D_REPO/scripts/stop.sh
EOF
