//! Events expire, as on a real cluster: kube-apiserver keeps each Event for `--event-ttl`
//! (default 1 h) after its last write and then drops it, so that a busy cluster's Events do
//! not pile up forever. k2d does the same with `--event-ttl`: one task follows the Events of
//! both APIs (`v1` and `events.k8s.io/v1`), keeps when each is due, sleeps until the next one
//! and deletes what is due through the API, so watchers see a DELETED event as they would on a
//! cluster. With no Events stored it sleeps without a deadline (no CPU while idle).
//!
//! An Event's last write is the newest of its timestamps (`metadata.managedFields[].time`,
//! `lastTimestamp`/`deprecatedLastTimestamp`, `eventTime`, `series.lastObservedTime`,
//! `metadata.creationTimestamp`), never later than now. So a restart of k2d does not give old
//! Events a new hour.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{pod_state, wakeups};
use crate::api::meta;
use crate::client::{Client, path};
use crate::store::EventKind;

/// How long an Event is kept after its last write when `--event-ttl` is not given (the
/// kube-apiserver default).
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// The two APIs Events are served under: (group, version).
const EVENT_APIS: [(&str, &str); 2] = [("", "v1"), ("events.k8s.io", "events.k8s.io/v1")];

/// One stored Event: its API (an index into [`EVENT_APIS`]), namespace and name.
type EventKey = (usize, String, String);

/// What the followers tell the expiry task.
enum Change {
    /// The Event was written: due at this Unix second, with this resourceVersion.
    Written(EventKey, i64, String),
    /// The Event is gone.
    Deleted(EventKey),
}

/// When each known Event is due, in due order.
#[derive(Default)]
struct Schedule {
    /// (due second, key), the earliest first.
    by_time: BTreeSet<(i64, EventKey)>,
    /// key → (due second, resourceVersion at that time).
    by_key: HashMap<EventKey, (i64, String)>,
}

impl Schedule {
    fn apply(&mut self, change: Change) {
        match change {
            Change::Written(key, due, rv) => {
                self.forget(&key);
                self.by_time.insert((due, key.clone()));
                self.by_key.insert(key, (due, rv));
            }
            Change::Deleted(key) => self.forget(&key),
        }
    }

    fn forget(&mut self, key: &EventKey) {
        if let Some((due, _)) = self.by_key.remove(key) {
            self.by_time.remove(&(due, key.clone()));
        }
    }

    /// The earliest due second, if any Event is known.
    fn next(&self) -> Option<i64> {
        self.by_time.first().map(|(due, _)| *due)
    }

    /// Takes every Event due at or before `now`, with its resourceVersion.
    fn take_due(&mut self, now: i64) -> Vec<(EventKey, String)> {
        let mut due = Vec::new();
        while let Some((at, key)) = self.by_time.first().cloned() {
            if at > now {
                break;
            }
            self.by_time.pop_first();
            if let Some((_, rv)) = self.by_key.remove(&key) {
                due.push((key, rv));
            }
        }
        due
    }
}

/// Starts expiring Events `ttl` after their last write.
pub fn start(client: Client, ttl: Duration) {
    let (tx, rx) = mpsc::unbounded_channel();
    let store = client.ctx().store.clone();
    for (api, (group, _)) in EVENT_APIS.iter().enumerate() {
        let tx = tx.clone();
        tokio::spawn(wakeups::follow(
            store.clone(),
            group,
            "events",
            move |kind, obj| {
                if let Some(change) = change_of(api, kind, &obj, ttl, unix_now()) {
                    // The receiver lives as long as the process.
                    let _ = tx.send(change);
                }
                std::future::ready(())
            },
        ));
    }
    tokio::spawn(expire(client, rx));
}

/// What a stored change of an Event means for its expiry.
fn change_of(api: usize, kind: EventKind, obj: &Value, ttl: Duration, now: i64) -> Option<Change> {
    let key = (
        api,
        meta::meta_str(obj, "namespace")?.to_string(),
        meta::meta_str(obj, "name")?.to_string(),
    );
    if kind == EventKind::Deleted {
        return Some(Change::Deleted(key));
    }
    let rv = meta::meta_str(obj, "resourceVersion")?.to_string();
    let written = last_write(obj).unwrap_or(now).min(now);
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    Some(Change::Written(key, written.saturating_add(ttl), rv))
}

/// The newest timestamp an Event carries, in Unix seconds.
fn last_write(obj: &Value) -> Option<i64> {
    let managed = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("time"));
    let own = [
        "/lastTimestamp",
        "/deprecatedLastTimestamp",
        "/eventTime",
        "/series/lastObservedTime",
        "/metadata/creationTimestamp",
    ]
    .into_iter()
    .filter_map(|p| obj.pointer(p));
    managed
        .chain(own)
        .filter_map(Value::as_str)
        .filter_map(unix_seconds)
        .max()
}

