//! The finished Jobs a CronJob keeps: the newest `successfulJobsHistoryLimit` that completed
//! and `failedJobsHistoryLimit` that failed; older ones are deleted.

use serde_json::Value;

use crate::api::meta;
use crate::controllers::job::status;

fn finished_key(job: &Value) -> (Option<time::OffsetDateTime>, String) {
    (
        status::finished_at(job),
        meta::meta_str(job, "creationTimestamp")
            .unwrap_or_default()
            .to_string(),
    )
}

/// The Jobs to delete among `jobs` (those a CronJob controls), oldest first.
pub fn excess<'a>(cronjob: &Value, jobs: &'a [Value]) -> Vec<&'a Value> {
    let limit = |field: &str, default: u64| {
        cronjob
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_u64)
            .unwrap_or(default) as usize
    };
    let mut out = Vec::new();
    for (condition, keep) in [
        ("Complete", limit("successfulJobsHistoryLimit", 3)),
        ("Failed", limit("failedJobsHistoryLimit", 1)),
    ] {
        let mut done: Vec<&Value> = jobs
            .iter()
            .filter(|j| status::has(j, condition) && !meta::is_deleting(j))
            .collect();
        done.sort_by_key(|j| finished_key(j));
        let extra = done.len().saturating_sub(keep);
        out.extend(done.into_iter().take(extra));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(name: &str, condition: &str, at: &str) -> Value {
        json!({"metadata": {"name": name, "creationTimestamp": at},
            "status": {"conditions": [{"type": condition, "status": "True", "lastTransitionTime": at}]}})
    }

    #[test]
    fn keeps_the_newest_of_each_kind() {
        let cj = json!({"spec": {"successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1}});
        let jobs = vec![
            job("a", "Complete", "2024-01-01T00:02:00Z"),
            job("b", "Complete", "2024-01-01T00:01:00Z"),
            job("c", "Failed", "2024-01-01T00:00:00Z"),
            job("d", "Complete", "2024-01-01T00:00:00Z"),
        ];
        let names: Vec<_> = excess(&cj, &jobs)
            .iter()
            .map(|j| meta::meta_str(j, "name").unwrap())
            .collect();
        assert_eq!(names, ["d", "b"]);
    }
}
