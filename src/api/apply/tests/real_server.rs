//! `managedFields` as kube-apiserver writes them, byte for byte, for the same inputs.

use serde_json::json;

use super::*;
use crate::api::apply::{LAST_APPLIED_ANNOTATION, apply, record_update};

/// `kubectl apply -f web.yaml` on a real cluster: the POST body, defaulted by the server.
#[test]
fn client_side_apply_create_of_a_deployment() {
    let object = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "annotations": {LAST_APPLIED_ANNOTATION: "{}\n"},
            "labels": {"app": "web"}, "name": "web", "namespace": "default",
            "uid": "u", "resourceVersion": "1", "generation": 1, "creationTimestamp": T1
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "nginx", "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "resources": {},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                        "imagePullPolicy": "IfNotPresent"
                    }],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "securityContext": {},
                    "schedulerName": "default-scheduler"
                }
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        },
        "status": {}
    });
    let out = record_update(
        None,
        &object,
        "kubectl-client-side-apply",
        "Update",
        None,
        deployment(),
        T1,
    );
    assert_eq!(
        out["metadata"]["managedFields"],
        json!([{
            "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": serde_json::from_str::<serde_json::Value>(EXPECTED_CSA).unwrap(),
            "manager": "kubectl-client-side-apply",
            "operation": "Update",
            "time": T1
        }])
    );
    assert_eq!(
        fields(entry(&out, "kubectl-client-side-apply", "Update")),
        EXPECTED_CSA
    );
}

const EXPECTED_CSA: &str = concat!(
    r#"{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},"f:labels":{".":{},"f:app":{}}},"#,
    r#""f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"#,
    r#""f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"#,
    r#""f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"#,
    r#""f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"#,
    r#""f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"#,
    r#""f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}"#
);

/// The object of the reference sample `deployment-created.json`, as created (before the
/// controller added its revision annotation and status). The sample's own entry,
/// `{"f:metadata":{}}`, came from the recording test server: kube-apiserver never owns
/// `metadata` itself. This is what kube-apiserver writes for that object.
#[test]
fn the_reference_sample_deployment() {
    let object = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "uid": "221365f5-3ff8-479b-b0e0-006c82057e4e",
            "creationTimestamp": "2026-11-21T04:53:09Z", "generation": 1, "namespace": "default", "resourceVersion": "114"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
        }
    });
    let out = record_update(
        None,
        &object,
        "kubectl-client-side-apply",
        "Update",
        None,
        deployment(),
        "2026-11-21T04:53:09Z",
    );
    assert_eq!(
        fields(entry(&out, "kubectl-client-side-apply", "Update")),
        concat!(
            r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"#,
            r#""f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"#,
            r#""f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"#,
            r#""f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"#,
            r#""f:image":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}},"f:resources":{}}}}}}}"#
        )
    );
}

/// `kubectl apply --server-side -f web.yaml` creating the object: the Apply entry.
#[test]
fn server_side_apply_create_of_a_deployment() {
    let config = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"labels": {"app": "web"}, "name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"image": "nginx:1.27", "name": "nginx", "ports": [{"containerPort": 80}]}]}}}
    });
    let out = apply(None, &config, "kubectl", false, deployment(), T1).unwrap();
    assert_eq!(
        out["metadata"]["managedFields"][0],
        json!({
            "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "manager": "kubectl",
            "operation": "Apply", "time": T1,
            "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}, "f:selector": {},
                "f:template": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:containers": {
                    "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}, "f:ports": {
                        "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}}}}
        })
    );
}
