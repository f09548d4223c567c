//! Pods: `kubectl run`, Helm's test hook, and pods that use every defaulted part of a pod spec.

use serde_json::{Value, json};

use super::defaulted;
use crate::api::defaults::admission::pod_on_create;

fn pod(obj: Value) -> Value {
    defaulted("", "pods", obj)
}

/// `kubectl run bb --image=busybox -- sleep 3600`, as kubectl 1.32 sends it.
#[test]
fn kubectl_run() {
    let sent = json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "bb", "creationTimestamp": null, "labels": {"run": "bb"}},
        "spec": {
            "containers": [{"name": "bb", "image": "busybox", "args": ["sleep", "3600"], "resources": {}}],
            "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"
        },
        "status": {}
    });
    let out = pod(sent);
    assert_eq!(
        out["spec"],
        json!({
            "containers": [{
                "name": "bb", "image": "busybox", "args": ["sleep", "3600"],
                "imagePullPolicy": "Always",
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }],
            "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": true,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30
        })
    );
    assert_eq!(out["status"], json!({}));
}

/// The test hook pod of `helm create`'s chart: `restartPolicy: Never` is kept.
#[test]
fn helm_test_pod() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "demo-test-connection", "annotations": {"helm.sh/hook": "test"}},
        "spec": {
            "containers": [{"args": ["demo:80"], "command": ["wget"], "image": "busybox", "name": "wget"}],
            "restartPolicy": "Never"
        }
    }));
    assert_eq!(out["spec"]["restartPolicy"], "Never");
    assert_eq!(out["spec"]["containers"][0]["imagePullPolicy"], "Always");
    assert_eq!(out["spec"]["containers"][0]["resources"], json!({}));
}

#[test]
fn containers_init_containers_and_ephemeral_containers_alike() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox:1.36", "ports": [{"containerPort": 53, "protocol": "UDP"}]}],
            "containers": [{"name": "app", "image": "registry.local:5000/app:latest", "ports": [{"containerPort": 8080, "name": "http"}]}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]
        }
    }));
    let spec = &out["spec"];
    assert_eq!(spec["initContainers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(spec["initContainers"][0]["ports"][0]["protocol"], "UDP");
    assert_eq!(spec["containers"][0]["imagePullPolicy"], "Always");
    assert_eq!(
        spec["containers"][0]["ports"][0],
        json!({"containerPort": 8080, "name": "http", "protocol": "TCP"})
    );
    assert_eq!(
        spec["ephemeralContainers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        assert_eq!(
            spec[list][0]["terminationMessagePath"],
            "/dev/termination-log"
        );
        assert_eq!(spec[list][0]["terminationMessagePolicy"], "File");
        assert_eq!(spec[list][0]["resources"], json!({}));
    }
}

#[test]
fn what_is_set_is_kept() {
    let sent = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "containers": [{
                "name": "app", "image": "nginx", "imagePullPolicy": "Never",
                "terminationMessagePath": "/var/log/app/termination", "terminationMessagePolicy": "FallbackToLogsOnError",
                "resources": {"requests": {"cpu": "100m"}}
            }],
            "dnsPolicy": "Default", "restartPolicy": "OnFailure", "schedulerName": "other",
            "securityContext": {"runAsUser": 1000}, "terminationGracePeriodSeconds": 0,
            "enableServiceLinks": false
        }
    });
    let out = pod(sent.clone());
    assert_eq!(out["spec"], sent["spec"]);
}

