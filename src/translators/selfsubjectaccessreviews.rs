//! `auth can-i`: a SelfSubjectAccessReview answers whether the caller may do something. Only the
//! admin has credentials today, and the admin may do everything. Nothing is stored.

use http::StatusCode;
use serde_json::json;

use crate::api::{ApiRequest, ApiResult, Reply, body};
use crate::generated::authorization_v1::SelfSubjectAccessReviewTranslator;
use crate::security::auth::ADMIN_GROUP;

/// The selfsubjectaccessreviews translator.
pub struct SelfSubjectAccessReviews;

#[async_trait::async_trait]
impl SelfSubjectAccessReviewTranslator for SelfSubjectAccessReviews {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        let mut review = body::decode_review(&req)?;
        let allowed = req.user.groups.iter().any(|g| g == ADMIN_GROUP);
        review["status"] = if allowed {
            json!({"allowed": true, "reason": format!("{} is in group {ADMIN_GROUP}", req.user.name)})
        } else {
            json!({"allowed": false})
        };
        Ok(Reply::json(StatusCode::CREATED, &review))
    }
}
