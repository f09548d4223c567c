//! kubectl: `apply --server-side` on an object created by client-side `apply`, followed by the
//! `fieldManager=kubectl-last-applied` apply of the annotation alone.

use serde_json::{Value, json};

use super::*;
use crate::api::apply::{ApplyError, LAST_APPLIED_ANNOTATION, apply, record_update};

/// `web.yaml` (or `web2.yaml`) as kubectl sends it.
fn manifest(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"labels": {"app": "web"}, "name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"image": image, "name": "nginx", "ports": [{"containerPort": 80}]}]}
            }
        }
    })
}

/// The annotation client-side apply writes for a manifest.
fn last_applied_of(m: &Value) -> String {
    let mut m = m.clone();
    m["metadata"]["annotations"] = json!({});
    serde_json::to_string(&m).unwrap() + "\n"
}

/// The object the server holds after `kubectl apply -f web.yaml` (client-side): the POST
/// body with the annotation, defaulted, recorded for `kubectl-client-side-apply`.
fn client_side_applied() -> Value {
    let mut body = manifest(2, "nginx:1.27");
    body["metadata"]["annotations"] =
        json!({LAST_APPLIED_ANNOTATION: last_applied_of(&manifest(2, "nginx:1.27"))});
    body["metadata"]["uid"] = json!("u");
    body["metadata"]["creationTimestamp"] = json!(T1);
    body["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("TCP");
    record_update(
        None,
        &body,
        "kubectl-client-side-apply",
        "Update",
        None,
        deployment(),
        T1,
    )
}

#[test]
fn server_side_apply_takes_over_from_client_side_apply() {
    let live = client_side_applied();
    let web2 = manifest(3, "nginx:1.28");
    let applied = apply(Some(&live), &web2, "kubectl", false, deployment(), T2).unwrap();

    assert_eq!(applied["spec"]["replicas"], 3);
    assert_eq!(
        applied["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    assert_eq!(
        fields(entry(&applied, "kubectl", "Apply")),
        r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#
    );
    let csa = fields(entry(&applied, "kubectl-client-side-apply", "Update"));
    assert!(
        !csa.contains("f:replicas") && !csa.contains("f:image"),
        "{csa}"
    );
    assert!(csa.contains("f:labels") && csa.contains("last-applied-configuration"));

    // The server keeps the annotation in step, as kubectl expects it.
    let annotation = &applied["metadata"]["annotations"][LAST_APPLIED_ANNOTATION];
    assert_eq!(
        annotation.as_str().unwrap(),
        serde_json::to_string(&web2).unwrap() + "\n"
    );

    // kubectl then applies the annotation alone as kubectl-last-applied: nothing changes.
    let just_annotation = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"annotations": {LAST_APPLIED_ANNOTATION: annotation}, "name": "web", "namespace": "default"}
    });
    let second = apply(
        Some(&applied),
        &just_annotation,
        "kubectl-last-applied",
        false,
        deployment(),
        T3,
    )
    .unwrap();
    assert_eq!(
        without_managed_fields(&second),
        without_managed_fields(&applied)
    );
    assert_eq!(
        fields(entry(&second, "kubectl-last-applied", "Apply")),
        r#"{"f:metadata":{"f:annotations":{"f:kubectl.kubernetes.io/last-applied-configuration":{}}}}"#
    );
    assert!(
        entry(&second, "kubectl-last-applied", "Apply")
            .get("time")
            .is_none(),
        "an apply that changes nothing sets no time, as the real server"
    );
    assert_eq!(
        writers(&second),
        [
            ("kubectl-last-applied".into(), "Apply".into(), "".into()),
            ("kubectl".into(), "Apply".into(), "".into()),
            (
                "kubectl-client-side-apply".into(),
                "Update".into(),
                "".into()
            ),
        ]
    );
}

#[test]
fn fields_changed_since_the_client_side_apply_still_conflict() {
    let mut live = client_side_applied();
    live["spec"]["replicas"] = json!(5);
    let err = apply(
        Some(&live),
        &manifest(3, "nginx:1.27"),
        "kubectl",
        false,
        deployment(),
        T2,
    )
    .unwrap_err();
    let ApplyError::Conflict(c) = err else {
        panic!()
    };
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].manager, "kubectl-client-side-apply");
    assert_eq!(c[0].field, ".spec.replicas");
}

#[test]
fn other_managers_get_no_such_allowance() {
    let live = client_side_applied();
    let err = apply(
        Some(&live),
        &manifest(3, "nginx:1.27"),
        "helm",
        false,
        deployment(),
        T2,
    )
    .unwrap_err();
    assert!(matches!(err, ApplyError::Conflict(_)));
}