#[test]
fn probes_and_lifecycle_hooks() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{
            "name": "app", "image": "nginx:1.27",
            "livenessProbe": {"httpGet": {"port": "http"}},
            "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5, "timeoutSeconds": 0},
            "startupProbe": {"grpc": {"port": 9090}, "failureThreshold": 30},
            "lifecycle": {
                "preStop": {"httpGet": {"path": "/drain", "port": 80}},
                "postStart": {"exec": {"command": ["true"]}}
            }
        }]}
    }));
    let c = &out["spec"]["containers"][0];
    assert_eq!(
        c["livenessProbe"],
        json!({
            "httpGet": {"path": "/", "port": "http", "scheme": "HTTP"},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
        })
    );
    assert_eq!(
        c["readinessProbe"],
        json!({
            "tcpSocket": {"port": 80},
            "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3
        })
    );
    assert_eq!(
        c["startupProbe"],
        json!({
            "grpc": {"port": 9090, "service": ""},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 30
        })
    );
    assert_eq!(
        c["lifecycle"],
        json!({
            "preStop": {"httpGet": {"path": "/drain", "port": 80, "scheme": "HTTP"}},
            "postStart": {"exec": {"command": ["true"]}}
        })
    );
}

#[test]
fn env_field_references_get_their_api_version() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{
            "name": "app", "image": "nginx:1.27",
            "env": [
                {"name": "A", "value": "1"},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}},
                {"name": "OLD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}
            ]
        }]}
    }));
    let env = &out["spec"]["containers"][0]["env"];
    assert_eq!(env[0], json!({"name": "A", "value": "1"}));
    assert_eq!(
        env[1]["valueFrom"]["fieldRef"],
        json!({"apiVersion": "v1", "fieldPath": "metadata.name"})
    );
    assert_eq!(
        env[2]["valueFrom"],
        json!({"resourceFieldRef": {"resource": "limits.memory"}})
    );
    assert_eq!(env[3]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
}

#[test]
fn volumes() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "app", "image": "nginx:1.27"}],
            "volumes": [
                {"name": "scratch"},
                {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                {"name": "config", "configMap": {"name": "app-config"}},
                {"name": "certs", "secret": {"secretName": "tls", "defaultMode": 256}},
                {"name": "host", "hostPath": {"path": "/var/log"}},
                {"name": "socket", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
                {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                {"name": "token", "projected": {"sources": [
                    {"serviceAccountToken": {"path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}
                ]}},
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "scratch-claim", "ephemeral": {"volumeClaimTemplate": {"spec": {
                    "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}
                }}}},
                {"name": "models", "image": {"reference": "registry.local/models:v1"}}
            ]
        }
    }));
    let v = &out["spec"]["volumes"];
    assert_eq!(v[0], json!({"name": "scratch", "emptyDir": {}}));
    assert_eq!(
        v[1],
        json!({"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}})
    );
    assert_eq!(
        v[2],
        json!({"name": "config", "configMap": {"name": "app-config", "defaultMode": 420}})
    );
    assert_eq!(
        v[3],
        json!({"name": "certs", "secret": {"secretName": "tls", "defaultMode": 256}})
    );
    assert_eq!(
        v[4],
        json!({"name": "host", "hostPath": {"path": "/var/log", "type": ""}})
    );
    assert_eq!(v[5]["hostPath"]["type"], "Socket");
    assert_eq!(
        v[6]["downwardAPI"],
        json!({"defaultMode": 420, "items": [{"path": "labels", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}}]})
    );
    assert_eq!(
        v[7]["projected"],
        json!({"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
        ]})
    );
    assert_eq!(
        v[8],
        json!({"name": "data", "persistentVolumeClaim": {"claimName": "data"}})
    );
    assert_eq!(
        v[9]["ephemeral"]["volumeClaimTemplate"],
        json!({"metadata": {}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"
        }})
    );
    assert_eq!(
        v[10]["image"],
        json!({"reference": "registry.local/models:v1", "pullPolicy": "IfNotPresent"})
    );
}

