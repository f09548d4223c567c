//! The back-off between a Job's failed pods and their replacements: 10 s after the first
//! failure, doubling with each further failure, at most 6 minutes, counted from when the last
//! pod failed.

use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;

use crate::api::meta;
use crate::controllers::pod_state::parse_time;

/// The delay after the first failure.
pub const FIRST: Duration = Duration::from_secs(10);
/// The longest delay.
pub const MAX: Duration = Duration::from_secs(360);

/// The delay before a new pod after `failures` failures.
pub fn delay(failures: u64) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    FIRST
        .saturating_mul(1u32 << (failures - 1).min(16))
        .min(MAX)
}

/// When a finished pod finished: its containers' latest `finishedAt`, else when it was created.
pub fn finished_at(pod: &Value) -> Option<OffsetDateTime> {
    let statuses = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|f| {
            pod.pointer(&format!("/status/{f}"))
                .and_then(Value::as_array)
        })
        .flatten();
    statuses
        .filter_map(|c| {
            c.pointer("/state/terminated/finishedAt")
                .and_then(Value::as_str)
        })
        .filter_map(parse_time)
        .max()
        .or_else(|| meta::meta_str(pod, "creationTimestamp").and_then(parse_time))
}

/// How long to wait before creating pods again, given the failures so far and the failed
/// pods: `None` when creating now is fine.
pub fn remaining(failures: u64, failed_pods: &[&Value], now: OffsetDateTime) -> Option<Duration> {
    let last = failed_pods.iter().filter_map(|p| finished_at(p)).max()?;
    let due = last + delay(failures);
    (due > now).then(|| (due - now).try_into().unwrap_or(MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn doubles_up_to_six_minutes() {
        assert_eq!(delay(0), Duration::ZERO);
        assert_eq!(delay(1), Duration::from_secs(10));
        assert_eq!(delay(3), Duration::from_secs(40));
        assert_eq!(delay(7), MAX);
        assert_eq!(delay(60), MAX);
    }

    #[test]
    fn waits_from_the_last_failure() {
        let pod = |t: &str| json!({"status": {"containerStatuses": [{"state": {"terminated": {"finishedAt": t}}}]}});
        let (a, b) = (pod("2024-01-01T00:00:00Z"), pod("2024-01-01T00:00:05Z"));
        let now = parse_time("2024-01-01T00:00:20Z").unwrap();
        // Two failures: 20 s after the later one, so 5 s to go.
        assert_eq!(remaining(2, &[&a, &b], now), Some(Duration::from_secs(5)));
        assert_eq!(remaining(1, &[&a, &b], now), None);
        assert_eq!(remaining(1, &[], now), None);
    }
}
