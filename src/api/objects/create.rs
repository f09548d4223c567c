//! POST on a collection (and server-side apply of a missing object): decode, check, fill in
//! metadata, store, answer 201.

use http::StatusCode;
use serde_json::{Value, json};

use super::{
    ApiContext, blocking, changes, convert, gc, key, namespaces, object_reply, options,
    store_error, validate,
};
use crate::api::status::Status;
use crate::api::validation::{FieldError, invalid_status};
use crate::api::{ApiRequest, ApiResult, body, defaults, meta};
use crate::store::StoreError;

/// How many fresh names `generateName` tries before giving up.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// Creates the object in the request body.
pub async fn create(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    create_with(ctx, req, |_| {}).await
}

/// Creates the object in the request body, letting a translator complete it (after the server
/// has filled in metadata, before the defaults and the field manager are recorded).
pub async fn create_with(
    ctx: &ApiContext,
    req: &ApiRequest,
    complete: impl FnOnce(&mut Value),
) -> ApiResult {
    let (obj, format) = body::decode_object(req)?;
    let warnings = validate::incoming(req, &req.body, &obj, format)?;
    let manager = options::field_manager(req)?;
    let finish = |obj: &mut Value| {
        convert::normalize(req.resource, obj);
        complete(obj);
        default_new(req, obj);
        changes::record_manager(None, obj, &manager, req);
    };
    store_new(ctx, req, obj, warnings, finish).await
}

/// Server-side apply of an object that does not exist yet: created from the applied
/// configuration, owned by the applying manager.
pub async fn apply_create(ctx: &ApiContext, req: &ApiRequest, manager: &str) -> ApiResult {
    apply_create_with(ctx, req, manager, |_| {}).await
}

/// [`apply_create`], letting a translator complete the new object as [`create_with`] does.
pub async fn apply_create_with(
    ctx: &ApiContext,
    req: &ApiRequest,
    manager: &str,
    complete: impl FnOnce(&mut Value),
) -> ApiResult {
    let mut obj = changes::apply(req, None, manager, req.query.flag("force"))?;
    body::check_object(req, &mut obj)?;
    let warnings = validate::patched(req, crate::api::patch::PatchType::Apply, &obj)?;
    store_new(ctx, req, obj, warnings, |obj| {
        convert::normalize(req.resource, obj);
        complete(obj);
        default_new(req, obj)
    })
    .await
}

/// The API defaults of a new object, and what the default admission plugins add to a new pod.
fn default_new(req: &ApiRequest, obj: &mut Value) {
    defaults::apply(req.resource.group, req.resource.name, obj);
    if req.resource.group.is_empty()
        && req.resource.name == "pods"
        && let Some(pod) = obj.as_object_mut()
    {
        defaults::admission::pod_on_create(pod);
        let automount = service_account_automount(req, pod);
        let suffix = validate::generate_name("");
        defaults::admission::service_account_volume(pod, automount, &suffix);
    }
}

/// The `automountServiceAccountToken` of the service account a new pod runs as (true when it
/// is unset or the account does not exist).
fn service_account_automount(req: &ApiRequest, pod: &serde_json::Map<String, Value>) -> bool {
    let sa = pod
        .get("spec")
        .and_then(|s| s.get("serviceAccountName"))
        .and_then(Value::as_str)
        .unwrap_or(defaults::admission::DEFAULT_SERVICE_ACCOUNT);
    let k = crate::store::ObjectKey::new(
        "",
        "serviceaccounts",
        req.namespace.as_deref().unwrap_or_default(),
        sa,
    );
    blocking(|| req.ctx.store.get(&k))
        .ok()
        .flatten()
        .and_then(|a| {
            a.get("automountServiceAccountToken")
                .and_then(Value::as_bool)
        })
        .unwrap_or(true)
}

/// Stores a new object: namespace open, name (or generateName) valid, metadata filled in, then
/// `finish`ed (defaults, field manager).
async fn store_new(
    ctx: &ApiContext,
    req: &ApiRequest,
    mut obj: Value,
    warnings: Vec<String>,
    finish: impl FnOnce(&mut Value),
) -> ApiResult {
    let dry_run = options::dry_run(req)?;
    let generate = meta::meta_str(&obj, "name").is_none_or(str::is_empty);
    let prefix = obj
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if generate && prefix.is_empty() {
        let required = FieldError::required("metadata.name", "name or generateName is required");
        return Err(invalid_status(
            req.resource.kind,
            req.resource.group,
            "",
            &[required],
        ));
    }
    if req.resource.namespaced {
        let shown = if generate {
            prefix.as_str()
        } else {
            meta::meta_str(&obj, "name").unwrap_or_default()
        };
        namespaces::check_open(
            ctx,
            req.resource,
            shown,
            req.namespace.as_deref().unwrap_or_default(),
        )?;
    }
    let has_status = req.resource.subresources.contains(&"status");
    meta::prepare_create(&mut obj, has_status, meta::tracks_generation(req.resource));
    finish(&mut obj);
    for _ in 0..GENERATE_NAME_ATTEMPTS {
        if generate {
            meta::metadata(&mut obj).insert("name".into(), json!(validate::generate_name(&prefix)));
        }
        let name = meta::meta_str(&obj, "name").unwrap_or_default().to_string();
        validate::object(req.resource, &obj)?;
        crate::security::pod_security::admit(&ctx.store, req, None, &obj)?;
        let stored = if dry_run {
            Ok(obj.clone())
        } else {
            let k = key(req.resource, req.namespace.as_deref(), &name);
            blocking(|| ctx.store.create(&k, obj.clone()))
        };
        match stored {
            Ok(stored) => {
                if !dry_run {
                    gc::check_owners_in_background(ctx, req.resource, &stored);
                }
                let mut reply = object_reply(req, StatusCode::CREATED, &stored)?;
                reply.warnings.extend(warnings);
                return Ok(reply);
            }
            Err(StoreError::AlreadyExists) if generate => continue,
            Err(e) => return Err(store_error(req.resource, &name, e)),
        }
    }
    Err(Status::new(
        409,
        "AlreadyExists",
        format!("no free name for generateName {prefix:?} after {GENERATE_NAME_ATTEMPTS} tries"),
    ))
}
