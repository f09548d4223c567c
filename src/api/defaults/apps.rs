//! apps/v1: `SetDefaults_Deployment`, `SetDefaults_ReplicaSet`, `SetDefaults_StatefulSet` and
//! `SetDefaults_DaemonSet`, each with the defaults of its pod template.

use serde_json::json;

use super::fields::{Object, child, child_or_insert, items, set_blank, set_missing, str_of};
use super::pod::{workload_spec, workload_template};
use super::volumes;

/// Revisions a Deployment, StatefulSet or DaemonSet keeps: 10.
pub const REVISION_HISTORY_LIMIT: i64 = 10;

/// How long a Deployment may make no progress before it is reported as failed: 600 s.
pub const PROGRESS_DEADLINE_SECONDS: i64 = 600;

/// A Deployment.
pub fn deployment(obj: &mut Object) {
    if let Some(spec) = workload_spec(obj) {
        set_missing(spec, "replicas", json!(1));
        if let Some(strategy) = child_or_insert(spec, "strategy") {
            set_blank(strategy, "type", "RollingUpdate");
            if str_of(strategy, "type") == "RollingUpdate"
                && let Some(rolling) = child_or_insert(strategy, "rollingUpdate")
            {
                set_missing(rolling, "maxUnavailable", json!("25%"));
                set_missing(rolling, "maxSurge", json!("25%"));
            }
        }
        set_missing(spec, "revisionHistoryLimit", json!(REVISION_HISTORY_LIMIT));
        set_missing(
            spec,
            "progressDeadlineSeconds",
            json!(PROGRESS_DEADLINE_SECONDS),
        );
    }
    workload_template(obj);
}

/// A ReplicaSet.
pub fn replica_set(obj: &mut Object) {
    if let Some(spec) = workload_spec(obj) {
        set_missing(spec, "replicas", json!(1));
    }
    workload_template(obj);
}

/// A StatefulSet.
pub fn stateful_set(obj: &mut Object) {
    if let Some(spec) = workload_spec(obj) {
        set_blank(spec, "podManagementPolicy", "OrderedReady");
        if let Some(strategy) = child_or_insert(spec, "updateStrategy") {
            // Only a strategy that names no type gets a `rollingUpdate` block; a given
            // `rollingUpdate` block always gets its partition.
            if str_of(strategy, "type").is_empty() {
                strategy.insert("type".into(), json!("RollingUpdate"));
                set_missing(strategy, "rollingUpdate", json!({}));
            }
            if str_of(strategy, "type") == "RollingUpdate"
                && let Some(rolling) = child(strategy, "rollingUpdate")
            {
                set_missing(rolling, "partition", json!(0));
            }
        }
        if let Some(retention) = child_or_insert(spec, "persistentVolumeClaimRetentionPolicy") {
            set_blank(retention, "whenDeleted", "Retain");
            set_blank(retention, "whenScaled", "Retain");
        }
        set_missing(spec, "replicas", json!(1));
        set_missing(spec, "revisionHistoryLimit", json!(REVISION_HISTORY_LIMIT));
        for claim in items(spec, "volumeClaimTemplates") {
            claim_template(claim);
        }
    }
    workload_template(obj);
}

/// A claim template of a StatefulSet: a whole PersistentVolumeClaim, type fields included.
fn claim_template(claim: &mut Object) {
    set_blank(claim, "apiVersion", "v1");
    set_blank(claim, "kind", "PersistentVolumeClaim");
    set_missing(claim, "metadata", json!({}));
    if let Some(spec) = child_or_insert(claim, "spec") {
        volumes::claim_spec(spec);
    }
    if let Some(status) = child_or_insert(claim, "status") {
        set_blank(status, "phase", "Pending");
    }
}

/// A DaemonSet.
pub fn daemon_set(obj: &mut Object) {
    if let Some(spec) = workload_spec(obj) {
        if let Some(strategy) = child_or_insert(spec, "updateStrategy") {
            set_blank(strategy, "type", "RollingUpdate");
            if str_of(strategy, "type") == "RollingUpdate"
                && let Some(rolling) = child_or_insert(strategy, "rollingUpdate")
            {
                set_missing(rolling, "maxUnavailable", json!(1));
                set_missing(rolling, "maxSurge", json!(0));
            }
        }
        set_missing(spec, "revisionHistoryLimit", json!(REVISION_HISTORY_LIMIT));
    }
    workload_template(obj);
}
