//! The other core/v1 kinds: Secrets, PersistentVolumes and their claims, Endpoints, Nodes and
//! Events. (ConfigMaps and ServiceAccounts have no defaults a client can see; Namespaces are
//! completed where they are created.)

use serde_json::{Value, json};

use super::fields::{Object, child, child_or_insert, items, set_blank, set_missing};
use super::volumes;

/// A Secret: `type: Opaque`.
pub fn secret(obj: &mut Object) {
    set_blank(obj, "type", "Opaque");
}

/// A PersistentVolumeClaim: `volumeMode: Filesystem`, and `status.phase: Pending`.
pub fn persistent_volume_claim(obj: &mut Object) {
    if let Some(spec) = child_or_insert(obj, "spec") {
        volumes::claim_spec(spec);
    }
    if let Some(status) = child_or_insert(obj, "status") {
        set_blank(status, "phase", "Pending");
    }
}

/// A PersistentVolume: `persistentVolumeReclaimPolicy: Retain`, `volumeMode: Filesystem`, the
/// defaults of its volume source, and `status.phase: Pending`.
pub fn persistent_volume(obj: &mut Object) {
    if let Some(spec) = child_or_insert(obj, "spec") {
        set_blank(spec, "persistentVolumeReclaimPolicy", "Retain");
        set_missing(spec, "volumeMode", json!("Filesystem"));
        volumes::persistent_volume_source(spec);
    }
    if let Some(status) = child_or_insert(obj, "status") {
        set_blank(status, "phase", "Pending");
    }
}

/// Endpoints: each port's `protocol` defaults to `TCP`.
pub fn endpoints(obj: &mut Object) {
    for subset in items(obj, "subsets") {
        for port in items(subset, "ports") {
            set_blank(port, "protocol", "TCP");
        }
    }
}

/// A Node: `status.allocatable` defaults to `status.capacity`.
pub fn node(obj: &mut Object) {
    let Some(status) = child(obj, "status") else {
        return;
    };
    if matches!(status.get("allocatable"), None | Some(Value::Null))
        && let Some(capacity) = status.get("capacity").filter(|c| c.is_object()).cloned()
    {
        status.insert("allocatable".into(), capacity);
    }
}

/// A core/v1 Event: `reportingComponent` and `reportingInstance` are plain strings the Go type
/// always serialises, `""` when empty.
pub fn event(obj: &mut Object) {
    set_missing(obj, "reportingComponent", json!(""));
    set_missing(obj, "reportingInstance", json!(""));
}
