//! Realistic objects for the tests of the PodSpec translation.

use std::path::Path;

use base64::Engine as _;
use serde_json::{Value, json};

use super::{ContainerInput, Resolved};

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// ConfigMaps `settings`, `weird` and `files`; Secrets `db`, `tls` and `regcred`.
pub fn resolved() -> Resolved {
    let mut r = Resolved::default();
    r.configmaps.insert(
        "settings".into(),
        json!({"metadata": {"name": "settings", "namespace": "prod"},
            "data": {"log.level": "debug", "mode": "fast"}}),
    );
    r.configmaps.insert(
        "weird".into(),
        json!({"metadata": {"name": "weird", "namespace": "prod"},
            "data": {"GOOD": "1", "1BAD": "x", "WITH SPACE": "y"}}),
    );
    r.configmaps.insert(
        "files".into(),
        json!({"metadata": {"name": "files", "namespace": "prod"},
            "data": {"app.conf": "listen 80\n", "nested.txt": "deep"},
            "binaryData": {"logo.bin": b64("\u{1}\u{2}\u{3}")}}),
    );
    r.secrets.insert(
        "db".into(),
        json!({"metadata": {"name": "db", "namespace": "prod"}, "type": "Opaque",
            "data": {"password": b64("s3cr3t"), "user": b64("admin")}}),
    );
    r.secrets.insert(
        "tls".into(),
        json!({"metadata": {"name": "tls", "namespace": "prod"}, "type": "kubernetes.io/tls",
            "data": {"tls.crt": b64("CERT"), "tls.key": b64("KEY")}}),
    );
    r
}

/// The input for the first container of `pod`.
pub fn input_for<'a>(pod: &'a Value, resolved: &'a Resolved) -> ContainerInput<'a> {
    input_at(pod, resolved, 0, Path::new("/var/lib/k2d/pods/u-1"))
}

/// The input for container `index` of `pod`, with volumes in `pod_dir`.
pub fn input_at<'a>(
    pod: &'a Value,
    resolved: &'a Resolved,
    index: usize,
    pod_dir: &'a Path,
) -> ContainerInput<'a> {
    ContainerInput {
        pod,
        container: &pod["spec"]["containers"][index],
        init: false,
        sandbox_id: "sandbox123",
        pod_ip: "10.0.0.7",
        node_name: "k2d",
        host_ip: "192.168.0.2",
        resolved,
        pod_dir,
    }
}

/// The engine on /var/run/docker.sock, or `None` (with a note) when it does not answer.
pub async fn engine() -> Option<std::sync::Arc<crate::engine::Engine>> {
    let engine = crate::engine::Engine::new("unix:///var/run/docker.sock", TEST_INSTANCE).ok()?;
    match engine.negotiate().await {
        Ok(()) => Some(std::sync::Arc::new(engine)),
        Err(e) => {
            eprintln!("skipped: the container engine does not answer ({e})");
            None
        }
    }
}

/// A name no other test or engineer uses.
pub fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("k2d-podspec-{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// Removes a container this test created (and its anonymous volumes).
pub async fn remove(docker: &bollard::Docker, id: &str) {
    let opts = bollard::query_parameters::RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    let _ = docker.remove_container(id, Some(opts)).await;
}

/// The engine instance the test containers belong to (labelled so that no k2d takes them for
/// strays of its own).
pub const TEST_INSTANCE: &str = "podspec-test";

/// Creates and starts a container named `name` from `body`, labelled as this test's;
/// returns its id.
pub async fn run(
    docker: &bollard::Docker,
    name: &str,
    mut body: bollard::models::ContainerCreateBody,
) -> Result<String, bollard::errors::Error> {
    body.labels
        .get_or_insert_with(Default::default)
        .insert(crate::engine::labels::INSTANCE.into(), TEST_INSTANCE.into());
    let opts = bollard::query_parameters::CreateContainerOptions {
        name: Some(name.to_string()),
        ..Default::default()
    };
    let id = docker.create_container(Some(opts), body).await?.id;
    if let Err(e) = docker.start_container(&id, None).await {
        remove(docker, &id).await;
        return Err(e);
    }
    Ok(id)
}

/// Waits for a container to exit and returns (exit code, stdout+stderr).
pub async fn output(docker: &bollard::Docker, id: &str) -> (i64, String) {
    use futures_util::StreamExt;
    let mut wait = docker.wait_container(id, None);
    let code = match wait.next().await {
        Some(Ok(r)) => r.status_code,
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        other => panic!("wait: {other:?}"),
    };
    let opts = bollard::query_parameters::LogsOptions {
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let mut logs = docker.logs(id, Some(opts));
    let mut text = String::new();
    while let Some(Ok(chunk)) = logs.next().await {
        text.push_str(&chunk.to_string());
    }
    (code, text)
}
