//! PersistentVolumes: stored objects that k2d acts on. The storage controller
//! ([`crate::controllers::storage`]) provisions them for claims, keeps them while their claim
//! exists (the pv-protection finalizer) and reclaims them (Delete or Retain) when it goes.
//! Writes to them therefore carry no stored-only warning; creating one still does, since k2d
//! does not bind claims to volumes made by hand.

use crate::api::objects;
use crate::api::{ApiRequest, ApiResult};
use crate::generated::core_v1::PersistentVolumeTranslator;

/// The persistentvolumes translator.
pub struct PersistentVolumes;

#[async_trait::async_trait]
impl PersistentVolumeTranslator for PersistentVolumes {
    async fn update(&self, req: ApiRequest) -> ApiResult {
        objects::update::update(&req.ctx, &req).await
    }

    async fn patch(&self, req: ApiRequest) -> ApiResult {
        objects::update::patch(&req.ctx, &req).await
    }

    async fn delete(&self, req: ApiRequest) -> ApiResult {
        objects::delete::delete(&req.ctx, &req).await
    }

    async fn delete_collection(&self, req: ApiRequest) -> ApiResult {
        objects::delete::delete_collection(&req.ctx, &req).await
    }

    async fn update_status(&self, req: ApiRequest) -> ApiResult {
        objects::update::update(&req.ctx, &req).await
    }

    async fn patch_status(&self, req: ApiRequest) -> ApiResult {
        objects::update::patch(&req.ctx, &req).await
    }
}
