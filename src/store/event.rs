//! Change events, as the watch hub publishes them.

use std::mem::size_of;
use std::sync::Arc;

use serde_json::Value;

use super::key::ObjectKey;

/// What a write did to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The object was created.
    Added,
    /// The object was replaced.
    Modified,
    /// The object was deleted.
    Deleted,
}

impl EventKind {
    /// The watch event type as Kubernetes spells it (`ADDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One successful write. Cloning is cheap (two reference counts).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The revision of the write; also the object's `metadata.resourceVersion`.
    pub revision: u64,
    /// Which object.
    pub key: Arc<ObjectKey>,
    /// The object as stored; for [`EventKind::Deleted`], its last state with
    /// the deletion's revision as resourceVersion.
    pub object: Arc<Value>,
}

impl Event {
    /// Estimated bytes of memory this event keeps alive.
    pub(crate) fn memory_size(&self) -> usize {
        size_of::<Event>()
            + size_of::<ObjectKey>()
            + self.key.heap_size()
            + value_size(&self.object)
            + 32
    }
}

/// Estimated heap plus inline bytes of a JSON value tree.
pub(crate) fn value_size(value: &Value) -> usize {
    const NODE: usize = size_of::<Value>();
    // A map entry: the key string, the value, and a share of the tree node.
    const ENTRY: usize = size_of::<String>() + 16;
    match value {
        Value::String(s) => NODE + s.capacity(),
        Value::Array(items) => {
            NODE + (items.capacity() - items.len()) * NODE
                + items.iter().map(value_size).sum::<usize>()
        }
        Value::Object(map) => {
            NODE + map
                .iter()
                .map(|(k, v)| ENTRY + k.capacity() + value_size(v))
                .sum::<usize>()
        }
        _ => NODE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn size_estimate_grows_with_content() {
        let small = json!({"metadata": {"name": "a"}});
        let big = json!({"metadata": {"name": "a"}, "data": {"k": "x".repeat(10_000)}});
        assert!(value_size(&small) < 300);
        assert!(value_size(&big) > 10_000);
        assert!(value_size(&big) > serde_json::to_vec(&big).unwrap().len());
    }

    #[test]
    fn kinds_are_spelled_as_in_kubernetes() {
        assert_eq!(EventKind::Added.as_str(), "ADDED");
        assert_eq!(EventKind::Modified.as_str(), "MODIFIED");
        assert_eq!(EventKind::Deleted.as_str(), "DELETED");
    }
}
