#!/usr/bin/env bash
# Stops the k2d started by scripts/start.sh (SIGTERM, then waits up to 30 s).
# Containers keep running: k2d adopts them when it starts again.
# The Docker engine is left running; `./scripts/stop.sh --engine` also stops a
# dockerd that scripts/lib.sh started.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K2D_DATA_DIR="${K2D_DATA_DIR:-/var/lib/k2d}"
PID_FILE="${K2D_PID_FILE:-$K2D_DATA_DIR/k2d.pid}"

stop_pid() { # stop_pid NAME PID
  local name=$1 pid=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do pid_is "$name" "$pid" || { log "$name (pid $pid) stopped"; return 0; }; sleep 0.5; done
  warn "$name (pid $pid) did not stop within 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

pid=$(cat "$PID_FILE" 2>/dev/null || true)
if pid_is k2d "$pid"; then
  stop_pid k2d "$pid"
else
  log "k2d is not running (no live pid in $PID_FILE)"
fi
rm -f "$PID_FILE" "$PID_FILE.binsum"

if [ "${1:-}" = "--engine" ]; then
  pid=$(cat "$K2D_RUN_DIR/dockerd.pid" 2>/dev/null || true)
  if pid_is dockerd "$pid"; then
    stop_pid dockerd "$pid"
  else
    log "no dockerd started by these scripts is running"
  fi
  rm -f "$K2D_RUN_DIR/dockerd.pid"
fi
