//! Kubernetes Events about objects, as the components of a cluster record them (`kubectl
//! describe` and `kubectl events` show them). A repeat of the same event about the same object
//! bumps its `count` and `lastTimestamp` instead of adding an object, as a cluster's event
//! recorder does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::api::meta;
use crate::client::{Client, path};

/// How many distinct recent events are remembered for counting repeats.
const REMEMBERED: usize = 512;

/// What identifies a repeat: the object's uid, the type, the reason and the message.
type RepeatKey = (String, EventType, String, String);
/// Where the first event of a repeat was written, and its count: namespace, name, count.
type Written = (String, String, u64);

/// `Normal` or `Warning`, the two event types Kubernetes has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something went wrong.
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Records Events for one component (`kubelet`, `deployment-controller`, ...).
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: String,
    host: String,
    /// (object uid, type, reason, message) → (event namespace, event name, count).
    recent: Arc<Mutex<HashMap<RepeatKey, Written>>>,
}

impl Recorder {
    /// A recorder writing through `client` as `component`, on node `host`.
    pub fn new(client: Client, component: &str, host: &str) -> Recorder {
        Recorder {
            client,
            component: component.to_string(),
            host: host.to_string(),
            recent: Arc::default(),
        }
    }

    /// Records an event about `object` (any stored object with apiVersion, kind and metadata).
    /// `field_path` names a part of it (`spec.containers{web}`). Failures are logged, never
    /// returned: an event that cannot be written must not stop the work it describes.
    pub async fn record(
        &self,
        object: &Value,
        field_path: Option<&str>,
        kind: EventType,
        reason: &str,
        message: &str,
    ) {
        let uid = meta::meta_str(object, "uid")
            .unwrap_or_default()
            .to_string();
        let ns = meta::meta_str(object, "namespace")
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
            .to_string();
        let key = (uid.clone(), kind, reason.to_string(), message.to_string());
        let now = meta::now();
        let repeat = self.recent.lock().expect("events lock").get(&key).cloned();
        if let Some((ens, existing, count)) = repeat {
            let patch = json!({"count": count + 1, "lastTimestamp": now});
            let p = path("v1", "events", Some(&ens), Some(&existing), None);
            if self.client.merge_patch(&p, &patch).await.is_ok() {
                self.remember(key, (ens, existing, count + 1));
                return;
            }
        }
        let object_name = meta::meta_str(object, "name").unwrap_or_default();
        let event_name = format!("{object_name}.{:x}", unique_suffix());
        let mut involved = json!({
            "apiVersion": object.get("apiVersion").cloned().unwrap_or(json!("v1")),
            "kind": object.get("kind").cloned().unwrap_or(json!("")),
            "name": object_name,
            "uid": uid,
        });
        if let Some(n) = meta::meta_str(object, "namespace").filter(|n| !n.is_empty()) {
            involved["namespace"] = json!(n);
        }
        if let Some(rv) = meta::meta_str(object, "resourceVersion") {
            involved["resourceVersion"] = json!(rv);
        }
        if let Some(f) = field_path {
            involved["fieldPath"] = json!(f);
        }
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": event_name, "namespace": ns},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": {"component": self.component, "host": self.host},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": kind.as_str(),
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        });
        match self
            .client
            .create(&path("v1", "events", Some(&ns), None, None), &event)
            .await
        {
            Ok(_) => self.remember(key, (ns, event_name, 1)),
            Err(e) => tracing::debug!("recording event {reason} about {object_name}: {e}"),
        }
    }

    fn remember(&self, key: (String, EventType, String, String), value: (String, String, u64)) {
        let mut recent = self.recent.lock().expect("events lock");
        if recent.len() >= REMEMBERED && !recent.contains_key(&key) {
            recent.clear();
        }
        recent.insert(key, value);
    }
}

/// A suffix that makes event names unique: nanoseconds since the epoch, as a cluster's
/// recorder names them.
fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}
