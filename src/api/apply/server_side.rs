//! Server-side apply (`PATCH` with `application/apply-patch+yaml`), as kube-apiserver does it:
//!
//! 1. the configuration is merged into the live object (or becomes the object when there is
//!    none);
//! 2. what this manager applied last time and no longer applies is removed, unless another
//!    manager owns it;
//! 3. a field the apply changes that another manager owns is a conflict, unless `force` (then
//!    ownership moves to this manager);
//! 4. the manager's `Apply` entry becomes exactly the set of fields the configuration sets.

use serde_json::{Map, Value, json};

use super::applied_fields::applied_fields;
use super::compare::compare;
use super::conflict::Conflict;
use super::error::ApplyError;
use super::field_set::FieldSet;
use super::last_applied::{self, KUBECTL};
use super::managers::{self, APPLY, Entry, Managers, UPDATE};
use super::merge::merge;
use super::path::Path;
use super::prune::prune;
use super::shape::Shape;
use super::timestamp;
use super::tracked::{Scope, strip_server_metadata};
use super::user_agent::{MAX_MANAGER_LEN, is_printable};
use crate::generated::SCHEMAS;

/// The manager that owns the fields of an object that had no `managedFields` when it was
/// first applied to.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// Metadata the server keeps from the live object whatever the configuration says.
const SERVER_KEPT_METADATA: &[&str] = &[
    "uid",
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

/// Applies `config` to `live` (`None`: the object does not exist and is created from `config`;
/// the API answers 201) as `manager`, at time `now` (RFC 3339), for the object of the kind
/// whose schema is `schema`. Returns the new object with its `managedFields`; resourceVersion,
/// uid and the other server-set metadata are the live object's, left to the caller.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    schema: Option<usize>,
    now: &str,
) -> Result<Value, ApplyError> {
    apply_subresource(live, config, manager, force, None, schema, now)
}

/// [`apply`] to a subresource: `Some("status")` applies (and owns) only `status`.
pub fn apply_subresource(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    subresource: Option<&str>,
    schema: Option<usize>,
    now: &str,
) -> Result<Value, ApplyError> {
    validate_field_manager(manager, true, "PatchOptions")?;
    let (api_version, kind) = check_config(live, config, schema)?;
    let shape = Shape::root(schema);
    let scope = Scope::of(schema, subresource);
    let now = timestamp::normalize(now);

    let mut live_obj = live.cloned().unwrap_or_else(|| json!({}));
    managers::strip(&mut live_obj);
    let mut entries = live.map(Managers::of).unwrap_or_default();
    if live.is_some() && entries.is_empty() {
        entries
            .0
            .extend(claim_existing(&live_obj, shape, scope, &now));
    }

    let effective = scoped_config(config, scope);
    let applied = applied_fields(&effective, shape)
        .map_err(|e| typed_error("patch", config, &api_version, &kind, e))?;
    let mut writer = Entry {
        manager: manager.to_string(),
        operation: APPLY.into(),
        api_version: api_version.clone(),
        subresource: subresource.unwrap_or_default().to_string(),
        time: None,
        set: scope.reset(&applied),
    };
    let (last, previous_time) = match entries.position(&writer) {
        Some(i) => {
            let e = entries.0.remove(i);
            (Some(e.set), e.time)
        }
        None => (None, None),
    };

    let mut merged = merge(&live_obj, &effective, shape)
        .map_err(|e| typed_error("live", &live_obj, &api_version, &kind, e))?;
    if live.is_some() {
        keep_server_metadata(&mut merged, &live_obj);
    }
    if let Some(last) = last.as_ref().filter(|l| !l.is_empty()) {
        let owned = entries.all_owned().union(&writer.set);
        prune(&mut merged, shape, last, &owned);
    }

    let comparison = compare(&live_obj, &merged, shape)
        .map_err(|e| typed_error("live", &live_obj, &api_version, &kind, e))?;
    let object_changed = !comparison.is_same();
    let comparison = comparison.map(|s| scope.reset(s));
    let changed = comparison.changed();

    let conflicts = find_conflicts(&entries, &changed);
    if !conflicts.is_empty() && !force {
        let allowed = if manager == KUBECTL {
            last_applied::allowed_conflicts(&live_obj, shape)
        } else {
            None
        };
        let refused: Vec<Conflict> = conflicts
            .iter()
            .filter(|(_, path)| !allowed.as_ref().is_some_and(|a| a.contains(&path.0)))
            .map(|(i, path)| Conflict::new(&entries.0[*i], path.to_string()))
            .collect();
        if !refused.is_empty() {
            return Err(ApplyError::Conflict(refused));
        }
    }
    for (i, path) in conflicts {
        let taken: FieldSet = [path].into_iter().collect();
        entries.0[i].set = entries.0[i].set.difference(&taken);
    }
    for e in &mut entries.0 {
        e.set = strip_server_metadata(&e.set.difference(&comparison.removed));
    }

    writer.set = strip_server_metadata(&writer.set);
    // As the real server: the time moves only when the object changes, so an apply that
    // changes nothing keeps the entry's time (and a new entry from such an apply has none).
    writer.time = if object_changed {
        Some(now)
    } else {
        previous_time
    };
    entries.0.push(writer);
    entries.drop_empty();
    entries.cap_updates();

    let mut result = merged;
    entries.store(&mut result);
    if manager == KUBECTL {
        last_applied::sync(&mut result, config);
    }
    Ok(result)
}

