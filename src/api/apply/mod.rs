//! Server-side apply: field ownership (managedFields), conflicts between managers, and removal of fields a manager stops applying.
//!
//! Pure functions over JSON objects, as kube-apiserver's field manager behaves:
//!
//! - [`apply`] / [`apply_subresource`]: a `PATCH` with `application/apply-patch+yaml` (creates
//!   the object when there is none);
//! - [`record_update`]: what any other write (create, PUT, JSON/merge/strategic patch,
//!   subresource writes) does to `managedFields`;
//! - [`manager_from_user_agent`]: the manager of a write that names none;
//! - [`FieldSet`] and [`fields_v1`]: field paths and their `fieldsV1` encoding.
//!
//! How the API layer uses it:
//!
//! - apply patch: `apply(live.as_ref(), &config, field_manager, force, resource.schema, now)`;
//!   `None` for a missing object means create (answer 201). Check preconditions (a
//!   `resourceVersion` in the configuration) and set uid, resourceVersion, generation and
//!   defaults on the result as for any write; the result keeps the live object's values.
//!   A non-apply patch with `force` is the caller's 422.
//! - every other write: `record_update(old.as_ref(), &new, manager, "Update", subresource,
//!   resource.schema, now)` on the object about to be stored, after defaulting (the real
//!   server records defaulted fields as the writer's). `manager` is `?fieldManager=` or
//!   [`manager_from_user_agent`]; check it with [`validate_field_manager`].
//!
//! Lists follow the schema as structured-merge-diff reads it: `x-kubernetes-list-type: map`
//! lists and patch-merge lists with a merge key are associative by key, `set` lists (and
//! patch-merge lists of scalars) are sets, other lists are atomic; maps are granular unless
//! `x-kubernetes-map-type: atomic`; values of unknown type are atomic.

mod applied_fields;
mod compare;
mod conflict;
mod error;
mod field_set;
pub mod fields_v1;
mod go_json;
mod last_applied;
mod list_item;
mod managers;
mod merge;
mod path;
mod prune;
mod schema_facts;
mod server_side;
mod shape;
mod timestamp;
mod tracked;
mod update;
mod user_agent;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use conflict::Conflict;
pub use error::ApplyError;
pub use field_set::FieldSet;
pub use last_applied::LAST_APPLIED_ANNOTATION;
pub use path::{Path, PathElement};
pub use server_side::{apply, apply_subresource, validate_field_manager};
pub use update::record_update;
pub use user_agent::manager_from_user_agent;

/// The fields an applied configuration sets (what its manager owns after applying it), for
/// the kind with this schema. Fails (422) on a list item without its key or duplicate keys.
pub fn applied_field_set(config: &Value, schema: Option<usize>) -> Result<FieldSet, ApplyError> {
    applied_fields::applied_fields(config, shape::Shape::root(schema)).map_err(ApplyError::Invalid)
}

/// The fields an object sets as its creator comes to own them (a create recorded by
/// [`record_update`]), before server-set metadata and separate status are left out.
pub fn object_field_set(object: &Value, schema: Option<usize>) -> Result<FieldSet, ApplyError> {
    let empty = Value::Object(Default::default());
    compare::compare(&empty, object, shape::Shape::root(schema))
        .map(|c| c.changed())
        .map_err(ApplyError::Invalid)
}
