//! PUT and PATCH of an object or of its status subresource: read, change, check, store
//! conditionally on the version read, retry on a concurrent change (patches only).

use http::StatusCode;
use serde_json::Value;

use super::{
    ApiContext, blocking, changes, convert, delete, object_reply, options, request_key,
    store_error, validate,
};
use crate::api::patch::PatchType;
use crate::api::status::Status;
use crate::api::validation::{ErrorKind, FieldError, invalid_status};
use crate::api::{ApiRequest, ApiResult, body, defaults, meta};
use crate::store::StoreError;

/// How often a patch is re-applied when the object changed under it.
const PATCH_ATTEMPTS: usize = 5;

/// `true` when two versions of an object differ in anything but bookkeeping.
fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("managedFields");
        }
        v
    };
    strip(a) == strip(b)
}

/// Checks, records the manager, and stores `new` over `old`; finishes a deletion whose last
/// finalizer was removed.
async fn commit(
    ctx: &ApiContext,
    req: &ApiRequest,
    old: &Value,
    mut new: Value,
    expected: Option<u64>,
    manager: Option<&str>,
    warnings: Vec<String>,
) -> Result<Result<crate::api::Reply, StoreError>, Status> {
    let status_only = req.route.subresource == Some("status");
    let has_status = req.resource.subresources.contains(&"status");
    meta::prepare_update(old, &mut new, status_only, has_status);
    let defaulted = match req.route.subresource {
        Some(sub) => format!("{}/{sub}", req.resource.name),
        None => req.resource.name.to_string(),
    };
    convert::normalize(req.resource, &mut new);
    defaults::apply(req.resource.group, &defaulted, &mut new);
    validate::immutable(req.resource, old, &new)?;
    validate::object(req.resource, &new)?;
    crate::security::pod_security::admit(&ctx.store, req, Some(old), &new)?;
    // Server-side apply has recorded its manager already; other writes record theirs here.
    if let Some(manager) = manager {
        changes::record_manager(Some(old), &mut new, manager, req);
    }
    let dry_run = options::dry_run(req)?;
    // Only the removal of the last finalizer finishes a deletion: a pod being terminated
    // gracefully has no finalizers and keeps receiving status writes until the runtime deletes
    // it.
    if meta::is_deleting(&new)
        && meta::finalizers(&new).is_empty()
        && !meta::finalizers(old).is_empty()
    {
        return delete::finish(ctx, req, &new, dry_run).await.map(Ok);
    }
    if same_content(old, &new) || dry_run {
        let shown = if dry_run { &new } else { old };
        let mut reply = object_reply(req, StatusCode::OK, shown)?;
        reply.warnings.extend(warnings);
        return Ok(Ok(reply));
    }
    let k = request_key(req);
    match blocking(|| ctx.store.update(&k, new, expected)) {
        Ok(stored) => {
            let mut reply = object_reply(req, StatusCode::OK, &stored)?;
            reply.warnings.extend(warnings);
            Ok(Ok(reply))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// PUT: replaces the object (or its status), unconditionally when the body has no
/// resourceVersion, else only if it is still that version (409 Conflict otherwise).
pub async fn update(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    let name = req.name.as_deref().unwrap_or_default();
    let (new, format) = body::decode_object(req)?;
    let warnings = validate::incoming(req, &req.body, &new, format)?;
    let manager = options::field_manager(req)?;
    let expected = match meta::meta_str(&new, "resourceVersion").filter(|v| !v.is_empty()) {
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            Status::bad_request(format!("metadata.resourceVersion: Invalid value: {v:?}: must be a resourceVersion this server issued"))
        })?),
        None => None,
    };
    let old = super::read(ctx, req)?
        .ok_or_else(|| Status::not_found(req.resource.group, req.resource.name, name))?;
    match commit(ctx, req, &old, new, expected, Some(&manager), warnings).await? {
        Ok(reply) => Ok(reply),
        Err(e) => Err(store_error(req.resource, name, e)),
    }
}

/// PATCH: JSON patch, merge patch, strategic merge patch, or server-side apply (which creates
/// a missing object).
pub async fn patch(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    patch_with(ctx, req, |_| {}).await
}

/// [`patch`], letting a translator complete an object that server-side apply creates (as
/// [`super::create::create_with`] does for a POST).
pub async fn patch_with(
    ctx: &ApiContext,
    req: &ApiRequest,
    complete_new: impl FnOnce(&mut Value),
) -> ApiResult {
    let name = req.name.as_deref().unwrap_or_default();
    let patch_type = changes::patch_type(&body::content_type(req))?;
    let manager = options::field_manager(req)?;
    if patch_type == PatchType::Apply && req.query.get("fieldManager").is_none_or(str::is_empty) {
        let required = FieldError::required("fieldManager", "is required for apply patch");
        return Err(invalid_status(
            "PatchOptions",
            "meta.k8s.io",
            "",
            &[required],
        ));
    }
    let force = req.query.flag("force");
    if force && patch_type != PatchType::Apply {
        let forbidden = FieldError {
            kind: ErrorKind::Forbidden,
            field: "force".into(),
            value: Value::Null,
            detail: "may not be specified for non-apply patch".into(),
        };
        return Err(invalid_status(
            "PatchOptions",
            "meta.k8s.io",
            "",
            &[forbidden],
        ));
    }
    let schema = req.resource.schema;
    let mut complete_new = Some(complete_new);
    for _ in 0..PATCH_ATTEMPTS {
        let old = super::read(ctx, req)?;
        let (mut new, warnings) = match (&old, patch_type) {
            (None, PatchType::Apply) => {
                return match complete_new.take() {
                    Some(complete) => {
                        super::create::apply_create_with(ctx, req, &manager, complete).await
                    }
                    None => super::create::apply_create(ctx, req, &manager).await,
                };
            }
            (None, _) => {
                return Err(Status::not_found(
                    req.resource.group,
                    req.resource.name,
                    name,
                ));
            }
            (Some(old), PatchType::Apply) => {
                (changes::apply(req, Some(old), &manager, force)?, Vec::new())
            }
            (Some(old), t) => (changes::patch(t, old, &req.body, schema)?, Vec::new()),
        };
        let old = old.expect("handled above");
        body::check_object(req, &mut new)?;
        let mut warnings = warnings;
        warnings.extend(validate::patched(req, patch_type, &new)?);
        // A resourceVersion in the patch is a precondition; otherwise the patch applies to the
        // version read, and is applied again if that changed meanwhile.
        let precondition = meta::meta_str(&new, "resourceVersion")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|v| Some(*v) != meta::resource_version(&old));
        let expected = precondition.or(meta::resource_version(&old));
        let recorded = (patch_type != PatchType::Apply).then_some(manager.as_str());
        match commit(ctx, req, &old, new, expected, recorded, warnings).await? {
            Ok(reply) => return Ok(reply),
            Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
            Err(e) => return Err(store_error(req.resource, name, e)),
        }
    }
    Err(store_error(
        req.resource,
        name,
        StoreError::Conflict { current: 0 },
    ))
}
