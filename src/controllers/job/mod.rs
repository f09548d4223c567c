//! The Job controller: runs a Job's pods until `completions` of them succeed (`parallelism` at
//! a time; for an Indexed Job, one success per index), replaces failed pods after a back-off
//! until failures exceed `backoffLimit` (restarts count with `restartPolicy: OnFailure`),
//! fails the Job past `activeDeadlineSeconds` or on a `podFailurePolicy` FailJob rule, stops
//! its pods while `suspend`ed, and deletes it `ttlSecondsAfterFinished` after it finished.
//! Counts come from the pods it controls and never go down (a finished pod deleted later still
//! counted). Woken by changes to Jobs and to the pods they control; timers only while a
//! back-off, deadline or TTL is due.

pub mod backoff;
pub mod failure_policy;
pub mod indexes;
pub mod pods;
pub mod status;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::events::{EventType, Recorder};
use super::ownership;
use super::pod_state::{self, phase};
use super::queue::Queue;
use super::replicaset::Key;
use super::wakeups::{self, key};
use crate::api::meta;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};
use failure_policy::Action;
use status::Outcome;

/// The Job controller.
#[derive(Clone)]
pub struct JobController {
    client: Client,
    events: Recorder,
    /// Jobs to reconcile.
    pub queue: Queue<Key>,
}

/// Starts the Job controller and what wakes it: changes to Jobs and to pods a Job controls.
pub fn start(client: Client, events: Recorder) -> Queue<Key> {
    let jc = JobController {
        client: client.clone(),
        events,
        queue: Queue::new(),
    };
    let store = client.ctx().store.clone();
    let q = jc.queue.clone();
    tokio::spawn(wakeups::follow(
        store.clone(),
        "batch",
        "jobs",
        move |_, job| {
            if let Some(name) = meta::meta_str(&job, "name") {
                q.add(key(&job, name));
            }
            std::future::ready(())
        },
    ));
    let q = jc.queue.clone();
    tokio::spawn(wakeups::follow(store, "", "pods", move |_, pod| {
        if let Some(job) = ownership::controller_name(&pod, "Job") {
            q.add(key(&pod, job));
        }
        std::future::ready(())
    }));
    let queue = jc.queue.clone();
    tokio::spawn(jc.run());
    queue
}

fn spec_u64(job: &Value, field: &str) -> Option<u64> {
    job.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_u64)
}

fn restarts(pod: &Value) -> u64 {
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|f| {
            pod.pointer(&format!("/status/{f}"))
                .and_then(Value::as_array)
        })
        .flatten()
        .filter_map(|c| c.get("restartCount").and_then(Value::as_u64))
        .sum()
}

/// What one reconcile found among a Job's pods.
struct Observed<'a> {
    active: Vec<&'a Value>,
    terminating: u64,
    ready: u64,
    failed_pods: Vec<&'a Value>,
    succeeded: u64,
    completed: BTreeSet<u64>,
    failed: u64,
    restarts: u64,
    fail_job: Option<String>,
}

