//! `auth can-i --list`: a SelfSubjectRulesReview lists what the caller may do. The admin may do
//! everything. Nothing is stored.

use http::StatusCode;
use serde_json::json;

use crate::api::{ApiRequest, ApiResult, Reply, body};
use crate::generated::authorization_v1::SelfSubjectRulesReviewTranslator;
use crate::security::auth::ADMIN_GROUP;

/// The selfsubjectrulesreviews translator.
pub struct SelfSubjectRulesReviews;

#[async_trait::async_trait]
impl SelfSubjectRulesReviewTranslator for SelfSubjectRulesReviews {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        let mut review = body::decode_review(&req)?;
        let admin = req.user.groups.iter().any(|g| g == ADMIN_GROUP);
        review["status"] = if admin {
            json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false,
            })
        } else {
            json!({"resourceRules": [], "nonResourceRules": [], "incomplete": false})
        };
        Ok(Reply::json(StatusCode::CREATED, &review))
    }
}
