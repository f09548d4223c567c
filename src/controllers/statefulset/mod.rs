//! The StatefulSet controller: gives each StatefulSet pods with stable identities (see
//! [`identity`]): `<set>-<ordinal>` for each ordinal from `spec.ordinals.start`, each with its
//! own PersistentVolumeClaims from the volumeClaimTemplates, which survive the pod. With the
//! OrderedReady policy (the default) pod N+1 is created only once pod N is Running and Ready,
//! and scaling down removes the highest ordinal first, one at a time; Parallel creates and
//! deletes without waiting. Template changes are recorded as ControllerRevisions
//! ([`super::revisions`]); RollingUpdate replaces pods from the highest ordinal down to
//! `partition`, one at a time, each after the one above is Ready again; OnDelete replaces a pod
//! only when someone deletes it. The status carries the counts and revisions
//! `kubectl rollout status sts` reads.

pub mod identity;
pub mod status;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::events::Recorder;
use super::ownership;
use super::pod_control;
use super::pod_state;
use super::queue::Queue;
use super::replicaset::Key;
use super::revisions::{self, History};
use crate::api::meta;
use crate::api::selector::LabelSelector;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};

/// The StatefulSet controller.
#[derive(Clone)]
pub struct StatefulSetController {
    client: Client,
    events: Recorder,
    /// StatefulSets to reconcile.
    pub queue: Queue<Key>,
}

/// Whether a pod is Running with its Ready condition True (what OrderedReady waits for).
fn running_and_ready(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
        && pod_state::is_ready(pod)
}

/// What one StatefulSet asks for, read from its spec.
struct Plan {
    name: String,
    start: u64,
    replicas: u64,
    /// OrderedReady (true) or Parallel.
    ordered: bool,
    /// RollingUpdate's partition; `None` for OnDelete.
    partition: Option<u64>,
}

impl Plan {
    fn of(set: &Value) -> Plan {
        let rolling = set
            .pointer("/spec/updateStrategy/type")
            .and_then(Value::as_str)
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        Plan {
            name: meta::meta_str(set, "name").unwrap_or_default().to_string(),
            start: identity::start_ordinal(set),
            replicas: identity::replicas(set),
            ordered: set
                .pointer("/spec/podManagementPolicy")
                .and_then(Value::as_str)
                != Some("Parallel"),
            partition: rolling.then(|| {
                set.pointer("/spec/updateStrategy/rollingUpdate/partition")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            }),
        }
    }

    fn in_range(&self, ordinal: u64) -> bool {
        ordinal >= self.start && ordinal < self.start + self.replicas
    }
}

impl StatefulSetController {
    /// A controller writing through `client` and recording events with `events`.
    pub fn new(client: Client, events: Recorder) -> Self {
        StatefulSetController {
            client,
            events,
            queue: Queue::new(),
        }
    }

    /// Reconciles queued StatefulSets, one at a time, forever.
    pub async fn run(self) {
        let this = &self;
        super::queue::reconcile_forever(&self.queue, "statefulset", |key| async move {
            this.sync(&key).await
        })
        .await
    }

