//! Namespaces: completed as the real server completes them (phase, finalizer, name label), and
//! deleted by emptying them first (phase Terminating until nothing is left).

use http::StatusCode;

use crate::api::objects::{self, namespaces, object_reply};
use crate::api::status::{Status, StatusDetails};
use crate::api::{ApiRequest, ApiResult};
use crate::generated::core_v1::NamespaceTranslator;

/// The namespaces translator.
pub struct Namespaces;

#[async_trait::async_trait]
impl NamespaceTranslator for Namespaces {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        objects::create::create_with(&req.ctx, &req, namespaces::complete).await
    }

    async fn delete(&self, req: ApiRequest) -> ApiResult {
        let name = req.name.as_deref().unwrap_or_default();
        let opts = objects::options::delete_options(&req)?;
        let ns = objects::read_existing(&req.ctx, &req)?;
        if namespaces::DEFAULT_NAMESPACES.contains(&name) && name != "kube-node-lease" {
            return Err(Status::new(
                403,
                "Forbidden",
                format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"),
            )
            .with_details(StatusDetails {
                name: name.into(),
                kind: "namespaces".into(),
                ..Default::default()
            }));
        }
        if opts.dry_run {
            return object_reply(&req, StatusCode::OK, &ns);
        }
        let marked = namespaces::delete(&req.ctx, &ns)?;
        object_reply(&req, StatusCode::OK, &marked)
    }
}