/// Checks a field manager name (422 when wrong): at most 128 bytes, printable, and present
/// when `required` (apply).
pub fn validate_field_manager(
    manager: &str,
    required: bool,
    options_kind: &str,
) -> Result<(), ApplyError> {
    let invalid = |detail: String| {
        ApplyError::Invalid(format!(
            "{options_kind}.meta.k8s.io \"\" is invalid: fieldManager: {detail}"
        ))
    };
    if manager.is_empty() && required {
        return Err(invalid(
            "Required value: is required for apply patch".into(),
        ));
    }
    if manager.len() > MAX_MANAGER_LEN {
        return Err(invalid(format!(
            "Too long: may not be more than {MAX_MANAGER_LEN} bytes"
        )));
    }
    if let Some((i, c)) = manager.char_indices().find(|(_, c)| !is_printable(*c)) {
        return Err(invalid(format!(
            "Invalid value: {}: invalid character U+{:04X} (at position {i})",
            crate::api::validation::field_error::go_quote(manager),
            c as u32
        )));
    }
    Ok(())
}

/// The conflicting (entry, path) pairs: paths other entries own that the apply changes.
fn find_conflicts(entries: &Managers, changed: &FieldSet) -> Vec<(usize, Path)> {
    let mut out = Vec::new();
    for (i, e) in entries.0.iter().enumerate() {
        for path in e.set.intersection(changed).paths() {
            out.push((i, path));
        }
    }
    out.sort_by(|a, b| entries.0[a.0].manager.cmp(&entries.0[b.0].manager));
    out
}

/// The Update entry owning everything an object had when it is first applied to without
/// `managedFields`.
fn claim_existing(live: &Value, shape: Shape, scope: Scope, now: &str) -> Option<Entry> {
    let c = compare(&json!({}), live, shape).ok()?;
    Some(Entry {
        manager: BEFORE_FIRST_APPLY.into(),
        operation: UPDATE.into(),
        api_version: str_at(live, "apiVersion").to_string(),
        subresource: String::new(),
        time: Some(now.to_string()),
        set: scope.owned(&c.changed()),
    })
}

