//! storage.k8s.io/v1: `SetDefaults_StorageClass`.

use serde_json::json;

use super::fields::{Object, set_missing};

/// A StorageClass: `reclaimPolicy: Delete`, `volumeBindingMode: Immediate`.
pub fn storage_class(obj: &mut Object) {
    set_missing(obj, "reclaimPolicy", json!("Delete"));
    set_missing(obj, "volumeBindingMode", json!("Immediate"));
}
