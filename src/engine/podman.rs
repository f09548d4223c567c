//! Adaptations to Podman's Docker-compatible API (Podman 4.3, as Debian 12 ships it), each
//! named after what it works around, so the rest of k2d speaks one API.
//!
//! - Transient `stopped` state: a container that exited on its own is reported as `stopped`
//!   (a state Docker does not have, so bollard cannot read the answer) until Podman's cleanup
//!   has run, then as `exited`. Measured here: under a second. [`settle`] retries a list or
//!   inspect through that window.
//!
//! - Killing a container that is not running answers 500 "container state improper" where
//!   Docker answers 409: [`is_not_running`] reads both.
//! - Qualified image names: Podman reports a container's image as the full reference it
//!   resolved (`docker.io/k2d-test/busybox:latest` for `k2d-test/busybox:latest`).
//!   [`same_image`] compares references the way Docker resolves short names.
//!
//! - Hostname: an app container that joins the sandbox's network (`container:<sandbox>`) gets
//!   the sandbox's UTS namespace (the pod's hostname) on Docker, its own on Podman;
//!   [`uts_mode`] joins it explicitly there (Docker refuses a `container:` UTS mode).
//!
//! - Volume options: a volume that a container's mount creates gets neither the mount's
//!   labels nor its driver options (a memory emptyDir would be on disk); [`create_mount_volumes`]
//!   creates such volumes before the container, which both engines honour.
//!
//! Image import (`tag` ignored, one instruction per `changes` value) is handled by writing the
//! request in a form both engines read alike (see `runtime::pause`).

use std::future::Future;
use std::time::Duration;

/// How long [`settle`] waits, at most, for Podman's cleanup of an exited container.
const SETTLE_FOR: Duration = Duration::from_secs(10);
/// The pause between two tries.
const SETTLE_PAUSE: Duration = Duration::from_millis(100);

/// True when `e` is bollard failing to read Podman's transient `stopped` container state.
pub fn is_transient_stopped(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::JsonDataError { message, .. }
        if message.contains("unknown variant `stopped`"))
}

