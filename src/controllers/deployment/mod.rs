//! The Deployment controller: gives each Deployment a ReplicaSet per pod template (named
//! `<deployment>-<pod-template-hash>`, revisions in `deployment.kubernetes.io/revision`), rolls
//! from the old ones to the current one (RollingUpdate within maxSurge/maxUnavailable, or
//! Recreate), honours `paused`, prunes old ReplicaSets past `revisionHistoryLimit`, and keeps
//! the status and conditions kubectl and Helm wait on.

pub mod replicasets;
pub mod status;

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::events::{EventType, Recorder};
use super::ownership;
use super::queue::Queue;
use super::replicaset::Key;
use super::template_hash::template_hash;
use crate::api::meta;
use crate::api::selector::LabelSelector;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};
use replicasets::{
    DESIRED_REPLICAS, MAX_REPLICAS, REVISION, revision, runs_template, spec_replicas,
    status_replicas, staying_available,
};
use status::{PAUSED, RESUMED, Strategy, condition, new_condition, set_condition};

/// The Deployment controller.
#[derive(Clone)]
pub struct DeploymentController {
    client: Client,
    events: Recorder,
    /// Deployments to reconcile.
    pub queue: Queue<Key>,
}

/// One Deployment's ReplicaSets: the one running its template, if any, and the others.
struct Sets {
    new: Option<Value>,
    old: Vec<Value>,
}

impl Sets {
    fn all(&self) -> Vec<Value> {
        self.new.iter().chain(self.old.iter()).cloned().collect()
    }
}

impl DeploymentController {
    /// A controller writing through `client` and recording events with `events`.
    pub fn new(client: Client, events: Recorder) -> Self {
        DeploymentController {
            client,
            events,
            queue: Queue::new(),
        }
    }

    /// Reconciles queued Deployments, one at a time, forever.
    pub async fn run(self) {
        let this = &self;
        super::queue::reconcile_forever(&self.queue, "deployment", |key| async move {
            this.sync(&key).await
        })
        .await
    }

    /// One step of one Deployment's rollout. Returns when to look again (its progress deadline).
    pub async fn sync(&self, key: &Key) -> Result<Option<Duration>, Status> {
        let (ns, name) = key;
        let Some(mut d) = self
            .client
            .get(&path("apps/v1", "deployments", Some(ns), Some(name), None))
            .await?
        else {
            return Ok(None);
        };
        if meta::is_deleting(&d) {
            return Ok(None);
        }
        let selector = match d.pointer("/spec/selector").map(LabelSelector::from_json) {
            Some(Ok(s)) if !s.is_empty() => s,
            _ => return Ok(None),
        };
        let owned = self.owned_replicasets(&d, &selector).await?;
        self.paused_condition(&mut d).await?;
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        // The current ReplicaSet runs the template; one named by the template's hash counts too,
        // so that a difference the API adds (a default one kind gets and the other not) can
        // never make the controller create ReplicaSets without end.
        let hash = template_hash(
            &template,
            d.pointer("/status/collisionCount")
                .and_then(Value::as_u64)
                .map(|c| c as u32),
        );
        let (mut new, mut old): (Vec<Value>, Vec<Value>) = owned.into_iter().partition(|rs| {
            runs_template(rs, &template)
                || rs
                    .pointer("/spec/template/metadata/labels")
                    .and_then(|l| l.get(replicasets::HASH_LABEL))
                    .and_then(Value::as_str)
                    == Some(hash.as_str())
        });
        new.sort_by_key(|rs| meta::meta_str(rs, "creationTimestamp").map(str::to_string));
        // Two ReplicaSets with one template (adopted ones): the oldest is current.
        old.extend(new.drain(1.min(new.len())..));
        old.sort_by_key(|rs| {
            (
                meta::meta_str(rs, "creationTimestamp").map(str::to_string),
                revision(rs),
            )
        });
        let mut sets = Sets {
            new: new.pop(),
            old,
        };
        self.sync_revision(&mut d, &mut sets).await?;
        let strategy = status::strategy(&d);
        let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        if paused || (strategy.rolling && scaling_event(&d, &sets)) {
            // Only scaling: while paused, or when the replicas changed in the middle of a
            // rolling update (the rollout goes on at the next sync).
            self.scale_proportionally(&d, &mut sets, strategy).await?;
            if paused {
                self.cleanup(&d, &sets).await?;
            }
            let status = status::calculate(&d, &sets.all(), sets.new.as_ref(), &meta::now());
            self.write_status(&d, status).await?;
            return Ok(None);
        }
        let stepped = if strategy.rolling {
            self.roll(&mut d, &mut sets, strategy).await?
        } else {
            self.recreate(&mut d, &mut sets).await?
        };
        let now = OffsetDateTime::now_utc();
        let status = status::rollout_status(&d, &sets.all(), sets.new.as_ref(), now);
        if !stepped && status::is_complete(&d, &status) {
            self.cleanup(&d, &sets).await?;
        }
        let recheck = status::deadline_recheck(&d, &status, now);
        self.write_status(&d, status).await?;
        Ok(recheck)
    }

