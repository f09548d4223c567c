//! The `scale` subresource of a stored workload: an `autoscaling/v1` Scale view of
//! `spec.replicas`, `status.replicas` and the selector, read, replaced or patched.

use http::StatusCode;
use serde_json::{Value, json};

use super::{ApiContext, blocking, changes, request_key, store_error};
use crate::api::status::Status;
use crate::api::{ApiRequest, ApiResult, Reply, body, meta};

/// How often a scale change is retried when the object changed under it.
const ATTEMPTS: usize = 5;

/// The Scale view of a workload.
pub fn view(obj: &Value) -> Value {
    let selector = obj
        .pointer("/status/selector")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            obj.pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default()
        });
    let m = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m.get("name"), "namespace": m.get("namespace"), "uid": m.get("uid"),
            "resourceVersion": m.get("resourceVersion"), "creationTimestamp": m.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)},
        "status": {"replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0), "selector": selector},
    })
}

/// GET …/scale.
pub async fn get(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    Ok(Reply::json(
        StatusCode::OK,
        &view(&super::read_existing(ctx, req)?),
    ))
}

fn replicas_of(scale: &Value) -> Result<i64, Status> {
    match scale.pointer("/spec/replicas") {
        Some(v) => v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
            Status::new(422, "Invalid", format!("Scale.autoscaling \"\" is invalid: spec.replicas: Invalid value: {v}: must be greater than or equal to 0"))
        }),
        None => Ok(0),
    }
}

/// Writes a new replica count, conditionally on the version read.
fn store_replicas(
    ctx: &ApiContext,
    req: &ApiRequest,
    obj: &Value,
    replicas: i64,
    expected: Option<u64>,
) -> Result<Result<Value, crate::store::StoreError>, Status> {
    let mut new = obj.clone();
    if new.pointer("/spec/replicas").and_then(Value::as_i64) == Some(replicas) {
        return Ok(Ok(new));
    }
    new["spec"]["replicas"] = json!(replicas);
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    meta::metadata(&mut new).insert("generation".into(), json!(generation + 1));
    let manager = super::options::field_manager(req)?;
    changes::record_manager(Some(obj), &mut new, &manager, req);
    if super::options::dry_run(req)? {
        return Ok(Ok(new));
    }
    let k = request_key(req);
    Ok(blocking(|| {
        ctx.store
            .update(&k, new, expected.or(meta::resource_version(obj)))
    }))
}

/// PUT …/scale.
pub async fn update(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    let name = req.name.as_deref().unwrap_or_default();
    let (scale, _) = body::decode(req)?;
    let replicas = replicas_of(&scale)?;
    let expected = meta::meta_str(&scale, "resourceVersion").and_then(|v| v.parse().ok());
    let obj = super::read_existing(ctx, req)?;
    let stored = store_replicas(ctx, req, &obj, replicas, expected)?
        .map_err(|e| store_error(req.resource, name, e))?;
    Ok(Reply::json(StatusCode::OK, &view(&stored)))
}

/// PATCH …/scale (kubectl scale sends a merge patch of the Scale).
pub async fn patch(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    let name = req.name.as_deref().unwrap_or_default();
    let patch_type = changes::patch_type(&body::content_type(req))?;
    for _ in 0..ATTEMPTS {
        let obj = super::read_existing(ctx, req)?;
        let scale = changes::patch(patch_type, &view(&obj), &req.body, None)?;
        let replicas = replicas_of(&scale)?;
        match store_replicas(ctx, req, &obj, replicas, None)? {
            Ok(stored) => return Ok(Reply::json(StatusCode::OK, &view(&stored))),
            Err(crate::store::StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(store_error(req.resource, name, e)),
        }
    }
    Err(store_error(
        req.resource,
        name,
        crate::store::StoreError::Conflict { current: 0 },
    ))
}
