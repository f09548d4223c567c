//! Stored-object semantics, written once for every resource: create, get, list, update, patch,
//! delete (with finalizers and garbage collection), deletecollection and watch, as a real API
//! server does them, over the object store. The generated translator defaults call these
//! through `crate::api::stored`; hand-written translators call them for the verbs they do not
//! change.

pub mod changes;
pub mod convert;
pub mod create;
pub mod delete;
pub mod filter;
pub mod gc;
pub mod list;
pub mod list_options;
pub mod namespaces;
pub mod options;
pub mod scale;
pub mod update;
pub mod validate;
pub mod watch;

use std::sync::Arc;

use serde_json::Value;

use super::model::ResourceInfo;
use super::status::{Status, StatusDetails};
use super::{ApiRequest, table};
use crate::store::{ObjectKey, Store, StoreError};

/// What every request can reach: the store and the container engine. Cloning is cheap.
#[derive(Clone)]
pub struct ApiContext {
    /// The object store.
    pub store: Arc<Store>,
    /// The container engine; `None` when k2d runs without one (`--engine none`: objects are
    /// stored, nothing runs).
    pub engine: Option<Arc<crate::engine::Engine>>,
    /// Signs and verifies service account tokens.
    pub tokens: Arc<crate::security::tokens::TokenIssuer>,
    /// The garbage collector's task.
    pub gc: gc::Collector,
}

/// The store key of an object of the request's resource.
pub fn key(resource: &ResourceInfo, namespace: Option<&str>, name: &str) -> ObjectKey {
    let ns = if resource.namespaced {
        namespace.unwrap_or_default()
    } else {
        ""
    };
    ObjectKey::new(resource.group, resource.name, ns, name)
}

/// The key of the object a request names.
pub fn request_key(req: &ApiRequest) -> ObjectKey {
    key(
        req.resource,
        req.namespace.as_deref(),
        req.name.as_deref().unwrap_or_default(),
    )
}

fn details(resource: &ResourceInfo, name: &str) -> StatusDetails {
    StatusDetails {
        name: name.into(),
        group: resource.group.into(),
        kind: resource.name.into(),
        ..Default::default()
    }
}

/// The Status a store error becomes, worded as kube-apiserver words it.
pub fn store_error(resource: &ResourceInfo, name: &str, e: StoreError) -> Status {
    let qualified = resource.qualified_name();
    match e {
        StoreError::NotFound => Status::not_found(resource.group, resource.name, name),
        StoreError::AlreadyExists => {
            Status::new(409, "AlreadyExists", format!("{qualified} \"{name}\" already exists")).with_details(details(resource, name))
        }
        StoreError::Conflict { .. } => Status::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        )
        .with_details(details(resource, name)),
        StoreError::Gone { requested, oldest } => {
            Status::new(410, "Expired", format!("too old resource version: {requested} ({oldest})"))
        }
        StoreError::Invalid(m) => Status::new(422, "Invalid", m).with_details(details(resource, name)),
        StoreError::StorageFull(m) => Status::new(507, "InternalError", format!("the data directory is full, nothing was written: {m}")),
        StoreError::Storage(m) => Status::internal(format!("the object store failed, nothing was written: {m}")),
    }
}

/// Runs a blocking store call (reads are quick, writes wait for the disk) without stalling the
/// other requests of this worker thread.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// How often a write is tried again, on a fresh read, when a concurrent write changed the object.
pub const CONFLICT_RETRIES: usize = 5;

/// A conflict with a concurrent write (the stored resourceVersion moved on), not a failed
/// precondition the caller asked for.
pub fn is_write_conflict(e: &Status) -> bool {
    e.code == 409 && e.message.starts_with("Operation cannot be fulfilled")
}

/// Does `write` on `obj` and, while it fails with a write conflict, again on a fresh read of the
/// object (at most [`CONFLICT_RETRIES`] more times), as a real server's internal writers do.
/// `Ok(None)` when the object is gone meanwhile; `write` decides from the fresh object whether
/// there is still something to do.
pub fn retry_on_conflict<T>(
    ctx: &ApiContext,
    resource: &'static ResourceInfo,
    obj: &Value,
    mut write: impl FnMut(&Value) -> Result<T, Status>,
) -> Result<Option<T>, Status> {
    let k = key(
        resource,
        super::meta::meta_str(obj, "namespace"),
        super::meta::meta_str(obj, "name").unwrap_or_default(),
    );
    let mut result = write(obj);
    for _ in 0..CONFLICT_RETRIES {
        if !result.as_ref().is_err_and(is_write_conflict) {
            break;
        }
        let fresh =
            blocking(|| ctx.store.get(&k)).map_err(|e| store_error(resource, &k.name, e))?;
        let Some(fresh) = fresh else {
            return Ok(None);
        };
        result = write(&fresh);
    }
    result.map(Some)
}

/// The object the request names, if it exists.
pub fn read(ctx: &ApiContext, req: &ApiRequest) -> Result<Option<Value>, Status> {
    let k = request_key(req);
    blocking(|| ctx.store.get(&k)).map_err(|e| store_error(req.resource, &k.name, e))
}

/// The object the request names; 404 NotFound when it does not exist.
pub fn read_existing(ctx: &ApiContext, req: &ApiRequest) -> Result<Value, Status> {
    let name = req.name.as_deref().unwrap_or_default();
    read(ctx, req)?.ok_or_else(|| Status::not_found(req.resource.group, req.resource.name, name))
}

/// The reply for one object: JSON, or a one-row Table when the client asked for one.
pub fn object_reply(
    req: &ApiRequest,
    code: http::StatusCode,
    obj: &Value,
) -> Result<super::Reply, Status> {
    let ranges = super::accept::parse(&req.headers);
    if let Some(version) = table::wanted(&ranges) {
        let include = table::IncludeObject::parse(req.query.get("includeObject"))?;
        let rv = super::meta::meta_str(obj, "resourceVersion").unwrap_or_default();
        let t = table::table(
            &version,
            req.resource,
            rv,
            vec![table::row(req.resource, obj, include)],
        );
        let body = serde_json::to_vec(&t).expect("a JSON value serializes");
        return Ok(super::Reply::body(
            code,
            table::content_type(&version),
            super::reply::full(body),
        ));
    }
    Ok(super::Reply::json(code, obj))
}

/// The warning every write to a resource without a translator carries.
pub fn stored_only_warning(resource: &ResourceInfo) -> String {
    format!("k2d stores {} but does not act on it", resource.kind)
}
