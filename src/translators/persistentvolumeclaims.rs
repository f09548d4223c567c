//! PersistentVolumeClaims: completed on create as a cluster's default admission plugins complete
//! them. DefaultStorageClass gives a claim without `storageClassName` the default class (a
//! claim asking for `""` keeps it: it wants no class); StorageObjectInUseProtection adds the
//! `kubernetes.io/pvc-protection` finalizer; the phase starts Pending. The storage controller
//! ([`crate::controllers::storage`]) binds it.

use serde_json::{Value, json};

use crate::api::objects::{self, blocking};
use crate::api::{ApiRequest, ApiResult};
use crate::controllers::storage::{PROTECTION_FINALIZER, default_class_name};
use crate::generated::core_v1::PersistentVolumeClaimTranslator;

/// The persistentvolumeclaims translator.
pub struct PersistentVolumeClaims;

/// Completes a new claim: default class (when one is marked default), protection finalizer,
/// phase Pending.
pub fn complete(claim: &mut Value, default_class: Option<&str>) {
    if let Some(class) = default_class
        && claim["spec"].is_object()
        && claim["spec"]
            .get("storageClassName")
            .is_none_or(Value::is_null)
    {
        claim["spec"]["storageClassName"] = json!(class);
    }
    let meta = crate::api::meta::metadata(claim);
    let finalizers = meta.entry("finalizers").or_insert_with(|| json!([]));
    if let Some(list) = finalizers.as_array_mut()
        && !list.iter().any(|f| f == PROTECTION_FINALIZER)
    {
        list.push(json!(PROTECTION_FINALIZER));
    }
    claim["status"] = json!({"phase": "Pending"});
}

#[async_trait::async_trait]
impl PersistentVolumeClaimTranslator for PersistentVolumeClaims {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        let classes = blocking(|| req.ctx.store.list("storage.k8s.io", "storageclasses", None))
            .map(|(items, _)| items)
            .map_err(|e| objects::store_error(req.resource, "", e))?;
        let default = default_class_name(&classes);
        objects::create::create_with(&req.ctx, &req, |claim| complete(claim, default.as_deref()))
            .await
    }

    // The other writes are stored-object semantics, acted on by the storage controller (so
    // without the stored-only warning).
    async fn update(&self, req: ApiRequest) -> ApiResult {
        objects::update::update(&req.ctx, &req).await
    }

    async fn patch(&self, req: ApiRequest) -> ApiResult {
        objects::update::patch(&req.ctx, &req).await
    }

    async fn update_status(&self, req: ApiRequest) -> ApiResult {
        objects::update::update(&req.ctx, &req).await
    }

    async fn patch_status(&self, req: ApiRequest) -> ApiResult {
        objects::update::patch(&req.ctx, &req).await
    }

    async fn delete(&self, req: ApiRequest) -> ApiResult {
        objects::delete::delete(&req.ctx, &req).await
    }

    async fn delete_collection(&self, req: ApiRequest) -> ApiResult {
        objects::delete::delete_collection(&req.ctx, &req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_get_the_default_class_unless_they_ask_for_none() {
        let mut c = json!({"metadata": {"name": "a"}, "spec": {"resources": {}}});
        complete(&mut c, Some("local"));
        assert_eq!(c["spec"]["storageClassName"], "local");
        assert_eq!(c["metadata"]["finalizers"], json!([PROTECTION_FINALIZER]));
        assert_eq!(c["status"]["phase"], "Pending");
        let mut none = json!({"metadata": {"name": "a", "finalizers": [PROTECTION_FINALIZER]}, "spec": {"storageClassName": ""}});
        complete(&mut none, Some("local"));
        assert_eq!(none["spec"]["storageClassName"], "");
        assert_eq!(
            none["metadata"]["finalizers"],
            json!([PROTECTION_FINALIZER])
        );
        let mut other = json!({"metadata": {"name": "a"}, "spec": {"storageClassName": "fast"}});
        complete(&mut other, Some("local"));
        assert_eq!(other["spec"]["storageClassName"], "fast");
        let mut no_default = json!({"metadata": {"name": "a"}, "spec": {}});
        complete(&mut no_default, None);
        assert!(no_default["spec"].get("storageClassName").is_none());
    }
}
