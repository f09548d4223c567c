//! Reading and writing k2d's API from a test, and playing the kubelet's part for controllers
//! that run with no engine (a pod's status set to Running and Ready).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Creds, K2d};

pub async fn get(k2d: &K2d, path: &str) -> Option<Value> {
    let a = k2d
        .request(
            "GET",
            path,
            Creds::Token(&k2d.token),
            None,
            Duration::from_secs(5),
        )
        .await;
    match a.status {
        200 => Some(a.json()),
        404 => None,
        s => panic!("GET {path}: {s} {}", String::from_utf8_lossy(&a.body)),
    }
}

pub async fn write(k2d: &K2d, method: &str, path: &str, content_type: &str, body: &Value) -> Value {
    let a = k2d
        .send(
            method,
            path,
            content_type,
            serde_json::to_vec(body).unwrap(),
        )
        .await;
    assert!(
        (200..300).contains(&a.status),
        "{method} {path}: {} {}",
        a.status,
        String::from_utf8_lossy(&a.body)
    );
    a.json()
}

pub async fn create(k2d: &K2d, path: &str, body: &Value) -> Value {
    write(k2d, "POST", path, "application/json", body).await
}

pub async fn merge_patch(k2d: &K2d, path: &str, body: &Value) -> Value {
    write(k2d, "PATCH", path, "application/merge-patch+json", body).await
}

pub async fn delete(k2d: &K2d, path: &str) {
    let a = k2d
        .send("DELETE", path, "application/json", b"{}".to_vec())
        .await;
    assert!(
        a.status == 200 || a.status == 202,
        "DELETE {path}: {}",
        a.status
    );
}

pub fn items(list: Option<Value>) -> Vec<Value> {
    list.and_then(|l| l.get("items").cloned())
        .and_then(|i| i.as_array().cloned())
        .unwrap_or_default()
}

/// The pods of namespace `ns` that match the label selector `selector`.
pub async fn pods_selected(k2d: &K2d, ns: &str, selector: &str) -> Vec<Value> {
    items(
        get(
            k2d,
            &format!("/api/v1/namespaces/{ns}/pods?labelSelector={selector}"),
        )
        .await,
    )
}

pub fn name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap()
}

pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The kubelet's part: the pod runs and is ready.
pub async fn make_ready(k2d: &K2d, pod: &Value) {
    let status = json!({"status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now()}],
    }});
    patch_status(k2d, pod, &status).await;
}

/// Merge-patches `status` (`{"status": {...}}`) into the pod's status subresource, as the
/// kubelet would; a pod deleted meanwhile (404) is fine.
pub async fn patch_status(k2d: &K2d, pod: &Value, status: &Value) {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("default");
    let path = format!("/api/v1/namespaces/{ns}/pods/{}/status", name(pod));
    let a = k2d
        .send(
            "PATCH",
            &path,
            "application/merge-patch+json",
            serde_json::to_vec(status).unwrap(),
        )
        .await;
    // The controller may have deleted it meanwhile.
    assert!(a.status == 200 || a.status == 404, "{path}: {}", a.status);
}

/// Polls `check` until it gives a value, failing after `secs` seconds.
pub async fn eventually<T>(what: &str, secs: u64, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
