//! The other kinds: Secrets (Helm's release records), ConfigMaps, ServiceAccounts, storage,
//! endpoints, networking, RBAC, autoscalers, budgets, leases, events, nodes; and which writes
//! are defaulted at all.

use serde_json::{Value, json};

use super::defaulted;
use crate::api::defaults::{apply, resource_has_defaults};

/// Helm's release Secret: `type` is sent; a Secret without one is `Opaque`.
#[test]
fn secrets() {
    let helm = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sh.helm.release.v1.demo.v1", "labels": {"owner": "helm"}},
        "data": {"release": "SDRzSUFBQUFBQUFD"}, "type": "helm.sh/release.v1"
    });
    assert_eq!(defaulted("", "secrets", helm.clone()), helm);
    let plain = defaulted(
        "",
        "secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": "b"}}),
    );
    assert_eq!(plain["type"], "Opaque");
}

#[test]
fn config_maps_service_accounts_and_roles_are_unchanged() {
    for (group, resource, obj) in [
        (
            "",
            "configmaps",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}, "data": {"a": "b"}}),
        ),
        (
            "",
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "demo"}, "automountServiceAccountToken": true}),
        ),
        (
            "rbac.authorization.k8s.io",
            "roles",
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
            }),
        ),
        (
            "coordination.k8s.io",
            "leases",
            json!({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
                "spec": {"holderIdentity": "k2d", "leaseDurationSeconds": 15}
            }),
        ),
        (
            "networking.k8s.io",
            "ingresses",
            json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
                "spec": {"rules": [{"host": "web.local", "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "web", "port": {"number": 80}}}
                }]}}]},
                "status": {"loadBalancer": {}}
            }),
        ),
    ] {
        assert_eq!(defaulted(group, resource, obj.clone()), obj, "{resource}");
    }
    assert!(!resource_has_defaults("", "configmaps"));
    assert!(!resource_has_defaults("", "serviceaccounts"));
    assert!(!resource_has_defaults("rbac.authorization.k8s.io", "roles"));
}

#[test]
fn ingress_status() {
    let out = defaulted(
        "networking.k8s.io",
        "ingresses",
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
            "spec": {"defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}}}
        }),
    );
    assert_eq!(out["status"], json!({"loadBalancer": {}}));
    assert_eq!(
        out["spec"]["defaultBackend"],
        json!({"service": {"name": "web", "port": {"name": "http"}}})
    );
}

#[test]
fn persistent_volume_claims_and_volumes() {
    let pvc = defaulted(
        "",
        "persistentvolumeclaims",
        json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        }),
    );
    assert_eq!(
        pvc["spec"],
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"})
    );
    assert_eq!(pvc["status"], json!({"phase": "Pending"}));
    assert!(
        pvc["spec"].get("storageClassName").is_none(),
        "no DefaultStorageClass admission"
    );

    let pv = defaulted(
        "",
        "persistentvolumes",
        json!({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data/pv1"}}
        }),
    );
    assert_eq!(
        pv["spec"],
        json!({
            "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "5Gi"},
            "hostPath": {"path": "/data/pv1", "type": ""},
            "persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Filesystem"
        })
    );
    assert_eq!(pv["status"], json!({"phase": "Pending"}));

    let bound = defaulted(
        "",
        "persistentvolumeclaims",
        json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"volumeMode": "Block", "resources": {}}, "status": {"phase": "Bound"}
        }),
    );
    assert_eq!(bound["spec"]["volumeMode"], "Block");
    assert_eq!(bound["status"]["phase"], "Bound");
}

#[test]
fn endpoints_and_endpoint_slices() {
    let ep = defaulted(
        "",
        "endpoints",
        json!({
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
            "subsets": [{"addresses": [{"ip": "172.17.0.2"}], "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]
        }),
    );
    assert_eq!(
        ep["subsets"][0]["ports"],
        json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
    );

    let slice = defaulted(
        "discovery.k8s.io",
        "endpointslices",
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "web-abc"},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["172.17.0.2"]}],
            "ports": [{"port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}]
        }),
    );
    assert_eq!(
        slice["ports"],
        json!([{"name": "", "port": 80, "protocol": "TCP"}, {"name": "dns", "port": 53, "protocol": "UDP"}])
    );
    assert_eq!(slice["endpoints"][0]["conditions"], json!({}));
}

