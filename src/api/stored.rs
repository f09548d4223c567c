//! The generated default of every translator method: stored-object semantics.
//!
//! Not yet: k2d has no object store (that is the API-semantics issue). Until it lands, the defaults
//! answer the way a real server with an empty store answers reads (empty lists, `NotFound`, watches
//! that stay open and deliver nothing), and refuse writes with a `MethodNotAllowed` Status that says
//! so, so that every client gets an answer it understands.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::StatusCode;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};

use super::reply::Reply;
use super::status::Status;
use super::{ApiRequest, ApiResult, accept, table};

/// The resourceVersion the empty store is at.
const EMPTY_STORE_RESOURCE_VERSION: &str = "1";

/// How long a watch without `timeoutSeconds` stays open (a real server picks 30 to 60 minutes).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

fn not_found(req: &ApiRequest) -> Status {
    Status::not_found(
        req.resource.group,
        req.resource.name,
        req.name.as_deref().unwrap_or_default(),
    )
}

fn no_store(req: &ApiRequest) -> Status {
    Status::method_not_allowed(format!(
        "k2d does not store {} yet: {} is not supported on this resource",
        req.target_name(),
        req.verb.as_str()
    ))
}

/// The answer for a verb or subresource no translator serves.
pub fn unsupported(req: &ApiRequest) -> Status {
    no_store(req)
}

/// Default `get`.
pub async fn get(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}

/// Default `list`: an empty list, or an empty Table.
pub async fn list(req: ApiRequest) -> ApiResult {
    let ranges = accept::parse(&req.headers);
    if let Some(version) = table::wanted(&ranges) {
        let t = table::table(
            &version,
            req.resource,
            EMPTY_STORE_RESOURCE_VERSION,
            Vec::new(),
        );
        let body = serde_json::to_vec(&t).expect("a JSON value serializes");
        return Ok(Reply::body(
            StatusCode::OK,
            table::content_type(&version),
            super::reply::full(body),
        ));
    }
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "kind": req.resource.list_kind,
            "apiVersion": req.resource.api_version(),
            "metadata": {"resourceVersion": EMPTY_STORE_RESOURCE_VERSION},
            "items": [],
        }),
    ))
}

/// Default `watch`: nothing ever changes, so the stream carries only the end-of-initial-events
/// bookmark when the client asked for initial events (watch-list), and closes at `timeoutSeconds`.
pub async fn watch(req: ApiRequest) -> ApiResult {
    let timeout = req
        .query
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let mut first: Vec<Bytes> = Vec::new();
    if req.query.flag("sendInitialEvents") {
        let bookmark: Value = json!({
            "type": "BOOKMARK",
            "object": {
                "kind": req.resource.kind,
                "apiVersion": req.resource.api_version(),
                "metadata": {
                    "resourceVersion": EMPTY_STORE_RESOURCE_VERSION,
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
            },
        });
        let mut line = serde_json::to_vec(&bookmark).expect("a JSON value serializes");
        line.push(b'\n');
        first.push(Bytes::from(line));
    }
    let events = futures_util::stream::iter(first).chain(
        futures_util::stream::once(async move {
            tokio::time::sleep(timeout).await;
            Bytes::new()
        })
        .filter(|b| std::future::ready(!b.is_empty())),
    );
    let body =
        StreamBody::new(events.map(|b| Ok::<_, std::io::Error>(Frame::data(b)))).boxed_unsync();
    Ok(Reply::body(
        StatusCode::OK,
        http::HeaderValue::from_static(super::reply::JSON),
        body,
    ))
}

/// Default `create`.
pub async fn create(req: ApiRequest) -> ApiResult {
    Err(no_store(&req))
}

/// Default `update`.
pub async fn update(req: ApiRequest) -> ApiResult {
    Err(no_store(&req))
}

/// Default `patch`.
pub async fn patch(req: ApiRequest) -> ApiResult {
    Err(no_store(&req))
}

/// Default `delete`.
pub async fn delete(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}

/// Default `deletecollection`.
pub async fn delete_collection(req: ApiRequest) -> ApiResult {
    Err(no_store(&req))
}

/// Default `get` of a subresource: the object does not exist.
pub async fn get_subresource(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}

/// Default `create` on a subresource (`serviceaccounts/token`).
pub async fn create_subresource(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}

/// Default `update` of a subresource.
pub async fn update_subresource(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}

/// Default `patch` of a subresource.
pub async fn patch_subresource(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}

/// Default `delete` of a subresource.
pub async fn delete_subresource(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}

/// Default connect (exec, attach, portforward): the pod does not exist.
pub async fn connect_subresource(req: ApiRequest) -> ApiResult {
    Err(not_found(&req))
}