    /// The ReplicaSets this Deployment controls, after adopting orphans its selector matches
    /// and releasing those it no longer matches.
    async fn owned_replicasets(
        &self,
        d: &Value,
        selector: &LabelSelector,
    ) -> Result<Vec<Value>, Status> {
        let ns = meta::meta_str(d, "namespace").unwrap_or("default");
        let all = self
            .client
            .list(&path("apps/v1", "replicasets", Some(ns), None, None), None)
            .await?;
        ownership::claim(&self.client, "replicasets", all, d, selector).await
    }

    /// Progressing Unknown with DeploymentPaused while paused, DeploymentResumed once resumed.
    async fn paused_condition(&self, d: &mut Value) -> Result<(), Status> {
        if d.pointer("/spec/progressDeadlineSeconds").is_none() {
            return Ok(());
        }
        let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        let mut status = d.get("status").cloned().unwrap_or(json!({}));
        let reason = condition(&status, "Progressing")
            .and_then(|c| c.get("reason"))
            .and_then(Value::as_str);
        let cond = match (paused, reason) {
            (true, Some(PAUSED)) => return Ok(()),
            (false, r) if r != Some(PAUSED) => return Ok(()),
            (true, _) => new_condition(
                "Progressing",
                "Unknown",
                PAUSED,
                "Deployment is paused",
                &meta::now(),
            ),
            (false, _) => new_condition(
                "Progressing",
                "Unknown",
                RESUMED,
                "Deployment is resumed",
                &meta::now(),
            ),
        };
        set_condition(&mut status, cond);
        *d = self.write_status(d, status).await?;
        Ok(())
    }

    /// Gives the current ReplicaSet the next revision and the Deployment's annotations, and
    /// the Deployment its current revision.
    async fn sync_revision(&self, d: &mut Value, sets: &mut Sets) -> Result<(), Status> {
        let Some(rs) = sets.new.as_mut() else {
            return Ok(());
        };
        let next = sets.old.iter().map(revision).max().unwrap_or(0) + 1;
        let mut patch = json!({});
        if let Some(annotations) = replicasets::current_annotations(rs, d, next) {
            patch["metadata"] = json!({"annotations": annotations});
        }
        let min_ready = d
            .pointer("/spec/minReadySeconds")
            .cloned()
            .unwrap_or(json!(0));
        if rs
            .pointer("/spec/minReadySeconds")
            .cloned()
            .unwrap_or(json!(0))
            != min_ready
        {
            patch["spec"] = json!({"minReadySeconds": min_ready});
        }
        if patch != json!({}) {
            *rs = self
                .client
                .merge_patch(&object_path("replicasets", rs, None), &patch)
                .await?;
        }
        let has_deadline = d.pointer("/spec/progressDeadlineSeconds").is_some();
        if has_deadline
            && d.get("status")
                .and_then(|s| condition(s, "Progressing"))
                .is_none()
        {
            let mut status = d.get("status").cloned().unwrap_or(json!({}));
            let msg = format!(
                "Found new replica set \"{}\"",
                meta::meta_str(rs, "name").unwrap_or_default()
            );
            set_condition(
                &mut status,
                new_condition(
                    "Progressing",
                    "True",
                    "FoundNewReplicaSet",
                    &msg,
                    &meta::now(),
                ),
            );
            *d = self.write_status(d, status).await?;
        }
        self.set_deployment_revision(d, revision(rs)).await
    }

