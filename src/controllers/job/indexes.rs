//! Completion indexes of an Indexed Job: which index a pod runs, and the compressed interval
//! form (`1,3-5,7`) of `status.completedIndexes` and `status.failedIndexes`.

use std::collections::BTreeSet;

use serde_json::Value;

/// The annotation (and label) carrying a pod's completion index.
pub const ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// The environment variable a pod of an Indexed Job reads its index from.
pub const ENV: &str = "JOB_COMPLETION_INDEX";

/// Whether the Job's `completionMode` is Indexed.
pub fn is_indexed(job: &Value) -> bool {
    job.pointer("/spec/completionMode").and_then(Value::as_str) == Some("Indexed")
}

/// The completion index of a pod, from its annotation.
pub fn of_pod(pod: &Value) -> Option<u64> {
    pod.pointer("/metadata/annotations")?
        .get(ANNOTATION)?
        .as_str()?
        .parse()
        .ok()
}

/// Parses the interval form; indexes at or past `limit` and malformed parts are dropped.
pub fn parse(s: &str, limit: u64) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u64>(), b.parse::<u64>()),
            None => (part.parse(), part.parse()),
        };
        if let (Ok(lo), Ok(hi)) = (lo, hi) {
            out.extend((lo..=hi.min(limit.saturating_sub(1))).take_while(|i| *i < limit));
        }
    }
    out
}

/// The interval form of a set of indexes (empty string for none).
pub fn format(set: &BTreeSet<u64>) -> String {
    let mut parts = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end = iter.next().expect("peeked");
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_round_trip() {
        let set: BTreeSet<u64> = [0, 1, 2, 4, 6, 7].into();
        assert_eq!(format(&set), "0-2,4,6-7");
        assert_eq!(parse("0-2,4,6-7", 10), set);
        assert_eq!(parse("1,3-9", 5), [1, 3, 4].into());
        assert_eq!(parse("x,2", 5), [2].into());
        assert_eq!(format(&BTreeSet::new()), "");
    }
}
