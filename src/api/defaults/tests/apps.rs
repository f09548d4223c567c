//! apps/v1 workloads: what `kubectl create deployment` and `helm create`'s chart send, and each
//! workload kind with its pod template.

use serde_json::{Value, json};

use super::{defaulted, template_spec_defaults};

fn nginx_template() -> Value {
    json!({
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}
    })
}

fn defaulted_nginx() -> Value {
    json!({
        "metadata": {"labels": {"app": "web"}},
        "spec": template_spec_defaults(json!([{
            "name": "nginx", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"
        }]))
    })
}

/// `kubectl create deployment hello --image=nginx` (the JSON form of its body: empty
/// `strategy`, `resources` and `status`).
#[test]
fn kubectl_create_deployment() {
    let out = defaulted(
        "apps",
        "deployments",
        json!({
            "kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": "hello", "labels": {"app": "hello"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "hello"}},
                "template": {
                    "metadata": {"labels": {"app": "hello"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                },
                "strategy": {}
            },
            "status": {}
        }),
    );
    assert_eq!(
        out["spec"],
        json!({
            "replicas": 1,
            "selector": {"matchLabels": {"app": "hello"}},
            "template": {
                "metadata": {"labels": {"app": "hello"}},
                "spec": template_spec_defaults(json!([{
                    "name": "nginx", "image": "nginx", "imagePullPolicy": "Always",
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }]))
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        })
    );
    assert_eq!(out["status"], json!({}));
}

/// The Deployment of `helm create`'s chart: what it sets is kept, the rest is defaulted.
#[test]
fn helm_chart_deployment() {
    let out = defaulted(
        "apps",
        "deployments",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "demo", "labels": {"app.kubernetes.io/name": "demo"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": "demo"}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "demo"}},
                    "spec": {
                        "containers": [{
                            "image": "nginx:1.16.0", "imagePullPolicy": "IfNotPresent",
                            "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
                            "name": "demo",
                            "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                            "resources": {}, "securityContext": {}
                        }],
                        "securityContext": {}, "serviceAccountName": "demo"
                    }
                }
            }
        }),
    );
    let spec = &out["spec"]["template"]["spec"];
    assert_eq!(spec["serviceAccountName"], "demo");
    assert_eq!(spec["serviceAccount"], "demo");
    assert!(
        spec.get("enableServiceLinks").is_none(),
        "templates do not get Pod-only defaults"
    );
    let probe = json!({
        "failureThreshold": 3,
        "httpGet": {"path": "/", "port": "http", "scheme": "HTTP"},
        "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1
    });
    assert_eq!(spec["containers"][0]["livenessProbe"], probe);
    assert_eq!(spec["containers"][0]["readinessProbe"], probe);
    assert_eq!(spec["containers"][0]["securityContext"], json!({}));
}

#[test]
fn recreate_strategy_gets_no_rolling_update() {
    let out = defaulted(
        "apps",
        "deployments",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": nginx_template(), "strategy": {"type": "Recreate"}}
        }),
    );
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    assert_eq!(out["spec"]["replicas"], 1);
}

#[test]
fn a_partial_rolling_update_is_completed() {
    let out = defaulted(
        "apps",
        "deployments",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {
                "replicas": 0, "revisionHistoryLimit": 0,
                "selector": {"matchLabels": {"app": "web"}}, "template": nginx_template(),
                "strategy": {"rollingUpdate": {"maxSurge": 1}}
            }
        }),
    );
    assert_eq!(out["spec"]["replicas"], 0);
    assert_eq!(out["spec"]["revisionHistoryLimit"], 0);
    assert_eq!(
        out["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}})
    );
}

#[test]
fn replica_set() {
    let out = defaulted(
        "apps",
        "replicasets",
        json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-20279736"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": nginx_template()}
        }),
    );
    assert_eq!(
        out["spec"],
        json!({"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": defaulted_nginx()})
    );
    assert_eq!(out["status"], json!({"replicas": 0}));
}

#[test]
fn stateful_set_with_claim_templates() {
    let out = defaulted(
        "apps",
        "statefulsets",
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {
                "serviceName": "web",
                "selector": {"matchLabels": {"app": "web"}},
                "template": nginx_template(),
                "volumeClaimTemplates": [{
                    "metadata": {"name": "www"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
                }]
            }
        }),
    );
    assert_eq!(
        out["spec"],
        json!({
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "podManagementPolicy": "OrderedReady",
            "replicas": 1,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "serviceName": "web",
            "template": defaulted_nginx(),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "volumeClaimTemplates": [{
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "www"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                    "volumeMode": "Filesystem"
                },
                "status": {"phase": "Pending"}
            }]
        })
    );
    assert_eq!(
        out["status"],
        json!({"availableReplicas": 0, "replicas": 0})
    );
}

#[test]
fn stateful_set_update_strategies() {
    let strategy = |given: Value| {
        let out = defaulted(
            "apps",
            "statefulsets",
            json!({
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": nginx_template(), "updateStrategy": given}
            }),
        );
        out["spec"]["updateStrategy"].clone()
    };
    assert_eq!(
        strategy(json!({"type": "OnDelete"})),
        json!({"type": "OnDelete"})
    );
    // A type given without a rollingUpdate block gets none.
    assert_eq!(
        strategy(json!({"type": "RollingUpdate"})),
        json!({"type": "RollingUpdate"})
    );
    assert_eq!(
        strategy(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}})),
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "partition": 0}})
    );
}

#[test]
fn daemon_set() {
    let out = defaulted(
        "apps",
        "daemonsets",
        json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": nginx_template()}
        }),
    );
    assert_eq!(
        out["spec"],
        json!({
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "template": defaulted_nginx(),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
        })
    );
    assert_eq!(
        out["status"],
        json!({"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0})
    );
    let on_delete = defaulted(
        "apps",
        "daemonsets",
        json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": nginx_template(), "updateStrategy": {"type": "OnDelete"}}
        }),
    );
    assert_eq!(
        on_delete["spec"]["updateStrategy"],
        json!({"type": "OnDelete"})
    );
}

/// A template without metadata gets the `metadata: {}` every real template shows.
#[test]
fn template_metadata_is_always_there() {
    let out = defaulted(
        "apps",
        "replicasets",
        json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}
        }),
    );
    assert_eq!(out["spec"]["template"]["metadata"], json!({}));
}
