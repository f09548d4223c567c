#!/bin/bash
# Issue 4 figures: kubectl apply of a 3-replica Deployment until Ready vs docker run -d of
# the same three containers (3 rounds), 100 replicas to Ready, RSS with 100 pods, idle CPU
# ticks, and namespace cleanup. Needs a running Docker engine and the test images
# (scripts/test.sh makes both) and a release build. Prints figures; passes or fails nothing.
set -u
BIN=${K2D_BIN:-${K2D_RELEASE_BIN:-$(dirname "$0")/../target/$(uname -m)-unknown-linux-gnu/release/k2d}}
D=$(mktemp -d)
$BIN serve --data-dir $D --port 7444 --listen-address 127.0.0.1 --log-level warn > "$D/k2d.log" 2>&1 &
PID=$!
export KUBECONFIG=$D/kubeconfig
for i in $(seq 50); do [ -f $KUBECONFIG ] && kubectl get nodes 2>/dev/null | grep -q ' Ready' && break; sleep 0.2; done
rss() { awk '/VmRSS/{print $2}' /proc/$PID/status; }
echo "idle RSS KB: $(rss)"
kubectl create namespace bench >/dev/null
for round in 1 2 3; do
  t0=$(date +%s.%N)
  for i in 1 2 3; do docker run -d --name bench-d$i-$round k2d-test/busybox sleep 3600 >/dev/null; done
  t1=$(date +%s.%N)
  cat <<Y | kubectl apply -n bench -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: b$round}
spec:
  replicas: 3
  selector: {matchLabels: {app: b$round}}
  template:
    metadata: {labels: {app: b$round}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: k2d-test/busybox, imagePullPolicy: Never, command: [sleep, "3600"]}]
Y
  kubectl wait -n bench --for=jsonpath='{.status.readyReplicas}'=3 deploy/b$round --timeout=120s >/dev/null
  t2=$(date +%s.%N)
  python3 -c "d=$t1-$t0; k=$t2-$t1; print(f'round $round: docker run -d x3 {d:.2f}s, k2d deploy 3 ready {k:.2f}s, ratio {k/d:.1f}')"
  docker rm -f bench-d1-$round bench-d2-$round bench-d3-$round >/dev/null
  kubectl delete -n bench deploy/b$round --wait=false >/dev/null
done
sleep 5
cat <<Y | kubectl apply -n bench -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: many}
spec:
  replicas: 100
  selector: {matchLabels: {app: many}}
  template:
    metadata: {labels: {app: many}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: k2d-test/busybox, imagePullPolicy: Never, command: [sleep, "3600"]}]
Y
t0=$(date +%s.%N)
kubectl wait -n bench --for=jsonpath='{.status.readyReplicas}'=100 deploy/many --timeout=600s >/dev/null
t1=$(date +%s.%N)
python3 -c "print(f'100 replicas ready in {$t1-$t0:.1f}s')"
sleep 10
echo "RSS KB with 100 running pods: $(rss)"
S0=$(awk '{print $14+$15}' /proc/$PID/stat); sleep 30; S1=$(awk '{print $14+$15}' /proc/$PID/stat)
echo "CPU ticks over 30 s idle with 100 pods: $((S1-S0))"
kubectl delete namespace bench --wait=true --timeout=300s >/dev/null
echo "after namespace deletion, containers left: $(docker ps -aq --filter label=io.k2d.pod.namespace=bench | wc -l)"
kill $PID; wait $PID