    async fn set_deployment_revision(&self, d: &mut Value, rev: u64) -> Result<(), Status> {
        if revision(d) == rev {
            return Ok(());
        }
        let patch = json!({"metadata": {"annotations": {REVISION: rev.to_string()}}});
        *d = self
            .client
            .merge_patch(&object_path("deployments", d, None), &patch)
            .await?;
        Ok(())
    }

    /// Creates the ReplicaSet for the current template with `replicas` pods. A name taken by a
    /// ReplicaSet with another template bumps `collisionCount` (the next try hashes differently).
    async fn create_new(
        &self,
        d: &mut Value,
        sets: &mut Sets,
        replicas: i64,
        strategy: Strategy,
    ) -> Result<(), Status> {
        let collisions = d
            .pointer("/status/collisionCount")
            .and_then(Value::as_u64)
            .map(|c| c as u32);
        let next = sets.old.iter().map(revision).max().unwrap_or(0) + 1;
        let body = replicasets::new_replicaset(d, collisions, replicas, next, strategy.max_surge);
        let ns = meta::meta_str(d, "namespace")
            .unwrap_or("default")
            .to_string();
        let rs_name = meta::meta_str(&body, "name")
            .unwrap_or_default()
            .to_string();
        let created = match self
            .client
            .create(
                &path("apps/v1", "replicasets", Some(&ns), None, None),
                &body,
            )
            .await
        {
            Ok(rs) => rs,
            Err(e) if e.code == 409 => {
                let existing = self
                    .client
                    .get(&path(
                        "apps/v1",
                        "replicasets",
                        Some(&ns),
                        Some(&rs_name),
                        None,
                    ))
                    .await?;
                let template = d.pointer("/spec/template").cloned().unwrap_or_default();
                if let Some(rs) = existing
                    .filter(|rs| ownership::is_controlled_by(rs, d) && runs_template(rs, &template))
                {
                    sets.new = Some(rs);
                    return Ok(());
                }
                let mut status = d.get("status").cloned().unwrap_or(json!({}));
                status["collisionCount"] = json!(collisions.unwrap_or(0) + 1);
                self.write_status(d, status).await?;
                return Err(Status::new(
                    409,
                    "AlreadyExists",
                    format!("replicaset {rs_name} exists with another template; hashing again"),
                ));
            }
            Err(e) => return Err(e),
        };
        if replicas > 0 {
            self.events
                .record(
                    d,
                    None,
                    EventType::Normal,
                    "ScalingReplicaSet",
                    &format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
                )
                .await;
        }
        let mut status = d.get("status").cloned().unwrap_or(json!({}));
        let msg = format!("Created new replica set \"{rs_name}\"");
        set_condition(
            &mut status,
            new_condition(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &msg,
                &meta::now(),
            ),
        );
        *d = self.write_status(d, status).await?;
        self.set_deployment_revision(d, next).await?;
        sets.new = Some(created);
        Ok(())
    }

    /// Sets a ReplicaSet's replicas (and the desired/max replicas annotations).
    async fn scale(
        &self,
        d: &Value,
        rs: &mut Value,
        replicas: i64,
        strategy: Strategy,
    ) -> Result<bool, Status> {
        let from = spec_replicas(rs);
        let desired = spec_replicas(d);
        let patch = json!({
            "metadata": {"annotations": {
                DESIRED_REPLICAS: desired.to_string(),
                MAX_REPLICAS: (desired + strategy.max_surge).to_string(),
            }},
            "spec": {"replicas": replicas},
        });
        let annotations_current = replicasets::annotation(rs, DESIRED_REPLICAS)
            == Some(&desired.to_string())
            && replicasets::annotation(rs, MAX_REPLICAS)
                == Some(&(desired + strategy.max_surge).to_string());
        if from == replicas && annotations_current {
            return Ok(false);
        }
        *rs = self
            .client
            .merge_patch(&object_path("replicasets", rs, None), &patch)
            .await?;
        if from != replicas {
            let way = if replicas > from { "up" } else { "down" };
            let rs_name = meta::meta_str(rs, "name").unwrap_or_default();
            self.events
                .record(
                    d,
                    None,
                    EventType::Normal,
                    "ScalingReplicaSet",
                    &format!("Scaled {way} replica set {rs_name} from {from} to {replicas}"),
                )
                .await;
        }
        Ok(from != replicas)
    }

