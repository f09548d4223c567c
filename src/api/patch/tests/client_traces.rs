//! The patch bodies kubectl and Helm sent in the recorded traces, applied to the objects they
//! were sent for.

use serde_json::{Value, json};

use super::support::{
    container_names, deployment_schema, patch_deployment, pod_spec, schema, web_deployment,
};
use crate::api::patch::{PatchType, apply_patch, json_patch, merge_patch, strategic_merge_patch};

/// The second `kubectl apply -f web2.yaml` (kubectl 1.32 and 1.35): a three-way diff with the
/// new last-applied annotation, replicas 3 and the image nginx:1.28.
const CLIENT_SIDE_APPLY: &str = r#"{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"web\"},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"image\":\"nginx:1.28\",\"name\":\"nginx\",\"ports\":[{\"containerPort\":80}]}]}}}}\n"}},"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:1.28","name":"nginx"}]}}}}"#;

#[test]
fn client_side_apply_update_keeps_everything_it_does_not_change() {
    // The trace shows the first 600 bytes and Content-Length 633; the rest is the container.
    assert_eq!(CLIENT_SIDE_APPLY.len(), 633);
    let live = web_deployment();
    let body = CLIENT_SIDE_APPLY.as_bytes();
    let patched = apply_patch(&live, PatchType::StrategicMerge, body, deployment_schema()).unwrap();

    let applied: Value = serde_json::from_slice(body).unwrap();
    let annotation = "kubectl.kubernetes.io/last-applied-configuration";
    // The annotation is kept verbatim (trailing newline included).
    assert_eq!(
        patched["metadata"]["annotations"][annotation],
        applied["metadata"]["annotations"][annotation]
    );
    assert!(
        patched["metadata"]["annotations"][annotation]
            .as_str()
            .unwrap()
            .ends_with("}\n")
    );
    assert_eq!(
        patched["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(patched["spec"]["replicas"], 3);
    let container = &pod_spec(&patched)["containers"][0];
    assert_eq!(container["image"], "nginx:1.28");
    assert_eq!(
        container["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    assert_eq!(container["env"], pod_spec(&live)["containers"][0]["env"]);
    assert_eq!(container_names(&patched), ["nginx"]);
    // No directive is stored.
    assert!(
        pod_spec(&patched)
            .get("$setElementOrder/containers")
            .is_none()
    );
    assert_eq!(patched["status"], live["status"]);
}

#[test]
fn kubectl_set_image() {
    let live = web_deployment();
    let patched = patch_deployment(
        &live,
        json!({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:1.29","name":"nginx"}]}}}}),
    );
    let mut expected = live.clone();
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.29");
    assert_eq!(patched, expected);
}

#[test]
fn kubectl_rollout_restart_adds_the_template_annotation() {
    let live = web_deployment();
    let patched = patch_deployment(
        &live,
        json!({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-06-01T10:00:00Z"}}}}}),
    );
    assert_eq!(
        patched["spec"]["template"]["metadata"],
        json!({
            "labels": {"app": "web"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-06-01T10:00:00Z"}
        })
    );
    // A second restart replaces the value.
    let again = patch_deployment(
        &patched,
        json!({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-06-02T10:00:00Z"}}}}}),
    );
    assert_eq!(
        again["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        "2025-06-02T10:00:00Z"
    );
}

#[test]
fn kubectl_patch_and_helm_upgrade_replicas() {
    let live = web_deployment();
    let patched = apply_patch(
        &live,
        PatchType::StrategicMerge,
        br#"{"spec":{"replicas":2}}"#,
        deployment_schema(),
    )
    .unwrap();
    assert_eq!(patched, live);
    let patched = patch_deployment(&live, json!({"spec":{"replicas":1}}));
    assert_eq!(patched["spec"]["replicas"], 1);
    assert_eq!(patched["spec"]["template"], live["spec"]["template"]);
}

/// The Deployment the Helm chart `demo` renders (image nginx:1.16.0, port `http`).
fn helm_demo() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "demo",
            "namespace": "default",
            "annotations": {
                "meta.helm.sh/release-name": "demo",
                "meta.helm.sh/release-namespace": "default"
            },
            "labels": {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/name": "demo"}
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "demo"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "demo"}},
                "spec": {
                    "serviceAccountName": "demo",
                    "securityContext": {},
                    "containers": [{
                        "name": "demo",
                        "image": "nginx:1.16.0",
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                        "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
                        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                        "resources": {},
                        "securityContext": {}
                    }]
                }
            }
        }
    })
}

#[test]
fn helm3_upgrade_image_then_rollback() {
    let installed = helm_demo();
    let upgraded = apply_patch(
        &installed,
        PatchType::StrategicMerge,
        br#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"demo"}],"containers":[{"image":"nginx:1.27","name":"demo"}]}}}}"#,
        deployment_schema(),
    )
    .unwrap();
    let mut expected = installed.clone();
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    assert_eq!(upgraded, expected);

    let rolled_back = apply_patch(
        &upgraded,
        PatchType::StrategicMerge,
        br#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"demo"}],"containers":[{"image":"nginx:1.16.0","imagePullPolicy":"IfNotPresent","livenessProbe":{"httpGet":{"path":"/","port":"http"}},"name":"demo","ports":[{"containerPort":80,"name":"http","protocol":"TCP"}],"readinessProbe":{"httpGet":{"path":"/","port":"http"}}}]}}}}"#,
        deployment_schema(),
    )
    .unwrap();
    assert_eq!(rolled_back, installed);
}

#[test]
fn kubectl_rollout_undo_json_patch() {
    let mut live = web_deployment();
    live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("2");
    live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    let body = serde_json::to_vec(&json!([
        {"op": "replace", "path": "/spec/template", "value": {
            "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {}}],
                "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}
        }},
        {"op": "replace", "path": "/metadata/annotations", "value": {
            "deployment.kubernetes.io/revision": "3",
            "kubectl.kubernetes.io/last-applied-configuration": "{\"old\":true}\n"
        }}
    ]))
    .unwrap();
    let patched = apply_patch(&live, PatchType::Json, &body, deployment_schema()).unwrap();
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert!(patched["spec"]["template"]["metadata"]["creationTimestamp"].is_null());
    assert_eq!(
        patched["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(patched["spec"]["replicas"], live["spec"]["replicas"]);
    // Same result through the function itself.
    assert_eq!(json_patch(&live, &body).unwrap(), patched);
}

#[test]
fn kubectl_label_annotate_and_scale_merge_patches() {
    let pod = json!({"metadata": {"name": "cc", "labels": {"run": "cc"}}, "spec": {}});
    let labelled = apply_patch(
        &pod,
        PatchType::Merge,
        br#"{"metadata":{"labels":{"x":"y"}}}"#,
        None,
    )
    .unwrap();
    assert_eq!(
        labelled["metadata"]["labels"],
        json!({"run": "cc", "x": "y"})
    );

    let annotated = merge_patch(
        &labelled,
        &json!({"metadata":{"annotations":{"foo":"bar"}}}),
    );
    assert_eq!(annotated["metadata"]["annotations"], json!({"foo": "bar"}));

    let scale = json!({"kind": "Scale", "spec": {"replicas": 2}, "status": {"replicas": 2}});
    let scaled = apply_patch(
        &scale,
        PatchType::Merge,
        br#"{"spec":{"replicas":4}}"#,
        None,
    )
    .unwrap();
    assert_eq!(scaled["spec"]["replicas"], 4);
    assert_eq!(scaled["status"]["replicas"], 2);
}

#[test]
fn kubectl_cordon_node() {
    let node = json!({"metadata": {"name": "docker-node"}, "spec": {"podCIDR": "10.244.0.0/24"}});
    let cordoned = strategic_merge_patch(
        &node,
        &json!({"spec":{"unschedulable":true}}),
        schema("io.k8s.api.core.v1.Node"),
    )
    .unwrap();
    assert_eq!(
        cordoned["spec"],
        json!({"podCIDR": "10.244.0.0/24", "unschedulable": true})
    );
}

#[test]
fn kubectl_diff_patch_with_resource_version_sets_it() {
    // `kubectl diff` sends the live resourceVersion in the body; the patch carries it through
    // and the API layer compares it.
    let live = web_deployment();
    let patched = patch_deployment(&live, json!({"metadata":{"resourceVersion":"11"}}));
    assert_eq!(patched["metadata"]["resourceVersion"], "11");
}
