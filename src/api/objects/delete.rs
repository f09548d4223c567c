//! DELETE of an object and of a collection: preconditions, finalizers and `deletionTimestamp`,
//! and the propagation policy toward dependents (see [`super::gc`]).

use http::StatusCode;
use serde_json::{Value, json};

use super::filter::Filter;
use super::options::{DeleteOptions, Propagation, delete_options};
use super::{ApiContext, blocking, gc, key, object_reply, store_error};
use crate::api::model::ResourceInfo;
use crate::api::status::Status;
use crate::api::{ApiRequest, ApiResult, Reply, meta};

/// The finalizer that holds an owner until its dependents are gone (Foreground deletion).
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// What a delete did.
pub enum Outcome {
    /// The object is gone; this was its last state.
    Deleted(Value),
    /// The object stays, marked for deletion, until its finalizers are removed.
    Marked(Value),
}

impl Outcome {
    /// The object to show the client.
    pub fn object(&self) -> &Value {
        match self {
            Outcome::Deleted(v) | Outcome::Marked(v) => v,
        }
    }
}

fn conflict(message: String) -> Status {
    Status::new(409, "Conflict", message)
}

/// Deletes (or marks for deletion) one stored object of `resource`.
pub fn delete_object(
    ctx: &ApiContext,
    resource: &'static ResourceInfo,
    obj: &Value,
    opts: &DeleteOptions,
) -> Result<Outcome, Status> {
    let name = meta::meta_str(obj, "name").unwrap_or_default();
    let ns = meta::meta_str(obj, "namespace");
    let uid = meta::meta_str(obj, "uid").unwrap_or_default().to_string();
    if let Some(want) = &opts.uid
        && want != &uid
    {
        return Err(conflict(format!(
            "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
        )));
    }
    if let Some(want) = &opts.resource_version
        && Some(want.as_str()) != meta::meta_str(obj, "resourceVersion")
    {
        return Err(conflict(format!(
            "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {}",
            meta::meta_str(obj, "resourceVersion").unwrap_or_default()
        )));
    }
    if let Some(grace) = graceful_pod(ctx, resource, obj, opts) {
        return mark_pod(ctx, resource, obj, opts, grace);
    }
    let k = key(resource, ns, name);
    let mut finalizers = meta::finalizers(obj);
    if opts.propagation == Propagation::Foreground
        && !finalizers.iter().any(|f| f == FOREGROUND_FINALIZER)
    {
        finalizers.push(FOREGROUND_FINALIZER.into());
    }
    if opts.propagation == Propagation::Orphan && !opts.dry_run {
        gc::orphan(ctx, &uid)?;
    }
    if finalizers.is_empty() {
        if opts.dry_run {
            return Ok(Outcome::Deleted(obj.clone()));
        }
        let last = blocking(|| ctx.store.delete(&k, meta::resource_version(obj)))
            .map_err(|e| store_error(resource, name, e))?;
        if opts.propagation == Propagation::Background {
            gc::collect_in_background(ctx, uid);
        }
        gc::release_owners_in_background(ctx, &last);
        return Ok(Outcome::Deleted(last));
    }
    let mut marked = obj.clone();
    let m = meta::metadata(&mut marked);
    if !m.contains_key("deletionTimestamp") {
        m.insert("deletionTimestamp".into(), json!(meta::now()));
        m.insert(
            "deletionGracePeriodSeconds".into(),
            json!(opts.grace_period.unwrap_or(0)),
        );
    }
    m.insert("finalizers".into(), json!(finalizers));
    if opts.dry_run || &marked == obj {
        return Ok(Outcome::Marked(marked));
    }
    let stored = blocking(|| ctx.store.update(&k, marked, meta::resource_version(obj)))
        .map_err(|e| store_error(resource, name, e))?;
    if opts.propagation == Propagation::Foreground {
        gc::collect_in_background(ctx, uid);
    }
    Ok(Outcome::Marked(stored))
}

