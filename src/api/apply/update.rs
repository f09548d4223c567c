//! What a write that is not an apply (create, PUT, JSON, merge or strategic merge patch, a
//! subresource write) does to `managedFields`, as kube-apiserver does it: the fields the write
//! changed (all the fields it sets, on create) become the writer's (operation `Update`) and
//! are taken from everybody else; fields it removed are nobody's any more.
//!
//! A client may write `managedFields` itself (kubectl does, to move client-side apply
//! ownership to server-side apply); `[{}]` clears them. An object that has no
//! `managedFields` after its creation stays untracked until someone applies to it.

use serde_json::{Value, json};

use super::compare::compare;
use super::managers::{self, Decoded, Entry, Managers};
use super::shape::Shape;
use super::timestamp;
use super::tracked::Scope;

/// Returns `new` with the `managedFields` a write by `manager` leaves, the write taking `old`
/// (`None` on create) to `new`. `operation` is `Update`; `subresource` the subresource
/// written, if any; `schema` the kind's schema; `now` the time (RFC 3339).
pub fn record_update(
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    operation: &str,
    subresource: Option<&str>,
    schema: Option<usize>,
    now: &str,
) -> Value {
    let mut out = new.clone();
    let given = match subresource {
        None => Managers::decode(new),
        Some(_) => Decoded::Absent,
    };
    let mut entries = match given {
        Decoded::Reset => {
            managers::strip(&mut out);
            return out;
        }
        Decoded::Entries {
            managers,
            invalid: false,
        } if !managers.is_empty() => managers,
        _ => old.map(Managers::of).unwrap_or_default(),
    };
    managers::strip(&mut out);
    if entries.is_empty() && old.is_some() {
        return out;
    }

    let shape = Shape::root(schema);
    let scope = Scope::of(schema, subresource);
    let mut old_obj = old.cloned().unwrap_or_else(|| json!({}));
    managers::strip(&mut old_obj);
    let Ok(comparison) = compare(&old_obj, &out, shape) else {
        return out;
    };
    let comparison = comparison.map(|s| scope.owned(s));
    let changed = comparison.changed();

    for e in &mut entries.0 {
        e.set = e.set.difference(&comparison.removed).difference(&changed);
    }
    if !changed.is_empty() {
        let writer = Entry {
            manager: manager.to_string(),
            operation: operation.to_string(),
            api_version: new
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            subresource: subresource.unwrap_or_default().to_string(),
            time: Some(timestamp::normalize(now)),
            set: changed,
        };
        match entries.position(&writer) {
            Some(i) => {
                entries.0[i].set.union_with(&writer.set);
                entries.0[i].time = writer.time;
            }
            None => entries.0.push(writer),
        }
    }
    entries.drop_empty();
    entries.cap_updates();
    entries.store(&mut out);
    out
}
