#!/usr/bin/env bash
# The container image's smoke scenario (a CI phase of scripts/test.sh): build the image offline
# (scripts/image.sh), start it as the README says (engine socket mounted, host network and PID
# namespace, three capabilities, the data directory at the same path as on the host), then from the
# host: the kubeconfig it wrote works, `kubectl apply` a Deployment and a NodePort Service, the
# Service answers on its cluster IP and on its node port, k2d's own container is not shown as
# a pod, and `k2d status` inside the container sees the running k2d.
#
# It runs a k2d with networking: only one may run per host, so outside CI run it under the
# host lock (flock /tmp/k2d-host.lock scripts/image-smoke.sh). Removes what it created.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUBECTL=${KUBECTL:-$K2D_TOOLS_BIN/kubectl-1.35}
[ -x "$KUBECTL" ] || KUBECTL=kubectl
TAG=k2d:smoke
NAME="k2d-smoke-$$"
DATA=$(mktemp -d /tmp/k2d-image-smoke.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
export KUBECONFIG="$DATA/kubeconfig"
NS="smoke-$$"
started=$(date +%s)

cleanup() {
  "$KUBECTL" delete namespace "$NS" --wait=true --timeout=60s >/dev/null 2>&1 || true
  docker logs "$NAME" >"$K2D_REPO/target/k2d-image-smoke.log" 2>&1 || true
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  local id
  id=$(cat "$DATA/instance-id" 2>/dev/null || true)
  if [ -n "$id" ]; then
    # Whatever the deletion above left of this k2d's pods (only its own containers).
    docker ps -aq --filter "label=io.k2d.instance=$id" | xargs -r docker rm -f >/dev/null 2>&1 || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT
fail() { echo "image smoke: FAILED: $*" >&2; docker logs --tail 40 "$NAME" >&2 2>&1 || true; exit 1; }
step() { log "image smoke: $* ($(($(date +%s) - started)) s)"; }

bash "$K2D_REPO/scripts/image.sh" --tag "$TAG" >/dev/null || fail "building the image"
step "image $TAG built; size $(docker image inspect -f '{{.Size}}' "$TAG") bytes"

docker run -d --name "$NAME" --network host --pid host \
  --cap-add NET_ADMIN --cap-add SYS_ADMIN --cap-add SYS_PTRACE \
  -v /var/run/docker.sock:/var/run/docker.sock -v "$DATA:$DATA" \
  "$TAG" serve --data-dir "$DATA" --port "$PORT" >/dev/null || fail "docker run"

for _ in $(seq 1 120); do
  [ -s "$KUBECONFIG" ] && "$KUBECTL" get nodes 2>/dev/null | grep -q ' Ready' && break
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] || fail "the k2d container stopped"
  sleep 0.5
done
"$KUBECTL" get nodes | grep -q ' Ready' || fail "the node is not Ready within 60 s"
logs=$(docker logs "$NAME" 2>&1)
grep -q "kubectl --kubeconfig $KUBECONFIG get nodes" <<<"$logs" \
  || fail "k2d did not print the kubeconfig and a kubectl example"
step "kubeconfig $KUBECONFIG works from the host"

"$KUBECTL" create namespace "$NS" >/dev/null || fail "creating namespace $NS"
"$KUBECTL" apply -n "$NS" -f - >/dev/null <<YAML || fail "kubectl apply"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: httpd
          image: k2d-test/httpd:latest
          imagePullPolicy: Never
          ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
YAML
"$KUBECTL" rollout status -n "$NS" deployment/web --timeout=90s >/dev/null || fail "the Deployment did not become available"
step "Deployment available"

ip=$("$KUBECTL" get service -n "$NS" web -o jsonpath='{.spec.clusterIP}')
node_port=$("$KUBECTL" get service -n "$NS" web -o jsonpath='{.spec.ports[0].nodePort}')
answered() { for _ in $(seq 1 40); do curl -fsS -m 2 "$1" 2>/dev/null | grep -q 'k2d-test httpd' && return 0; sleep 0.5; done; return 1; }
answered "http://$ip/" || fail "the Service does not answer on its cluster IP $ip"
answered "http://127.0.0.1:$node_port/" || fail "the Service does not answer on node port $node_port"
step "Service answers on http://$ip/ and on node port $node_port"

pods=$("$KUBECTL" get pods -A -o name) || fail "kubectl get pods -A"
if grep -q "$NAME" <<<"$pods"; then
  fail "k2d's own container is shown as a pod"
fi
# Captured first: grep -q would close the pipe early, and pipefail would count that as a failure.
status=$(docker exec "$NAME" /k2d status --data-dir "$DATA") || fail "k2d status in the container: $status"
grep -q '^k2d: *running' <<<"$status" || fail "k2d status does not see k2d running: $status"
step "k2d's container is not a pod; k2d status sees it running"
echo "image smoke: passed in $(($(date +%s) - started)) s"
