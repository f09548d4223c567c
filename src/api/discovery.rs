//! Discovery: `/api`, `/apis`, `/apis/<group>`, `/api/v1`, `/apis/<group>/<version>`.
//! Aggregated discovery is chosen from the `Accept` header alone; clients recognise it by the
//! response Content-Type, so that is set exactly.

use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

use super::accept;
use super::reply::{JSON, Reply};
use super::status::Status;
use crate::generated::{DISCOVERY, GROUP_VERSIONS};

const AGGREGATED_VERSIONS: &[&str] = &["v2", "v2beta1"];

fn aggregated(headers: &HeaderMap, core: bool) -> Option<Reply> {
    let ranges = accept::parse(headers);
    let v = accept::wants_as(
        &ranges,
        "APIGroupDiscoveryList",
        "apidiscovery.k8s.io",
        AGGREGATED_VERSIONS,
    )?;
    let body = match (core, v.as_str()) {
        (true, "v2") => DISCOVERY.api_v2,
        (false, "v2") => DISCOVERY.apis_v2,
        (true, _) => DISCOVERY.api_v2beta1,
        (false, _) => DISCOVERY.apis_v2beta1,
    };
    let ct = HeaderValue::from_str(&format!(
        "application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"
    ))
    .expect("a valid header value");
    Some(Reply::body(StatusCode::OK, ct, super::reply::full(body)))
}

/// `GET /api`. `server_address` is the `host:port` the client reached k2d at.
pub fn api(headers: &HeaderMap, server_address: &str) -> Reply {
    aggregated(headers, true).unwrap_or_else(|| {
        Reply::json(
            StatusCode::OK,
            &json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
            }),
        )
    })
}

/// `GET /apis`.
pub fn apis(headers: &HeaderMap) -> Reply {
    aggregated(headers, false).unwrap_or_else(|| Reply::bytes(StatusCode::OK, JSON, DISCOVERY.apis))
}

/// `GET /apis/<group>`: the legacy `APIGroup`.
pub fn group(group: &str) -> Result<Reply, Status> {
    let versions: Vec<_> = GROUP_VERSIONS
        .iter()
        .filter(|g| g.group == group && !group.is_empty())
        .map(
            |g| json!({"groupVersion": format!("{}/{}", g.group, g.version), "version": g.version}),
        )
        .collect();
    let Some(preferred) = versions.first().cloned() else {
        return Err(Status::path_not_found());
    };
    Ok(Reply::json(
        StatusCode::OK,
        &json!({"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions, "preferredVersion": preferred}),
    ))
}

/// `GET /api/v1` or `GET /apis/<group>/<version>`: the legacy `APIResourceList`.
pub fn resource_list(group: &str, version: &str) -> Result<Reply, Status> {
    GROUP_VERSIONS
        .iter()
        .find(|g| g.group == group && g.version == version)
        .map(|g| Reply::bytes(StatusCode::OK, JSON, g.resource_list))
        .ok_or_else(Status::path_not_found)
}

/// The `host:port` to publish in `serverAddressByClientCIDRs`.
pub fn server_address(headers: &HeaderMap, fallback: &str) -> String {
    headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| fallback.to_string())
}