fn observe<'a>(job: &Value, pods: &'a [Value]) -> Observed<'a> {
    let old = job.get("status").cloned().unwrap_or(json!({}));
    let completions = spec_u64(job, "completions");
    let on_failure = job
        .pointer("/spec/template/spec/restartPolicy")
        .and_then(Value::as_str)
        == Some("OnFailure");
    let mut o = Observed {
        active: pods.iter().filter(|p| pod_state::is_active(p)).collect(),
        terminating: 0,
        ready: 0,
        failed_pods: Vec::new(),
        succeeded: 0,
        completed: BTreeSet::new(),
        failed: 0,
        restarts: 0,
        fail_job: None,
    };
    o.terminating = pods
        .iter()
        .filter(|p| meta::is_deleting(p) && !matches!(phase(p), "Succeeded" | "Failed"))
        .count() as u64;
    o.ready = o.active.iter().filter(|p| pod_state::is_ready(p)).count() as u64;
    if on_failure {
        o.restarts = o.active.iter().map(|p| restarts(p)).sum();
    }
    let mut succeeded_pods = 0;
    for pod in pods {
        match phase(pod) {
            "Succeeded" => {
                succeeded_pods += 1;
                if let Some(i) = indexes::of_pod(pod) {
                    o.completed.insert(i);
                }
            }
            "Failed" => match failure_policy::action(job, pod) {
                Action::Ignore => {}
                Action::Count => o.failed_pods.push(pod),
                Action::FailJob(message) => {
                    o.failed_pods.push(pod);
                    o.fail_job.get_or_insert(message);
                }
            },
            _ => {}
        }
    }
    let old_u64 = |f: &str| old.get(f).and_then(Value::as_u64).unwrap_or(0);
    if indexes::is_indexed(job) {
        let limit = completions.unwrap_or(0);
        o.completed.retain(|i| *i < limit);
        let stored = old
            .get("completedIndexes")
            .and_then(Value::as_str)
            .unwrap_or_default();
        o.completed.extend(indexes::parse(stored, limit));
        o.succeeded = o.completed.len() as u64;
    } else {
        o.succeeded = old_u64("succeeded").max(succeeded_pods);
    }
    o.failed = old_u64("failed").max(o.failed_pods.len() as u64);
    o
}

/// How the Job ends now, if it does.
fn outcome(job: &Value, o: &Observed, now: OffsetDateTime) -> Option<Outcome> {
    if let Some(message) = &o.fail_job {
        return Some(Outcome::Failed("PodFailurePolicy", message.clone()));
    }
    let limit = spec_u64(job, "backoffLimit").unwrap_or(6);
    if o.failed + o.restarts > limit {
        return Some(Outcome::Failed(
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit".into(),
        ));
    }
    if let Some(left) = deadline_left(job, now)
        && left.is_zero()
    {
        return Some(Outcome::Failed(
            "DeadlineExceeded",
            "Job was active longer than specified deadline".into(),
        ));
    }
    let done = match spec_u64(job, "completions") {
        Some(c) if indexes::is_indexed(job) => o.completed.len() as u64 >= c,
        Some(c) => o.succeeded >= c,
        // A work queue: done when one pod succeeded and none is left running.
        None => o.succeeded > 0 && o.active.is_empty(),
    };
    done.then_some(Outcome::Complete)
}

/// Time left before `activeDeadlineSeconds` (zero once past); `None` without a deadline or
/// before the Job started.
fn deadline_left(job: &Value, now: OffsetDateTime) -> Option<Duration> {
    let limit = spec_u64(job, "activeDeadlineSeconds")?;
    if job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let start = job
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .and_then(pod_state::parse_time)?;
    let due = start + Duration::from_secs(limit);
    Some(if due > now {
        (due - now).try_into().unwrap_or_default()
    } else {
        Duration::ZERO
    })
}

/// How many pods should run now (NonIndexed).
fn wanted(job: &Value, o: &Observed) -> u64 {
    let parallelism = spec_u64(job, "parallelism").unwrap_or(1);
    match spec_u64(job, "completions") {
        Some(c) => parallelism.min(c.saturating_sub(o.succeeded)),
        None if o.succeeded > 0 => 0,
        None => parallelism,
    }
}

/// The indexes to start pods for (Indexed): the lowest not completed and not running, up to
/// `parallelism` running in all.
fn missing_indexes(job: &Value, o: &Observed) -> Vec<u64> {
    let completions = spec_u64(job, "completions").unwrap_or(0);
    let parallelism = spec_u64(job, "parallelism").unwrap_or(1);
    let running: BTreeSet<u64> = o.active.iter().filter_map(|p| indexes::of_pod(p)).collect();
    let room = parallelism.saturating_sub(o.active.len() as u64) as usize;
    (0..completions)
        .filter(|i| !o.completed.contains(i) && !running.contains(i))
        .take(room)
        .collect()
}

