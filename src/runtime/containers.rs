//! A pod's engine containers: names, labels, listing, inspection, images, stop and removal,
//! and exec for lifecycle hooks.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerInspectResponse, ContainerSummary};
use bollard::query_parameters::{
    CreateImageOptions, ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};
use futures_util::StreamExt;

use super::status::{Instance, engine_time};
use crate::engine::{Engine, labels};

/// The engine name of a pod's container: `k8s_<container>_<pod>_<namespace>_<uid first
/// 8>_<attempt>` (the sandbox's container is `POD`).
pub fn name(container: &str, pod: &str, namespace: &str, uid: &str, attempt: u32) -> String {
    let short: String = uid.chars().take(8).collect();
    format!("k8s_{container}_{pod}_{namespace}_{short}_{attempt}")
}

/// What a pod's container is.
pub struct Identity<'a> {
    /// The pod's uid, name and namespace.
    pub uid: &'a str,
    /// The pod's name.
    pub pod: &'a str,
    /// The pod's namespace.
    pub namespace: &'a str,
    /// The spec name of the container (`None` for the sandbox).
    pub container: Option<&'a str>,
    /// [`labels::ROLE_SANDBOX`], [`labels::ROLE_INIT`] or [`labels::ROLE_APP`].
    pub role: &'static str,
    /// The run number.
    pub attempt: u32,
    /// The sandbox joined.
    pub sandbox_id: Option<&'a str>,
}

/// The labels that link a container to its pod and to this k2d.
pub fn labels_for(engine: &Engine, who: &Identity<'_>) -> HashMap<String, String> {
    let mut l = HashMap::from([
        (labels::INSTANCE.to_string(), engine.instance.clone()),
        (labels::POD_UID.to_string(), who.uid.to_string()),
        (labels::POD_NAME.to_string(), who.pod.to_string()),
        (labels::POD_NAMESPACE.to_string(), who.namespace.to_string()),
        (labels::CONTAINER_ROLE.to_string(), who.role.to_string()),
        (labels::ATTEMPT.to_string(), who.attempt.to_string()),
    ]);
    if let Some(c) = who.container {
        l.insert(labels::CONTAINER_NAME.to_string(), c.to_string());
    }
    if let Some(s) = who.sandbox_id {
        l.insert(labels::SANDBOX_ID.to_string(), s.to_string());
    }
    l
}

/// The containers of this k2d (all, or one pod's), running or not.
pub async fn list(
    engine: &Engine,
    pod_uid: Option<&str>,
) -> Result<Vec<ContainerSummary>, bollard::errors::Error> {
    let mut label_filters = vec![format!("{}={}", labels::INSTANCE, engine.instance)];
    if let Some(uid) = pod_uid {
        label_filters.push(format!("{}={uid}", labels::POD_UID));
    }
    let opts = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([("label".to_string(), label_filters)])),
        ..Default::default()
    };
    engine.list_containers(opts).await
}

/// A label of a container summary.
pub fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels.as_ref()?.get(key).map(String::as_str)
}

/// The attempt number in a container's labels.
pub fn attempt(labels: Option<&HashMap<String, String>>) -> u32 {
    labels
        .and_then(|l| l.get(labels::ATTEMPT))
        .and_then(|a| a.parse().ok())
        .unwrap_or(0)
}

