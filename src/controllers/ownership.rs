//! Controller references: which object controls which (the ownerReference with
//! `controller: true`), and adopting or releasing objects as kube-controller-manager does:
//! a controller adopts orphans its selector matches and releases what it controls but no
//! longer matches.

use serde_json::{Value, json};

use crate::api::meta;
use crate::api::selector::LabelSelector;
use crate::api::status::Status;
use crate::client::{Client, object_path};

/// The ownerReference with `controller: true`, if any.
pub fn controller_ref(obj: &Value) -> Option<&Value> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

/// The name of the controller of `obj` when it is of `kind`.
pub fn controller_name<'a>(obj: &'a Value, kind: &str) -> Option<&'a str> {
    let r = controller_ref(obj)?;
    (r.get("kind").and_then(Value::as_str) == Some(kind))
        .then(|| r.get("name").and_then(Value::as_str))
        .flatten()
}

/// Whether `owner` (by uid) controls `obj`.
pub fn is_controlled_by(obj: &Value, owner: &Value) -> bool {
    let uid = meta::meta_str(owner, "uid");
    uid.is_some() && controller_ref(obj).and_then(|r| r.get("uid").and_then(Value::as_str)) == uid
}

/// The controller ownerReference pointing at `owner` (`apiVersion`/`kind` of the owner).
pub fn reference_to(owner: &Value) -> Value {
    json!({
        "apiVersion": owner.get("apiVersion").cloned().unwrap_or(json!("apps/v1")),
        "kind": owner.get("kind").cloned().unwrap_or(json!("")),
        "name": meta::meta_str(owner, "name").unwrap_or_default(),
        "uid": meta::meta_str(owner, "uid").unwrap_or_default(),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

fn references(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Makes `owner` the controller of the orphan `obj` (of `resource`), guarded by the orphan's
/// resourceVersion so that a concurrent adoption by someone else wins cleanly (409). Returns
/// the adopted object.
pub async fn adopt(
    client: &Client,
    resource: &str,
    obj: &Value,
    owner: &Value,
) -> Result<Value, Status> {
    let mut refs = references(obj);
    refs.push(reference_to(owner));
    let patch = json!({"metadata": {
        "ownerReferences": refs,
        "resourceVersion": meta::meta_str(obj, "resourceVersion"),
    }});
    client
        .merge_patch(&object_path(resource, obj, None), &patch)
        .await
}

/// Removes `owner`'s reference from `obj` (of `resource`), which it no longer selects.
pub async fn release(
    client: &Client,
    resource: &str,
    obj: &Value,
    owner: &Value,
) -> Result<Value, Status> {
    let uid = meta::meta_str(owner, "uid");
    let refs: Vec<Value> = references(obj)
        .into_iter()
        .filter(|r| r.get("uid").and_then(Value::as_str) != uid)
        .collect();
    let patch = json!({"metadata": {
        "ownerReferences": if refs.is_empty() { Value::Null } else { json!(refs) },
        "resourceVersion": meta::meta_str(obj, "resourceVersion"),
    }});
    client
        .merge_patch(&object_path(resource, obj, None), &patch)
        .await
}

/// The objects of `resource` among `candidates` that `owner` controls once adoption and
/// release are done: those it controls and `selector` matches, plus the orphans it matches,
/// which it adopts. It releases those it controls but no longer matches. An owner being deleted
/// neither adopts nor releases. An orphan someone else changed or deleted first (409, 404) is
/// skipped: that change wakes the controller again.
pub async fn claim(
    client: &Client,
    resource: &str,
    candidates: Vec<Value>,
    owner: &Value,
    selector: &LabelSelector,
) -> Result<Vec<Value>, Status> {
    let deleting = meta::is_deleting(owner);
    let mut owned = Vec::new();
    for obj in candidates {
        if is_controlled_by(&obj, owner) {
            if selector.matches_object(&obj) {
                owned.push(obj);
            } else if !deleting {
                release(client, resource, &obj, owner).await?;
            }
        } else if controller_ref(&obj).is_none()
            && !deleting
            && !meta::is_deleting(&obj)
            && selector.matches_object(&obj)
        {
            match adopt(client, resource, &obj, owner).await {
                Ok(adopted) => owned.push(adopted),
                Err(e) if e.code == 409 || e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_controller_among_owners() {
        let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-1", "uid": "u1"}});
        let pod = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "u0"},
            reference_to(&rs),
        ]}});
        assert_eq!(controller_name(&pod, "ReplicaSet"), Some("web-1"));
        assert_eq!(controller_name(&pod, "Deployment"), None);
        assert!(is_controlled_by(&pod, &rs));
        let other = json!({"metadata": {"uid": "u2"}});
        assert!(!is_controlled_by(&pod, &other));
        assert!(controller_ref(&json!({"metadata": {}})).is_none());
        assert_eq!(reference_to(&rs)["blockOwnerDeletion"], json!(true));
    }
}