/// The grace period of a pod's deletion: the request's, else the pod's
/// `terminationGracePeriodSeconds`, else 30 seconds.
pub fn pod_grace_period(opts: &DeleteOptions, pod: &Value) -> i64 {
    opts.grace_period
        .or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0)
}

/// The grace period when deleting `obj` means asking its containers to stop first: a pod k2d
/// runs (an engine is present, the pod is not a plain container shown as a pod) deleted with a
/// grace period above zero. The pod runtime removes the object once its containers are gone.
fn graceful_pod(
    ctx: &ApiContext,
    resource: &ResourceInfo,
    obj: &Value,
    opts: &DeleteOptions,
) -> Option<i64> {
    let plain = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(crate::engine::labels::FOREIGN_CONTAINER_ANNOTATION))
        .is_some();
    let unscheduled = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    if !(resource.group.is_empty() && resource.name == "pods")
        || ctx.engine.is_none()
        || plain
        || unscheduled
    {
        return None;
    }
    Some(pod_grace_period(opts, obj)).filter(|g| *g > 0)
}

/// Marks a pod for graceful deletion: `deletionTimestamp` at the end of the grace period and
/// `deletionGracePeriodSeconds`, as a kubelet-backed API server does.
fn mark_pod(
    ctx: &ApiContext,
    resource: &'static ResourceInfo,
    pod: &Value,
    opts: &DeleteOptions,
    grace: i64,
) -> Result<Outcome, Status> {
    if meta::is_deleting(pod) {
        return Ok(Outcome::Marked(pod.clone()));
    }
    let mut marked = pod.clone();
    let deadline = time::OffsetDateTime::now_utc() + time::Duration::seconds(grace);
    let at = deadline
        .replace_nanosecond(0)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(meta::now);
    let m = meta::metadata(&mut marked);
    m.insert("deletionTimestamp".into(), json!(at));
    m.insert("deletionGracePeriodSeconds".into(), json!(grace));
    if opts.dry_run {
        return Ok(Outcome::Marked(marked));
    }
    let name = meta::meta_str(pod, "name").unwrap_or_default();
    let k = key(resource, meta::meta_str(pod, "namespace"), name);
    let stored = blocking(|| ctx.store.update(&k, marked, meta::resource_version(pod)))
        .map_err(|e| store_error(resource, name, e))?;
    Ok(Outcome::Marked(stored))
}

/// Removes an object whose last finalizer an update just removed.
pub async fn finish(
    ctx: &ApiContext,
    req: &ApiRequest,
    obj: &Value,
    dry_run: bool,
) -> Result<Reply, Status> {
    let opts = DeleteOptions {
        dry_run,
        ..DeleteOptions::background()
    };
    let outcome = delete_object(ctx, req.resource, obj, &opts)?;
    object_reply(req, StatusCode::OK, outcome.object())
}

/// DELETE of one object.
pub async fn delete(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    let opts = delete_options(req)?;
    // Another writer may change the object between the read and the write (the store then
    // refuses the write). A real server retries that race with a fresh read, checking the
    // client's preconditions again each time, so a delete never answers 409 because of it.
    let mut races = 0;
    loop {
        let obj = super::read_existing(ctx, req)?;
        match delete_object(ctx, req.resource, &obj, &opts) {
            Err(e)
                if e.code == 409 && !e.message.starts_with("Precondition failed") && races < 8 =>
            {
                races += 1;
            }
            outcome => return object_reply(req, StatusCode::OK, outcome?.object()),
        }
    }
}

/// DELETE of a collection: every selected object, answered with the list of what was deleted.
pub async fn delete_collection(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    let opts = delete_options(req)?;
    let filter = Filter::from_request(req)?;
    let (items, revision, _) = super::list::select(ctx, req, &filter, None)?;
    let mut deleted = Vec::new();
    for obj in &items {
        match delete_object(ctx, req.resource, obj, &opts) {
            Ok(o) => deleted.push(o.object().clone()),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "kind": req.resource.list_kind,
            "apiVersion": req.resource.api_version(),
            "metadata": {"resourceVersion": revision.to_string()},
            "items": deleted,
        }),
    ))
}
