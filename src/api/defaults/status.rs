//! Status counters the Go types always serialise (plain integers without `omitempty`), so that
//! a real server's freshly created object shows them as `0`. Only filled in when absent: the
//! controllers own these values.

use serde_json::json;

use super::fields::{Object, child_or_insert, set_missing};

fn zeros(obj: &mut Object, counters: &[&str]) {
    if let Some(status) = child_or_insert(obj, "status") {
        for counter in counters {
            set_missing(status, counter, json!(0));
        }
    }
}

/// A ReplicaSet: `replicas`.
pub fn replica_set(obj: &mut Object) {
    zeros(obj, &["replicas"]);
}

/// A StatefulSet: `replicas` and `availableReplicas`.
pub fn stateful_set(obj: &mut Object) {
    zeros(obj, &["availableReplicas", "replicas"]);
}

/// A DaemonSet: the four scheduling counters.
pub fn daemon_set(obj: &mut Object) {
    zeros(
        obj,
        &[
            "currentNumberScheduled",
            "desiredNumberScheduled",
            "numberMisscheduled",
            "numberReady",
        ],
    );
}

/// A PodDisruptionBudget: the four health counters.
pub fn pod_disruption_budget(obj: &mut Object) {
    zeros(
        obj,
        &[
            "currentHealthy",
            "desiredHealthy",
            "disruptionsAllowed",
            "expectedPods",
        ],
    );
}

/// A HorizontalPodAutoscaler: `desiredReplicas`, and in v1 also `currentReplicas`.
pub fn horizontal_pod_autoscaler(obj: &mut Object) {
    if super::autoscaling::is_v1(obj) {
        zeros(obj, &["currentReplicas", "desiredReplicas"]);
    } else {
        zeros(obj, &["desiredReplicas"]);
    }
}
