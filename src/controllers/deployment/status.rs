//! A Deployment's status as kube-controller-manager writes it and `kubectl rollout status`,
//! `kubectl wait` and Helm read it: counts summed over its ReplicaSets, the Available condition
//! (minimum availability) and the Progressing condition (new ReplicaSet created or found,
//! progressing, complete, paused, or past its progress deadline).

use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::replicasets::{available, ready, spec_replicas, status_replicas};
use crate::api::meta;
use crate::controllers::pod_state::parse_time;

/// Progressing: the new ReplicaSet has all its pods available.
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
/// Progressing: the rollout made no progress within `progressDeadlineSeconds`.
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
/// Progressing: the Deployment is paused.
pub const PAUSED: &str = "DeploymentPaused";
/// Progressing: the Deployment was resumed.
pub const RESUMED: &str = "DeploymentResumed";

/// How a Deployment rolls out: `rolling` (RollingUpdate) with its surge and unavailability in
/// pods, or Recreate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strategy {
    /// RollingUpdate (else Recreate).
    pub rolling: bool,
    /// Pods allowed above `spec.replicas`.
    pub max_surge: i64,
    /// Pods allowed below `spec.replicas`.
    pub max_unavailable: i64,
}

/// An int-or-percent of `total`: percentages round up for surge and down for unavailability,
/// as Kubernetes rounds them. Unreadable values count as 0 (validation refuses them).
pub fn int_or_percent(v: Option<&Value>, default: &str, total: i64, round_up: bool) -> i64 {
    let v = v.cloned().unwrap_or_else(|| json!(default));
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p * total + 99).div_euclid(100),
            Some(p) => (p * total).div_euclid(100),
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// The Deployment's strategy in pods. Both zero is made one unavailable, as Kubernetes does;
/// unavailability never exceeds the replicas.
pub fn strategy(d: &Value) -> Strategy {
    let replicas = spec_replicas(d);
    let rolling = d.pointer("/spec/strategy/type").and_then(Value::as_str) != Some("Recreate");
    if !rolling {
        return Strategy {
            rolling,
            max_surge: 0,
            max_unavailable: 0,
        };
    }
    let ru = d.pointer("/spec/strategy/rollingUpdate");
    let field = |f: &str| ru.and_then(|r| r.get(f));
    let max_surge = int_or_percent(field("maxSurge"), "25%", replicas, true).max(0);
    let mut max_unavailable =
        int_or_percent(field("maxUnavailable"), "25%", replicas, false).max(0);
    if max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    Strategy {
        rolling,
        max_surge,
        max_unavailable: max_unavailable.min(replicas),
    }
}

/// Pods that may be unavailable while the Deployment still counts as Available: 0 for
/// Recreate and for zero replicas.
fn max_unavailable(d: &Value) -> i64 {
    let s = strategy(d);
    if !s.rolling || spec_replicas(d) == 0 {
        0
    } else {
        s.max_unavailable
    }
}

/// The condition of `type` in a status.
pub fn condition<'a>(status: &'a Value, kind: &str) -> Option<&'a Value> {
    status
        .get("conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn text<'a>(c: &'a Value, field: &str) -> &'a str {
    c.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// A condition stamped `now`.
pub fn new_condition(kind: &str, status: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    })
}

/// Sets a condition in `status`: unchanged when the status and reason are the same, keeping
/// the transition time when only the reason changes.
pub fn set_condition(status: &mut Value, mut cond: Value) {
    let kind = text(&cond, "type").to_string();
    if let Some(cur) = condition(status, &kind) {
        if text(cur, "status") == text(&cond, "status")
            && text(cur, "reason") == text(&cond, "reason")
        {
            return;
        }
        if text(cur, "status") == text(&cond, "status") {
            cond["lastTransitionTime"] = cur["lastTransitionTime"].clone();
        }
    }
    remove_condition(status, &kind);
    let conds = status
        .as_object_mut()
        .expect("a status is an object")
        .entry("conditions")
        .or_insert_with(|| json!([]));
    if let Some(list) = conds.as_array_mut() {
        list.push(cond);
    }
}

/// Removes a condition from `status`.
pub fn remove_condition(status: &mut Value, kind: &str) {
    if let Some(list) = status.get_mut("conditions").and_then(Value::as_array_mut) {
        list.retain(|c| text(c, "type") != kind);
        if list.is_empty() {
            status.as_object_mut().expect("object").remove("conditions");
        }
    }
}

fn field(status: &Value, f: &str) -> i64 {
    status.get(f).and_then(Value::as_i64).unwrap_or(0)
}

