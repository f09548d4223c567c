//! Query and body options shared by the write verbs: `dryRun`, `fieldManager`, `fieldValidation`,
//! and `DeleteOptions`.

use serde_json::Value;

use crate::api::status::Status;
use crate::api::{ApiRequest, body};

/// `true` for `dryRun=All`; an error for any other value.
pub fn dry_run(req: &ApiRequest) -> Result<bool, Status> {
    let mut dry = false;
    for v in req.query.all("dryRun") {
        match v {
            "All" => dry = true,
            "" => {}
            other => {
                return Err(Status::bad_request(format!(
                    "Invalid dry run value: dryRun: Unsupported value: \"{other}\": supported values: \"All\""
                )));
            }
        }
    }
    Ok(dry)
}

/// The field manager: the query parameter, else the user agent's program name (as the real
/// server does: the part before the first `/`).
pub fn field_manager(req: &ApiRequest) -> Result<String, Status> {
    if let Some(m) = req.query.get("fieldManager") {
        if m.len() > 128 || m.chars().any(|c| c.is_control()) {
            return Err(Status::bad_request(
                "fieldManager: Invalid value: must be at most 128 printable characters",
            ));
        }
        return Ok(m.to_string());
    }
    let agent = req
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    Ok(agent.split('/').next().unwrap_or(agent).to_string())
}

/// How a delete should treat dependents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the object now, its dependents after.
    Background,
    /// Delete the dependents first, then the object.
    Foreground,
    /// Keep the dependents, without their owner reference.
    Orphan,
}

/// What a DELETE asks for.
#[derive(Clone, Debug)]
pub struct DeleteOptions {
    /// Dependents' fate.
    pub propagation: Propagation,
    /// `gracePeriodSeconds`.
    pub grace_period: Option<i64>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// What the garbage collector and k2d's own deletions use: Background, no preconditions.
    pub fn background() -> Self {
        DeleteOptions {
            propagation: Propagation::Background,
            grace_period: None,
            uid: None,
            resource_version: None,
            dry_run: false,
        }
    }
}

/// Reads DeleteOptions from the body (JSON or protobuf) and the query, the body first.
pub fn delete_options(req: &ApiRequest) -> Result<DeleteOptions, Status> {
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        match body::content_type(req).as_str() {
            "application/vnd.kubernetes.protobuf" => crate::api::protobuf::decode(&req.body)
                .map_err(|e| e.status("DeleteOptions", &req.body))?,
            "application/yaml" => crate::api::yaml::from_slice(&req.body)
                .map_err(|e| Status::bad_request(format!("DeleteOptions: {e}")))?,
            _ => serde_json::from_slice(&req.body)
                .map_err(|e| Status::bad_request(format!("DeleteOptions: {e}")))?,
        }
    };
    let from_body = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let policy = from_body("propagationPolicy")
        .or_else(|| req.query.get("propagationPolicy").map(str::to_string));
    let orphan = body
        .get("orphanDependents")
        .and_then(Value::as_bool)
        .or_else(|| req.query.get("orphanDependents").map(|v| v == "true"));
    let propagation = match (policy.as_deref(), orphan) {
        (Some("Foreground"), _) => Propagation::Foreground,
        (Some("Orphan"), _) | (None, Some(true)) => Propagation::Orphan,
        (Some("Background") | None, _) => Propagation::Background,
        (Some(other), _) => {
            return Err(Status::new(
                422,
                "Invalid",
                format!(
                    "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
                ),
            ));
        }
    };
    // The query is decoded first, as the real server does: a malformed value is a 400 even
    // when the body sets one.
    let from_query = super::list_options::int64(&req.query, "gracePeriodSeconds")?;
    let grace_period = body
        .get("gracePeriodSeconds")
        .and_then(Value::as_i64)
        .or(from_query);
    let pre = body.get("preconditions");
    let dry = body
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "All"))
        || dry_run(req)?;
    Ok(DeleteOptions {
        propagation,
        grace_period,
        uid: pre
            .and_then(|p| p.get("uid"))
            .and_then(Value::as_str)
            .map(str::to_string),
        resource_version: pre
            .and_then(|p| p.get("resourceVersion"))
            .and_then(Value::as_str)
            .map(str::to_string),
        dry_run: dry,
    })
}