/// Runs `call` again while it fails with [`is_transient_stopped`] (for at most [`SETTLE_FOR`]);
/// any other outcome is returned as it is. On Docker the first answer is always returned.
pub async fn settle<T, F, Fut>(mut call: F) -> Result<T, bollard::errors::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, bollard::errors::Error>>,
{
    let deadline = tokio::time::Instant::now() + SETTLE_FOR;
    loop {
        match call().await {
            Err(e) if is_transient_stopped(&e) && tokio::time::Instant::now() < deadline => {
                tracing::debug!(
                    "the engine reports a container as `stopped` (Podman, cleaning up); asking again"
                );
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// True when `/version` describes Podman (a component named "Podman Engine").
pub fn is_podman(version: &bollard::models::SystemVersion) -> bool {
    version
        .components
        .iter()
        .flatten()
        .any(|c| c.name.contains("Podman"))
}

/// The UTS mode of a container joining `join` (`container:<sandbox>`): the same on Podman,
/// the engine's default (which follows the network namespace) on Docker.
pub fn uts_mode(engine: &crate::engine::Engine, join: &str) -> Option<String> {
    engine.is_podman().then(|| join.to_string())
}

/// Creates the named volumes that `mounts` describe with driver options or labels, before the
/// container that mounts them is created (an existing volume of that name is left as it is).
pub async fn create_mount_volumes(
    engine: &crate::engine::Engine,
    mounts: &[bollard::models::Mount],
) -> Result<(), bollard::errors::Error> {
    for m in mounts {
        let (Some(name), Some(opts)) = (m.source.as_deref(), m.volume_options.as_ref()) else {
            continue;
        };
        if m.typ != Some(bollard::models::MountType::VOLUME) {
            continue;
        }
        let driver = opts.driver_config.as_ref();
        let mut driver_opts = driver.and_then(|d| d.options.clone());
        if engine.is_podman()
            && let Some(o) = driver_opts.as_mut().and_then(|d| d.get_mut("o"))
        {
            // Podman 4.x reads `size=` as a project quota (refused off XFS), not as a tmpfs
            // mount option: the tmpfs is made without a size limit there.
            *o = o
                .split(',')
                .filter(|p| !p.starts_with("size="))
                .collect::<Vec<_>>()
                .join(",");
        }
        let request = bollard::models::VolumeCreateRequest {
            name: Some(name.to_string()),
            driver: driver.and_then(|d| d.name.clone()),
            driver_opts,
            labels: opts.labels.clone(),
            ..Default::default()
        };
        engine.docker().create_volume(request).await?;
    }
    Ok(())
}

/// True when the engine refused to signal a container because it is not running: 409 on
/// Docker, 500 "container state improper" on Podman.
pub fn is_not_running(e: &bollard::errors::Error) -> bool {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            *status_code == 409
                || (*status_code == 500 && message.contains("container state improper"))
        }
        _ => false,
    }
}

/// True when two image references name the same image under Docker's short-name rules: the
/// registry `docker.io` and the namespace `library/` may be left out, and no tag means
/// `latest`.
pub fn same_image(a: &str, b: &str) -> bool {
    a == b || qualified(a) == qualified(b)
}

fn qualified(reference: &str) -> String {
    let (name, suffix) = match reference.find('@') {
        Some(at) => (&reference[..at], reference[at..].to_string()),
        None => {
            let last = reference.rsplit('/').next().unwrap_or(reference);
            if last.contains(':') {
                let colon = reference.rfind(':').unwrap_or(reference.len());
                (&reference[..colon], reference[colon..].to_string())
            } else {
                (reference, ":latest".to_string())
            }
        }
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let name = if has_registry {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{name}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_running_on_either_engine() {
        let e = |status_code, message: &str| bollard::errors::Error::DockerResponseServerError {
            status_code,
            message: message.into(),
        };
        assert!(is_not_running(&e(409, "Container abc is not running")));
        assert!(is_not_running(&e(
            500,
            "can only kill running containers. abc is in state exited: container state improper"
        )));
        assert!(!is_not_running(&e(500, "no space left on device")));
        assert!(!is_not_running(&e(404, "no such container")));
    }

    #[test]
    fn short_and_qualified_names_are_the_same_image() {
        assert!(same_image(
            "k2d-test/busybox:latest",
            "docker.io/k2d-test/busybox:latest"
        ));
        assert!(same_image(
            "k2d-test/busybox",
            "docker.io/k2d-test/busybox:latest"
        ));
        assert!(same_image("nginx", "docker.io/library/nginx:latest"));
        assert!(same_image("localhost:5000/a/b:1", "localhost:5000/a/b:1"));
        assert!(!same_image(
            "k2d-test/busybox:latest",
            "k2d-test/httpd:latest"
        ));
        assert!(!same_image(
            "k2d-test/busybox:1",
            "docker.io/k2d-test/busybox:latest"
        ));
        assert!(!same_image("quay.io/a/b", "docker.io/a/b"));
        assert!(same_image("a/b@sha256:00", "docker.io/a/b@sha256:00"));
    }

    fn json_error(message: &str) -> bollard::errors::Error {
        bollard::errors::Error::JsonDataError {
            message: message.into(),
            column: 1,
        }
    }

    #[tokio::test]
    async fn retries_only_the_stopped_state_error() {
        let mut calls = 0;
        let out = settle(|| {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(json_error(
                        "unknown variant `stopped`, expected one of ``, `created`",
                    ))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out.unwrap(), 3);

        let mut calls = 0;
        let out: Result<(), _> = settle(|| {
            calls += 1;
            async { Err(json_error("unknown variant `frozen`")) }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls, 1, "other errors are not retried");
    }
}