#[test]
fn network_policies() {
    let policy = |spec: Value| {
        defaulted(
            "networking.k8s.io",
            "networkpolicies",
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np"}, "spec": spec}),
        )["spec"]
            .clone()
    };
    assert_eq!(
        policy(json!({"podSelector": {}})),
        json!({"podSelector": {}, "policyTypes": ["Ingress"]})
    );
    let both = policy(json!({
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [{"ports": [{"port": 5432}]}],
        "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53}]}]
    }));
    assert_eq!(both["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(
        both["ingress"][0]["ports"],
        json!([{"port": 5432, "protocol": "TCP"}])
    );
    assert_eq!(
        both["egress"][0]["ports"],
        json!([{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}])
    );
    assert_eq!(
        policy(json!({"policyTypes": ["Egress"]}))["policyTypes"],
        json!(["Egress"])
    );
    // A policy without a pod selector selects every pod: `podSelector: {}`.
    assert_eq!(policy(json!({}))["podSelector"], json!({}));
}

#[test]
fn role_bindings() {
    for (resource, kind) in [
        ("rolebindings", "RoleBinding"),
        ("clusterrolebindings", "ClusterRoleBinding"),
    ] {
        let out = defaulted(
            "rbac.authorization.k8s.io",
            resource,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "b"},
                "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [
                    {"kind": "User", "name": "jane"},
                    {"kind": "Group", "name": "ops"},
                    {"kind": "ServiceAccount", "name": "demo", "namespace": "default"}
                ]
            }),
        );
        assert_eq!(out["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(out["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(out["subjects"][1]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(
            out["subjects"][2],
            json!({"kind": "ServiceAccount", "name": "demo", "namespace": "default"})
        );
    }
}

#[test]
fn storage_classes() {
    let out = defaulted(
        "storage.k8s.io",
        "storageclasses",
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"}, "provisioner": "k2d.io/local"}),
    );
    assert_eq!(out["reclaimPolicy"], "Delete");
    assert_eq!(out["volumeBindingMode"], "Immediate");
    let given = defaulted(
        "storage.k8s.io",
        "storageclasses",
        json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
            "provisioner": "k2d.io/local", "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"
        }),
    );
    assert_eq!(given["reclaimPolicy"], "Retain");
    assert_eq!(given["volumeBindingMode"], "WaitForFirstConsumer");
}

#[test]
fn pod_disruption_budgets() {
    let out = defaulted(
        "policy",
        "poddisruptionbudgets",
        json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}
        }),
    );
    assert_eq!(
        out["spec"],
        json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}})
    );
    assert_eq!(
        out["status"],
        json!({"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0})
    );
}

/// `kubectl autoscale deployment web --max=5` (autoscaling/v1, no CPU target).
#[test]
fn autoscaler_v1() {
    let out = defaulted(
        "autoscaling",
        "horizontalpodautoscalers",
        json!({
            "kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v1",
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"}, "maxReplicas": 5},
            "status": {"currentReplicas": 0, "desiredReplicas": 0}
        }),
    );
    assert_eq!(
        out["spec"],
        json!({
            "maxReplicas": 5, "minReplicas": 1,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "targetCPUUtilizationPercentage": 80
        })
    );
    assert_eq!(
        out["status"],
        json!({"currentReplicas": 0, "desiredReplicas": 0})
    );
}

#[test]
fn autoscaler_v2() {
    let hpa = |spec: Value| {
        defaulted(
            "autoscaling",
            "horizontalpodautoscalers",
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"}, "spec": spec}),
        )
    };
    let target = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});
    let out = hpa(json!({"scaleTargetRef": target, "maxReplicas": 5}));
    assert_eq!(
        out["spec"],
        json!({
            "maxReplicas": 5, "minReplicas": 1, "scaleTargetRef": target,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
        })
    );
    assert!(
        out["spec"].get("behavior").is_none(),
        "no behavior is added when none is given"
    );
    assert_eq!(out["status"], json!({"desiredReplicas": 0}));

    let out = hpa(json!({
        "scaleTargetRef": target, "minReplicas": 2, "maxReplicas": 10,
        "metrics": [{"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}
    }));
    assert_eq!(out["spec"]["minReplicas"], 2);
    assert_eq!(out["spec"]["metrics"][0]["resource"]["name"], "memory");
    assert_eq!(
        out["spec"]["behavior"],
        json!({
            "scaleDown": {
                "stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]
            },
            "scaleUp": {
                "stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15}
                ]
            }
        })
    );
}