#[test]
fn legacy_volume_sources() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "app", "image": "nginx:1.27"}],
            "volumes": [
                {"name": "a", "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.x", "lun": 0}},
                {"name": "b", "rbd": {"monitors": ["10.0.0.1"], "image": "img"}},
                {"name": "c", "azureDisk": {"diskName": "d", "diskURI": "u"}},
                {"name": "d", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {"name": "x"}}}
            ]
        }
    }));
    let v = &out["spec"]["volumes"];
    assert_eq!(v[0]["iscsi"]["iscsiInterface"], "default");
    assert_eq!(v[1]["rbd"]["pool"], "rbd");
    assert_eq!(v[1]["rbd"]["user"], "admin");
    assert_eq!(v[1]["rbd"]["keyring"], "/etc/ceph/keyring");
    assert_eq!(
        v[2]["azureDisk"],
        json!({"diskName": "d", "diskURI": "u", "cachingMode": "ReadWrite", "fsType": "ext4", "readOnly": false, "kind": "Shared"})
    );
    assert_eq!(v[3]["scaleIO"]["storageMode"], "ThinProvisioned");
    assert_eq!(v[3]["scaleIO"]["fsType"], "xfs");
}

/// Only Pods (not templates) get requests from limits, host ports and `enableServiceLinks`.
#[test]
fn requests_default_to_limits() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox:1.36", "resources": {"limits": {"cpu": "1"}}}],
            "containers": [{"name": "app", "image": "nginx:1.27", "resources": {
                "limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}
            }}]
        }
    }));
    assert_eq!(
        out["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}})
    );
    assert_eq!(
        out["spec"]["initContainers"][0]["resources"],
        json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1"}})
    );
}

#[test]
fn host_network_pods_publish_their_container_ports() {
    let out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "hostNetwork": true,
            "containers": [{"name": "app", "image": "nginx:1.27", "ports": [
                {"containerPort": 80}, {"containerPort": 443, "hostPort": 443}
            ]}]
        }
    }));
    assert_eq!(
        out["spec"]["containers"][0]["ports"],
        json!([
            {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
            {"containerPort": 443, "hostPort": 443, "protocol": "TCP"}
        ])
    );
}

#[test]
fn the_deprecated_service_account_mirrors_the_name() {
    let spec = |extra: Value| {
        let mut s = json!({"containers": [{"name": "app", "image": "nginx:1.27"}]});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        let out =
            pod(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": s}));
        (
            out["spec"]["serviceAccountName"].clone(),
            out["spec"]["serviceAccount"].clone(),
        )
    };
    assert_eq!(
        spec(json!({"serviceAccountName": "demo"})),
        (json!("demo"), json!("demo"))
    );
    assert_eq!(
        spec(json!({"serviceAccount": "old"})),
        (json!("old"), json!("old"))
    );
    assert_eq!(
        spec(json!({"serviceAccountName": "new", "serviceAccount": "old"})),
        (json!("new"), json!("new"))
    );
    assert_eq!(spec(json!({})), (Value::Null, Value::Null));
}

#[test]
fn admission_on_create() {
    let mut out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    }));
    pod_on_create(out.as_object_mut().unwrap());
    let spec = &out["spec"];
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["serviceAccount"], "default");
    assert_eq!(spec["priority"], 0);
    assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
    assert_eq!(
        spec["tolerations"],
        json!([
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
        ])
    );
}

#[test]
fn admission_keeps_what_the_pod_says() {
    let mut out = pod(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "app", "image": "nginx:1.27"}],
            "serviceAccountName": "builder",
            "priorityClassName": "high",
            "tolerations": [
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 6000},
                {"key": "dedicated", "operator": "Equal", "value": "edge", "effect": "NoSchedule"}
            ]
        }
    }));
    pod_on_create(out.as_object_mut().unwrap());
    let spec = &out["spec"];
    assert_eq!(spec["serviceAccountName"], "builder");
    assert!(spec.get("priority").is_none());
    assert!(spec.get("preemptionPolicy").is_none());
    let tolerations = spec["tolerations"].as_array().unwrap();
    assert_eq!(tolerations.len(), 3);
    assert_eq!(tolerations[0]["tolerationSeconds"], 6000);
    assert_eq!(tolerations[2]["key"], "node.kubernetes.io/not-ready");

    // A toleration of every taint covers both.
    let mut all = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
    pod_on_create(all.as_object_mut().unwrap());
    assert_eq!(all["spec"]["tolerations"], json!([{"operator": "Exists"}]));
}
