//! Bridges from the write verbs to validation (`crate::api::validation`): `fieldValidation` on
//! bodies and patches, object metadata and required fields, immutable fields.

use serde_json::Value;

use crate::api::ApiRequest;
use crate::api::body::Format;
use crate::api::meta;
use crate::api::model::ResourceInfo;
use crate::api::patch::PatchType;
use crate::api::status::Status;
use crate::api::validation::{self, ErrorKind, FieldError, FieldValidation, PatchKind};

pub use crate::api::validation::generate_name;

fn mode(req: &ApiRequest) -> Result<FieldValidation, Status> {
    FieldValidation::parse(req.query.get("fieldValidation"), req.verb)
}

/// Checks a decoded create or update body: values of the wrong type (400), unknown and
/// duplicate fields per `fieldValidation` (400 under Strict, warnings under Warn). Returns the
/// warnings. Protobuf bodies cannot carry unknown fields.
pub fn incoming(
    req: &ApiRequest,
    raw: &[u8],
    obj: &Value,
    format: Format,
) -> Result<Vec<String>, Status> {
    let mode = mode(req)?;
    let Some(schema) = req.resource.schema else {
        return Ok(Vec::new());
    };
    match format {
        Format::Json => validation::check(raw, obj, schema, mode),
        Format::Yaml => validation::check_yaml(raw, obj, schema, mode),
        Format::Protobuf => Ok(Vec::new()),
    }
}

/// Checks a patch and its result the same way (server-side apply with its own wording).
pub fn patched(
    req: &ApiRequest,
    patch_type: PatchType,
    new: &Value,
) -> Result<Vec<String>, Status> {
    let mode = mode(req)?;
    let Some(schema) = req.resource.schema else {
        return Ok(Vec::new());
    };
    let kind = match patch_type {
        PatchType::Json => PatchKind::Json,
        PatchType::Merge => PatchKind::Merge,
        PatchType::StrategicMerge => PatchKind::Strategic,
        PatchType::Apply => {
            // A body that does not decode is refused by the apply itself, with its message
            // (and an alias bomb must not be walked again here).
            let Ok(applied) = crate::api::yaml::from_slice(&req.body) else {
                return Ok(Vec::new());
            };
            let ns = req.namespace.as_deref().unwrap_or_default();
            let name = req.name.as_deref().unwrap_or_default();
            return validation::check_apply(&req.body, &applied, schema, mode, ns, name);
        }
    };
    validation::check_patch(kind, &req.body, new, schema, mode)
}

/// Checks what is stored about to be written: metadata (name, labels, annotations) and
/// required fields, all problems in one 422 Invalid.
pub fn object(resource: &ResourceInfo, obj: &Value) -> Result<(), Status> {
    let mut errors = validation::validate_object_meta(resource, obj);
    if let Some(schema) = resource.schema {
        errors.extend(validation::required_errors(obj, schema));
    }
    errors.extend(validation::pod_path_errors(
        resource.group,
        resource.name,
        obj,
    ));
    errors.extend(validation::number_errors(
        resource.group,
        resource.name,
        obj,
    ));
    errors.extend(data_size(resource, obj));
    errors.extend(cron_schedule(resource, obj));
    if errors.is_empty() {
        return Ok(());
    }
    let name = meta::meta_str(obj, "name").unwrap_or_default();
    Err(validation::invalid_status(
        resource.kind,
        resource.group,
        name,
        &errors,
    ))
}

/// A CronJob's `spec.schedule` must parse and its `spec.timeZone` must name a known zone.
fn cron_schedule(resource: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    use crate::controllers::cronjob::schedule::{Schedule, parse_zone};
    if (resource.group, resource.name) != ("batch", "cronjobs") {
        return Vec::new();
    }
    let mut errors = Vec::new();
    if let Some(schedule) = obj.pointer("/spec/schedule").and_then(Value::as_str)
        && let Err(bad) = Schedule::parse(schedule, None)
    {
        errors.push(FieldError::invalid("spec.schedule", schedule, bad.message));
    }
    let zone = obj.pointer("/spec/timeZone").and_then(Value::as_str);
    if let (Some(name), Err(bad)) = (zone, parse_zone(zone)) {
        errors.push(FieldError::invalid("spec.timeZone", name, bad.message));
    }
    errors
}