#[test]
fn events() {
    let core = defaulted(
        "",
        "events",
        json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
            "reason": "Started", "message": "Started container nginx", "type": "Normal", "count": 1,
            "firstTimestamp": "2026-11-21T04:53:09Z", "lastTimestamp": "2026-11-21T04:53:09Z"
        }),
    );
    assert_eq!(core["reportingComponent"], "");
    assert_eq!(core["reportingInstance"], "");
    assert_eq!(core["source"], json!({}));

    let new = defaulted(
        "events.k8s.io",
        "events",
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.2"},
            "eventTime": "2026-11-21T04:53:09.000000Z", "reportingController": "k2d", "reportingInstance": "k2d-1",
            "action": "Started", "reason": "Started", "regarding": {"kind": "Pod", "name": "web"}, "type": "Normal"
        }),
    );
    assert_eq!(new["deprecatedSource"], json!({}));
    assert_eq!(new["reportingController"], "k2d");
}

#[test]
fn nodes_allocate_their_capacity() {
    let out = defaulted(
        "",
        "nodes",
        json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "docker-node"},
            "status": {"capacity": {"cpu": "4", "memory": "1Gi", "pods": "110"}}
        }),
    );
    assert_eq!(
        out["status"]["allocatable"],
        json!({"cpu": "4", "memory": "1Gi", "pods": "110"})
    );
}

#[test]
fn namespaces_are_left_to_their_own_code() {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "edge"}});
    let mut out = ns.clone();
    apply("", "namespaces", &mut out);
    assert_eq!(out, ns);
    assert!(!resource_has_defaults("", "namespaces"));
}

#[test]
fn status_writes_are_defaulted_other_subresources_are_not() {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}},
        "status": {"replicas": 1}
    });
    let mut status_write = deployment.clone();
    apply("apps", "deployments/status", &mut status_write);
    assert_eq!(status_write["spec"]["revisionHistoryLimit"], 10);

    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    let mut out = scale.clone();
    apply("apps", "deployments/scale", &mut out);
    assert_eq!(out, scale);
}

#[test]
fn the_core_group_may_be_named() {
    let mut a = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    let mut b = a.clone();
    apply("", "secrets", &mut a);
    apply("core", "secrets", &mut b);
    assert_eq!(a, b);
    assert_eq!(a["type"], "Opaque");
}

#[test]
fn unknown_resources_and_non_objects_are_left_alone() {
    let mut widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}});
    apply("example.com", "widgets", &mut widget);
    assert_eq!(
        widget,
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}})
    );
    assert!(!resource_has_defaults("example.com", "widgets"));
    let mut text = json!("not an object");
    apply("", "pods", &mut text);
    assert_eq!(text, json!("not an object"));
}

#[test]
fn which_resources_have_defaults() {
    for (group, resource) in [
        ("", "pods"),
        ("", "services"),
        ("", "secrets"),
        ("", "persistentvolumeclaims"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("batch", "cronjobs"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("networking.k8s.io", "networkpolicies"),
        ("networking.k8s.io", "ingresses"),
        ("storage.k8s.io", "storageclasses"),
        ("coordination.k8s.io", "leases"),
        ("apps", "deployments/status"),
    ] {
        assert!(resource_has_defaults(group, resource), "{group}/{resource}");
    }
    assert!(!resource_has_defaults("apps", "deployments/scale"));
}