/// The status from the ReplicaSets (`all`, including `new`), keeping the present conditions
/// and collisionCount, with the Available condition brought up to date.
pub fn calculate(d: &Value, all: &[Value], new: Option<&Value>, now: &str) -> Value {
    let old = d.get("status").cloned().unwrap_or(json!({}));
    let replicas = spec_replicas(d);
    let avail: i64 = all.iter().map(available).sum();
    let mut status = Map::new();
    if let Some(g) = d.pointer("/metadata/generation") {
        status.insert("observedGeneration".into(), g.clone());
    }
    for (f, n) in [
        ("replicas", all.iter().map(status_replicas).sum::<i64>()),
        ("updatedReplicas", new.map(status_replicas).unwrap_or(0)),
        ("readyReplicas", all.iter().map(ready).sum()),
        ("availableReplicas", avail),
        ("unavailableReplicas", (replicas - avail).max(0)),
    ] {
        // Kubernetes leaves zero counts out.
        if n != 0 {
            status.insert(f.into(), json!(n));
        }
    }
    for f in ["collisionCount", "conditions"] {
        if let Some(v) = old.get(f) {
            status.insert(f.into(), v.clone());
        }
    }
    let mut status = Value::Object(status);
    let cond = if avail >= replicas - max_unavailable(d) {
        new_condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
        )
    } else {
        new_condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
        )
    };
    set_condition(&mut status, cond);
    status
}

/// Whether the Deployment has a progress deadline.
fn deadline(d: &Value) -> Option<i64> {
    d.pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_i64)
        .filter(|s| *s < i64::from(i32::MAX))
}

/// Whether every replica runs the current template and is available, and the status is of
/// the current generation.
pub fn is_complete(d: &Value, status: &Value) -> bool {
    let r = spec_replicas(d);
    field(status, "updatedReplicas") == r
        && field(status, "replicas") == r
        && field(status, "availableReplicas") == r
        && field(status, "observedGeneration")
            >= d.pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
}

/// Whether `new` shows progress over `old`: more updated, ready or available pods, or fewer
/// old ones.
fn is_progressing(old: &Value, new: &Value) -> bool {
    let old_old = field(old, "replicas") - field(old, "updatedReplicas");
    let new_old = field(new, "replicas") - field(new, "updatedReplicas");
    field(new, "updatedReplicas") > field(old, "updatedReplicas")
        || new_old < old_old
        || field(new, "readyReplicas") > field(old, "readyReplicas")
        || field(new, "availableReplicas") > field(old, "availableReplicas")
}

/// When the Progressing condition's last update plus the deadline passes, if it can.
fn deadline_at(d: &Value, status: &Value) -> Option<OffsetDateTime> {
    let secs = deadline(d)?;
    let cond = condition(status, "Progressing")?;
    if matches!(text(cond, "reason"), NEW_RS_AVAILABLE | TIMED_OUT) {
        return None;
    }
    let from = parse_time(text(cond, "lastUpdateTime"))?;
    Some(from + time::Duration::seconds(secs))
}

fn timed_out(d: &Value, status: &Value, now: OffsetDateTime) -> bool {
    match condition(status, "Progressing") {
        Some(c) if text(c, "reason") == TIMED_OUT => deadline(d).is_some(),
        _ => deadline_at(d, status).is_some_and(|at| at < now),
    }
}

/// The status after a rollout step: counts, Available, Progressing (complete, progressing or
/// timed out) and ReplicaFailure (copied from a ReplicaSet that cannot create pods).
pub fn rollout_status(d: &Value, all: &[Value], new: Option<&Value>, now: OffsetDateTime) -> Value {
    let stamp = stamp(now);
    let mut status = calculate(d, all, new, &stamp);
    let old = d.get("status").cloned().unwrap_or(json!({}));
    let new_name = new
        .and_then(|rs| meta::meta_str(rs, "name"))
        .unwrap_or_default();
    if deadline(d).is_none() {
        remove_condition(&mut status, "Progressing");
    } else {
        let current = condition(&status, "Progressing").cloned();
        let done = field(&status, "replicas") == field(&status, "updatedReplicas")
            && current
                .as_ref()
                .is_some_and(|c| text(c, "reason") == NEW_RS_AVAILABLE);
        if !done {
            if is_complete(d, &status) {
                let msg = format!("ReplicaSet \"{new_name}\" has successfully progressed.");
                set_condition(
                    &mut status,
                    new_condition("Progressing", "True", NEW_RS_AVAILABLE, &msg, &stamp),
                );
            } else if is_progressing(&old, &status) {
                let msg = format!("ReplicaSet \"{new_name}\" is progressing.");
                let mut cond =
                    new_condition("Progressing", "True", "ReplicaSetUpdated", &msg, &stamp);
                if let Some(c) = current.as_ref().filter(|c| text(c, "status") == "True") {
                    cond["lastTransitionTime"] = c["lastTransitionTime"].clone();
                }
                remove_condition(&mut status, "Progressing");
                set_condition(&mut status, cond);
            } else if timed_out(d, &status, now) {
                let msg = format!("ReplicaSet \"{new_name}\" has timed out progressing.");
                set_condition(
                    &mut status,
                    new_condition("Progressing", "False", TIMED_OUT, &msg, &stamp),
                );
            }
        }
    }
    match all.iter().find_map(|rs| {
        rs.get("status")
            .and_then(|s| condition(s, "ReplicaFailure"))
            .cloned()
    }) {
        Some(c) => {
            let cond = new_condition(
                "ReplicaFailure",
                text(&c, "status"),
                text(&c, "reason"),
                text(&c, "message"),
                &stamp,
            );
            set_condition(&mut status, cond);
        }
        None => remove_condition(&mut status, "ReplicaFailure"),
    }
    status
}