    /// One RollingUpdate step: scale the current ReplicaSet up within maxSurge, else scale old
    /// ones down within maxUnavailable (unhealthy pods first). Returns whether it scaled.
    async fn roll(
        &self,
        d: &mut Value,
        sets: &mut Sets,
        strategy: Strategy,
    ) -> Result<bool, Status> {
        let replicas = spec_replicas(d);
        let max_total = replicas + strategy.max_surge;
        if sets.new.is_none() {
            let current: i64 = sets.old.iter().map(spec_replicas).sum();
            let start = if current >= max_total {
                0
            } else {
                (max_total - current).min(replicas)
            };
            self.create_new(d, sets, start, strategy).await?;
            return Ok(true);
        }
        // Scale the current ReplicaSet up (or down to the replicas).
        let all_spec: i64 = sets.all().iter().map(spec_replicas).sum();
        let new = sets.new.as_mut().expect("checked above");
        let cur = spec_replicas(new);
        let target = if cur > replicas {
            replicas
        } else if all_spec >= max_total {
            cur
        } else {
            cur + (max_total - all_spec).min(replicas - cur)
        };
        if self.scale(d, new, target, strategy).await? {
            return Ok(true);
        }
        // Scale old ones down.
        let old_spec: i64 = sets.old.iter().map(spec_replicas).sum();
        if old_spec == 0 {
            return Ok(false);
        }
        let new_unavailable = spec_replicas(new) - staying_available(new);
        let min_available = replicas - strategy.max_unavailable;
        let max_scaled_down = all_spec - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        let mut scaled = false;
        // First the pods of old ReplicaSets that are not available anyway.
        let mut cleaned = 0;
        for i in 0..sets.old.len() {
            let rs = &sets.old[i];
            let unhealthy = spec_replicas(rs) - staying_available(rs);
            if cleaned >= max_scaled_down || unhealthy <= 0 {
                continue;
            }
            let n = unhealthy.min(max_scaled_down - cleaned);
            let to = spec_replicas(rs) - n;
            scaled |= self.scale(d, &mut sets.old[i], to, strategy).await?;
            cleaned += n;
        }
        // Then available ones, as long as enough stay available.
        let available: i64 = sets.all().iter().map(staying_available).sum();
        let mut budget = available - min_available;
        for i in 0..sets.old.len() {
            if budget <= 0 {
                break;
            }
            let have = spec_replicas(&sets.old[i]);
            if have == 0 {
                continue;
            }
            let n = have.min(budget);
            scaled |= self.scale(d, &mut sets.old[i], have - n, strategy).await?;
            budget -= n;
        }
        Ok(scaled)
    }

    /// One Recreate step: scale every old ReplicaSet to zero, wait until their pods are gone,
    /// then create (or scale) the current one. Returns whether it scaled.
    async fn recreate(&self, d: &mut Value, sets: &mut Sets) -> Result<bool, Status> {
        let strategy = status::strategy(d);
        let mut scaled = false;
        for rs in sets.old.iter_mut() {
            if spec_replicas(rs) > 0 {
                scaled |= self.scale(d, rs, 0, strategy).await?;
            }
        }
        if scaled {
            return Ok(true);
        }
        if self.old_pods_running(d, sets).await? {
            return Ok(false);
        }
        let replicas = spec_replicas(d);
        match sets.new.as_mut() {
            None => {
                self.create_new(d, sets, replicas, strategy).await?;
                Ok(true)
            }
            Some(new) => self.scale(d, new, replicas, strategy).await,
        }
    }

    /// Whether any pod of an old ReplicaSet still exists and has not finished.
    async fn old_pods_running(&self, d: &Value, sets: &Sets) -> Result<bool, Status> {
        if sets.old.iter().any(|rs| status_replicas(rs) > 0) {
            return Ok(true);
        }
        let ns = meta::meta_str(d, "namespace").unwrap_or("default");
        let pods = self
            .client
            .list(&path("v1", "pods", Some(ns), None, None), None)
            .await?;
        Ok(pods.iter().any(|pod| {
            sets.old
                .iter()
                .any(|rs| ownership::is_controlled_by(pod, rs))
                && !matches!(
                    pod.pointer("/status/phase").and_then(Value::as_str),
                    Some("Succeeded" | "Failed")
                )
        }))
    }

