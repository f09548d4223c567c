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

/// Estimated bytes of memory a JSON value tree occupies: the value itself
/// plus everything it allocates.
pub(crate) fn value_size(value: &Value) -> usize {
    size_of::<Value>() + heap_size(value)
}

/// What one allocation costs beyond its payload (allocator bookkeeping).
const ALLOCATION: usize = 16;

/// Bytes a value allocates. Maps are `BTreeMap`s, whose nodes hold eleven
/// entries however few are used: a small map costs about 650 bytes, which is
/// what dominates a Kubernetes object's in-memory size (about 4 KiB for a
/// 300-byte ConfigMap).
fn heap_size(value: &Value) -> usize {
    const BTREE_NODE: usize =
        ALLOCATION + 16 + 11 * (size_of::<String>() + size_of::<Value>()) + 12 * 8;
    let string = |s: &String| {
        if s.capacity() == 0 {
            0
        } else {
            ALLOCATION + s.capacity()
        }
    };
    match value {
        Value::String(s) => string(s),
        Value::Array(items) if items.capacity() == 0 => 0,
        Value::Array(items) => {
            ALLOCATION
                + items.capacity() * size_of::<Value>()
                + items.iter().map(heap_size).sum::<usize>()
        }
        Value::Object(map) => {
            map.len().div_ceil(11) * BTREE_NODE
                + map
                    .iter()
                    .map(|(k, v)| string(k) + heap_size(v))
                    .sum::<usize>()
        }
        _ => 0,
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
        assert!(
            (1000..2000).contains(&value_size(&small)),
            "{}",
            value_size(&small)
        );
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
