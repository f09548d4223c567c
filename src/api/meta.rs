//! Object metadata as a real API server maintains it: uid, creationTimestamp, generation,
//! resourceVersion (set by the store), deletionTimestamp; what a write may and may not change.

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value, json};

/// Now, as Kubernetes writes `metav1.Time` (RFC 3339, seconds, UTC).
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 ns is valid");
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats")
}

/// A random UUID (version 4), the form of `metadata.uid`.
pub fn new_uid() -> String {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .expect("the system random generator works");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `metadata` of an object (created empty if absent).
pub fn metadata(obj: &mut Value) -> &mut Map<String, Value> {
    let o = obj.as_object_mut().expect("objects are JSON objects");
    let m = o.entry("metadata").or_insert_with(|| json!({}));
    if !m.is_object() {
        *m = json!({});
    }
    m.as_object_mut().expect("just made an object")
}

/// A string field of `metadata`.
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
}

/// The object's resourceVersion as a number.
pub fn resource_version(obj: &Value) -> Option<u64> {
    meta_str(obj, "resourceVersion").and_then(|v| v.parse().ok())
}

/// `true` while the object is being deleted.
pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// The object's finalizers.
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything but `metadata` and `status`: what `generation` counts changes of.
fn desired_state(obj: &Value) -> Map<String, Value> {
    obj.as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind")
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Kinds with a `spec` whose real registries still set no `generation`.
const NO_GENERATION: &[(&str, &str)] = &[
    ("", "namespaces"),
    ("", "services"),
    ("", "nodes"),
    ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("coordination.k8s.io", "leases"),
];

/// `true` for kinds whose objects count `generation`: those with a desired state in `spec`,
/// except the few whose registries do not set it (ConfigMaps, Secrets and the like have no
/// `spec` at all).
pub fn tracks_generation(resource: &crate::api::model::ResourceInfo) -> bool {
    !NO_GENERATION.contains(&(resource.group, resource.name))
        && resource
            .schema
            .is_some_and(|i| crate::generated::SCHEMAS[i].field("spec").is_some())
}

/// Fills in what the server owns on create: uid, creationTimestamp, generation (for kinds that
/// track it); clears what a client may not set (resourceVersion, deletionTimestamp, status when
/// the status is a subresource).
pub fn prepare_create(obj: &mut Value, has_status_subresource: bool, generation: bool) {
    if has_status_subresource && let Some(o) = obj.as_object_mut() {
        o.remove("status");
    }
    let m = metadata(obj);
    m.insert("uid".into(), json!(new_uid()));
    m.insert("creationTimestamp".into(), json!(now()));
    if generation {
        m.insert("generation".into(), json!(1));
    } else {
        m.remove("generation");
    }
    for k in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        m.remove(k);
    }
}

/// Carries over what a write may not change (uid, creationTimestamp, deletion state, the status
/// or the spec depending on which one the request may write) and bumps `generation` when the
/// desired state changed.
pub fn prepare_update(
    old: &Value,
    new: &mut Value,
    status_only: bool,
    has_status_subresource: bool,
) {
    if status_only {
        // Only status changes through the status subresource.
        let status = new.get("status").cloned();
        let mut merged = old.clone();
        match status {
            Some(s) => merged["status"] = s,
            None => {
                merged.as_object_mut().expect("object").remove("status");
            }
        }
        let rv = meta_str(new, "resourceVersion").map(str::to_string);
        *new = merged;
        if let Some(rv) = rv {
            metadata(new).insert("resourceVersion".into(), json!(rv));
        }
        return;
    }
    if has_status_subresource {
        let o = new.as_object_mut().expect("object");
        match old.get("status") {
            Some(s) => {
                o.insert("status".into(), s.clone());
            }
            None => {
                o.remove("status");
            }
        }
    }
    let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let changed = desired_state(old) != desired_state(new);
    let m = metadata(new);
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match old_meta.get(k) {
            Some(v) => {
                m.insert(k.into(), v.clone());
            }
            None => {
                m.remove(k);
            }
        }
    }
    match old_meta.get("generation").and_then(Value::as_i64) {
        Some(g) => {
            m.insert("generation".into(), json!(if changed { g + 1 } else { g }));
        }
        None => {
            m.remove("generation");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_version_4() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uid());
    }

    #[test]
    fn generation_counts_spec_changes_only() {
        let mut old =
            json!({"metadata": {"name": "a"}, "spec": {"replicas": 1}, "status": {"x": 1}});
        prepare_create(&mut old, true, true);
        assert_eq!(old["metadata"]["generation"], 1);
        assert!(old.get("status").is_none());
        let mut same = json!({"metadata": {"name": "a", "labels": {"a": "b"}}, "spec": {"replicas": 1}, "status": {"x": 2}});
        prepare_update(&old, &mut same, false, true);
        assert_eq!(same["metadata"]["generation"], 1);
        assert_eq!(same["metadata"]["uid"], old["metadata"]["uid"]);
        assert!(
            same.get("status").is_none(),
            "status only changes through its subresource"
        );
        let mut changed = json!({"metadata": {"name": "a"}, "spec": {"replicas": 2}});
        prepare_update(&old, &mut changed, false, true);
        assert_eq!(changed["metadata"]["generation"], 2);
        let mut status =
            json!({"metadata": {"name": "a"}, "spec": {"replicas": 9}, "status": {"ready": 1}});
        prepare_update(&old, &mut status, true, true);
        assert_eq!(status["spec"]["replicas"], 1);
        assert_eq!(status["status"]["ready"], 1);
    }
}