/// The part of the configuration this write may change: without `status` on the main
/// resource of a kind with a status subresource, only `status` on that subresource.
fn scoped_config(config: &Value, scope: Scope) -> Value {
    match scope {
        Scope::Main {
            status_is_separate: true,
        } => {
            let mut c = config.clone();
            if let Some(m) = c.as_object_mut() {
                m.remove("status");
            }
            c
        }
        Scope::Main { .. } => config.clone(),
        Scope::Status => {
            let mut out = Map::new();
            for k in ["apiVersion", "kind", "status"] {
                if let Some(v) = config.get(k) {
                    out.insert(k.into(), v.clone());
                }
            }
            let mut meta = Map::new();
            for k in ["name", "namespace"] {
                if let Some(v) = config.pointer(&format!("/metadata/{k}")) {
                    meta.insert(k.into(), v.clone());
                }
            }
            out.insert("metadata".into(), Value::Object(meta));
            Value::Object(out)
        }
    }
}

fn keep_server_metadata(merged: &mut Value, live: &Value) {
    let Some(meta) = merged.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for k in SERVER_KEPT_METADATA {
        match live.pointer(&format!("/metadata/{k}")) {
            Some(v) => {
                meta.insert(k.to_string(), v.clone());
            }
            None => {
                meta.remove(*k);
            }
        }
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn gvk_string(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    format!("{group}/{version}, Kind={kind}")
}

/// Checks the configuration can be applied to this object; returns its apiVersion and kind.
fn check_config(
    live: Option<&Value>,
    config: &Value,
    schema: Option<usize>,
) -> Result<(String, String), ApplyError> {
    let bad = |m: String| Err(ApplyError::BadRequest(m));
    if !config.is_object() {
        return bad("error decoding YAML: the apply configuration must be an object".into());
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|v| !v.is_null())
    {
        return bad("metadata.managedFields must be nil".into());
    }
    let (api_version, kind) = (str_at(config, "apiVersion"), str_at(config, "kind"));
    if kind.is_empty() {
        return bad(format!("Object 'Kind' is missing in '{config}'"));
    }
    if api_version.is_empty() {
        return bad(format!("Object 'apiVersion' is missing in '{config}'"));
    }
    let live_type = live
        .map(|l| (str_at(l, "apiVersion"), str_at(l, "kind")))
        .filter(|(v, k)| !v.is_empty() && !k.is_empty());
    let expected = match live_type {
        Some((v, k)) => vec![(v.to_string(), k.to_string())],
        None => schema
            .map(|s| SCHEMAS[s].gvks)
            .unwrap_or_default()
            .iter()
            .map(|(g, v, k)| {
                let av = if g.is_empty() {
                    v.to_string()
                } else {
                    format!("{g}/{v}")
                };
                (av, k.to_string())
            })
            .collect(),
    };
    if !expected.is_empty() && !expected.iter().any(|(v, k)| v == api_version && k == kind) {
        return bad(format!(
            "invalid object type: {}",
            gvk_string(api_version, kind)
        ));
    }
    if let Some(live) = live {
        let field = |v: &Value, k: &str| {
            v.pointer(&format!("/metadata/{k}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (name, live_name) = (field(config, "name"), field(live, "name"));
        if !name.is_empty() && name != live_name {
            return bad(format!(
                "the name of the object ({name}) does not match the name on the URL ({live_name})"
            ));
        }
        let (ns, live_ns) = (field(config, "namespace"), field(live, "namespace"));
        if !ns.is_empty() && ns != live_ns {
            return bad(
                "the namespace of the provided object does not match the namespace sent on the request"
                    .into(),
            );
        }
    }
    Ok((api_version.to_string(), kind.to_string()))
}

/// The real server's message for a value that does not fit the schema.
fn typed_error(
    which: &str,
    object: &Value,
    api_version: &str,
    kind: &str,
    e: String,
) -> ApplyError {
    let meta = |k: &str| {
        object
            .pointer(&format!("/metadata/{k}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    ApplyError::Invalid(format!(
        "failed to create typed {which} object ({}/{}; {}): {e}",
        meta("namespace"),
        meta("name"),
        gvk_string(api_version, kind)
    ))
}
