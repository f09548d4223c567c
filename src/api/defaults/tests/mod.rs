//! Tests of [`apply`](super::apply) on the manifests real clients send (kubectl, Helm's
//! `helm create` chart), compared with what kube-apiserver v1.35 returns for them.

mod apps;
mod batch;
mod deployment_sample;
mod other_kinds;
mod pods;
mod services;

use serde_json::Value;

/// The object after defaulting, checking on the way that defaulting twice changes nothing.
pub fn defaulted(group: &str, resource: &str, mut obj: Value) -> Value {
    super::apply(group, resource, &mut obj);
    let mut again = obj.clone();
    super::apply(group, resource, &mut again);
    assert_eq!(
        again, obj,
        "defaulting {resource} twice must change nothing"
    );
    obj
}

/// The pod spec defaults every pod template gets, around the given containers.
pub fn template_spec_defaults(containers: Value) -> Value {
    serde_json::json!({
        "containers": containers,
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30
    })
}
