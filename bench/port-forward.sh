#!/bin/bash
# Issue 6 figure: throughput of kubectl port-forward (SPDY in a WebSocket, and raw SPDY)
# against a direct connection to the pod's IP, same pod, same run: 100 MB from a busybox
# httpd, 3 rounds each. Needs a Docker engine, the test images and a k2d build
# (K2D_BIN, default the static release build of scripts/lib.sh); uses the `kubectl` on PATH (or $KUBECTL). Prints
# figures; passes or fails nothing. Run it under the host lock: only one k2d with
# networking may run at a time.
set -u
BIN=${K2D_BIN:-${K2D_RELEASE_BIN:-$(dirname "$0")/../target/$(uname -m)-unknown-linux-gnu/release/k2d}}
KUBECTL=${KUBECTL:-kubectl}
D=$(mktemp -d)
$BIN serve --data-dir "$D" --port 7445 --listen-address 127.0.0.1 --log-level warn > "$D/k2d.log" 2>&1 &
PID=$!
trap 'kill $PF 2>/dev/null; $KUBECTL delete namespace pfbench --wait=false >/dev/null 2>&1; sleep 3; kill $PID; wait $PID; rm -rf "$D"' EXIT
export KUBECONFIG=$D/kubeconfig
for i in $(seq 100); do [ -f "$KUBECONFIG" ] && $KUBECTL get nodes 2>/dev/null | grep -q ' Ready' && break; sleep 0.2; done
$KUBECTL create namespace pfbench >/dev/null
cat <<Y | $KUBECTL apply -n pfbench -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: k2d-test/busybox:latest
    imagePullPolicy: Never
    command: [sh, -c, "mkdir /www && head -c 104857600 /dev/zero > /www/big && httpd -f -p 8080 -h /www"]
Y
$KUBECTL wait -n pfbench --for=condition=Ready pod/big --timeout=120s >/dev/null
IP=$($KUBECTL get pod -n pfbench big -o jsonpath='{.status.podIP}')
for i in $(seq 50); do curl -sf -o /dev/null "http://$IP:8080/big" && break; sleep 0.2; done
speed() { curl -s -o /dev/null -w '%{speed_download}' "$1"; }
mbps() { python3 -c "print(f'{$1/1e6:.1f}')"; }
PORT=18765
for mode in websocket spdy; do
  if [ $mode = spdy ]; then export KUBECTL_PORT_FORWARD_WEBSOCKETS=false; fi
  $KUBECTL port-forward -n pfbench pod/big $PORT:8080 > "$D/pf.log" 2>&1 &
  PF=$!
  for i in $(seq 100); do grep -q Forwarding "$D/pf.log" && break; sleep 0.1; done
  for round in 1 2 3; do
    direct=$(speed "http://$IP:8080/big")
    forwarded=$(speed "http://127.0.0.1:$PORT/big")
    python3 -c "d=$direct; f=$forwarded; print(f'$mode round $round: direct {d/1e6:.1f} MB/s, port-forward {f/1e6:.1f} MB/s, ratio {f/d:.3f}')"
  done
  kill $PF; wait $PF 2>/dev/null
  unset KUBECTL_PORT_FORWARD_WEBSOCKETS
  PORT=$((PORT + 1))
done
