//! The CronJob controller: creates a Job from `spec.jobTemplate` at each time of the schedule
//! (named `<cronjob>-<minutes since the epoch>`, so a time is never run twice), honouring
//! `suspend`, `concurrencyPolicy` (Allow, Forbid, Replace) and `startingDeadlineSeconds` (a time
//! missed longer ago, e.g. while k2d was down, is skipped); keeps `status.active`,
//! `lastScheduleTime` and `lastSuccessfulTime`, and deletes finished Jobs beyond the history
//! limits. It sleeps until the next scheduled time (a queue timer), and is otherwise woken
//! only by changes to CronJobs and to the Jobs they control.

pub mod history;
pub mod schedule;

use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::events::{EventType, Recorder};
use super::job::status as job_status;
use super::ownership;
use super::pod_state::parse_time;
use super::queue::Queue;
use super::replicaset::Key;
use super::wakeups::{self, key};
use crate::api::meta;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};
use schedule::Schedule;

/// The annotation on a Job with the scheduled time it runs for.
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// The CronJob controller.
#[derive(Clone)]
pub struct CronJobController {
    client: Client,
    events: Recorder,
    /// CronJobs to reconcile.
    pub queue: Queue<Key>,
}

/// Starts the CronJob controller and what wakes it: changes to CronJobs and to the Jobs they
/// control.
pub fn start(client: Client, events: Recorder) -> Queue<Key> {
    let c = CronJobController {
        client: client.clone(),
        events,
        queue: Queue::new(),
    };
    let store = client.ctx().store.clone();
    let q = c.queue.clone();
    tokio::spawn(wakeups::follow(
        store.clone(),
        "batch",
        "cronjobs",
        move |_, cj| {
            if let Some(name) = meta::meta_str(&cj, "name") {
                q.add(key(&cj, name));
            }
            std::future::ready(())
        },
    ));
    let q = c.queue.clone();
    tokio::spawn(wakeups::follow(store, "batch", "jobs", move |_, job| {
        if let Some(cj) = ownership::controller_name(&job, "CronJob") {
            q.add(key(&job, cj));
        }
        std::future::ready(())
    }));
    let queue = c.queue.clone();
    tokio::spawn(c.run());
    queue
}

fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// An ObjectReference to a Job, as `status.active` lists them.
fn reference(job: &Value) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta::meta_str(job, "name"),
        "namespace": meta::meta_str(job, "namespace"),
        "uid": meta::meta_str(job, "uid"),
        "resourceVersion": meta::meta_str(job, "resourceVersion"),
    })
}

/// The Job a CronJob runs for the scheduled time `at`.
fn job_for(cj: &Value, sched: &Schedule, at: OffsetDateTime) -> Value {
    let name = meta::meta_str(cj, "name").unwrap_or_default();
    let template = cj
        .pointer("/spec/jobTemplate")
        .cloned()
        .unwrap_or(json!({}));
    let mut metadata = Map::new();
    metadata.insert(
        "name".into(),
        json!(format!("{name}-{}", at.unix_timestamp() / 60)),
    );
    metadata.insert("namespace".into(), json!(meta::meta_str(cj, "namespace")));
    if let Some(labels) = template.pointer("/metadata/labels") {
        metadata.insert("labels".into(), labels.clone());
    }
    let mut annotations = template
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    annotations.insert(SCHEDULED_TIMESTAMP.into(), json!(sched.local_rfc3339(at)));
    metadata.insert("annotations".into(), Value::Object(annotations));
    metadata.insert(
        "ownerReferences".into(),
        json!([ownership::reference_to(cj)]),
    );
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
    })
}

/// The scheduled time to run now, if one passed since the last run (or since the CronJob
/// was made) and is not older than `startingDeadlineSeconds`.
fn due(cj: &Value, sched: &Schedule, now: OffsetDateTime, old: &Value) -> Option<OffsetDateTime> {
    let since = old
        .get("lastScheduleTime")
        .and_then(Value::as_str)
        .or_else(|| meta::meta_str(cj, "creationTimestamp"))
        .and_then(parse_time)?;
    let at = sched.latest(now).filter(|t| *t > since)?;
    if let Some(deadline) = cj
        .pointer("/spec/startingDeadlineSeconds")
        .and_then(Value::as_u64)
        && now - at > Duration::from_secs(deadline)
    {
        return None;
    }
    Some(at)
}

impl CronJobController {
    /// Reconciles queued CronJobs, one at a time, forever.
    pub async fn run(self) {
        let this = &self;
        super::queue::reconcile_forever(&self.queue, "cronjob", |key| async move {
            this.sync(&key).await
        })
        .await
    }

