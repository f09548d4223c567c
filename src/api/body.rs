//! Request bodies: JSON, YAML or Kubernetes protobuf, into one JSON value; and the checks a real
//! server makes before it looks at the object (kind, apiVersion, name and namespace against the
//! URL).

use serde_json::Value;

use super::model::ResourceInfo;
use super::status::Status;
use super::{ApiRequest, protobuf};

/// The media types k2d decodes.
pub const ACCEPTED: &str =
    "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// How the body was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `application/yaml`.
    Yaml,
    /// `application/vnd.kubernetes.protobuf`.
    Protobuf,
}

/// The media type of the request without parameters, lower case.
pub fn content_type(req: &ApiRequest) -> String {
    req.headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// 415 for a body in a format k2d does not read.
pub fn unsupported_media_type() -> Status {
    Status::new(
        415,
        "UnsupportedMediaType",
        format!(
            "the body of the request was in an unknown format - accepted media types include: {ACCEPTED}"
        ),
    )
}

/// A JSON syntax error in the words Go's decoder uses where they can be told apart (an early
/// end), else serde_json's own description.
fn json_error(e: &serde_json::Error) -> String {
    let detail = if e.is_eof() {
        "unexpected end of JSON input".to_string()
    } else {
        e.to_string()
    };
    format!("couldn't get version/kind; json parse error: {detail}")
}

/// 400 for a body that is not an object of any kind, quoting its head as the real server does.
fn unrecognized(kind: &str, body: &[u8], reason: &str) -> Status {
    Status::bad_request(format!(
        "the object provided is unrecognized (must be of type {kind}): {reason} ({})",
        protobuf::summarize(body)
    ))
}

/// Decodes the body of a create or update.
pub fn decode(req: &ApiRequest) -> Result<(Value, Format), Status> {
    decode_bytes(&content_type(req), &req.body, req.resource.kind)
}

/// Decodes a body of this media type (lower case, no parameters) sent to a resource of this
/// kind: what [`decode`] does with a request, as a pure function (the fuzz targets call it).
pub fn decode_bytes(
    content_type: &str,
    body: &[u8],
    kind: &str,
) -> Result<(Value, Format), Status> {
    let (value, format) = match content_type {
        "application/json" | "" => (
            serde_json::from_slice(body).map_err(|e| unrecognized(kind, body, &json_error(&e)))?,
            Format::Json,
        ),
        "application/yaml" | "application/x-yaml" | "text/yaml" => (
            super::yaml::from_slice(body)
                .map_err(|e| unrecognized(kind, body, &format!("yaml: {e}")))?,
            Format::Yaml,
        ),
        "application/vnd.kubernetes.protobuf" => (
            protobuf::decode(body).map_err(|e| e.status(kind, body))?,
            Format::Protobuf,
        ),
        _ => return Err(unsupported_media_type()),
    };
    if !value.is_object() {
        return Err(Status::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok((value, format))
}

/// Checks `apiVersion` and `kind` of a body against the resource it was sent to, filling them in
/// when absent (as the real server's decoder does from the URL).
pub fn check_type(
    obj: &mut Value,
    resource: &ResourceInfo,
    kind: &str,
    api_version: &str,
) -> Result<(), Status> {
    let Some(o) = obj.as_object_mut() else {
        return Err(Status::bad_request(format!(
            "the body must be a {kind} object"
        )));
    };
    match o.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v != api_version => {
            let version = api_version.rsplit('/').next().unwrap_or(api_version);
            let shown = o.get("kind").and_then(Value::as_str).unwrap_or(kind);
            return Err(Status::bad_request(format!(
                "{shown} in version \"{version}\" cannot be handled as a {kind}: no kind \"{shown}\" is registered for version \"{v}\" in scheme \"k2d\""
            )));
        }
        Some(_) => {}
        None => {
            o.insert("apiVersion".into(), Value::String(api_version.into()));
        }
    }
    match o.get("kind").and_then(Value::as_str) {
        Some(k) if k != kind => {
            let version = api_version.rsplit('/').next().unwrap_or(api_version);
            let group = resource
                .group
                .split('.')
                .next()
                .filter(|g| !g.is_empty())
                .unwrap_or("core");
            return Err(Status::bad_request(format!(
                "{k} in version \"{version}\" cannot be handled as a {kind}: converting ({version}.{k}) to ({group}.{kind}): unknown conversion"
            )));
        }
        Some(_) => {}
        None => {
            o.insert("kind".into(), Value::String(kind.into()));
        }
    }
    Ok(())
}

/// Checks the body's `metadata.name` and `metadata.namespace` against the URL, filling in what
/// the body leaves out.
pub fn check_identity(
    obj: &mut Value,
    url_name: Option<&str>,
    url_namespace: Option<&str>,
) -> Result<(), Status> {
    let Some(o) = obj.as_object_mut() else {
        return Err(Status::bad_request("the body must be an object"));
    };
    let meta = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return Err(Status::bad_request("metadata must be an object"));
    };
    if let Some(url_name) = url_name {
        match meta.get("name").and_then(Value::as_str) {
            Some(n) if n != url_name => {
                return Err(Status::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({url_name})"
                )));
            }
            Some(_) => {}
            None => {
                meta.insert("name".into(), Value::String(url_name.into()));
            }
        }
    }
    if let Some(ns) = url_namespace {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(n) if !n.is_empty() && n != ns => {
                return Err(Status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {
                meta.insert("namespace".into(), Value::String(ns.into()));
            }
        }
    }
    Ok(())
}

/// Decodes an object of the request's own kind and checks it against the URL: kind and
/// apiVersion must be the resource's, name and namespace the URL's (filled in when absent).
pub fn decode_object(req: &ApiRequest) -> Result<(Value, Format), Status> {
    let (mut obj, format) = decode(req)?;
    check_object(req, &mut obj)?;
    Ok((obj, format))
}

/// Checks an object (decoded, or the result of a patch) against the URL it was sent to: kind,
/// apiVersion, name (on object URLs) and namespace.
pub fn check_object(req: &ApiRequest, obj: &mut Value) -> Result<(), Status> {
    if !obj.is_object() {
        return Err(Status::new(
            422,
            "Invalid",
            format!("{} is not an object: {obj}", req.resource.kind),
        ));
    }
    check_type(
        obj,
        req.resource,
        req.resource.kind,
        &req.resource.api_version(),
    )?;
    let namespace = req.namespace.as_deref().filter(|_| req.resource.namespaced);
    check_identity(obj, req.name.as_deref(), namespace)
}

/// The body of a review (SelfSubjectReview, SelfSubjectAccessReview, ...): an object of the
/// request's kind that is answered, never stored.
pub fn decode_review(req: &ApiRequest) -> Result<Value, Status> {
    let (mut review, _) = decode(req)?;
    check_type(
        &mut review,
        req.resource,
        req.resource.kind,
        &req.resource.api_version(),
    )?;
    review["metadata"] = serde_json::json!({"creationTimestamp": null});
    Ok(review)
}
