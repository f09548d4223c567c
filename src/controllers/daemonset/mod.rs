//! The DaemonSet controller: runs exactly one pod of each DaemonSet on the node when its
//! template belongs there ([`placement`]: nodeSelector, required node affinity, tolerations
//! against the node's taints), and none where it does not. Pods are named `<set>-<5 chars>`,
//! placed on the node directly (`spec.nodeName`, and the `metadata.name` node affinity a
//! DaemonSet pod carries), labelled `controller-revision-hash` and `pod-template-generation`,
//! and tolerate what a DaemonSet's pods tolerate, so cordoning neither evicts nor blocks them.
//! Template changes are ControllerRevisions ([`super::revisions`]); RollingUpdate replaces the
//! pod within `maxUnavailable` (delete, then create) or `maxSurge` (create, wait until the new
//! one is available, then delete); OnDelete waits for someone to delete it. The status carries
//! the counts `kubectl rollout status ds` reads.

pub mod placement;
pub mod status;

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::deployment::status::int_or_percent;
use super::events::Recorder;
use super::ownership;
use super::pod_control;
use super::pod_state;
use super::queue::Queue;
use super::replicaset::Key;
use super::revisions::{self, REVISION_LABEL};
use crate::api::meta;
use crate::api::selector::LabelSelector;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};

/// The label holding the DaemonSet generation a pod was made from.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

/// The DaemonSet controller.
#[derive(Clone)]
pub struct DaemonSetController {
    client: Client,
    events: Recorder,
    /// DaemonSets to reconcile.
    pub queue: Queue<Key>,
}

/// How a DaemonSet replaces its pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Update {
    /// Only when someone deletes it.
    OnDelete,
    /// Delete the old pod, then create the new one.
    Replace,
    /// Create the new pod, then delete the old one once the new one is available.
    Surge,
}

fn update_of(ds: &Value) -> Update {
    if ds
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        == Some("OnDelete")
    {
        return Update::OnDelete;
    }
    let rolling = ds.pointer("/spec/updateStrategy/rollingUpdate");
    let surge = int_or_percent(rolling.and_then(|r| r.get("maxSurge")), "0", 1, true);
    if surge > 0 {
        Update::Surge
    } else {
        Update::Replace
    }
}

impl DaemonSetController {
    /// A controller writing through `client` and recording events with `events`.
    pub fn new(client: Client, events: Recorder) -> Self {
        DaemonSetController {
            client,
            events,
            queue: Queue::new(),
        }
    }

    /// Reconciles queued DaemonSets, one at a time, forever.
    pub async fn run(self) {
        let this = &self;
        super::queue::reconcile_forever(&self.queue, "daemonset", |key| async move {
            this.sync(&key).await
        })
        .await
    }

    /// Brings one DaemonSet's pods to its spec and its status to what they are. Returns when
    /// to look again (a pod becoming available after `minReadySeconds`).
    pub async fn sync(&self, key: &Key) -> Result<Option<Duration>, Status> {
        let (ns, name) = key;
        let Some(ds) = self
            .client
            .get(&path("apps/v1", "daemonsets", Some(ns), Some(name), None))
            .await?
        else {
            return Ok(None);
        };
        if meta::is_deleting(&ds) {
            return Ok(None);
        }
        let selector = match ds.pointer("/spec/selector").map(LabelSelector::from_json) {
            Some(Ok(s)) if !s.is_empty() => s,
            _ => return Ok(None),
        };
        let history = match revisions::sync(&self.client, &ds, &selector).await {
            Ok(h) => h,
            Err(e) if e.code == 409 => {
                let mut updated = ds.clone();
                updated["status"]["collisionCount"] = json!(revisions::collided(&ds));
                self.client
                    .replace(&object_path("daemonsets", &ds, Some("status")), &updated)
                    .await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let hash = revisions::hash_of(&history.update).to_string();
        let candidates = self
            .client
            .list(&path("v1", "pods", Some(ns), None, None), None)
            .await?;
        let mut pods = ownership::claim(&self.client, "pods", candidates, &ds, &selector).await?;
        let nodes = self
            .client
            .list(&path("v1", "nodes", None, None, None), None)
            .await?;
        let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let now = OffsetDateTime::now_utc();
        let min_ready = min_ready(&ds);
        // Pods on no node k2d has are deleted.
        for pod in pods.clone() {
            let on = pod.pointer("/spec/nodeName").and_then(Value::as_str);
            let known = nodes.iter().any(|n| meta::meta_str(n, "name") == on);
            if !known && !meta::is_deleting(&pod) {
                pod_control::delete(&self.client, &self.events, &ds, &pod).await?;
                pod_control::forget(&mut pods, &pod);
            }
        }
        for node in &nodes {
            let node_name = meta::meta_str(node, "name").unwrap_or_default();
            let mine: Vec<Value> = pods
                .iter()
                .filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node_name))
                .cloned()
                .collect();
            let changes = if placement::should_run(&template, node) {
                self.run_one(&ds, node_name, &hash, &mine, min_ready, now)
                    .await?
            } else {
                // Not wanted here: every pod goes.
                let mut gone = Vec::new();
                for pod in mine.iter().filter(|p| !meta::is_deleting(p)) {
                    pod_control::delete(&self.client, &self.events, &ds, pod).await?;
                    gone.push(pod.clone());
                }
                (None, gone)
            };
            if let Some(created) = changes.0 {
                pods.push(created);
            }
            for pod in &changes.1 {
                pod_control::forget(&mut pods, pod);
            }
        }
        let (status, recheck) = status::calculate(&ds, &nodes, &pods, &hash, now);
        let mut live: Vec<&str> = vec![&hash];
        live.extend(pods.iter().filter_map(|p| {
            p.pointer("/metadata/labels")
                .and_then(|l| l.get(REVISION_LABEL))
                .and_then(Value::as_str)
        }));
        revisions::prune(&self.client, &ds, &history, &live).await?;
        status::write(&self.client, &ds, status).await?;
        Ok(recheck)
    }

