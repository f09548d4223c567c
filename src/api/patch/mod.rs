//! Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch driven
//! by the generated schema model. Pure functions, no I/O: the API layer reads the object, calls
//! [`apply_patch`] (or one of the functions below) and stores the result.
//!
//! - [`PatchType`] recognises the Content-Type (415 otherwise, with kube-apiserver's message);
//! - [`json_patch`], [`merge_patch`], [`strategic_merge_patch`] apply one kind of patch;
//! - [`PatchError`] says which code and reason a real server would answer (see [`error`]).
//!
//! Server-side apply (`application/apply-patch+yaml`) is recognised here and applied by
//! [`crate::api::apply`].

pub mod error;
mod json_patch;
mod merge_patch;
mod patch_type;
mod strategic;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use self::error::{PatchError, PatchErrorKind};
pub use self::json_patch::{MAX_OPERATIONS, json_patch};
pub use self::merge_patch::{merge_patch, parse_merge_patch};
pub use self::patch_type::PatchType;
pub use self::strategic::{parse_strategic_patch, strategic_merge_patch};

/// Applies a PATCH body of this type to `doc`, an object of the schema with index `schema` in
/// [`crate::generated::SCHEMAS`] (used by strategic merge patch only). Server-side apply is not
/// a patch function: [`PatchType::Apply`] gives a 500, route it to [`crate::api::apply`] first.
pub fn apply_patch(
    doc: &Value,
    patch_type: PatchType,
    body: &[u8],
    schema: Option<usize>,
) -> Result<Value, PatchError> {
    match patch_type {
        PatchType::Json => json_patch(doc, body),
        PatchType::Merge => Ok(merge_patch(doc, &parse_merge_patch(body)?)),
        PatchType::StrategicMerge => {
            strategic_merge_patch(doc, &parse_strategic_patch(body)?, schema)
        }
        PatchType::Apply => Err(PatchError::unclassified(
            "application/apply-patch+yaml is applied by server-side apply, not as a patch",
        )),
    }
}