/// What a Job's update may not change, as the real server checks it: completions (except
/// an Indexed Job scaled elastically, completions following parallelism), completionMode,
/// podFailurePolicy, backoffLimitPerIndex, and the pod template once the Job has started.
fn job_spec_changes(old: &Value, new: &Value) -> Vec<FieldError> {
    let at = |v: &Value, f: &str| v.pointer(&format!("/spec/{f}")).cloned();
    let elastic = |v: &Value| {
        at(v, "completionMode") == Some(Value::from("Indexed"))
            && at(v, "completions") == at(v, "parallelism")
    };
    let mut errors = Vec::new();
    for field in [
        "completions",
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
    ] {
        let (a, b) = (at(old, field), at(new, field));
        if a == b || (field == "completions" && elastic(old) && elastic(new)) {
            continue;
        }
        errors.push(FieldError::invalid(
            format!("spec.{field}"),
            b.unwrap_or(Value::Null),
            "field is immutable",
        ));
    }
    let never_started =
        at(old, "suspend") == Some(Value::Bool(true)) && old.pointer("/status/startTime").is_none();
    if !never_started && at(old, "template") != at(new, "template") {
        errors.push(FieldError::invalid(
            "spec.template",
            at(new, "template").unwrap_or(Value::Null),
            "field is immutable",
        ));
    }
    errors
}

/// The most a ConfigMap or Secret may hold, as on a real server.
const MAX_DATA_BYTES: usize = 1024 * 1024;

/// ConfigMaps and Secrets hold at most 1 MiB of data (the real server's limit).
fn data_size(resource: &ResourceInfo, obj: &Value) -> Option<FieldError> {
    let size = |field: &str| -> usize {
        obj.get(field)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
                    .sum()
            })
            .unwrap_or(0)
    };
    match (resource.group, resource.name) {
        ("", "configmaps") if size("data") + size("binaryData") > MAX_DATA_BYTES => {
            Some(FieldError::too_long("[]", MAX_DATA_BYTES))
        }
        // Secret data is base64 on the wire; the limit is on the decoded bytes.
        ("", "secrets") if size("data") * 3 / 4 > MAX_DATA_BYTES => {
            Some(FieldError::too_long("data", MAX_DATA_BYTES))
        }
        _ => None,
    }
}

/// Refuses changes to fields that may not change once set (422 Invalid): a workload's
/// selector, the content of an immutable ConfigMap or Secret.
pub fn immutable(resource: &ResourceInfo, old: &Value, new: &Value) -> Result<(), Status> {
    let mut errors = Vec::new();
    match (resource.group, resource.name) {
        ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets")
        | ("batch", "jobs") => {
            let (a, b) = (old.pointer("/spec/selector"), new.pointer("/spec/selector"));
            if a.is_some() && a != b {
                let shown = b.map(|v| v.to_string()).unwrap_or_else(|| "null".into());
                errors.push(FieldError::invalid(
                    "spec.selector",
                    shown,
                    "field is immutable",
                ));
            }
        }
        ("", "configmaps" | "secrets") if old.get("immutable") == Some(&Value::Bool(true)) => {
            for field in ["data", "binaryData", "immutable"] {
                if old.get(field) != new.get(field) {
                    errors.push(FieldError {
                        kind: ErrorKind::Forbidden,
                        field: field.into(),
                        value: Value::String(String::new()),
                        detail: "field is immutable when `immutable` is set".into(),
                    });
                }
            }
        }
        _ => {}
    }
    if (resource.group, resource.name) == ("batch", "jobs") {
        errors.extend(job_spec_changes(old, new));
    }
    if errors.is_empty() {
        return Ok(());
    }
    let name = meta::meta_str(new, "name").unwrap_or_default();
    Err(validation::invalid_status(
        resource.kind,
        resource.group,
        name,
        &errors,
    ))
}