    /// Keeps exactly one pod of the current template on `node` (two while a surge update
    /// waits for the new one). Returns the pod it created and the pods it deleted.
    async fn run_one(
        &self,
        ds: &Value,
        node: &str,
        hash: &str,
        pods: &[Value],
        min_ready: Duration,
        now: OffsetDateTime,
    ) -> Result<(Option<Value>, Vec<Value>), Status> {
        let mut deleted = Vec::new();
        let mut active = Vec::new();
        for pod in pods.iter().filter(|p| !meta::is_deleting(p)) {
            if pod_state::is_failed(pod) {
                pod_control::delete(&self.client, &self.events, ds, pod).await?;
                deleted.push(pod.clone());
            } else {
                active.push(pod.clone());
            }
        }
        let is_new = |p: &Value| {
            p.pointer("/metadata/labels")
                .and_then(|l| l.get(REVISION_LABEL))
                .and_then(Value::as_str)
                == Some(hash)
        };
        // Oldest first: the one kept when there are too many.
        active.sort_by_key(|p| meta::meta_str(p, "creationTimestamp").map(str::to_string));
        let (new, old): (Vec<Value>, Vec<Value>) = active.into_iter().partition(|p| is_new(p));
        let update = update_of(ds);
        let mut excess: Vec<Value> = new.iter().skip(1).cloned().collect();
        let mut created = None;
        match (new.first(), update) {
            (None, _) if old.is_empty() => {
                created = Some(self.create_pod(ds, node, hash).await?);
            }
            (None, Update::Surge) => {
                created = Some(self.create_pod(ds, node, hash).await?);
                excess.extend(old.iter().skip(1).cloned());
            }
            (None, Update::Replace) => excess.extend(old.iter().cloned()),
            (None, Update::OnDelete) => excess.extend(old.iter().skip(1).cloned()),
            (Some(pod), _) => {
                // The new pod runs: the old ones go once it is available (at once when it
                // replaced them; after surging, when it can take over).
                if update != Update::Surge
                    || pod_state::availability(pod, min_ready, now) == Ok(true)
                {
                    excess.extend(old.iter().cloned());
                }
            }
        }
        for pod in &excess {
            pod_control::delete(&self.client, &self.events, ds, pod).await?;
            deleted.push(pod.clone());
        }
        Ok((created, deleted))
    }

    async fn create_pod(&self, ds: &Value, node: &str, hash: &str) -> Result<Value, Status> {
        let name = meta::meta_str(ds, "name").unwrap_or_default();
        let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let mut pod = pod_control::from_template(ds, &template);
        pod["metadata"]["generateName"] = json!(format!("{name}-"));
        let labels = pod["metadata"]
            .as_object_mut()
            .expect("a pod's metadata is an object")
            .entry("labels")
            .or_insert_with(|| json!({}));
        labels[REVISION_LABEL] = json!(hash);
        if let Some(g) = ds.pointer("/metadata/generation").and_then(Value::as_i64) {
            labels[TEMPLATE_GENERATION_LABEL] = json!(g.to_string());
        }
        let tolerations = placement::with_added_tolerations(&pod["spec"]);
        let spec = pod["spec"]
            .as_object_mut()
            .expect("a pod template's spec is an object");
        spec.insert("tolerations".into(), json!(tolerations));
        spec.insert("nodeName".into(), json!(node));
        let affinity = spec.entry("affinity").or_insert_with(|| json!({}));
        affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
            "nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node]}
            ]}]
        });
        pod_control::create(&self.client, &self.events, ds, &pod).await
    }
}

/// `spec.minReadySeconds`.
fn min_ready(ds: &Value) -> Duration {
    Duration::from_secs(
        ds.pointer("/spec/minReadySeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    )
}
