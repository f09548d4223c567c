//! `metadata.managedFields`: one entry per manager, operation and subresource (and API version,
//! for `Update` entries), each with the set of fields it owns.
//!
//! Written as the real server writes them: entries that own nothing are dropped, `Apply`
//! entries come first, then by time, manager, API version and subresource; at most ten
//! `Update` entries are kept, the oldest being folded into `ancient-changes`.

use serde_json::{Map, Value, json};

use super::field_set::FieldSet;
use super::fields_v1;
use super::timestamp;

/// The operation of an entry that records server-side applies.
pub const APPLY: &str = "Apply";
/// The operation of an entry that records other writes.
pub const UPDATE: &str = "Update";
/// Update entries kept before the oldest are folded together.
const MAX_UPDATE_ENTRIES: usize = 10;
/// The manager the oldest Update entries are folded into.
const ANCIENT_CHANGES: &str = "ancient-changes";

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `manager`.
    pub manager: String,
    /// `operation`: `Apply` or `Update`.
    pub operation: String,
    /// `apiVersion` of the write.
    pub api_version: String,
    /// `subresource`, empty for the object itself.
    pub subresource: String,
    /// `time`, when known.
    pub time: Option<String>,
    /// `fieldsV1`.
    pub set: FieldSet,
}

impl Entry {
    /// `true` when `other` records the same writer: same manager, operation and subresource,
    /// and for Update entries the same API version (Apply entries keep one entry across
    /// versions).
    pub fn same_writer(&self, other: &Entry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == APPLY || self.api_version == other.api_version)
    }

    fn seconds(&self) -> i64 {
        self.time
            .as_deref()
            .and_then(timestamp::unix_seconds)
            .unwrap_or(0)
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("apiVersion".into(), json!(self.api_version));
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), fields_v1::to_value(&self.set));
        if !self.manager.is_empty() {
            m.insert("manager".into(), json!(self.manager));
        }
        m.insert("operation".into(), json!(self.operation));
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), json!(self.subresource));
        }
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Option<Entry> {
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let operation = s("operation");
        if operation != APPLY && operation != UPDATE {
            return None;
        }
        if s("fieldsType") != "FieldsV1" || s("apiVersion").is_empty() {
            return None;
        }
        let set = match v.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(f) => fields_v1::from_value(f).ok()?,
        };
        Some(Entry {
            manager: s("manager"),
            operation,
            api_version: s("apiVersion"),
            subresource: s("subresource"),
            time: v.get("time").and_then(Value::as_str).map(str::to_string),
            set,
        })
    }
}

/// The entries of one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Managers(pub Vec<Entry>);

/// How a `managedFields` list reads.
pub enum Decoded {
    /// Absent or `null`.
    Absent,
    /// `[{}]`: the client asks for the list to be cleared.
    Reset,
    /// Entries (some may be invalid).
    Entries {
        /// The valid entries.
        managers: Managers,
        /// Some entries could not be read.
        invalid: bool,
    },
}