/// What an inspection says, as the status mapping needs it.
pub fn instance(c: &ContainerInspectResponse) -> Instance {
    let state = c.state.as_ref();
    let config_labels = c.config.as_ref().and_then(|c| c.labels.as_ref());
    let status = state
        .and_then(|s| s.status)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let started = state
        .and_then(|s| s.started_at.as_deref())
        .and_then(engine_time);
    let error = state.and_then(|s| s.error.clone()).unwrap_or_default();
    // A container the engine could not start stays `created` with an error: it ended.
    let failed_start = status == "created" && !error.is_empty();
    let status = if failed_start {
        "exited".to_string()
    } else {
        status
    };
    let finished = state
        .and_then(|s| s.finished_at.as_deref())
        .and_then(engine_time)
        .or_else(|| {
            failed_start
                .then(|| c.created.as_deref().and_then(engine_time))
                .flatten()
        })
        .filter(|_| !matches!(status.as_str(), "running" | "created"));
    Instance {
        id: c.id.clone().unwrap_or_default(),
        attempt: attempt(config_labels),
        state: status,
        exit_code: state.and_then(|s| s.exit_code).unwrap_or(0),
        error,
        oom_killed: state.and_then(|s| s.oom_killed).unwrap_or(false),
        started_at: started,
        finished_at: finished,
        image: c
            .config
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        image_id: c.image.clone().unwrap_or_default(),
        sandbox_id: config_labels
            .and_then(|l| l.get(labels::SANDBOX_ID))
            .cloned(),
    }
}

/// The IP of a container on `network`.
pub fn ip_on(c: &ContainerInspectResponse, network: &str) -> Option<String> {
    c.network_settings
        .as_ref()?
        .networks
        .as_ref()?
        .get(network)?
        .ip_address
        .clone()
        .filter(|ip| !ip.is_empty())
}

/// Stops a container: SIGTERM (or the image's stop signal), then SIGKILL after `grace`.
pub async fn stop(engine: &Engine, id: &str, grace: i64) -> Result<(), bollard::errors::Error> {
    if grace <= 0 {
        // No grace: SIGKILL, which is what a stop with `t=0` does on Docker. Podman 4.x reads
        // `t=0` as "not given" and waits the container's own stop timeout instead.
        if kill(engine, id, "SIGKILL").await? {
            wait_ended(engine, id, KILL_WAIT).await;
        }
        return Ok(());
    }
    let opts = StopContainerOptions {
        t: Some(grace.clamp(0, i32::MAX as i64) as i32),
        signal: None,
    };
    match engine.docker().stop_container(id, Some(opts)).await {
        Ok(()) => Ok(()),
        // Already stopped (304) or gone (404).
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 304 | 404,
            ..
        }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The longest grace period a single stop request may carry: the engine answers a stop only
/// when the container has ended, and k2d gives up on a request after a minute.
const STOP_REQUEST_GRACE: i64 = 45;

/// Terminates a container gracefully: its stop signal (SIGTERM unless the image says
/// otherwise), then SIGKILL once `grace` seconds have passed. Long grace periods are waited out
/// on the engine's wait stream rather than in one stop request.
pub async fn terminate(
    engine: &Engine,
    id: &str,
    grace: i64,
) -> Result<(), bollard::errors::Error> {
    if grace <= STOP_REQUEST_GRACE {
        return stop(engine, id, grace).await;
    }
    let signal = engine
        .inspect_container(id)
        .await
        .ok()
        .and_then(|c| c.config.and_then(|c| c.stop_signal))
        .unwrap_or_else(|| "SIGTERM".to_string());
    if !kill(engine, id, &signal).await? {
        return Ok(());
    }
    if !wait_ended(engine, id, std::time::Duration::from_secs(grace as u64)).await {
        kill(engine, id, "SIGKILL").await?;
    }
    Ok(())
}

/// How long a stop without grace waits for the killed container to be reported ended.
const KILL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Sends `signal` to a container; false when it was not running (409) or is gone (404).
async fn kill(engine: &Engine, id: &str, signal: &str) -> Result<bool, bollard::errors::Error> {
    let opts = bollard::query_parameters::KillContainerOptions {
        signal: signal.into(),
    };
    match engine.docker().kill_container(id, Some(opts)).await {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) if crate::engine::podman::is_not_running(&e) => Ok(false),
        Err(e) => Err(e),
        Ok(()) => Ok(true),
    }
}

