//! batch/v1: `SetDefaults_Job` and `SetDefaults_CronJob`, each with the defaults of its pod
//! template. A CronJob's `jobTemplate.spec` gets only the pod template defaults, not those of a
//! Job (the real server defaults Jobs, not Job specs).

use serde_json::json;

use super::fields::{
    Object, child, child_or_insert, is_empty_map, is_unset, items, set_blank, set_missing,
};
use super::pod::{template, workload_spec, workload_template};

/// Retries of a Job before it fails.
pub const BACKOFF_LIMIT: i64 = 6;

/// `backoffLimit` of a Job that limits retries per index instead (`math.MaxInt32`).
pub const BACKOFF_LIMIT_WITH_PER_INDEX: i64 = i32::MAX as i64;

/// A Job.
pub fn job(obj: &mut Object) {
    if let Some(spec) = workload_spec(obj) {
        // A non-parallel Job may leave both unset: both become 1.
        if is_unset(spec.get("completions")) && is_unset(spec.get("parallelism")) {
            spec.insert("completions".into(), json!(1));
        }
        set_missing(spec, "parallelism", json!(1));
        let backoff = if is_unset(spec.get("backoffLimitPerIndex")) {
            BACKOFF_LIMIT
        } else {
            BACKOFF_LIMIT_WITH_PER_INDEX
        };
        set_missing(spec, "backoffLimit", json!(backoff));
        set_missing(spec, "completionMode", json!("NonIndexed"));
        set_missing(spec, "suspend", json!(false));
        let failure_policy = !is_unset(spec.get("podFailurePolicy"));
        if let Some(policy) = child(spec, "podFailurePolicy") {
            for rule in items(policy, "rules") {
                for pattern in items(rule, "onPodConditions") {
                    set_blank(pattern, "status", "True");
                }
            }
        }
        let replacement = if failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        };
        set_missing(spec, "podReplacementPolicy", json!(replacement));
        set_missing(spec, "manualSelector", json!(false));
    }
    // A Job without labels takes those of its pod template.
    let template_labels = child(obj, "spec")
        .and_then(|s| child(s, "template"))
        .and_then(|t| child(t, "metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = template_labels
        && let Some(metadata) = child_or_insert(obj, "metadata")
        && is_empty_map(metadata.get("labels"))
    {
        metadata.insert("labels".into(), labels);
    }
    workload_template(obj);
}

/// A CronJob.
pub fn cron_job(obj: &mut Object) {
    if let Some(spec) = workload_spec(obj) {
        set_blank(spec, "concurrencyPolicy", "Allow");
        set_missing(spec, "suspend", json!(false));
        set_missing(spec, "successfulJobsHistoryLimit", json!(3));
        set_missing(spec, "failedJobsHistoryLimit", json!(1));
        if let Some(job_template) = child(spec, "jobTemplate") {
            // `metadata` is a struct in the Go types: always serialised, `{}` when empty.
            set_missing(job_template, "metadata", json!({}));
            if let Some(pod_template) =
                child(job_template, "spec").and_then(|s| child(s, "template"))
            {
                template(pod_template);
            }
        }
    }
}