    /// One step of one StatefulSet. Returns when to look again (a pod becoming available after
    /// `minReadySeconds`).
    pub async fn sync(&self, key: &Key) -> Result<Option<Duration>, Status> {
        let (ns, name) = key;
        let Some(set) = self
            .client
            .get(&path("apps/v1", "statefulsets", Some(ns), Some(name), None))
            .await?
        else {
            return Ok(None);
        };
        if meta::is_deleting(&set) {
            return Ok(None);
        }
        let selector = match set.pointer("/spec/selector").map(LabelSelector::from_json) {
            Some(Ok(s)) if !s.is_empty() => s,
            _ => return Ok(None),
        };
        let history = match revisions::sync(&self.client, &set, &selector).await {
            Ok(h) => h,
            Err(e) if e.code == 409 => {
                let mut updated = set.clone();
                updated["status"]["collisionCount"] = json!(revisions::collided(&set));
                self.client
                    .replace(&object_path("statefulsets", &set, Some("status")), &updated)
                    .await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let update = meta::meta_str(&history.update, "name")
            .unwrap_or_default()
            .to_string();
        let current = set
            .pointer("/status/currentRevision")
            .and_then(Value::as_str)
            .filter(|c| history.named(c).is_some())
            .unwrap_or(&update)
            .to_string();
        let candidates = self
            .client
            .list(&path("v1", "pods", Some(ns), None, None), None)
            .await?;
        let mut pods = ownership::claim(&self.client, "pods", candidates, &set, &selector).await?;
        let plan = Plan::of(&set);
        self.step(&set, &plan, &history, &current, &update, &mut pods)
            .await?;
        let now = time::OffsetDateTime::now_utc();
        let (status, recheck) = status::calculate(&set, &pods, &current, &update, now);
        let mut live: Vec<&str> = vec![&current, &update];
        live.extend(pods.iter().filter_map(identity::revision_of));
        revisions::prune(&self.client, &set, &history, &live).await?;
        status::write(&self.client, &set, status).await?;
        Ok(recheck)
    }

    /// Creates, deletes and replaces pods as far as the policy allows now. `pods` is updated
    /// with what was created and without what was deleted.
    async fn step(
        &self,
        set: &Value,
        plan: &Plan,
        history: &History,
        current: &str,
        update: &str,
        pods: &mut Vec<Value>,
    ) -> Result<(), Status> {
        let mut members: BTreeMap<u64, Value> = BTreeMap::new();
        let mut condemned: Vec<(u64, Value)> = Vec::new();
        for pod in pods.iter() {
            match identity::ordinal_of(&plan.name, pod) {
                Some(o) if plan.in_range(o) => {
                    members.insert(o, pod.clone());
                }
                o => condemned.push((o.unwrap_or(u64::MAX), pod.clone())),
            }
        }
        // Failed pods are replaced: delete them now, create them again below.
        for (o, pod) in members.clone() {
            if pod_state::is_failed(&pod) && !meta::is_deleting(&pod) {
                pod_control::delete(&self.client, &self.events, set, &pod).await?;
                pod_control::forget(pods, &pod);
                members.remove(&o);
            }
        }
        for ordinal in plan.start..plan.start + plan.replicas {
            match members.get(&ordinal) {
                None => {
                    let on_current = plan.partition.is_some_and(|p| ordinal < plan.start + p)
                        && current != update;
                    let revision = if on_current { current } else { update };
                    let template = history
                        .named(revision)
                        .and_then(revisions::template_of)
                        .unwrap_or_else(|| {
                            set.pointer("/spec/template").cloned().unwrap_or(json!({}))
                        });
                    self.ensure_claims(set, ordinal).await?;
                    let pod = identity::pod(set, &template, revision, ordinal);
                    match pod_control::create(&self.client, &self.events, set, &pod).await {
                        Ok(created) => {
                            members.insert(ordinal, created.clone());
                            pods.push(created);
                        }
                        // The previous pod of that name is still going away: its deletion
                        // wakes the set again.
                        Err(e) if e.code == 409 => return Ok(()),
                        Err(e) => return Err(e),
                    }
                    if plan.ordered {
                        return Ok(());
                    }
                }
                Some(pod) if plan.ordered && !running_and_ready(pod) => return Ok(()),
                Some(_) => {}
            }
        }
        // Scale down: the highest ordinal first.
        condemned.sort_by_key(|(o, _)| std::cmp::Reverse(*o));
        let all_ready = members.values().all(running_and_ready);
        for (_, pod) in &condemned {
            if meta::is_deleting(pod) {
                if plan.ordered {
                    return Ok(());
                }
                continue;
            }
            if plan.ordered && !all_ready {
                return Ok(());
            }
            self.release_claims_when_scaled(set, pod).await?;
            pod_control::delete(&self.client, &self.events, set, pod).await?;
            pod_control::forget(pods, pod);
            if plan.ordered {
                return Ok(());
            }
        }
        // Rolling update: from the highest ordinal down to the partition, one pod at a time.
        let Some(partition) = plan.partition else {
            return Ok(());
        };
        if !members.values().all(running_and_ready) {
            return Ok(());
        }
        for (ordinal, pod) in members.iter().rev() {
            if *ordinal < plan.start + partition {
                break;
            }
            if identity::revision_of(pod) != Some(update) {
                if !meta::is_deleting(pod) {
                    pod_control::delete(&self.client, &self.events, set, pod).await?;
                    pod_control::forget(pods, pod);
                }
                return Ok(());
            }
        }
        Ok(())
    }

    /// Creates the claims of `ordinal` that do not exist yet.
    async fn ensure_claims(&self, set: &Value, ordinal: u64) -> Result<(), Status> {
        let ns = meta::meta_str(set, "namespace").unwrap_or("default");
        for claim in identity::claims(set, ordinal) {
            let name = meta::meta_str(&claim, "name").unwrap_or_default();
            let p = path("v1", "persistentvolumeclaims", Some(ns), Some(name), None);
            if self.client.get(&p).await?.is_some() {
                continue;
            }
            match self
                .client
                .create(
                    &path("v1", "persistentvolumeclaims", Some(ns), None, None),
                    &claim,
                )
                .await
            {
                Ok(_) => {}
                Err(e) if e.code == 409 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// With `whenScaled: Delete`, makes the condemned pod the owner of its claims, so the
    /// garbage collector deletes them once the pod is gone.
    async fn release_claims_when_scaled(&self, set: &Value, pod: &Value) -> Result<(), Status> {
        if !identity::deletes_claims_when(set, "whenScaled") {
            return Ok(());
        }
        let set_name = meta::meta_str(set, "name").unwrap_or_default();
        let Some(ordinal) = identity::ordinal_of(set_name, pod) else {
            return Ok(());
        };
        let ns = meta::meta_str(set, "namespace").unwrap_or("default");
        for claim in identity::claims(set, ordinal) {
            let name = meta::meta_str(&claim, "name").unwrap_or_default();
            let p = path("v1", "persistentvolumeclaims", Some(ns), Some(name), None);
            let Some(existing) = self.client.get(&p).await? else {
                continue;
            };
            let mut refs: Vec<Value> = existing
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let uid = meta::meta_str(pod, "uid").unwrap_or_default();
            if refs
                .iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
            {
                continue;
            }
            let owner = json!({
                "apiVersion": "v1", "kind": "Pod",
                "name": meta::meta_str(pod, "name"), "uid": uid,
            });
            refs.push(owner);
            self.client
                .merge_patch(&p, &json!({"metadata": {"ownerReferences": refs}}))
                .await?;
        }
        Ok(())
    }
}