/// Seconds since the Unix epoch of a `metav1.Time` or `MicroTime` (Events carry both).
fn unix_seconds(s: &str) -> Option<i64> {
    pod_state::parse_time(s).map(|t| t.unix_timestamp())
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Keeps the schedule and deletes Events when they are due.
async fn expire(client: Client, mut changes: mpsc::UnboundedReceiver<Change>) {
    let mut schedule = Schedule::default();
    loop {
        let next = schedule.next();
        let wait = next.map_or(Duration::MAX, |due| {
            Duration::from_secs(u64::try_from(due.saturating_sub(unix_now())).unwrap_or(0))
        });
        tokio::select! {
            change = changes.recv() => match change {
                Some(change) => schedule.apply(change),
                None => return,
            },
            _ = tokio::time::sleep(wait), if next.is_some() => {
                for ((api, namespace, name), rv) in schedule.take_due(unix_now()) {
                    let (_, version) = EVENT_APIS[api];
                    let p = path(version, "events", Some(&namespace), Some(&name), None);
                    // Only the write it was scheduled for: a newer one is scheduled anew by
                    // its own change, and the precondition then refuses this delete.
                    let options = json!({"preconditions": {"resourceVersion": rv}});
                    match client.delete(&p, &options).await {
                        Ok(_) => {}
                        Err(e) if e.code == 409 => {}
                        Err(e) => tracing::warn!("expiring event {namespace}/{name}: {e}"),
                    }
                }
            }
        }
    }
}

/// Parses a `--event-ttl` value: a duration such as `1h`, `30m`, `90s` or `1h30m`, at least a
/// second.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e}"))?;
    if d < Duration::from_secs(1) {
        return Err(format!("{s:?}: at least 1s"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(rv: &str, last: &str) -> Value {
        json!({"metadata": {"namespace": "ns", "name": "e", "resourceVersion": rv,
            "creationTimestamp": "2026-11-21T10:00:00Z",
            "managedFields": [{"manager": "m", "time": "2026-11-21T10:00:05Z"}]},
            "lastTimestamp": last})
    }

    fn at(s: &str) -> i64 {
        unix_seconds(s).unwrap()
    }

    /// When the change makes the Event due, and the resourceVersion it keeps.
    fn due(api: usize, kind: EventKind, obj: &Value, ttl: Duration, now: i64) -> (i64, String) {
        match change_of(api, kind, obj, ttl, now) {
            Some(Change::Written(_, due, rv)) => (due, rv),
            _ => panic!("not written: {obj}"),
        }
    }

    #[test]
    fn an_event_is_due_a_ttl_after_its_newest_timestamp_never_after_now_plus_ttl() {
        let ttl = Duration::from_secs(60);
        let now = at("2026-11-21T12:00:00Z");
        let written = due(
            0,
            EventKind::Added,
            &event("7", "2026-11-21T10:30:00Z"),
            ttl,
            now,
        );
        assert_eq!(written, (at("2026-11-21T10:31:00Z"), "7".to_string()));
        // A timestamp in the future does not keep it longer.
        let future = event("8", "2030-01-01T00:00:00Z");
        assert_eq!(due(0, EventKind::Modified, &future, ttl, now).0, now + 60);
        // The events.k8s.io names and micro-second times count too.
        let v1 = json!({"metadata": {"namespace": "ns", "name": "e", "resourceVersion": "9"},
            "eventTime": "2026-11-21T11:00:00.123456Z",
            "series": {"count": 2, "lastObservedTime": "2026-11-21T11:10:00.000001Z"}});
        assert_eq!(
            due(1, EventKind::Added, &v1, ttl, now).0,
            at("2026-11-21T11:11:00Z")
        );
    }

    #[test]
    fn the_schedule_gives_due_events_once_in_order_and_follows_rewrites() {
        let key = |n: &str| (0, "ns".to_string(), n.to_string());
        let mut s = Schedule::default();
        s.apply(Change::Written(key("b"), 20, "2".into()));
        s.apply(Change::Written(key("a"), 10, "1".into()));
        s.apply(Change::Written(key("c"), 30, "3".into()));
        // Rewritten later: due later, with the new resourceVersion.
        s.apply(Change::Written(key("a"), 25, "4".into()));
        s.apply(Change::Deleted(key("c")));
        assert_eq!(s.next(), Some(20));
        assert_eq!(s.take_due(19), vec![]);
        assert_eq!(
            s.take_due(25),
            vec![(key("b"), "2".to_string()), (key("a"), "4".to_string())]
        );
        assert_eq!(s.next(), None);
        assert!(s.by_key.is_empty());
    }

    #[test]
    fn ttls_parse_as_durations_of_a_second_or_more() {
        assert_eq!(parse_ttl("1h"), Ok(DEFAULT_TTL));
        assert_eq!(parse_ttl("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("soon").is_err());
    }
}
