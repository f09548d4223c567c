//! The four patch types a PATCH request can carry, recognised from its Content-Type.

use super::error::PatchError;

/// A patch type, named by the Content-Type of the PATCH request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// `application/json-patch+json`: RFC 6902 operations (`kubectl rollout undo`).
    Json,
    /// `application/merge-patch+json`: RFC 7386 (`kubectl label`, `annotate`, `scale`).
    Merge,
    /// `application/strategic-merge-patch+json`: Kubernetes strategic merge patch
    /// (client-side apply, `set image`, `rollout restart`, Helm 3 upgrade and rollback).
    StrategicMerge,
    /// `application/apply-patch+yaml`: server-side apply (`apply --server-side`, Helm 4). Only
    /// recognised here; server-side apply handles it.
    Apply,
}

impl PatchType {
    /// Every patch type, in the order kube-apiserver lists them in its 415 message.
    pub const ALL: [PatchType; 4] = [
        PatchType::Json,
        PatchType::Merge,
        PatchType::StrategicMerge,
        PatchType::Apply,
    ];

    /// The patch types of a resource without a strategic-merge schema (as for custom
    /// resources on a real server).
    pub const WITHOUT_STRATEGIC: [PatchType; 3] =
        [PatchType::Json, PatchType::Merge, PatchType::Apply];

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }

    /// The patch type of this Content-Type header value (parameters such as `; charset=utf-8`
    /// are ignored), among all four; anything else is a 415 listing them.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, PatchError> {
        Self::from_content_type_among(content_type, &Self::ALL)
    }

    /// The patch type of this Content-Type among the `accepted` ones; anything else is a 415
    /// whose message lists the accepted media types, as kube-apiserver's does.
    pub fn from_content_type_among(
        content_type: Option<&str>,
        accepted: &[PatchType],
    ) -> Result<Self, PatchError> {
        let essence = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        accepted
            .iter()
            .copied()
            .find(|t| t.media_type().eq_ignore_ascii_case(essence))
            .ok_or_else(|| {
                let names: Vec<&str> = accepted.iter().map(|t| t.media_type()).collect();
                PatchError::unsupported_media_type(&names)
            })
    }
}

impl std::fmt::Display for PatchType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.media_type())
    }
}