impl Managers {
    /// Reads `metadata.managedFields` of an object.
    pub fn decode(object: &Value) -> Decoded {
        let list = match object.pointer("/metadata/managedFields") {
            None | Some(Value::Null) => return Decoded::Absent,
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Decoded::Entries {
                    managers: Managers::default(),
                    invalid: true,
                };
            }
        };
        if let [Value::Object(only)] = list.as_slice()
            && only.is_empty()
        {
            return Decoded::Reset;
        }
        let mut managers = Managers::default();
        let mut invalid = false;
        for v in list {
            match Entry::from_json(v) {
                Some(e) => managers.merge_entry(e),
                None => invalid = true,
            }
        }
        Decoded::Entries { managers, invalid }
    }

    /// The valid entries of an object, ignoring the rest.
    pub fn of(object: &Value) -> Managers {
        match Managers::decode(object) {
            Decoded::Entries { managers, .. } => managers,
            _ => Managers::default(),
        }
    }

    /// Adds an entry, merging it with an entry of the same writer.
    fn merge_entry(&mut self, e: Entry) {
        match self.0.iter_mut().find(|x| x.same_writer(&e)) {
            Some(x) => {
                x.set.union_with(&e.set);
                if e.seconds() > x.seconds() {
                    x.time = e.time;
                }
            }
            None => self.0.push(e),
        }
    }

    /// `true` when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The index of the entry of this writer.
    pub fn position(&self, writer: &Entry) -> Option<usize> {
        self.0.iter().position(|e| e.same_writer(writer))
    }

    /// Every path some entry owns.
    pub fn all_owned(&self) -> FieldSet {
        let mut out = FieldSet::new();
        for e in &self.0 {
            out.union_with(&e.set);
        }
        out
    }

    /// Drops entries that own nothing.
    pub fn drop_empty(&mut self) {
        self.0.retain(|e| !e.set.is_empty());
    }

    /// Folds the oldest Update entries into `ancient-changes` until at most ten remain.
    pub fn cap_updates(&mut self) {
        loop {
            let mut updates: Vec<usize> = (0..self.0.len())
                .filter(|i| self.0[*i].operation == UPDATE)
                .collect();
            if updates.len() <= MAX_UPDATE_ENTRIES {
                return;
            }
            updates.retain(|i| self.0[*i].manager != ANCIENT_CHANGES);
            let Some(&oldest) = updates
                .iter()
                .min_by_key(|i| (self.0[**i].seconds(), self.0[**i].manager.clone()))
            else {
                return;
            };
            let e = self.0.remove(oldest);
            self.merge_entry(Entry {
                manager: ANCIENT_CHANGES.into(),
                operation: UPDATE.into(),
                subresource: String::new(),
                ..e
            });
        }
    }

    /// The `managedFields` list, sorted as the real server sorts it.
    pub fn encode(&self) -> Value {
        let mut entries: Vec<&Entry> = self.0.iter().filter(|e| !e.set.is_empty()).collect();
        entries.sort_by(|a, b| {
            (
                a.operation.as_str(),
                a.seconds(),
                &a.manager,
                &a.api_version,
                &a.subresource,
            )
                .cmp(&(
                    b.operation.as_str(),
                    b.seconds(),
                    &b.manager,
                    &b.api_version,
                    &b.subresource,
                ))
        });
        Value::Array(entries.into_iter().map(Entry::to_json).collect())
    }

    /// Writes the list into `object.metadata` (removing it when there is no entry).
    pub fn store(&self, object: &mut Value) {
        let list = self.encode();
        let Some(obj) = object.as_object_mut() else {
            return;
        };
        let empty = list.as_array().is_none_or(Vec::is_empty);
        let meta = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(meta) = meta.as_object_mut() else {
            return;
        };
        if empty {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), list);
        }
    }
}

/// Removes `metadata.managedFields` from an object.
pub fn strip(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apply::path::Path;

    fn entry(manager: &str, op: &str, time: &str, field: &str) -> Entry {
        Entry {
            manager: manager.into(),
            operation: op.into(),
            api_version: "apps/v1".into(),
            subresource: String::new(),
            time: Some(time.into()),
            set: [Path::fields(&["spec", field])].into_iter().collect(),
        }
    }

    #[test]
    fn round_trips_and_sorts_apply_first() {
        let m = Managers(vec![
            entry("b", UPDATE, "2026-01-01T00:00:00Z", "x"),
            entry("a", UPDATE, "2026-01-02T00:00:00Z", "y"),
            entry("z", APPLY, "2026-01-03T00:00:00Z", "z"),
        ]);
        let list = m.encode();
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["z", "b", "a"]);
        let mut obj = json!({"metadata": {}});
        m.store(&mut obj);
        let back = Managers::of(&obj);
        assert_eq!(back.0.len(), 3);
        assert!(back.0.iter().any(|e| e == &m.0[0]));
    }

    #[test]
    fn reads_a_reset_and_skips_invalid_entries() {
        let reset = json!({"metadata": {"managedFields": [{}]}});
        assert!(matches!(Managers::decode(&reset), Decoded::Reset));
        let bad = json!({"metadata": {"managedFields": [{"manager": "x", "operation": "Nope"}]}});
        assert!(matches!(
            Managers::decode(&bad),
            Decoded::Entries { invalid: true, .. }
        ));
        assert!(matches!(Managers::decode(&json!({})), Decoded::Absent));
    }

    #[test]
    fn folds_old_update_entries() {
        let mut m = Managers(
            (0..12)
                .map(|i| {
                    entry(
                        &format!("m{i:02}"),
                        UPDATE,
                        &format!("2026-01-{:02}T00:00:00Z", i + 1),
                        &format!("f{i}"),
                    )
                })
                .collect(),
        );
        m.cap_updates();
        assert_eq!(m.0.len(), 10);
        let ancient = m.0.iter().find(|e| e.manager == ANCIENT_CHANGES).unwrap();
        assert_eq!(ancient.set.len(), 3);
        assert!(!m.0.iter().any(|e| e.manager == "m00"));
    }
}
