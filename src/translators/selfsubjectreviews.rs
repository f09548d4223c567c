//! `auth whoami`: a SelfSubjectReview answers with the caller's user info. Nothing is stored.

use http::StatusCode;
use serde_json::json;

use crate::api::{ApiRequest, ApiResult, Reply, body};
use crate::generated::authentication_v1::SelfSubjectReviewTranslator;

/// The selfsubjectreviews translator.
pub struct SelfSubjectReviews;

#[async_trait::async_trait]
impl SelfSubjectReviewTranslator for SelfSubjectReviews {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        let mut review = body::decode_review(&req)?;
        review["status"] =
            json!({"userInfo": {"username": req.user.name, "groups": req.user.groups}});
        Ok(Reply::json(StatusCode::CREATED, &review))
    }
}
