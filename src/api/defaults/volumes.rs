//! Defaults of pod volumes (`SetDefaults_Volume` and those of each volume source) and of
//! PersistentVolumeClaim specs, wherever they appear (pods, templates, ephemeral volumes,
//! StatefulSet claim templates, PersistentVolumes).

use serde_json::json;

use super::container::field_selector;
use super::fields::{Object, child, items, set_blank, set_missing};
use super::image::default_pull_policy;

/// Mode of the files of Secret, ConfigMap, downward API and projected volumes: `0644`.
pub const DEFAULT_MODE: i64 = 0o644;

/// Lifetime of a projected service account token: one hour.
pub const TOKEN_EXPIRATION_SECONDS: i64 = 3600;

/// Fills in the defaults of one pod volume.
pub fn apply(volume: &mut Object) {
    // A volume that names no source is an emptyDir.
    if volume.iter().all(|(k, v)| k == "name" || v.is_null()) {
        volume.insert("emptyDir".into(), json!({}));
    }
    if let Some(image) = child(volume, "image") {
        let reference = image
            .get("reference")
            .and_then(|r| r.as_str())
            .unwrap_or_default()
            .to_string();
        set_blank(image, "pullPolicy", default_pull_policy(&reference));
    }
    for source in ["secret", "configMap"] {
        if let Some(source) = child(volume, source) {
            set_missing(source, "defaultMode", json!(DEFAULT_MODE));
        }
    }
    if let Some(downward) = child(volume, "downwardAPI") {
        set_missing(downward, "defaultMode", json!(DEFAULT_MODE));
        downward_items(downward);
    }
    if let Some(projected) = child(volume, "projected") {
        set_missing(projected, "defaultMode", json!(DEFAULT_MODE));
        for source in items(projected, "sources") {
            if let Some(downward) = child(source, "downwardAPI") {
                downward_items(downward);
            }
            if let Some(token) = child(source, "serviceAccountToken") {
                set_missing(token, "expirationSeconds", json!(TOKEN_EXPIRATION_SECONDS));
            }
        }
    }
    if let Some(spec) = child(volume, "ephemeral")
        .and_then(|e| child(e, "volumeClaimTemplate"))
        .and_then(|t| child(t, "spec"))
    {
        claim_spec(spec);
    }
    legacy_sources(volume);
}

/// The sources a PersistentVolume shares with pod volumes, defaulted the same way.
pub fn persistent_volume_source(spec: &mut Object) {
    legacy_sources(spec);
}

/// `SetDefaults_HostPathVolumeSource` and the declarative defaults of the in-tree plugins.
fn legacy_sources(source: &mut Object) {
    if let Some(host_path) = child(source, "hostPath") {
        set_missing(host_path, "type", json!(""));
    }
    if let Some(iscsi) = child(source, "iscsi") {
        set_blank(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = child(source, "rbd") {
        set_blank(rbd, "pool", "rbd");
        set_blank(rbd, "user", "admin");
        set_blank(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(azure) = child(source, "azureDisk") {
        set_missing(azure, "cachingMode", json!("ReadWrite"));
        set_missing(azure, "fsType", json!("ext4"));
        set_missing(azure, "readOnly", json!(false));
        set_missing(azure, "kind", json!("Shared"));
    }
    if let Some(scale_io) = child(source, "scaleIO") {
        set_blank(scale_io, "storageMode", "ThinProvisioned");
        set_blank(scale_io, "fsType", "xfs");
    }
}

fn downward_items(downward: &mut Object) {
    for item in items(downward, "items") {
        if let Some(field_ref) = child(item, "fieldRef") {
            field_selector(field_ref);
        }
    }
}

/// `SetDefaults_PersistentVolumeClaimSpec`: `volumeMode: Filesystem`.
pub fn claim_spec(spec: &mut Object) {
    set_missing(spec, "volumeMode", json!("Filesystem"));
}