    /// Scaling without rolling: the only active ReplicaSet (or the current one) follows
    /// `spec.replicas`; with several active, the difference to `spec.replicas` plus maxSurge is
    /// shared in proportion to their sizes, the rest to the largest.
    async fn scale_proportionally(
        &self,
        d: &Value,
        sets: &mut Sets,
        strategy: Strategy,
    ) -> Result<(), Status> {
        let replicas = spec_replicas(d);
        let active = sets.all().iter().filter(|rs| spec_replicas(rs) > 0).count();
        if active == 0 {
            if let Some(new) = sets.new.as_mut() {
                self.scale(d, new, replicas, strategy).await?;
            }
            return Ok(());
        }
        let mut active: Vec<&mut Value> = sets
            .new
            .iter_mut()
            .chain(sets.old.iter_mut())
            .filter(|rs| spec_replicas(rs) > 0)
            .collect();
        if active.len() == 1 {
            self.scale(d, active[0], replicas, strategy).await?;
            return Ok(());
        }
        let allowed = replicas + strategy.max_surge;
        let current: i64 = active.iter().map(|rs| spec_replicas(rs)).sum();
        // With no difference this still runs: the annotations must follow `spec.replicas`.
        let diff = allowed - current;
        active.sort_by_key(|rs| std::cmp::Reverse(spec_replicas(rs)));
        let mut targets: Vec<i64> = active
            .iter()
            .map(|rs| spec_replicas(rs) + spec_replicas(rs) * diff / current)
            .collect();
        let given: i64 = targets.iter().sum::<i64>() - current;
        targets[0] += diff - given;
        for (rs, target) in active.into_iter().zip(targets) {
            self.scale(d, rs, target.max(0), strategy).await?;
        }
        Ok(())
    }

    /// Deletes the oldest ReplicaSets beyond `revisionHistoryLimit` that run no pods.
    async fn cleanup(&self, d: &Value, sets: &Sets) -> Result<(), Status> {
        let Some(limit) = d
            .pointer("/spec/revisionHistoryLimit")
            .and_then(Value::as_u64)
        else {
            return Ok(());
        };
        let mut cleanable: Vec<&Value> = sets
            .old
            .iter()
            .filter(|rs| !meta::is_deleting(rs))
            .collect();
        let excess = cleanable.len().saturating_sub(limit as usize);
        if excess == 0 {
            return Ok(());
        }
        cleanable.sort_by_key(|rs| revision(rs));
        for rs in cleanable.into_iter().take(excess) {
            let observed = rs
                .pointer("/status/observedGeneration")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let generation = rs
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if spec_replicas(rs) != 0 || status_replicas(rs) != 0 || generation > observed {
                continue;
            }
            let options = json!({"preconditions": {"uid": meta::meta_str(rs, "uid")}, "propagationPolicy": "Background"});
            self.client
                .delete(&object_path("replicasets", rs, None), &options)
                .await?;
        }
        Ok(())
    }

    /// Writes `status` when it differs from the Deployment's; returns the Deployment as stored.
    async fn write_status(&self, d: &Value, status: Value) -> Result<Value, Status> {
        if d.get("status") == Some(&status) || (d.get("status").is_none() && status == json!({})) {
            return Ok(d.clone());
        }
        let mut updated = d.clone();
        updated["status"] = status;
        self.client
            .replace(&object_path("deployments", d, Some("status")), &updated)
            .await
    }
}

/// Whether `spec.replicas` changed since the active ReplicaSets were last scaled (their
/// desired-replicas annotation says otherwise).
fn scaling_event(d: &Value, sets: &Sets) -> bool {
    let desired = spec_replicas(d).to_string();
    sets.all()
        .iter()
        .filter(|rs| spec_replicas(rs) > 0)
        .any(|rs| replicasets::annotation(rs, DESIRED_REPLICAS).is_some_and(|a| a != desired))
}
