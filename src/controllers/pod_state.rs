//! What the workload controllers read from a pod's status: whether it is active, ready, and
//! since when; how kube-controller-manager ranks pods when it must delete some.

use std::cmp::Ordering;
use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::meta;

/// A `metav1.Time` as a point in time.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// The pod's `status.phase` (Pending when unset).
pub fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending")
}

/// Whether the pod has failed for good (`status.phase` Failed).
pub fn is_failed(pod: &Value) -> bool {
    phase(pod) == "Failed"
}

/// Whether the pod counts toward a controller's replicas: not being deleted and not finished
/// (Succeeded or Failed).
pub fn is_active(pod: &Value) -> bool {
    !meta::is_deleting(pod) && !matches!(phase(pod), "Succeeded" | "Failed")
}

fn ready_condition(pod: &Value) -> Option<&Value> {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
}

/// Whether the pod's Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    ready_condition(pod)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

/// When a ready pod became ready (its Ready condition's lastTransitionTime).
pub fn ready_since(pod: &Value) -> Option<OffsetDateTime> {
    if !is_ready(pod) {
        return None;
    }
    ready_condition(pod)?
        .get("lastTransitionTime")
        .and_then(Value::as_str)
        .and_then(parse_time)
}

/// Whether the pod is available: ready for at least `min_ready` at `now`. A ready pod with no
/// transition time counts as available (nothing says otherwise). `Err(wait)` when it is ready
/// but becomes available only after `wait`.
pub fn availability(
    pod: &Value,
    min_ready: Duration,
    now: OffsetDateTime,
) -> Result<bool, Duration> {
    if !is_ready(pod) {
        return Ok(false);
    }
    if min_ready.is_zero() {
        return Ok(true);
    }
    let Some(since) = ready_since(pod) else {
        return Ok(true);
    };
    let at = since + min_ready;
    if at <= now {
        Ok(true)
    } else {
        Err((at - now).try_into().unwrap_or(min_ready))
    }
}

fn restarts(pod: &Value) -> u64 {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("restartCount").and_then(Value::as_u64))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

fn deletion_cost(pod: &Value) -> i64 {
    pod.pointer("/metadata/annotations/controller.kubernetes.io~1pod-deletion-cost")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Orders pods with the first to delete first, as kube-controller-manager ranks them:
/// unscheduled before scheduled, Pending before Unknown before Running, not ready before ready,
/// lower `pod-deletion-cost` first, ready for less time first, more restarts first, younger
/// first.
pub fn deletion_order(a: &Value, b: &Value) -> Ordering {
    let scheduled = |p: &Value| {
        p.pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty())
    };
    let phase_rank = |p: &Value| match phase(p) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    };
    let created = |p: &Value| meta::meta_str(p, "creationTimestamp").and_then(parse_time);
    scheduled(a)
        .cmp(&scheduled(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(is_ready(a).cmp(&is_ready(b)))
        .then(deletion_cost(a).cmp(&deletion_cost(b)))
        // Ready more recently (later time) first.
        .then(ready_since(b).cmp(&ready_since(a)))
        .then(restarts(b).cmp(&restarts(a)))
        // Younger (later creation) first.
        .then(created(b).cmp(&created(a)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(phase: &str, ready: Option<&str>, created: &str) -> Value {
        let mut p = json!({"metadata": {"name": created, "creationTimestamp": created}, "status": {"phase": phase}});
        if let Some(t) = ready {
            p["status"]["conditions"] =
                json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]);
        }
        p
    }

    #[test]
    fn active_and_ready() {
        assert!(is_active(&pod("Running", None, "2024-01-01T00:00:00Z")));
        assert!(!is_active(&pod("Failed", None, "2024-01-01T00:00:00Z")));
        let mut deleting = pod("Running", None, "2024-01-01T00:00:00Z");
        deleting["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        assert!(!is_active(&deleting));
        assert!(is_ready(&pod("Running", Some("2024-01-01T00:00:00Z"), "x")));
        assert!(!is_ready(&pod("Running", None, "x")));
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let p = pod("Running", Some("2024-01-01T00:00:00Z"), "x");
        let at = |s: &str| parse_time(s).unwrap();
        assert_eq!(
            availability(&p, Duration::ZERO, at("2024-01-01T00:00:00Z")),
            Ok(true)
        );
        assert_eq!(
            availability(&p, Duration::from_secs(10), at("2024-01-01T00:00:04Z")),
            Err(Duration::from_secs(6))
        );
        assert_eq!(
            availability(&p, Duration::from_secs(10), at("2024-01-01T00:00:10Z")),
            Ok(true)
        );
        assert_eq!(
            availability(
                &pod("Pending", None, "x"),
                Duration::ZERO,
                at("2024-01-01T00:00:00Z")
            ),
            Ok(false)
        );
    }

    #[test]
    fn victims_are_not_ready_then_younger_first() {
        let old_ready = pod(
            "Running",
            Some("2024-01-01T00:00:10Z"),
            "2024-01-01T00:00:00Z",
        );
        let new_ready = pod(
            "Running",
            Some("2024-01-01T00:00:30Z"),
            "2024-01-01T00:00:20Z",
        );
        let pending = pod("Pending", None, "2024-01-01T00:00:00Z");
        let running_unready = pod("Running", None, "2024-01-01T00:00:00Z");
        let mut pods = vec![
            old_ready.clone(),
            new_ready.clone(),
            running_unready.clone(),
            pending.clone(),
        ];
        pods.sort_by(deletion_order);
        assert_eq!(pods, vec![pending, running_unready, new_ready, old_ready]);
    }
}