/// When to look again for a rollout that may pass its progress deadline: only while one is
/// in progress (not complete, not paused, not already timed out).
pub fn deadline_recheck(d: &Value, status: &Value, now: OffsetDateTime) -> Option<Duration> {
    if is_complete(d, status) || d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let at = deadline_at(d, status)?;
    let wait: Duration = (at - now).try_into().unwrap_or(Duration::ZERO);
    // Timestamps have whole seconds, and the deadline passes strictly after it.
    Some(wait + Duration::from_secs(1))
}

/// A point in time as `metav1.Time` writes it.
pub fn stamp(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| meta::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(replicas: i64, strategy: Value) -> Value {
        json!({"metadata": {"generation": 2}, "spec": {"replicas": replicas, "strategy": strategy, "progressDeadlineSeconds": 600}})
    }

    fn rs(name: &str, spec: i64, replicas: i64, ready: i64, available: i64) -> Value {
        json!({"metadata": {"name": name}, "spec": {"replicas": spec}, "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": available}})
    }

    #[test]
    fn surge_rounds_up_and_unavailability_down() {
        let s = strategy(&d(
            10,
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
        ));
        assert_eq!((s.max_surge, s.max_unavailable), (3, 2));
        let s = strategy(&d(
            3,
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}),
        ));
        assert_eq!((s.max_surge, s.max_unavailable), (0, 1));
        let s = strategy(&d(1, json!({"type": "RollingUpdate"})));
        assert_eq!((s.max_surge, s.max_unavailable), (1, 0));
        let s = strategy(&d(3, json!({"type": "Recreate"})));
        assert!(!s.rolling);
    }

    #[test]
    fn counts_and_available_condition() {
        let dep = d(
            3,
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}),
        );
        let new = rs("web-new", 2, 2, 1, 1);
        let all = vec![rs("web-old", 2, 2, 2, 2), new.clone()];
        let s = calculate(&dep, &all, Some(&new), "2024-01-01T00:00:00Z");
        assert_eq!(s["replicas"], json!(4));
        assert_eq!(s["updatedReplicas"], json!(2));
        assert_eq!(s["readyReplicas"], json!(3));
        assert_eq!(s["availableReplicas"], json!(3));
        assert!(s.get("unavailableReplicas").is_none());
        assert_eq!(s["observedGeneration"], json!(2));
        assert_eq!(condition(&s, "Available").unwrap()["status"], json!("True"));
        let s = calculate(
            &dep,
            &[rs("web-new", 3, 3, 1, 1)],
            None,
            "2024-01-01T00:00:00Z",
        );
        assert_eq!(
            condition(&s, "Available").unwrap()["reason"],
            json!("MinimumReplicasUnavailable")
        );
        assert_eq!(s["unavailableReplicas"], json!(2));
    }

    #[test]
    fn progressing_complete_and_timed_out() {
        let t0 = parse_time("2024-01-01T00:00:00Z").unwrap();
        let mut dep = d(2, json!({"type": "RollingUpdate"}));
        dep["status"] = json!({"conditions": [new_condition("Progressing", "True", "NewReplicaSetCreated", "x", "2024-01-01T00:00:00Z")]});
        let new = rs("web-new", 2, 1, 0, 0);
        let s = rollout_status(
            &dep,
            std::slice::from_ref(&new),
            Some(&new),
            t0 + time::Duration::seconds(5),
        );
        assert_eq!(
            condition(&s, "Progressing").unwrap()["reason"],
            json!("ReplicaSetUpdated")
        );
        assert_eq!(
            condition(&s, "Progressing").unwrap()["lastTransitionTime"],
            json!("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            deadline_recheck(&dep, &s, t0 + time::Duration::seconds(5)),
            Some(Duration::from_secs(601))
        );
        dep["status"] = s;
        let s = rollout_status(
            &dep,
            std::slice::from_ref(&new),
            Some(&new),
            t0 + time::Duration::seconds(700),
        );
        assert_eq!(
            condition(&s, "Progressing").unwrap()["reason"],
            json!(TIMED_OUT)
        );
        assert_eq!(
            condition(&s, "Progressing").unwrap()["status"],
            json!("False")
        );
        assert_eq!(deadline_recheck(&dep, &s, t0), None);
        let done = rs("web-new", 2, 2, 2, 2);
        let s = rollout_status(
            &dep,
            std::slice::from_ref(&done),
            Some(&done),
            t0 + time::Duration::seconds(800),
        );
        assert_eq!(
            condition(&s, "Progressing").unwrap()["reason"],
            json!(NEW_RS_AVAILABLE)
        );
        assert_eq!(
            condition(&s, "Progressing").unwrap()["message"],
            json!("ReplicaSet \"web-new\" has successfully progressed.")
        );
        assert_eq!(deadline_recheck(&dep, &s, t0), None);
    }
}
