//! StorageClasses: stored objects that k2d acts on. A class whose provisioner is
//! [`crate::controllers::storage::PROVISIONER`] makes the storage controller provision Docker
//! volumes for its claims, with its reclaim policy; the default class `local` is created at
//! start. Writes therefore carry no stored-only warning.

use crate::api::objects;
use crate::api::{ApiRequest, ApiResult};
use crate::generated::storage_v1::StorageClassTranslator;

/// The storageclasses translator.
pub struct StorageClasses;

#[async_trait::async_trait]
impl StorageClassTranslator for StorageClasses {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        objects::create::create(&req.ctx, &req).await
    }

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
}
