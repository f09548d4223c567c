#!/usr/bin/env bash
# A Docker engine of the faults suite's own, that the tests may stop, kill and restart without
# touching the host's engine (other k2d instances and other people's tests use that one).
#
#   scripts/faults-engine.sh start     # netns + dockerd (+ the test images); idempotent
#   scripts/faults-engine.sh stop      # SIGTERM dockerd (a clean engine shutdown), wait for it
#   scripts/faults-engine.sh kill      # SIGKILL dockerd and its containerd (a power cut)
#   scripts/faults-engine.sh restart   # stop, then start
#   scripts/faults-engine.sh status    # exit 0 when the engine answers
#   scripts/faults-engine.sh exec CMD  # run CMD inside the netns, DOCKER_HOST set to the engine
#   scripts/faults-engine.sh down      # stop, remove its containers' state, the netns, the files
#
# Isolation: everything lives in the network namespace k2d-faults (loopback only), so the k2d
# under test there owns its own 10.96.0.10:53 and Service routes and needs no host lock. dockerd
# runs in that netns with its own socket, --data-root, --exec-root (its own containerd under
# it), --pidfile and bridge, so nothing clashes with the host's engine. The conformance files
# test_faults_*.py run inside the netns (`exec`), with K2D_FAULTS_ENGINE naming the socket.
#
# Environment: K2D_FAULTS_DIR (default /run/k2d-faults: sockets, pids, logs) and
# K2D_FAULTS_DATA (default /var/lib/k2d-faults-docker: the engine's images and containers).
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NETNS=k2d-faults
FDIR="${K2D_FAULTS_DIR:-/run/k2d-faults}"
FDATA="${K2D_FAULTS_DATA:-/var/lib/k2d-faults-docker}"
SOCK="$FDIR/docker.sock"
PIDFILE="$FDIR/dockerd.pid"
LOGFILE="$FDIR/dockerd.log"
export K2D_FAULTS_ENGINE="unix://$SOCK"

# nsenter, not `ip netns exec`: the latter also remounts /sys, which hides the cgroup
# hierarchies dockerd needs ("Devices cgroup isn't mounted").
in_ns() { nsenter --net="/run/netns/$NETNS" -- "$@"; }

answers() {
  [ "$(timeout 10 curl -s --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
}

ensure_netns() {
  if ! ip netns list | grep -qw "^$NETNS"; then
    ip netns add "$NETNS" || die "ip netns add $NETNS failed"
  fi
  in_ns ip link set lo up
}

# The dockerd of the netns, if alive.
dockerd_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  pid_is dockerd "$pid" && echo "$pid"
}

start_engine() {
  need_root
  mkdir -p "$FDIR" "$FDATA"
  ensure_netns
  if answers; then load_images; return; fi
  local pid
  pid=$(dockerd_pid || true)
  if [ -z "$pid" ]; then
    # A killed engine leaves its pid files behind; a stale one keeps dockerd from starting.
    rm -f "$PIDFILE" "$FDIR/exec/containerd/containerd.pid"
    echo "===== $(date -u +%Y-%m-%dT%H:%M:%SZ) start" >>"$LOGFILE"
    # The host's engine found its storage driver and iptables settings (lib.sh); this one uses
    # the same defaults. --cgroup-parent keeps its containers' cgroups apart from the host's.
    detached nsenter --net="/run/netns/$NETNS" -- dockerd \
      --host "unix://$SOCK" --pidfile "$PIDFILE" \
      --data-root "$FDATA" --exec-root "$FDIR/exec" \
      --cgroup-parent k2d-faults --bridge none \
      </dev/null >>"$LOGFILE" 2>&1
    pid=$!  # detached and nsenter exec, so this is dockerd's pid
  fi
  for _ in $(seq 1 60); do
    answers && break
    pid_is dockerd "$pid" || break
    sleep 1
  done
  answers || { tail -n 30 "$LOGFILE" >&2; die "the faults engine did not answer within 60 s (log: $LOGFILE)"; }
  load_images
}

# The test images, copied from the host's engine (built there by ensure_test_images).
load_images() {
  local img missing=()
  for img in k2d-test/busybox:latest k2d-test/httpd:latest; do
    local have want
    have=$(DOCKER_HOST="$K2D_FAULTS_ENGINE" docker image inspect -f '{{.Id}}' "$img" 2>/dev/null || true)
    want=$(env -u DOCKER_HOST docker image inspect -f '{{.Id}}' "$img" 2>/dev/null) || die "$img is not on the host's engine (ensure_test_images)"
    [ "$have" = "$want" ] || missing+=("$img")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "loading ${missing[*]} into the faults engine"
  env -u DOCKER_HOST docker save "${missing[@]}" | DOCKER_HOST="$K2D_FAULTS_ENGINE" docker load -q >/dev/null \
    || die "docker load into the faults engine failed"
}

stop_engine() {
  local pid
  pid=$(dockerd_pid || true)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid"
  # dockerd stops its containers (10 s grace each, in parallel) and its containerd.
  for _ in $(seq 1 60); do
    pid_is dockerd "$pid" || return 0
    sleep 0.5
  done
  warn "dockerd $pid did not stop in 30 s; killing it"
  kill_engine
}

kill_engine() {
  local pid cpid
  pid=$(dockerd_pid || true)
  cpid=$(cat "$FDIR/exec/containerd/containerd.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  pid_is containerd "$cpid" && kill -KILL "$cpid" 2>/dev/null
  # The containers' shims (and so the containers) die with the machine in a power cut.
  local shim
  for shim in $(pgrep -f "containerd-shim.*-namespace moby -id .* -address $FDIR/exec/containerd" || true); do
    kill -KILL "$shim" 2>/dev/null
  done
  for _ in $(seq 1 20); do
    pid_is dockerd "$pid" || pid_is containerd "$cpid" || break
    sleep 0.25
  done
  # A dead engine's socket stays on disk; clients then get "connection refused".
  return 0
}

down() {
  stop_engine
  if [ -S "$SOCK" ] || [ -d "$FDIR" ]; then
    rm -rf "$FDIR"
  fi
  ip netns del "$NETNS" 2>/dev/null || true
}

case "${1:-}" in
  start) start_engine ;;
  stop) stop_engine ;;
  kill) kill_engine ;;
  restart) stop_engine; start_engine ;;
  status) answers ;;
  exec) shift; start_engine; DOCKER_HOST="$K2D_FAULTS_ENGINE" in_ns "$@" ;;
  down) down ;;
  *) echo "usage: $0 start|stop|kill|restart|status|exec CMD...|down" >&2; exit 2 ;;
esac
