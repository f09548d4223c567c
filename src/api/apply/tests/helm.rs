//! Helm 4: every install and upgrade is a server-side apply with `fieldManager=helm`.

use serde_json::{Value, json};

use super::*;
use crate::api::apply::apply;

fn labels() -> Value {
    json!({
        "app.kubernetes.io/instance": "demo",
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/name": "demo",
        "app.kubernetes.io/version": "1.16.0",
        "helm.sh/chart": "demo-0.1.0"
    })
}

/// The demo chart's Deployment as Helm 4 sends it.
fn demo_deployment(replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "annotations": {"meta.helm.sh/release-name": "demo", "meta.helm.sh/release-namespace": "default"},
            "labels": labels(), "name": "demo", "namespace": "default"
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/instance": "demo", "app.kubernetes.io/name": "demo"}},
            "template": {
                "metadata": {"labels": labels()},
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
    })
}

/// What the API layer adds on create: identity, then defaults.
fn stored(mut object: Value) -> Value {
    object["metadata"]["uid"] = json!("0b7d9f3c-0000-4000-8000-000000000001");
    object["metadata"]["resourceVersion"] = json!("7");
    object["metadata"]["creationTimestamp"] = json!(T1);
    object["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    object["spec"]["revisionHistoryLimit"] = json!(10);
    object
}

#[test]
fn install_creates_the_object_with_one_apply_entry() {
    let created = apply(None, &demo_deployment(1), "helm", false, deployment(), T1).unwrap();
    assert_eq!(without_managed_fields(&created), demo_deployment(1));
    assert_eq!(
        writers(&created),
        [("helm".into(), "Apply".into(), "".into())]
    );
    let e = entry(&created, "helm", "Apply");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert_eq!(e["time"], T1);
    assert_eq!(
        fields(e),
        concat!(
            r#"{"f:metadata":{"f:annotations":{"f:meta.helm.sh/release-name":{},"f:meta.helm.sh/release-namespace":{}},"#,
            r#""f:labels":{"f:app.kubernetes.io/instance":{},"f:app.kubernetes.io/managed-by":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/version":{},"f:helm.sh/chart":{}}},"#,
            r#""f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app.kubernetes.io/instance":{},"f:app.kubernetes.io/managed-by":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/version":{},"f:helm.sh/chart":{}}},"#,
            r#""f:spec":{"f:containers":{"k:{\"name\":\"demo\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:livenessProbe":{"f:httpGet":{"f:path":{},"f:port":{}}},"f:name":{},"#,
            r#""f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"#,
            r#""f:readinessProbe":{"f:httpGet":{"f:path":{},"f:port":{}}},"f:resources":{},"f:securityContext":{}}},"f:securityContext":{},"f:serviceAccountName":{}}}}}"#
        )
    );
}

#[test]
fn the_service_entry_is_byte_for_byte_the_real_one() {
    let config = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "annotations": {"meta.helm.sh/release-name": "demo", "meta.helm.sh/release-namespace": "default"},
            "labels": labels(), "name": "demo", "namespace": "default"
        },
        "spec": {
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            "selector": {"app.kubernetes.io/instance": "demo", "app.kubernetes.io/name": "demo"},
            "type": "ClusterIP"
        }
    });
    let created = apply(None, &config, "helm", false, service(), T1).unwrap();
    assert_eq!(
        fields(entry(&created, "helm", "Apply")),
        concat!(
            r#"{"f:metadata":{"f:annotations":{"f:meta.helm.sh/release-name":{},"f:meta.helm.sh/release-namespace":{}},"#,
            r#""f:labels":{"f:app.kubernetes.io/instance":{},"f:app.kubernetes.io/managed-by":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/version":{},"f:helm.sh/chart":{}}},"#,
            r#""f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},"f:selector":{},"f:type":{}}}"#
        )
    );
}

#[test]
fn an_unchanged_upgrade_changes_nothing_not_even_the_time() {
    let created =
        stored(apply(None, &demo_deployment(1), "helm", false, deployment(), T1).unwrap());
    let again = apply(
        Some(&created),
        &demo_deployment(1),
        "helm",
        false,
        deployment(),
        T2,
    )
    .unwrap();
    assert_eq!(again, created);
    assert_eq!(entry(&again, "helm", "Apply")["time"], T1);
}

#[test]
fn a_changed_upgrade_updates_the_object_and_the_time() {
    let created =
        stored(apply(None, &demo_deployment(1), "helm", false, deployment(), T1).unwrap());
    let upgraded = apply(
        Some(&created),
        &demo_deployment(3),
        "helm",
        false,
        deployment(),
        T2,
    )
    .unwrap();
    assert_eq!(upgraded["spec"]["replicas"], 3);
    assert_eq!(entry(&upgraded, "helm", "Apply")["time"], T2);
    assert_eq!(
        fields(entry(&upgraded, "helm", "Apply")),
        fields(entry(&created, "helm", "Apply")),
        "same fields, new values"
    );
    assert_eq!(
        upgraded["spec"]["strategy"], created["spec"]["strategy"],
        "defaults stay"
    );
    assert_eq!(upgraded["metadata"]["uid"], created["metadata"]["uid"]);
}

#[test]
fn fields_dropped_from_the_chart_are_removed() {
    let created =
        stored(apply(None, &demo_deployment(1), "helm", false, deployment(), T1).unwrap());
    let mut next = demo_deployment(1);
    let c = &mut next["spec"]["template"]["spec"]["containers"][0];
    c.as_object_mut().unwrap().remove("livenessProbe");
    c["ports"] = json!([]);
    next["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("app.kubernetes.io/version");
    next["spec"].as_object_mut().unwrap().remove("replicas");
    let upgraded = apply(Some(&created), &next, "helm", false, deployment(), T2).unwrap();

    let container = &upgraded["spec"]["template"]["spec"]["containers"][0];
    assert!(container.get("livenessProbe").is_none());
    assert!(container.get("ports").is_none(), "{container:#}");
    assert!(container.get("readinessProbe").is_some());
    assert!(
        upgraded["metadata"]["labels"]
            .get("app.kubernetes.io/version")
            .is_none()
    );
    assert!(
        upgraded["spec"].get("replicas").is_none(),
        "defaulting puts 1 back"
    );
    assert_eq!(
        upgraded["spec"]["revisionHistoryLimit"], 10,
        "fields nobody applied are not touched"
    );
    let f = fields(entry(&upgraded, "helm", "Apply"));
    assert!(!f.contains("livenessProbe") && !f.contains("f:replicas") && !f.contains("f:ports"));
}

#[test]
fn status_in_the_configuration_is_ignored() {
    let mut config = demo_deployment(1);
    config["status"] = json!({"replicas": 5});
    let created = apply(None, &config, "helm", false, deployment(), T1).unwrap();
    assert!(created.get("status").is_none());
    assert!(!fields(entry(&created, "helm", "Apply")).contains("status"));
    let mut live = stored(created);
    live["status"] = json!({"replicas": 1});
    let again = apply(Some(&live), &config, "helm", false, deployment(), T2).unwrap();
    assert_eq!(again["status"], json!({"replicas": 1}));
}