/// Waits (at most `limit`) until the engine reports the container not running; false on
/// timeout.
async fn wait_ended(engine: &Engine, id: &str, limit: std::time::Duration) -> bool {
    let opts = bollard::query_parameters::WaitContainerOptions {
        condition: "not-running".into(),
    };
    let mut wait = engine.docker().wait_container(id, Some(opts));
    tokio::time::timeout(limit, wait.next()).await.is_ok()
}

/// Removes a container (killing it if it runs) with its anonymous volumes.
pub async fn remove(engine: &Engine, id: &str) -> Result<(), bollard::errors::Error> {
    // A forced remove kills at once on Docker; Podman 4.x first stops the container with its
    // stop timeout (the pod's grace period). Killing first makes both remove at once.
    kill(engine, id, "SIGKILL").await?;
    let opts = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    match engine.docker().remove_container(id, Some(opts)).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        // Removal already in progress.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The image reference to pull: a reference without tag or digest means `:latest` (the engine
/// would pull every tag otherwise).
pub fn pull_reference(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') || last.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// Whether the image is on the host.
pub async fn image_present(engine: &Engine, image: &str) -> bool {
    engine.docker().inspect_image(image).await.is_ok()
}

/// Pulls an image; `Err` is the engine's message.
pub async fn pull(
    engine: &Engine,
    image: &str,
    credentials: Option<bollard::auth::DockerCredentials>,
) -> Result<(), String> {
    let opts = CreateImageOptions {
        from_image: Some(pull_reference(image)),
        ..Default::default()
    };
    let mut stream = engine.docker().create_image(Some(opts), None, credentials);
    while let Some(step) = stream.next().await {
        step.map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError { message, .. } => message,
            bollard::errors::Error::DockerStreamError { error } => error,
            other => other.to_string(),
        })?;
    }
    Ok(())
}

/// Runs a command in a container (a lifecycle hook) and waits for it, at most `timeout`.
/// `Err` says why the hook failed.
pub async fn exec(
    engine: &Engine,
    id: &str,
    command: Vec<String>,
    timeout: Duration,
) -> Result<(), String> {
    use bollard::exec::{CreateExecOptions, StartExecResults};
    let docker = engine.docker();
    let created = docker
        .create_exec(
            id,
            CreateExecOptions {
                cmd: Some(command),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let run = async {
        let mut output = String::new();
        if let StartExecResults::Attached {
            output: mut out, ..
        } = docker
            .start_exec(&created.id, None)
            .await
            .map_err(|e| e.to_string())?
        {
            while let Some(chunk) = out.next().await {
                if let Ok(c) = chunk
                    && output.len() < 1024
                {
                    output.push_str(&String::from_utf8_lossy(&c.into_bytes()));
                }
            }
        }
        let inspected = docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| e.to_string())?;
        match inspected.exit_code {
            Some(0) | None => Ok(()),
            Some(code) => Err(format!("command exited with {code}: {}", output.trim())),
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(format!("command timed out after {}s", timeout.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kubelet_pattern() {
        assert_eq!(
            name("web", "nginx", "default", "0123456789abcdef", 2),
            "k8s_web_nginx_default_01234567_2"
        );
        assert_eq!(name("POD", "p", "ns", "ab", 0), "k8s_POD_p_ns_ab_0");
    }

    #[test]
    fn pull_references_get_a_tag() {
        assert_eq!(pull_reference("busybox"), "busybox:latest");
        assert_eq!(pull_reference("busybox:1.36"), "busybox:1.36");
        assert_eq!(
            pull_reference("registry:5000/team/app"),
            "registry:5000/team/app:latest"
        );
        assert_eq!(pull_reference("a/b@sha256:00"), "a/b@sha256:00");
    }

    #[test]
    fn attempt_comes_from_the_label() {
        let l = HashMap::from([(labels::ATTEMPT.to_string(), "4".to_string())]);
        assert_eq!(attempt(Some(&l)), 4);
        assert_eq!(attempt(None), 0);
    }
}
