//! Why a patch failed, classified the way kube-apiserver classifies it, so that k2d answers with
//! the same code, reason and message a real server gives for the same patch.
//!
//! What kube-apiserver (the PATCH handler in `k8s.io/apiserver`, v1.32 to v1.35) answers:
//!
//! | Failure | Code | `reason` |
//! |---|---|---|
//! | Content-Type not a patch type the resource accepts | 415 | `UnsupportedMediaType` |
//! | body is not JSON, or not the JSON shape the patch type needs | 400 | `BadRequest` |
//! | malformed `$retainKeys`, `$setElementOrder/…` or `$deleteFromPrimitiveList/…` | 400 | `BadRequest` |
//! | a JSON patch operation fails (`test` mismatch, missing path, unknown `op`) | 422 | `Invalid` |
//! | lists of lists in a strategic merge list | 422 | `Invalid` |
//! | more than 10000 JSON patch operations | 413 | `RequestEntityTooLarge` |
//! | any other strategic merge error: missing merge key, unknown `$patch` value, `$patch: merge`, `$setElementOrder` not matching the list | 500 | none |
//!
//! The last row is not a typo: the real server passes those errors through unclassified, and
//! kubectl prints them as `Error from server: map: map[image:x] does not contain declared merge
//! key: name`. k2d does the same so that tools see what they would see against a cluster.
//! Nothing in the patch functions answers 409: a conflict comes from a stale
//! `metadata.resourceVersion` in the patched object, which the API layer checks.

use crate::api::status::{Status, StatusCause, StatusDetails};

/// The class of a patch failure; it decides the HTTP code and `reason` (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchErrorKind {
    /// 400 `BadRequest`: the body is malformed, or a directive is malformed or unknown.
    BadRequest,
    /// 422 `Invalid`: the patch is well-formed but cannot be applied to this object.
    Unprocessable,
    /// 415 `UnsupportedMediaType`: the Content-Type is not an accepted patch type.
    UnsupportedMediaType,
    /// 413 `RequestEntityTooLarge`: too many JSON patch operations.
    TooLarge,
    /// 500 with no reason: what kube-apiserver passes through without classifying it.
    Unclassified,
}

/// A failed patch: its class and the message kube-apiserver would give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchError {
    /// The class, which decides code and reason.
    pub kind: PatchErrorKind,
    /// What went wrong, worded as the real server words it where it is known.
    pub message: String,
}

/// The `message` kube-apiserver puts in a 422 built from an unexpected server response; the
/// detail goes into `details.causes`.
const UNPROCESSABLE_MESSAGE: &str =
    "the server rejected our request due to an error in our request";

/// The cause type kube-apiserver gives to the detail of such a 422.
const UNEXPECTED_RESPONSE_CAUSE: &str = "UnexpectedServerResponse";

impl PatchError {
    /// An error of this kind.
    pub fn new(kind: PatchErrorKind, message: impl Into<String>) -> Self {
        PatchError {
            kind,
            message: message.into(),
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(PatchErrorKind::BadRequest, message)
    }

    /// 422 Invalid.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(PatchErrorKind::Unprocessable, message)
    }

    /// 500 without a reason.
    pub fn unclassified(message: impl Into<String>) -> Self {
        Self::new(PatchErrorKind::Unclassified, message)
    }

    /// 415 listing the media types the resource accepts, worded as kube-apiserver words it.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            PatchErrorKind::UnsupportedMediaType,
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self.kind {
            PatchErrorKind::BadRequest => 400,
            PatchErrorKind::Unprocessable => 422,
            PatchErrorKind::UnsupportedMediaType => 415,
            PatchErrorKind::TooLarge => 413,
            PatchErrorKind::Unclassified => 500,
        }
    }

    /// The Status `reason` (empty for [`PatchErrorKind::Unclassified`], as on a real server).
    pub fn reason(&self) -> &'static str {
        match self.kind {
            PatchErrorKind::BadRequest => "BadRequest",
            PatchErrorKind::Unprocessable => "Invalid",
            PatchErrorKind::UnsupportedMediaType => "UnsupportedMediaType",
            PatchErrorKind::TooLarge => "RequestEntityTooLarge",
            PatchErrorKind::Unclassified => "",
        }
    }

    /// The Status k2d answers with. A 422 carries the generic message and the detail as an
    /// `UnexpectedServerResponse` cause, exactly as kube-apiserver builds it.
    pub fn to_status(&self) -> Status {
        match self.kind {
            PatchErrorKind::Unprocessable => {
                Status::new(self.code(), self.reason(), UNPROCESSABLE_MESSAGE).with_details(
                    StatusDetails {
                        causes: vec![StatusCause {
                            reason: UNEXPECTED_RESPONSE_CAUSE.into(),
                            message: self.message.clone(),
                            field: String::new(),
                        }],
                        ..Default::default()
                    },
                )
            }
            _ => Status::new(self.code(), self.reason(), self.message.clone()),
        }
    }
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatchError {}

impl From<PatchError> for Status {
    fn from(e: PatchError) -> Self {
        e.to_status()
    }
}