impl JobController {
    /// Reconciles queued Jobs, one at a time, forever.
    pub async fn run(self) {
        let this = &self;
        super::queue::reconcile_forever(
            &self.queue,
            "job",
            |key| async move { this.sync(&key).await },
        )
        .await
    }

    /// Brings one Job's pods and status to what its spec asks. Returns when to look again.
    pub async fn sync(&self, key: &Key) -> Result<Option<Duration>, Status> {
        let (ns, name) = key;
        let Some(job) = self
            .client
            .get(&path("batch/v1", "jobs", Some(ns), Some(name), None))
            .await?
        else {
            return Ok(None);
        };
        if meta::is_deleting(&job) {
            return Ok(None);
        }
        let all = self
            .client
            .list(&path("v1", "pods", Some(ns), None, None), None)
            .await?;
        let owned: Vec<Value> = all
            .into_iter()
            .filter(|p| ownership::is_controlled_by(p, &job))
            .collect();
        let now = OffsetDateTime::now_utc();
        if status::is_finished(&job) {
            for pod in owned.iter().filter(|p| pod_state::is_active(p)) {
                self.delete_pod(&job, pod).await?;
            }
            return self.expire(&job, now).await;
        }
        let o = observe(&job, &owned);
        let old = job.get("status").cloned().unwrap_or(json!({}));
        let mut conditions: Vec<Value> = old
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut start_time = old.get("startTime").cloned();
        let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
        let mut active = o.active.len() as u64;
        let mut failed = o.failed;
        let mut completion_time = None;
        let mut recheck = None;
        let ended = outcome(&job, &o, now);
        match &ended {
            Some(end) => {
                for pod in &o.active {
                    self.delete_pod(&job, pod).await?;
                }
                if matches!(end, Outcome::Failed(..)) {
                    failed += active;
                } else {
                    completion_time = Some(json!(meta::now()));
                }
                active = 0;
                status::finish(&mut conditions, end);
            }
            None if suspended => {
                for pod in &o.active {
                    self.delete_pod(&job, pod).await?;
                }
                active = 0;
                if !status::has(&job, "Suspended") {
                    status::set(
                        &mut conditions,
                        "Suspended",
                        true,
                        "JobSuspended",
                        "Job suspended",
                    );
                    self.event(&job, EventType::Normal, "Suspended", "Job suspended")
                        .await;
                }
                start_time = None;
            }
            None => {
                if status::has(&job, "Suspended") {
                    status::set(
                        &mut conditions,
                        "Suspended",
                        false,
                        "JobResumed",
                        "Job resumed",
                    );
                    self.event(&job, EventType::Normal, "Resumed", "Job resumed")
                        .await;
                    start_time = None;
                }
                if start_time.is_none() {
                    start_time = Some(json!(meta::now()));
                    // The deadline counts from now: look again when it passes.
                    if let Some(limit) = spec_u64(&job, "activeDeadlineSeconds") {
                        recheck = Some(Duration::from_secs(limit));
                    }
                }
                let wait = backoff::remaining(failed, &o.failed_pods, now);
                let created = match wait {
                    Some(wait) => {
                        recheck = Some(recheck.map_or(wait, |r: Duration| r.min(wait)));
                        0
                    }
                    None => self.manage(&job, &o).await?,
                };
                active = (active as i64 + created).max(0) as u64;
                if let Some(left) = deadline_left(&job, now) {
                    let left = left + Duration::from_millis(100);
                    recheck = Some(recheck.map_or(left, |r| r.min(left)));
                }
            }
        }
        let mut status = Map::new();
        if let Some(t) = start_time {
            status.insert("startTime".into(), t);
        }
        if let Some(t) = completion_time {
            status.insert("completionTime".into(), t);
        }
        if active > 0 {
            status.insert("active".into(), json!(active));
        }
        if o.succeeded > 0 {
            status.insert("succeeded".into(), json!(o.succeeded));
        }
        if failed > 0 {
            status.insert("failed".into(), json!(failed));
        }
        status.insert("ready".into(), json!(o.ready.min(active)));
        status.insert("terminating".into(), json!(o.terminating));
        if indexes::is_indexed(&job) && !o.completed.is_empty() {
            status.insert(
                "completedIndexes".into(),
                json!(indexes::format(&o.completed)),
            );
        }
        status.insert("uncountedTerminatedPods".into(), json!({}));
        if !conditions.is_empty() {
            status.insert("conditions".into(), json!(conditions));
        }
        let status = Value::Object(status);
        let mut written = job.clone();
        if status != old {
            written["status"] = status;
            written = self
                .client
                .replace(&object_path("jobs", &job, Some("status")), &written)
                .await?;
        }
        match ended {
            Some(Outcome::Complete) => {
                self.event(&job, EventType::Normal, "Completed", "Job completed")
                    .await;
                self.expire(&written, now).await
            }
            Some(Outcome::Failed(reason, message)) => {
                self.event(&job, EventType::Warning, reason, &message).await;
                self.expire(&written, now).await
            }
            None => Ok(recheck),
        }
    }

