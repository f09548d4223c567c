//! A Job's status conditions as the real Job controller writes them: Suspended while
//! suspended; SuccessCriteriaMet then Complete when it succeeds; FailureTarget then Failed when
//! it fails. `kubectl wait`, Helm 3 (conditions Complete/Failed) and Helm 4 (kstatus) read them.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::api::meta;
use crate::controllers::pod_state::parse_time;

/// Why a Job ended, as its terminal conditions say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// All completions succeeded.
    Complete,
    /// The Job failed: (reason, message) of its Failed condition.
    Failed(&'static str, String),
}

fn condition<'a>(job: &'a Value, ty: &str) -> Option<&'a Value> {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
}

/// Whether the Job has condition `ty` with status True.
pub fn has(job: &Value, ty: &str) -> bool {
    condition(job, ty)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

/// Whether the Job has finished (Complete or Failed).
pub fn is_finished(job: &Value) -> bool {
    has(job, "Complete") || has(job, "Failed")
}

/// When the Job finished: the transition time of its Complete or Failed condition.
pub fn finished_at(job: &Value) -> Option<OffsetDateTime> {
    ["Complete", "Failed"]
        .iter()
        .filter(|t| has(job, t))
        .filter_map(|t| condition(job, t)?.get("lastTransitionTime")?.as_str())
        .find_map(parse_time)
}

/// Sets condition `ty` in `conditions` (keeping its transition time when its status does not
/// change).
pub fn set(conditions: &mut Vec<Value>, ty: &str, status: bool, reason: &str, message: &str) {
    let status = if status { "True" } else { "False" };
    let now = meta::now();
    match conditions
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
    {
        Some(c) => {
            if c.get("status").and_then(Value::as_str) != Some(status) {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
            c["lastProbeTime"] = json!(now);
        }
        None => conditions.push(json!({
            "type": ty, "status": status, "reason": reason, "message": message,
            "lastProbeTime": now, "lastTransitionTime": now,
        })),
    }
}

/// Adds the conditions of an outcome: the interim condition first (the API refuses Complete
/// without SuccessCriteriaMet and Failed without FailureTarget), then the terminal one.
pub fn finish(conditions: &mut Vec<Value>, outcome: &Outcome) {
    match outcome {
        Outcome::Complete => {
            let message = "Reached expected number of succeeded pods";
            set(
                conditions,
                "SuccessCriteriaMet",
                true,
                "CompletionsReached",
                message,
            );
            set(conditions, "Complete", true, "CompletionsReached", message);
        }
        Outcome::Failed(reason, message) => {
            set(conditions, "FailureTarget", true, reason, message);
            set(conditions, "Failed", true, reason, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_conditions_follow_their_interim_ones() {
        let mut c = Vec::new();
        finish(
            &mut c,
            &Outcome::Failed("BackoffLimitExceeded", "limit".into()),
        );
        let types: Vec<_> = c.iter().map(|c| c["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["FailureTarget", "Failed"]);
        let job = json!({"status": {"conditions": c}});
        assert!(is_finished(&job) && has(&job, "Failed") && !has(&job, "Complete"));
        assert!(finished_at(&job).is_some());
    }

    #[test]
    fn a_transition_keeps_its_time_until_the_status_changes() {
        let mut c = vec![
            json!({"type": "Suspended", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}),
        ];
        set(&mut c, "Suspended", true, "JobSuspended", "Job suspended");
        assert_eq!(c[0]["lastTransitionTime"], "2024-01-01T00:00:00Z");
        set(&mut c, "Suspended", false, "JobResumed", "Job resumed");
        assert_ne!(c[0]["lastTransitionTime"], "2024-01-01T00:00:00Z");
        assert_eq!(c[0]["status"], "False");
    }
}
