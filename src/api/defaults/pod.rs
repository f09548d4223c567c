//! Pods and pod templates: `SetDefaults_PodSpec` (every pod spec, templates included) with the
//! defaults of its containers and volumes, and `SetDefaults_Pod` (Pods only).

use serde_json::{Value, json};

use super::container;
use super::fields::{Object, child, child_or_insert, items, set_blank, set_missing, str_of};
use super::volumes;

/// Grace period given to a pod's containers when it is deleted.
pub const TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;

/// The scheduler of pods that name none.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

/// A Pod: the pod spec defaults, then those only a Pod gets.
pub fn pod(obj: &mut Object) {
    let Some(spec) = child(obj, "spec") else {
        return;
    };
    pod_spec(spec);
    pod_only(spec);
}

/// A pod template (`spec.template` of workloads): the pod spec defaults only.
pub fn template(template: &mut Object) {
    // `metadata` is a struct in the Go types: always serialised, `{}` when empty.
    set_missing(template, "metadata", json!({}));
    if let Some(spec) = child(template, "spec") {
        pod_spec(spec);
    }
}

/// `SetDefaults_PodSpec` and the defaults of every container and volume in it.
pub fn pod_spec(spec: &mut Object) {
    set_blank(spec, "dnsPolicy", "ClusterFirst");
    set_blank(spec, "restartPolicy", "Always");
    set_missing(spec, "securityContext", json!({}));
    set_missing(
        spec,
        "terminationGracePeriodSeconds",
        json!(TERMINATION_GRACE_PERIOD_SECONDS),
    );
    set_blank(spec, "schedulerName", DEFAULT_SCHEDULER);
    service_account_alias(spec);
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in items(spec, list) {
            container::apply(c);
        }
    }
    for volume in items(spec, "volumes") {
        volumes::apply(volume);
    }
}

/// `SetDefaults_Pod`: what a Pod gets and a template does not.
fn pod_only(spec: &mut Object) {
    for list in ["initContainers", "containers"] {
        for c in items(spec, list) {
            container::requests_from_limits(c);
        }
    }
    set_missing(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["initContainers", "containers"] {
            for c in items(spec, list) {
                container::host_ports(c);
            }
        }
    }
}

/// The conversion of pod specs: the deprecated `serviceAccount` is an alias of
/// `serviceAccountName` (which wins when both are set), and the server writes both.
fn service_account_alias(spec: &mut Object) {
    let name = match str_of(spec, "serviceAccountName") {
        "" => str_of(spec, "serviceAccount").to_string(),
        name => name.to_string(),
    };
    if name.is_empty() {
        spec.remove("serviceAccount");
        return;
    }
    spec.insert("serviceAccountName".into(), json!(name));
    spec.insert("serviceAccount".into(), json!(name));
}

/// The pod template under `spec.template` of a workload, if there is one.
pub fn spec_template(obj: &mut Object) -> Option<&mut Object> {
    child(obj, "spec").and_then(|s| child(s, "template"))
}

/// Defaults the pod template under `spec.template`, creating nothing when there is none.
pub fn workload_template(obj: &mut Object) {
    if let Some(t) = spec_template(obj) {
        template(t);
    }
}

/// `spec` of a workload, created empty when absent (its defaults then apply, as the real server
/// defaults a nil spec struct).
pub fn workload_spec(obj: &mut Object) -> Option<&mut Object> {
    child_or_insert(obj, "spec")
}