    /// Runs what is due of one CronJob and brings its status and history up to date. Returns
    /// when its next scheduled time comes.
    pub async fn sync(&self, key: &Key) -> Result<Option<Duration>, Status> {
        let (ns, name) = key;
        let Some(cj) = self
            .client
            .get(&path("batch/v1", "cronjobs", Some(ns), Some(name), None))
            .await?
        else {
            return Ok(None);
        };
        if meta::is_deleting(&cj) {
            return Ok(None);
        }
        let jobs: Vec<Value> = self
            .client
            .list(&path("batch/v1", "jobs", Some(ns), None, None), None)
            .await?
            .into_iter()
            .filter(|j| ownership::is_controlled_by(j, &cj))
            .collect();
        let old = cj.get("status").cloned().unwrap_or(json!({}));
        let mut status = old.as_object().cloned().unwrap_or_default();

        // Active Jobs: those still running; a reference already listed is kept as it is.
        let listed: Vec<Value> = old
            .get("active")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut active: Vec<Value> = Vec::new();
        for job in jobs
            .iter()
            .filter(|j| !job_status::is_finished(j) && !meta::is_deleting(j))
        {
            let uid = meta::meta_str(job, "uid");
            active.push(
                listed
                    .iter()
                    .find(|r| r.get("uid").and_then(Value::as_str) == uid)
                    .cloned()
                    .unwrap_or_else(|| reference(job)),
            );
        }
        let last_success = jobs
            .iter()
            .filter(|j| job_status::has(j, "Complete"))
            .filter_map(|j| j.pointer("/status/completionTime").and_then(Value::as_str))
            .filter_map(parse_time)
            .chain(
                old.get("lastSuccessfulTime")
                    .and_then(Value::as_str)
                    .and_then(parse_time),
            )
            .max();
        if let Some(t) = last_success {
            status.insert("lastSuccessfulTime".into(), json!(format_time(t)));
        }

        for job in history::excess(&cj, &jobs) {
            let options = json!({"propagationPolicy": "Background"});
            self.client
                .delete(&object_path("jobs", job, None), &options)
                .await?;
            let job_name = meta::meta_str(job, "name").unwrap_or_default();
            self.event(
                &cj,
                EventType::Normal,
                "SuccessfulDelete",
                &format!("Deleted job {job_name}"),
            )
            .await;
        }

        let mut recheck = None;
        let spec_str = |f: &str| cj.pointer(&format!("/spec/{f}")).and_then(Value::as_str);
        match Schedule::parse(
            spec_str("schedule").unwrap_or_default(),
            spec_str("timeZone"),
        ) {
            Err(bad) => {
                self.event(&cj, EventType::Warning, bad.reason, &bad.message)
                    .await;
            }
            Ok(_) if cj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) => {}
            Ok(sched) => {
                let now = OffsetDateTime::now_utc();
                if let Some(at) = due(&cj, &sched, now, &old)
                    && let Some(started) = self.run_once(&cj, &sched, at, &mut active).await?
                {
                    status.insert("lastScheduleTime".into(), json!(format_time(started)));
                }
                recheck = sched.next(now).map(|next| {
                    let wait: Duration = (next - now).try_into().unwrap_or_default();
                    wait + Duration::from_millis(100)
                });
            }
        }

        if active.is_empty() {
            status.remove("active");
        } else {
            status.insert("active".into(), json!(active));
        }
        let status = Value::Object(status);
        if status != old {
            let mut updated = cj.clone();
            updated["status"] = status;
            self.client
                .replace(&object_path("cronjobs", &cj, Some("status")), &updated)
                .await?;
        }
        Ok(recheck)
    }

    /// Runs the Job for `at` as `concurrencyPolicy` allows. Returns `at` when the time is
    /// taken care of (run, or already run), `None` when it must wait (Forbid).
    async fn run_once(
        &self,
        cj: &Value,
        sched: &Schedule,
        at: OffsetDateTime,
        active: &mut Vec<Value>,
    ) -> Result<Option<OffsetDateTime>, Status> {
        let ns = meta::meta_str(cj, "namespace").unwrap_or("default");
        let policy = cj
            .pointer("/spec/concurrencyPolicy")
            .and_then(Value::as_str)
            .unwrap_or("Allow");
        if !active.is_empty() {
            match policy {
                "Forbid" => {
                    self.event(
                        cj,
                        EventType::Normal,
                        "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid",
                    )
                    .await;
                    return Ok(None);
                }
                "Replace" => {
                    for r in active.drain(..) {
                        let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
                        let options = json!({"propagationPolicy": "Background"});
                        self.client
                            .delete(
                                &path("batch/v1", "jobs", Some(ns), Some(name), None),
                                &options,
                            )
                            .await?;
                        self.event(
                            cj,
                            EventType::Normal,
                            "SuccessfulDelete",
                            &format!("Deleted job {name}"),
                        )
                        .await;
                    }
                }
                _ => {}
            }
        }
        let job = job_for(cj, sched, at);
        match self
            .client
            .create(&path("batch/v1", "jobs", Some(ns), None, None), &job)
            .await
        {
            Ok(created) => {
                let name = meta::meta_str(&created, "name").unwrap_or_default();
                self.event(
                    cj,
                    EventType::Normal,
                    "SuccessfulCreate",
                    &format!("Created job {name}"),
                )
                .await;
                active.push(reference(&created));
                Ok(Some(at))
            }
            // Already run for this time (by us before a restart).
            Err(e) if e.code == 409 => Ok(Some(at)),
            Err(e) => {
                self.event(
                    cj,
                    EventType::Warning,
                    "FailedCreate",
                    &format!("Error creating job: {}", e.message),
                )
                .await;
                Err(e)
            }
        }
    }

    async fn event(&self, cj: &Value, ty: EventType, reason: &str, message: &str) {
        self.events.record(cj, None, ty, reason, message).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_named_after_its_scheduled_minute() {
        let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "d", "uid": "u"},
            "spec": {"jobTemplate": {"metadata": {"labels": {"a": "b"}}, "spec": {"template": {}}}}});
        let sched = Schedule::parse("* * * * *", None).unwrap();
        let at = parse_time("2024-01-01T00:01:00Z").unwrap();
        let job = job_for(&cj, &sched, at);
        assert_eq!(job["metadata"]["name"], format!("tick-{}", 1704067260 / 60));
        assert_eq!(job["metadata"]["labels"]["a"], "b");
        assert_eq!(
            job["metadata"]["annotations"][SCHEDULED_TIMESTAMP],
            "2024-01-01T00:01:00Z"
        );
        assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    }
}
