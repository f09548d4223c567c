//! What kube-apiserver's default admission plugins add to a Pod when it is created, kept apart
//! from defaulting: [`apply`](super::apply) does not call it, because admission runs once, on
//! create, and only for Pods (never for the pod templates of workloads).
//!
//! [`pod_on_create`] does what these plugins do in a cluster that has no PriorityClasses and no
//! taints of its own:
//!
//! - `ServiceAccount`: `serviceAccountName: default` (and the deprecated `serviceAccount`) when
//!   the pod names none. The token volume the plugin also mounts is not added here: that is
//!   the business of whatever serves service account tokens to containers.
//! - `Priority`: `priority: 0` and `preemptionPolicy: PreemptLowerPriority` when the pod names
//!   no `priorityClassName` (a pod that names one is left alone: k2d has no PriorityClasses to
//!   read the value from).
//! - `DefaultTolerationSeconds`: tolerations of the `node.kubernetes.io/not-ready` and
//!   `node.kubernetes.io/unreachable` `NoExecute` taints for 300 seconds, unless the pod already
//!   tolerates them. They change nothing on a single Docker host (nothing taints it), and every
//!   real cluster shows them, so tools that compare objects see what they expect.

use serde_json::{Value, json};

use super::fields::{Object, child, set_missing, str_of};

/// The service account of pods that name none.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// How long pods stay bound to a node that is not ready or unreachable, in seconds.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// The taints `DefaultTolerationSeconds` adds tolerations for, in the order it adds them.
pub const TOLERATED_TAINTS: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

/// Adds to a Pod being created what the default admission plugins add (see the module
/// documentation). Call it on create only, after [`apply`](super::apply).
pub fn pod_on_create(pod: &mut Object) {
    let Some(spec) = child(pod, "spec") else {
        return;
    };
    if str_of(spec, "serviceAccountName").is_empty() {
        spec.insert("serviceAccountName".into(), json!(DEFAULT_SERVICE_ACCOUNT));
        spec.insert("serviceAccount".into(), json!(DEFAULT_SERVICE_ACCOUNT));
    }
    if str_of(spec, "priorityClassName").is_empty() {
        set_missing(spec, "priority", json!(0));
        set_missing(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
    default_tolerations(spec);
}

fn default_tolerations(spec: &mut Object) {
    let missing: Vec<&str> = {
        let existing: &[Value] = spec
            .get("tolerations")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        TOLERATED_TAINTS
            .into_iter()
            .filter(|taint| !existing.iter().any(|t| tolerates(t, taint)))
            .collect()
    };
    if missing.is_empty() {
        return;
    }
    if !spec.get("tolerations").is_some_and(Value::is_array) {
        spec.insert("tolerations".into(), json!([]));
    }
    if let Some(Value::Array(tolerations)) = spec.get_mut("tolerations") {
        for key in missing {
            tolerations.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }));
        }
    }
}

/// Whether a toleration tolerates a `NoExecute` taint with this key and no value.
fn tolerates(toleration: &Value, taint_key: &str) -> bool {
    let field = |name| {
        toleration
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let effect_matches = matches!(field("effect"), "" | "NoExecute");
    let key_matches = match field("key") {
        "" => field("operator") == "Exists",
        key => key == taint_key,
    };
    let value_matches = match field("operator") {
        "Exists" => true,
        "" | "Equal" => field("value").is_empty(),
        _ => false,
    };
    effect_matches && key_matches && value_matches
}
