//! A StatefulSet's status: how many of its pods exist, are ready, available (ready for
//! `minReadySeconds`), run the current and the update revision; which revisions those are; and
//! the generation observed. When every pod runs the update revision and is ready, the update
//! revision becomes the current one (the rollout is complete), as `kubectl rollout status sts`
//! expects.

use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::identity;
use crate::api::meta;
use crate::api::status::Status;
use crate::client::{Client, object_path};
use crate::controllers::pod_state;

/// The status for `pods` (the set's pods as they are now), and when a ready pod becomes
/// available.
pub fn calculate(
    set: &Value,
    pods: &[Value],
    current: &str,
    update: &str,
    now: OffsetDateTime,
) -> (Value, Option<Duration>) {
    let min_ready = Duration::from_secs(
        set.pointer("/spec/minReadySeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    );
    let (mut replicas, mut ready, mut available, mut on_current, mut updated) = (0, 0, 0, 0, 0);
    let mut recheck: Option<Duration> = None;
    for pod in pods.iter().filter(|p| !meta::is_deleting(p)) {
        replicas += 1;
        if pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
            && pod_state::is_ready(pod)
        {
            ready += 1;
            match pod_state::availability(pod, min_ready, now) {
                Ok(true) => available += 1,
                Ok(false) => {}
                Err(wait) => {
                    let wait = wait + Duration::from_millis(100);
                    recheck = Some(recheck.map_or(wait, |r| r.min(wait)));
                }
            }
        }
        match identity::revision_of(pod) {
            Some(r) if r == current => on_current += 1,
            _ => {}
        }
        if identity::revision_of(pod) == Some(update) {
            updated += 1;
        }
    }
    let mut current = current;
    let want = identity::replicas(set);
    if updated == replicas && ready == replicas && replicas == want {
        current = update;
        on_current = updated;
    }
    let mut status = Map::new();
    status.insert("replicas".into(), json!(replicas));
    for (field, n) in [
        ("readyReplicas", ready),
        ("currentReplicas", on_current),
        ("updatedReplicas", updated),
        ("availableReplicas", available),
    ] {
        status.insert(field.into(), json!(n));
    }
    status.insert("currentRevision".into(), json!(current));
    status.insert("updateRevision".into(), json!(update));
    status.insert(
        "collisionCount".into(),
        set.pointer("/status/collisionCount")
            .cloned()
            .unwrap_or(json!(0)),
    );
    if let Some(g) = set.pointer("/metadata/generation") {
        status.insert("observedGeneration".into(), g.clone());
    }
    (Value::Object(status), recheck)
}

/// Writes `status` when it differs from the stored one.
pub async fn write(client: &Client, set: &Value, status: Value) -> Result<(), Status> {
    if set.get("status") == Some(&status) {
        return Ok(());
    }
    let mut updated = set.clone();
    updated["status"] = status;
    client
        .replace(&object_path("statefulsets", set, Some("status")), &updated)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, rev: &str, ready: bool) -> Value {
        let mut p = json!({"metadata": {"name": name, "labels": {"controller-revision-hash": rev}}, "status": {"phase": "Running"}});
        if ready {
            p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
        }
        p
    }

    #[test]
    fn counts_and_completes_the_rollout() {
        let set = json!({"metadata": {"generation": 4}, "spec": {"replicas": 2}});
        let now = OffsetDateTime::now_utc();
        let pods = [pod("w-0", "w-a", true), pod("w-1", "w-b", false)];
        let (s, _) = calculate(&set, &pods, "w-a", "w-b", now);
        assert_eq!(s["replicas"], 2);
        assert_eq!(s["readyReplicas"], 1);
        assert_eq!(s["currentReplicas"], 1);
        assert_eq!(s["updatedReplicas"], 1);
        assert_eq!(s["currentRevision"], "w-a");
        assert_eq!(s["observedGeneration"], 4);
        let pods = [pod("w-0", "w-b", true), pod("w-1", "w-b", true)];
        let (s, _) = calculate(&set, &pods, "w-a", "w-b", now);
        assert_eq!(s["currentRevision"], "w-b");
        assert_eq!(s["currentReplicas"], 2);
        assert_eq!(s["availableReplicas"], 2);
    }
}
