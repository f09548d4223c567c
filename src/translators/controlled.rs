//! Stored-object semantics for the kinds a k2d controller acts on (Deployments, ReplicaSets):
//! the same as the generated defaults, without the warning that k2d only stores the object.

use crate::api::objects::{self, scale};
use crate::api::stored;
use crate::api::{ApiRequest, ApiResult};

/// `create`.
pub async fn create(req: ApiRequest) -> ApiResult {
    objects::create::create(&req.ctx, &req).await
}

/// `update`.
pub async fn update(req: ApiRequest) -> ApiResult {
    objects::update::update(&req.ctx, &req).await
}

/// `patch`.
pub async fn patch(req: ApiRequest) -> ApiResult {
    objects::update::patch(&req.ctx, &req).await
}

/// `delete`.
pub async fn delete(req: ApiRequest) -> ApiResult {
    objects::delete::delete(&req.ctx, &req).await
}

/// `deletecollection`.
pub async fn delete_collection(req: ApiRequest) -> ApiResult {
    objects::delete::delete_collection(&req.ctx, &req).await
}

/// `update` of `status` or `scale`.
pub async fn update_subresource(req: ApiRequest) -> ApiResult {
    match req.route.subresource {
        Some("status") => objects::update::update(&req.ctx, &req).await,
        Some("scale") => scale::update(&req.ctx, &req).await,
        _ => stored::update_subresource(req).await,
    }
}

/// `patch` of `status` or `scale`.
pub async fn patch_subresource(req: ApiRequest) -> ApiResult {
    match req.route.subresource {
        Some("status") => objects::update::patch(&req.ctx, &req).await,
        Some("scale") => scale::patch(&req.ctx, &req).await,
        _ => stored::patch_subresource(req).await,
    }
}

/// Implements a generated translator trait with [`self`]'s functions for every write.
macro_rules! controlled_translator {
    ($ty:ident, $trait:path) => {
        #[async_trait::async_trait]
        impl $trait for $ty {
            async fn create(&self, req: ApiRequest) -> ApiResult {
                controlled::create(req).await
            }
            async fn update(&self, req: ApiRequest) -> ApiResult {
                controlled::update(req).await
            }
            async fn patch(&self, req: ApiRequest) -> ApiResult {
                controlled::patch(req).await
            }
            async fn delete(&self, req: ApiRequest) -> ApiResult {
                controlled::delete(req).await
            }
            async fn delete_collection(&self, req: ApiRequest) -> ApiResult {
                controlled::delete_collection(req).await
            }
            async fn update_scale(&self, req: ApiRequest) -> ApiResult {
                controlled::update_subresource(req).await
            }
            async fn patch_scale(&self, req: ApiRequest) -> ApiResult {
                controlled::patch_subresource(req).await
            }
            async fn update_status(&self, req: ApiRequest) -> ApiResult {
                controlled::update_subresource(req).await
            }
            async fn patch_status(&self, req: ApiRequest) -> ApiResult {
                controlled::patch_subresource(req).await
            }
        }
    };
}
pub(crate) use controlled_translator;
