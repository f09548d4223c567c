//! Bridges from the write verbs to the engines that compute a change: the patch engine
//! (`crate::api::patch`), server-side apply and field ownership (`crate::api::apply`).

use serde_json::Value;

use crate::api::ApiRequest;
use crate::api::patch::{self, PatchType};
use crate::api::status::Status;

/// The patch type a PATCH request's Content-Type names (415 for anything else).
pub fn patch_type(content_type: &str) -> Result<PatchType, Status> {
    PatchType::from_content_type(Some(content_type)).map_err(|e| e.to_status())
}

/// `old` with a JSON, merge or strategic merge patch applied.
pub fn patch(
    t: PatchType,
    old: &Value,
    body: &[u8],
    schema: Option<usize>,
) -> Result<Value, Status> {
    patch::apply_patch(old, t, body, schema).map_err(|e| e.to_status())
}

/// Records who changed what in `managedFields` for a non-apply write (create, PUT, patch).
pub fn record_manager(old: Option<&Value>, new: &mut Value, manager: &str, req: &ApiRequest) {
    let sub = req
        .route
        .subresource
        .filter(|s| *s != "status" || req.resource.subresources.contains(s));
    let recorded = crate::api::apply::record_update(
        old,
        new,
        manager,
        "Update",
        sub,
        req.resource.schema,
        &crate::api::meta::now(),
    );
    *new = recorded;
}

/// Server-side apply of the request body (YAML or JSON) onto `live` (`None`: create).
pub fn apply(
    req: &ApiRequest,
    live: Option<&Value>,
    manager: &str,
    force: bool,
) -> Result<Value, Status> {
    let config: Value = crate::api::yaml::from_slice(&req.body).map_err(|e| {
        Status::bad_request(format!(
            "error decoding the apply configuration as YAML or JSON: {e}"
        ))
    })?;
    if !config.is_object() {
        return Err(Status::bad_request(
            "the apply configuration must be an object",
        ));
    }
    crate::api::apply::apply_subresource(
        live,
        &config,
        manager,
        force,
        req.route.subresource,
        req.resource.schema,
        &crate::api::meta::now(),
    )
    .map_err(|e| e.to_status())
}
