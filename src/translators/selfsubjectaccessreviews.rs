//! `auth can-i`: a SelfSubjectAccessReview answers whether the caller may do something, decided
//! by the same authorizer as every request ([`crate::security::authz`]). Nothing is stored.

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::objects::blocking;
use crate::api::{ApiRequest, ApiResult, Reply, body};
use crate::generated::authorization_v1::SelfSubjectAccessReviewTranslator;
use crate::security::authz::{Attributes, authorize};

/// The selfsubjectaccessreviews translator.
pub struct SelfSubjectAccessReviews;

#[async_trait::async_trait]
impl SelfSubjectAccessReviewTranslator for SelfSubjectAccessReviews {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        let mut review = body::decode_review(&req)?;
        let ra = review
            .pointer("/spec/resourceAttributes")
            .cloned()
            .unwrap_or(Value::Null);
        let s = |f: &str| ra.get(f).and_then(Value::as_str).filter(|v| !v.is_empty());
        let decision = if ra.is_null() {
            // Non-resource URLs (discovery, health, version) are open to every user.
            Ok("every authenticated user may read discovery".to_string())
        } else {
            let attrs = Attributes {
                verb: s("verb").unwrap_or("get"),
                group: s("group").unwrap_or(""),
                resource: s("resource").unwrap_or(""),
                subresource: s("subresource"),
                namespace: s("namespace"),
                name: s("name"),
            };
            blocking(|| authorize(&req.ctx.store, &req.user, &attrs))
        };
        review["status"] = match decision {
            Ok(reason) => json!({"allowed": true, "reason": reason}),
            Err(_) => json!({"allowed": false}),
        };
        Ok(Reply::json(StatusCode::CREATED, &review))
    }
}
