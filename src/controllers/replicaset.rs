//! The ReplicaSet controller: keeps each ReplicaSet's count of active pods at
//! `spec.replicas`, creating pods from its template (named `<replicaset>-<5 chars>`, controlled
//! by it) and deleting the ones kube-controller-manager would pick first; deletes Failed pods
//! so they are replaced; adopts orphans its selector matches and releases pods that no longer
//! match; reports replicas, fully labeled, ready and available pods (ready for
//! `minReadySeconds`) in its status.

use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::events::Recorder;
use super::ownership;
use super::pod_control;
use super::pod_state;
use super::queue::Queue;
use crate::api::meta;
use crate::api::selector::LabelSelector;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};

/// A namespaced object's (namespace, name).
pub type Key = (String, String);

/// The ReplicaSet controller.
#[derive(Clone)]
pub struct ReplicaSetController {
    client: Client,
    events: Recorder,
    /// ReplicaSets to reconcile.
    pub queue: Queue<Key>,
}

/// What one reconcile found about the pods.
struct Counts {
    replicas: u64,
    fully_labeled: u64,
    ready: u64,
    available: u64,
    /// The soonest a ready pod becomes available.
    recheck: Option<Duration>,
}

impl ReplicaSetController {
    /// A controller writing through `client` and recording events with `events`.
    pub fn new(client: Client, events: Recorder) -> Self {
        ReplicaSetController {
            client,
            events,
            queue: Queue::new(),
        }
    }

    /// Reconciles queued ReplicaSets, one at a time, forever.
    pub async fn run(self) {
        let this = &self;
        crate::controllers::queue::reconcile_forever(&self.queue, "replicaset", |key| async move {
            this.sync(&key).await
        })
        .await
    }

    /// Brings one ReplicaSet's pods to its spec and its status to what they are. Returns when
    /// to look again (a pod becoming available after `minReadySeconds`).
    pub async fn sync(&self, key: &Key) -> Result<Option<Duration>, Status> {
        let (ns, name) = key;
        let Some(rs) = self
            .client
            .get(&path("apps/v1", "replicasets", Some(ns), Some(name), None))
            .await?
        else {
            return Ok(None);
        };
        let selector = match rs.pointer("/spec/selector").map(LabelSelector::from_json) {
            Some(Ok(s)) if !s.is_empty() => s,
            // Validation refuses these; a ReplicaSet selecting nothing or everything is left alone.
            _ => return Ok(None),
        };
        let deleting = meta::is_deleting(&rs);
        let pods = self
            .client
            .list(&path("v1", "pods", Some(ns), None, None), None)
            .await?;
        let mut owned = ownership::claim(&self.client, "pods", pods, &rs, &selector).await?;
        let mut failure = None;
        if !deleting {
            failure = self.manage(&rs, &mut owned).await?;
        }
        let now = OffsetDateTime::now_utc();
        let counts = count(&rs, &owned, now);
        self.write_status(&rs, &counts, failure.clone()).await?;
        match failure {
            // Try again later (with back-off), as the condition now says.
            Some((reason, message)) => Err(Status::internal(format!("{reason}: {message}"))),
            None => Ok(counts.recheck),
        }
    }

