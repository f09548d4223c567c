//! `/openapi/v3` and its per-group-version documents, with the hash-based caching clients use:
//! `ETag: "<hash>"`, `304` on a matching `If-None-Match`, and `Cache-Control: public, immutable`
//! when the URL names the current hash.

use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::reply::{JSON, Reply};
use super::request::Query;
use super::status::Status;
use crate::generated::{GROUP_VERSIONS, OPENAPI_ROOT};

/// `GET /openapi/v3`.
pub fn root() -> Reply {
    Reply::bytes(StatusCode::OK, JSON, OPENAPI_ROOT).header(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    )
}

/// `GET /openapi/v3/<doc_path>`.
pub fn document(doc_path: &str, query: &Query, headers: &HeaderMap) -> Result<Reply, Status> {
    let gv = GROUP_VERSIONS
        .iter()
        .find(|g| g.doc_path == doc_path)
        .ok_or_else(Status::path_not_found)?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", gv.openapi_hash))
        .expect("a hash is a valid header value");
    let cache = if query.get("hash") == Some(gv.openapi_hash) {
        "public, immutable"
    } else {
        "no-cache, private"
    };
    let cache = HeaderValue::from_static(cache);
    let not_modified = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    let reply = if not_modified {
        Reply::bytes(StatusCode::NOT_MODIFIED, JSON, bytes::Bytes::new())
    } else if super::accept::accepts_gzip(headers) {
        Reply::bytes(StatusCode::OK, JSON, gv.openapi_gzip)
            .header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))
    } else {
        Reply::bytes(StatusCode::OK, JSON, gv.openapi())
    };
    Ok(reply
        .header(header::VARY, HeaderValue::from_static("Accept-Encoding"))
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, cache))
}