    /// Starts or stops pods so that the wanted number run. Returns how many more run (negative
    /// when some were stopped).
    async fn manage(&self, job: &Value, o: &Observed<'_>) -> Result<i64, Status> {
        let mut started = 0i64;
        if indexes::is_indexed(job) {
            for i in missing_indexes(job, o) {
                self.create_pod(job, Some(i)).await?;
                started += 1;
            }
            return Ok(started);
        }
        let want = wanted(job, o);
        let have = o.active.len() as u64;
        if have < want {
            for _ in have..want {
                self.create_pod(job, None).await?;
                started += 1;
            }
        } else if have > want {
            let mut victims = o.active.clone();
            victims.sort_by(|a, b| pod_state::deletion_order(a, b));
            for pod in &victims[..(have - want) as usize] {
                self.delete_pod(job, pod).await?;
                started -= 1;
            }
        }
        Ok(started)
    }

    async fn create_pod(&self, job: &Value, index: Option<u64>) -> Result<(), Status> {
        let ns = meta::meta_str(job, "namespace").unwrap_or("default");
        let pod = pods::build(job, index);
        match self
            .client
            .create(&path("v1", "pods", Some(ns), None, None), &pod)
            .await
        {
            Ok(created) => {
                let name = meta::meta_str(&created, "name").unwrap_or_default();
                self.event(
                    job,
                    EventType::Normal,
                    "SuccessfulCreate",
                    &format!("Created pod: {name}"),
                )
                .await;
                Ok(())
            }
            Err(e) => {
                self.event(
                    job,
                    EventType::Warning,
                    "FailedCreate",
                    &format!("Error creating: {}", e.message),
                )
                .await;
                Err(e)
            }
        }
    }

