//! Objects and helpers shared by the patch tests.

use serde_json::{Value, json};

use crate::api::patch::{PatchError, strategic_merge_patch};
use crate::generated::schema_index;

/// The index of a schema by its `components.schemas` name (it must exist).
pub fn schema(name: &str) -> Option<usize> {
    Some(schema_index(name).unwrap_or_else(|| panic!("no schema {name}")))
}

/// The Deployment schema.
pub fn deployment_schema() -> Option<usize> {
    schema("io.k8s.api.apps.v1.Deployment")
}

/// Strategic merge patch of a Deployment; panics on failure.
pub fn patch_deployment(doc: &Value, patch: Value) -> Value {
    strategic_merge_patch(doc, &patch, deployment_schema()).expect("patch applies")
}

/// Strategic merge patch of a Deployment that must fail.
pub fn patch_deployment_err(doc: &Value, patch: Value) -> PatchError {
    strategic_merge_patch(doc, &patch, deployment_schema()).expect_err("patch must fail")
}

/// The pod template spec of a Deployment.
pub fn pod_spec(d: &Value) -> &Value {
    &d["spec"]["template"]["spec"]
}

/// The names of the containers of a Deployment, in order.
pub fn container_names(d: &Value) -> Vec<&str> {
    names(&pod_spec(d)["containers"], "name")
}

/// The values of `key` of the items of a list, in order.
pub fn names<'v>(list: &'v Value, key: &str) -> Vec<&'v str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|i| i[key].as_str().expect("a string key"))
        .collect()
}

/// A live Deployment `web` as k2d would store it after `kubectl apply -f web.yaml` (nginx:1.27,
/// 2 replicas, port 80), with env, a volume and its mount, and a finalizer.
pub fn web_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "6b1e7c1a-0000-4000-8000-000000000001",
            "resourceVersion": "12",
            "generation": 1,
            "labels": {"app": "web"},
            "annotations": {
                "deployment.kubernetes.io/revision": "1",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"old\":true}\n"
            },
            "finalizers": ["example.com/a", "example.com/b"]
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [
                            {"name": "A", "value": "1"},
                            {"name": "B", "value": "2"}
                        ],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                        "imagePullPolicy": "IfNotPresent"
                    }],
                    "volumes": [{"name": "data", "emptyDir": {"medium": "Memory"}}],
                    "nodeSelector": {"disk": "ssd"},
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst"
                }
            }
        },
        "status": {"replicas": 2, "observedGeneration": 1}
    })
}

/// `web` with three containers `a`, `b`, `c`.
pub fn three_containers() -> Value {
    let mut d = web_deployment();
    d["spec"]["template"]["spec"]["containers"] = json!([
        {"name": "a", "image": "busybox:a"},
        {"name": "b", "image": "busybox:b"},
        {"name": "c", "image": "busybox:c"}
    ]);
    d
}
