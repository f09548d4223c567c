//! A DaemonSet's status, per node: desired (its pod belongs there), current (a pod runs there
//! and belongs), misscheduled (a pod runs there but does not belong), ready, available (ready
//! for `minReadySeconds`), unavailable, and updated (the pod runs the current template), with
//! the generation observed.

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::placement;
use crate::api::meta;
use crate::api::status::Status;
use crate::client::{Client, object_path};
use crate::controllers::pod_state;
use crate::controllers::revisions::REVISION_LABEL;

/// The status for `pods` on `nodes`, and when a ready pod becomes available.
pub fn calculate(
    ds: &Value,
    nodes: &[Value],
    pods: &[Value],
    hash: &str,
    now: OffsetDateTime,
) -> (Value, Option<Duration>) {
    let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let min_ready = Duration::from_secs(
        ds.pointer("/spec/minReadySeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    );
    let (mut desired, mut current, mut misscheduled, mut ready, mut available, mut updated) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut recheck: Option<Duration> = None;
    for node in nodes {
        let name = meta::meta_str(node, "name");
        let here: Vec<&Value> = pods
            .iter()
            .filter(|p| {
                !meta::is_deleting(p)
                    && pod_state::is_active(p)
                    && p.pointer("/spec/nodeName").and_then(Value::as_str) == name
            })
            .collect();
        let wanted = placement::should_run(&template, node);
        if !wanted {
            if !here.is_empty() {
                misscheduled += 1;
            }
            continue;
        }
        desired += 1;
        if here.is_empty() {
            continue;
        }
        current += 1;
        let is_new = |p: &&&Value| {
            p.pointer("/metadata/labels")
                .and_then(|l| l.get(REVISION_LABEL))
                .and_then(Value::as_str)
                == Some(hash)
        };
        if here.iter().any(|p| is_new(&p)) {
            updated += 1;
        }
        if here.iter().any(|p| pod_state::is_ready(p)) {
            ready += 1;
        }
        let mut avail = false;
        for p in &here {
            match pod_state::availability(p, min_ready, now) {
                Ok(true) => avail = true,
                Ok(false) => {}
                Err(wait) => {
                    let wait = wait + Duration::from_millis(100);
                    recheck = Some(recheck.map_or(wait, |r| r.min(wait)));
                }
            }
        }
        if avail {
            available += 1;
        }
    }
    let mut status = json!({
        "currentNumberScheduled": current,
        "desiredNumberScheduled": desired,
        "numberMisscheduled": misscheduled,
        "numberReady": ready,
    });
    if available > 0 {
        status["numberAvailable"] = json!(available);
    }
    if desired > available {
        status["numberUnavailable"] = json!(desired - available);
    }
    if updated > 0 {
        status["updatedNumberScheduled"] = json!(updated);
    }
    if let Some(g) = ds.pointer("/metadata/generation") {
        status["observedGeneration"] = g.clone();
    }
    if let Some(c) = ds.pointer("/status/collisionCount") {
        status["collisionCount"] = c.clone();
    }
    (status, recheck)
}

/// Writes `status` when it differs from the stored one.
pub async fn write(client: &Client, ds: &Value, status: Value) -> Result<(), Status> {
    if ds.get("status") == Some(&status) {
        return Ok(());
    }
    let mut updated = ds.clone();
    updated["status"] = status;
    client
        .replace(&object_path("daemonsets", ds, Some("status")), &updated)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_node() {
        let ds = json!({"metadata": {"generation": 2}, "spec": {"template": {"spec": {"nodeSelector": {"role": "edge"}}}}});
        let node =
            |name: &str, role: &str| json!({"metadata": {"name": name, "labels": {"role": role}}});
        let pod = |node: &str, hash: &str, ready: bool| {
            let mut p = json!({"metadata": {"labels": {REVISION_LABEL: hash}}, "spec": {"nodeName": node}, "status": {"phase": "Running"}});
            if ready {
                p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
            }
            p
        };
        let nodes = [node("a", "edge"), node("b", "core"), node("c", "edge")];
        let pods = [
            pod("a", "h2", true),
            pod("b", "h1", true),
            pod("c", "h1", false),
        ];
        let (s, _) = calculate(&ds, &nodes, &pods, "h2", OffsetDateTime::now_utc());
        assert_eq!(
            s,
            json!({
                "currentNumberScheduled": 2, "desiredNumberScheduled": 2,
                "numberMisscheduled": 1, "numberReady": 1, "numberAvailable": 1,
                "numberUnavailable": 1, "updatedNumberScheduled": 1, "observedGeneration": 2,
            })
        );
    }
}