    async fn delete_pod(&self, job: &Value, pod: &Value) -> Result<(), Status> {
        let name = meta::meta_str(pod, "name").unwrap_or_default();
        let options = json!({"preconditions": {"uid": meta::meta_str(pod, "uid")}});
        match self
            .client
            .delete(&object_path("pods", pod, None), &options)
            .await
        {
            Ok(_) => {
                self.event(
                    job,
                    EventType::Normal,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {name}"),
                )
                .await;
                Ok(())
            }
            Err(e) if e.code == 409 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes a finished Job once its `ttlSecondsAfterFinished` has passed (its pods go with
    /// it, in the background); otherwise says when to look again.
    async fn expire(&self, job: &Value, now: OffsetDateTime) -> Result<Option<Duration>, Status> {
        let Some(ttl) = spec_u64(job, "ttlSecondsAfterFinished") else {
            return Ok(None);
        };
        let Some(at) = status::finished_at(job) else {
            return Ok(None);
        };
        let due = at + Duration::from_secs(ttl);
        if due > now {
            let wait: Duration = (due - now).try_into().unwrap_or_default();
            return Ok(Some(wait + Duration::from_millis(100)));
        }
        let options = json!({"propagationPolicy": "Background",
            "preconditions": {"uid": meta::meta_str(job, "uid")}});
        match self
            .client
            .delete(&object_path("jobs", job, None), &options)
            .await
        {
            Ok(_) => Ok(None),
            Err(e) if e.code == 409 => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn event(&self, job: &Value, ty: EventType, reason: &str, message: &str) {
        self.events.record(job, None, ty, reason, message).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(spec: Value) -> Value {
        json!({"metadata": {"name": "j", "namespace": "d", "uid": "u"}, "spec": spec})
    }

    fn pod(phase: &str, index: Option<u64>) -> Value {
        let mut p = json!({"metadata": {"name": "p"}, "status": {"phase": phase}});
        if let Some(i) = index {
            p["metadata"]["annotations"] = json!({indexes::ANNOTATION: i.to_string()});
        }
        p
    }

    #[test]
    fn runs_parallelism_pods_until_completions() {
        let j = job(json!({"completions": 3, "parallelism": 2}));
        let pods = vec![pod("Succeeded", None), pod("Succeeded", None)];
        let o = observe(&j, &pods);
        assert_eq!(o.succeeded, 2);
        assert_eq!(wanted(&j, &o), 1);
        assert_eq!(outcome(&j, &o, OffsetDateTime::now_utc()), None);
        let pods = vec![
            pod("Succeeded", None),
            pod("Succeeded", None),
            pod("Succeeded", None),
        ];
        let o = observe(&j, &pods);
        assert_eq!(
            outcome(&j, &o, OffsetDateTime::now_utc()),
            Some(Outcome::Complete)
        );
    }

    #[test]
    fn counts_never_go_down() {
        let mut j = job(json!({"completions": 3}));
        j["status"] = json!({"succeeded": 2, "failed": 1});
        let o = observe(&j, &[]);
        assert_eq!((o.succeeded, o.failed), (2, 1));
    }

    #[test]
    fn fails_past_the_backoff_limit() {
        let j = job(json!({"completions": 1, "backoffLimit": 1}));
        let pods = vec![pod("Failed", None)];
        assert_eq!(
            outcome(&j, &observe(&j, &pods), OffsetDateTime::now_utc()),
            None
        );
        let pods = vec![pod("Failed", None), pod("Failed", None)];
        assert!(matches!(
            outcome(&j, &observe(&j, &pods), OffsetDateTime::now_utc()),
            Some(Outcome::Failed("BackoffLimitExceeded", _))
        ));
    }

    #[test]
    fn indexed_jobs_start_the_lowest_missing_indexes() {
        let j = job(json!({"completions": 4, "parallelism": 2, "completionMode": "Indexed"}));
        let pods = vec![pod("Succeeded", Some(0)), pod("Running", Some(2))];
        let o = observe(&j, &pods);
        assert_eq!(missing_indexes(&j, &o), vec![1]);
        let mut done = j.clone();
        done["status"] = json!({"completedIndexes": "0-1,3"});
        let two = [pod("Succeeded", Some(2))];
        let o = observe(&done, &two);
        assert_eq!(indexes::format(&o.completed), "0-3");
        assert_eq!(
            outcome(&done, &o, OffsetDateTime::now_utc()),
            Some(Outcome::Complete)
        );
    }

    #[test]
    fn the_deadline_counts_from_the_start() {
        let mut j = job(json!({"activeDeadlineSeconds": 10}));
        let now = pod_state::parse_time("2024-01-01T00:00:05Z").unwrap();
        assert_eq!(deadline_left(&j, now), None);
        j["status"] = json!({"startTime": "2024-01-01T00:00:00Z"});
        assert_eq!(deadline_left(&j, now), Some(Duration::from_secs(5)));
        let late = pod_state::parse_time("2024-01-01T00:00:11Z").unwrap();
        assert!(matches!(
            outcome(&j, &observe(&j, &[]), late),
            Some(Outcome::Failed("DeadlineExceeded", _))
        ));
    }
}
