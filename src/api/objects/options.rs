//! Query and body options shared by the write verbs: `dryRun`, `fieldManager`, `fieldValidation`,
//! and `DeleteOptions`.

use serde_json::Value;

use crate::api::apply::validate_field_manager;
use crate::api::model::Verb;
use crate::api::status::Status;
use crate::api::validation::field_error::{FieldError, go_quote, invalid_status};
use crate::api::{ApiRequest, body};

/// The kind kube-apiserver names in a 422 about the request's options: `CreateOptions`,
/// `UpdateOptions`, `PatchOptions` or `DeleteOptions`.
fn options_kind(req: &ApiRequest) -> &'static str {
    match req.verb {
        Verb::Create => "CreateOptions",
        Verb::Update => "UpdateOptions",
        Verb::Delete | Verb::DeleteCollection => "DeleteOptions",
        _ => "PatchOptions",
    }
}

/// `true` for `dryRun=All`. Any other value (an empty one too) is refused as the real server's
/// options validation does: 422, naming the whole list as Go prints a `[]string`.
pub fn dry_run(req: &ApiRequest) -> Result<bool, Status> {
    let values: Vec<&str> = req.query.all("dryRun").collect();
    if values.iter().any(|v| *v != "All") {
        let list: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
        return Err(Status::new(
            422,
            "Invalid",
            format!(
                "{}.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{{{}}}: supported values: \"All\"",
                options_kind(req),
                list.join(", ")
            ),
        ));
    }
    Ok(!values.is_empty())
}

/// The field manager: the query parameter (at most 128 bytes, printable: a 422 otherwise, as
/// the real server's options validation answers), else the user agent's program name (as the
/// real server does: the part before the first `/`).
pub fn field_manager(req: &ApiRequest) -> Result<String, Status> {
    if let Some(m) = req.query.get("fieldManager").filter(|m| !m.is_empty()) {
        validate_field_manager(m, false, options_kind(req))?;
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
    let mut errors = Vec::new();
    if let (Some(p), Some(_)) = (&policy, orphan) {
        errors.push(FieldError::invalid(
            "propagationPolicy",
            p.as_str(),
            "orphanDependents and deletionPropagation cannot be both set",
        ));
    }
    let propagation = match (policy.as_deref(), orphan) {
        (Some("Foreground"), _) => Propagation::Foreground,
        (Some("Orphan"), _) | (None, Some(true)) => Propagation::Orphan,
        (Some("Background") | None, _) => Propagation::Background,
        (Some(other), _) => {
            errors.push(FieldError::not_supported(
                "propagationPolicy",
                other,
                &["Foreground", "Background", "Orphan", "nil"],
            ));
            Propagation::Background
        }
    };
    if !errors.is_empty() {
        return Err(invalid_status("DeleteOptions", "meta.k8s.io", "", &errors));
    }
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
