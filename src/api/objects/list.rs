//! GET of one object, and of a collection with selectors, `limit` and `continue`.

use base64::Engine;
use http::StatusCode;
use serde_json::{Value, json};

use super::filter::Filter;
use super::{ApiContext, blocking, list_options, object_reply, store_error};
use crate::api::status::Status;
use crate::api::{ApiRequest, ApiResult, Reply, accept, meta, table};

/// How many objects one store read returns while a filtered, limited list is assembled.
const CHUNK: usize = 500;

/// Reads one object.
pub async fn get(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    list_options::resource_version(&req.query)?;
    object_reply(req, StatusCode::OK, &super::read_existing(ctx, req)?)
}

/// The position a continue token carries.
fn decode_continue(token: &str) -> Result<String, Status> {
    let bad = || {
        Status::bad_request("continue key is not valid: the token was not issued by this server")
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    v.get("start")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(bad)
}

fn encode_continue(revision: u64, position: &str) -> String {
    let v = json!({"rv": revision, "start": position});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// `namespace/name` of a stored object: where a list continues after it.
fn position(obj: &Value) -> String {
    format!(
        "{}/{}",
        meta::meta_str(obj, "namespace").unwrap_or_default(),
        meta::meta_str(obj, "name").unwrap_or_default()
    )
}

/// The selected objects of the request's collection: at most `limit` of them, and the
/// position to continue from when there are more.
pub fn select(
    ctx: &ApiContext,
    req: &ApiRequest,
    filter: &Filter,
    limit: Option<usize>,
) -> Result<(Vec<Value>, u64, Option<String>), Status> {
    let r = req.resource;
    let ns = if r.namespaced {
        req.namespace.as_deref()
    } else {
        None
    };
    let mut start = match req.query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => Some(decode_continue(token)?),
        None => None,
    };
    let mut items = Vec::new();
    let mut revision = 0;
    loop {
        let want = limit.map_or(CHUNK, |l| (l - items.len()).clamp(1, CHUNK));
        let page = blocking(|| {
            ctx.store
                .list_from(r.group, r.name, ns, start.as_deref(), want)
        })
        .map_err(|e| store_error(r, "", e))?;
        let (chunk, rev, more) = (page.items, page.revision, page.more);
        if revision == 0 {
            revision = rev;
        }
        for obj in chunk {
            start = Some(position(&obj));
            if filter.matches(&obj) {
                items.push(obj);
                if limit.is_some_and(|l| items.len() >= l) {
                    let next = if more { start.clone() } else { None };
                    return Ok((items, revision, next));
                }
            }
        }
        if !more {
            return Ok((items, revision, None));
        }
    }
}

/// Lists the collection, as JSON or as a Table.
pub async fn list(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    let filter = Filter::from_request(req)?;
    list_options::validate(&req.query, false)?;
    list_options::resource_version(&req.query)?;
    // Zero or negative: no limit, as the real server reads it.
    let limit = list_options::int64(&req.query, "limit")?
        .filter(|n| *n > 0)
        .map(|n| n as usize);
    let (items, revision, next) = select(ctx, req, &filter, limit)?;
    let rv = revision.to_string();
    let mut metadata = json!({"resourceVersion": rv});
    if let Some(pos) = &next {
        metadata["continue"] = json!(encode_continue(revision, pos));
        // As a real server: how many are left, when no selector makes that unknowable cheaply.
        if filter.is_empty() {
            let r = req.resource;
            let ns = if r.namespaced {
                req.namespace.as_deref()
            } else {
                None
            };
            let rest = blocking(|| ctx.store.list_from(r.group, r.name, ns, Some(pos), 0))
                .map_err(|e| store_error(r, "", e))?;
            metadata["remainingItemCount"] = json!(rest.items.len());
        }
    }
    let ranges = accept::parse(&req.headers);
    if let Some(version) = table::wanted(&ranges) {
        let include = table::IncludeObject::parse(req.query.get("includeObject"))?;
        let rows = items
            .iter()
            .map(|o| table::row(req.resource, o, include))
            .collect();
        let mut t = table::table(&version, req.resource, &rv, rows);
        t["metadata"] = metadata;
        let body = serde_json::to_vec(&t).expect("a JSON value serializes");
        return Ok(Reply::body(
            StatusCode::OK,
            table::content_type(&version),
            crate::api::reply::full(body),
        ));
    }
    let list = json!({
        "kind": req.resource.list_kind,
        "apiVersion": req.resource.api_version(),
        "metadata": metadata,
        "items": items,
    });
    Ok(Reply::json(StatusCode::OK, &list))
}

#[cfg(test)]
mod tests {
    #[test]
    fn continue_tokens_round_trip() {
        let t = super::encode_continue(42, "default/web");
        assert_eq!(super::decode_continue(&t).unwrap(), "default/web");
        assert!(super::decode_continue("not a token").is_err());
    }
}