    /// Deletes Failed pods, then creates or deletes pods until the active ones number
    /// `spec.replicas`. A refused create or delete becomes the ReplicaFailure condition's
    /// (reason, message).
    async fn manage(
        &self,
        rs: &Value,
        owned: &mut Vec<Value>,
    ) -> Result<Option<(String, String)>, Status> {
        let want = rs
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1) as usize;
        let mut kept = Vec::with_capacity(owned.len());
        let mut failure = None;
        for pod in owned.drain(..) {
            if failure.is_none() && pod_state::is_failed(&pod) && !meta::is_deleting(&pod) {
                match self.delete_pod(rs, &pod).await {
                    Ok(()) => continue,
                    Err(e) => failure = Some(("FailedDelete".to_string(), e.message)),
                }
            }
            kept.push(pod);
        }
        *owned = kept;
        if failure.is_some() {
            return Ok(failure);
        }
        let mut active: Vec<Value> = owned
            .iter()
            .filter(|p| pod_state::is_active(p))
            .cloned()
            .collect();
        if active.len() < want {
            for _ in active.len()..want {
                match self.create_pod(rs).await {
                    Ok(pod) => owned.push(pod),
                    Err(e) => return Ok(Some(("FailedCreate".into(), e.message))),
                }
            }
        } else if active.len() > want {
            active.sort_by(pod_state::deletion_order);
            for victim in &active[..active.len() - want] {
                if let Err(e) = self.delete_pod(rs, victim).await {
                    return Ok(Some(("FailedDelete".into(), e.message)));
                }
                let uid = meta::meta_str(victim, "uid");
                owned.retain(|p| meta::meta_str(p, "uid") != uid);
            }
        }
        Ok(None)
    }

    async fn create_pod(&self, rs: &Value) -> Result<Value, Status> {
        let name = meta::meta_str(rs, "name").unwrap_or_default();
        let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let mut pod = pod_control::from_template(rs, &template);
        pod["metadata"]["generateName"] = json!(format!("{name}-"));
        pod_control::create(&self.client, &self.events, rs, &pod).await
    }

    async fn delete_pod(&self, rs: &Value, pod: &Value) -> Result<(), Status> {
        pod_control::delete(&self.client, &self.events, rs, pod).await
    }

    /// Writes the status when it differs from what is stored.
    async fn write_status(
        &self,
        rs: &Value,
        counts: &Counts,
        failure: Option<(String, String)>,
    ) -> Result<(), Status> {
        let old = rs.get("status").cloned().unwrap_or(json!({}));
        let mut status = Map::new();
        status.insert("replicas".into(), json!(counts.replicas));
        for (field, n) in [
            ("fullyLabeledReplicas", counts.fully_labeled),
            ("readyReplicas", counts.ready),
            ("availableReplicas", counts.available),
        ] {
            if n > 0 {
                status.insert(field.into(), json!(n));
            }
        }
        if let Some(g) = rs.pointer("/metadata/generation") {
            status.insert("observedGeneration".into(), g.clone());
        }
        let mut conditions: Vec<Value> = old
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let existing = conditions
            .iter()
            .position(|c| c.get("type").and_then(Value::as_str) == Some("ReplicaFailure"));
        match (failure, existing) {
            (Some((reason, message)), i) => {
                let since = i
                    .and_then(|i| conditions[i].get("lastTransitionTime").cloned())
                    .unwrap_or_else(|| json!(meta::now()));
                let c = json!({"type": "ReplicaFailure", "status": "True", "reason": reason, "message": message, "lastTransitionTime": since});
                match i {
                    Some(i) => conditions[i] = c,
                    None => conditions.push(c),
                }
            }
            (None, Some(i)) => {
                conditions.remove(i);
            }
            (None, None) => {}
        }
        if !conditions.is_empty() {
            status.insert("conditions".into(), json!(conditions));
        }
        let status = Value::Object(status);
        if status == old {
            return Ok(());
        }
        let mut updated = rs.clone();
        updated["status"] = status;
        self.client
            .replace(&object_path("replicasets", rs, Some("status")), &updated)
            .await?;
        Ok(())
    }
}

/// Counts the active pods: all, fully labeled (carrying every template label), ready and
/// available; and when the next ready pod becomes available.
fn count(rs: &Value, owned: &[Value], now: OffsetDateTime) -> Counts {
    let min_ready = Duration::from_secs(
        rs.pointer("/spec/minReadySeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    );
    let template_labels = rs
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut c = Counts {
        replicas: 0,
        fully_labeled: 0,
        ready: 0,
        available: 0,
        recheck: None,
    };
    for pod in owned.iter().filter(|p| pod_state::is_active(p)) {
        c.replicas += 1;
        let labels = pod.pointer("/metadata/labels").and_then(Value::as_object);
        if template_labels
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        {
            c.fully_labeled += 1;
        }
        if pod_state::is_ready(pod) {
            c.ready += 1;
        }
        match pod_state::availability(pod, min_ready, now) {
            Ok(true) => c.available += 1,
            Ok(false) => {}
            Err(wait) => {
                // Timestamps have whole seconds: look again just after the second turns.
                let wait = wait + Duration::from_millis(100);
                c.recheck = Some(c.recheck.map_or(wait, |r| r.min(wait)));
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_active_pods_and_schedules_availability() {
        let rs = json!({"spec": {"minReadySeconds": 10, "template": {"metadata": {"labels": {"app": "web", "tier": "x"}}}}});
        let now = pod_state::parse_time("2024-01-01T00:01:00Z").unwrap();
        let ready = |t: &str| json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]);
        let pods = vec![
            json!({"metadata": {"labels": {"app": "web", "tier": "x"}}, "status": {"phase": "Running", "conditions": ready("2024-01-01T00:00:00Z")}}),
            json!({"metadata": {"labels": {"app": "web"}}, "status": {"phase": "Running", "conditions": ready("2024-01-01T00:00:55Z")}}),
            json!({"metadata": {"labels": {"app": "web", "tier": "x"}}, "status": {"phase": "Pending"}}),
            json!({"metadata": {"labels": {"app": "web", "tier": "x"}}, "status": {"phase": "Failed"}}),
        ];
        let c = count(&rs, &pods, now);
        assert_eq!(
            (c.replicas, c.fully_labeled, c.ready, c.available),
            (3, 2, 2, 1)
        );
        assert_eq!(c.recheck, Some(Duration::from_millis(5100)));
    }
}
