//! The container engine (Docker, or Podman's Docker-compatible API) through bollard: where it
//! is, connecting with a negotiated API version, and the errors it gives as Kubernetes Statuses.
//! What k2d does with containers lives in the pod runtime; this module only holds the client.

pub mod address;
pub mod labels;
pub mod podman;

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bollard::Docker;

use crate::api::Status;

pub use address::{DOCKER_SOCKET, PODMAN_SOCKET, check_socket, resolve};

/// How long one engine request may take before k2d gives up on it (streams excepted: bollard
/// applies it to the request, not to a body that keeps streaming).
const REQUEST_TIMEOUT_SECS: u64 = 60;

/// The oldest engine API k2d speaks: Docker 20.10 (Podman 4.3 serves a newer one).
pub const MINIMUM_API_VERSION: &str = "1.41";

/// The engine k2d drives: a bollard client whose API version was negotiated with the engine
/// (renegotiated when the engine comes back after an outage).
pub struct Engine {
    url: String,
    docker: RwLock<Docker>,
    /// The engine said it is Podman (its `/version` lists a "Podman Engine" component).
    podman: AtomicBool,
    /// Tells containers of this k2d apart from those of another k2d on the same engine.
    pub instance: String,
}

impl Engine {
    /// A client for the engine at `url` (`unix://...`, `tcp://...` or `http://...`). Nothing is
    /// sent until the first request; call [`Engine::negotiate`] before relying on it.
    pub fn new(url: &str, instance: &str) -> anyhow::Result<Engine> {
        let docker = connect(url)?;
        Ok(Engine {
            url: url.to_string(),
            docker: RwLock::new(docker),
            podman: AtomicBool::new(false),
            instance: instance.to_string(),
        })
    }

    /// The engine address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The client, for one request or stream.
    pub fn docker(&self) -> Docker {
        self.docker.read().expect("engine lock").clone()
    }

    /// Inspects a container (through Podman's transient states, see [`podman::settle`]).
    pub async fn inspect_container(
        &self,
        id: &str,
    ) -> Result<bollard::models::ContainerInspectResponse, bollard::errors::Error> {
        let docker = self.docker();
        podman::settle(|| {
            docker.inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
        })
        .await
    }

    /// Lists containers (through Podman's transient states, see [`podman::settle`]).
    pub async fn list_containers(
        &self,
        opts: bollard::query_parameters::ListContainersOptions,
    ) -> Result<Vec<bollard::models::ContainerSummary>, bollard::errors::Error> {
        let docker = self.docker();
        podman::settle(|| docker.list_containers(Some(opts.clone()))).await
    }

    /// Asks the engine for its API version and speaks the lower of it and bollard's. Fails when
    /// the engine does not answer.
    pub async fn negotiate(&self) -> Result<(), bollard::errors::Error> {
        let fresh = connect(&self.url).map_err(|e| bollard::errors::Error::IOError {
            err: std::io::Error::other(e.to_string()),
        })?;
        let negotiated = fresh.negotiate_version().await?;
        let version = negotiated.version().await?;
        self.podman
            .store(podman::is_podman(&version), Ordering::Relaxed);
        *self.docker.write().expect("engine lock") = negotiated;
        Ok(())
    }

    /// The engine is Podman (known once [`Engine::negotiate`] has succeeded).
    pub fn is_podman(&self) -> bool {
        self.podman.load(Ordering::Relaxed)
    }

    /// Waits until the engine answers a ping, trying again with growing pauses (at most
    /// `max_pause` apart).
    pub async fn wait_ready(&self, max_pause: Duration) {
        let mut pause = Duration::from_millis(200);
        loop {
            match self.negotiate().await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(engine = %self.url, "the container engine does not answer: {e}; retrying in {pause:?}");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(max_pause);
                }
            }
        }
    }
}

fn connect(url: &str) -> anyhow::Result<Docker> {
    let version = bollard::API_DEFAULT_VERSION;
    let docker = if let Some(path) = url.strip_prefix("unix://") {
        Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, version)?
    } else if url.starts_with("tcp://") || url.starts_with("http://") {
        Docker::connect_with_http(url, REQUEST_TIMEOUT_SECS, version)?
    } else if url.starts_with('/') {
        Docker::connect_with_unix(url, REQUEST_TIMEOUT_SECS, version)?
    } else {
        anyhow::bail!("engine address {url:?} is neither unix://PATH nor tcp://HOST:PORT");
    };
    Ok(docker)
}

/// The Status an engine error becomes: 404 for a missing container or image, 409 for a
/// conflict, 503 when the engine cannot be reached (the client may retry), 500 otherwise.
pub fn status(e: &bollard::errors::Error) -> Status {
    use bollard::errors::Error as E;
    match e {
        E::DockerResponseServerError {
            status_code,
            message,
        } => match *status_code {
            404 => Status::new(404, "NotFound", format!("container engine: {message}")),
            409 => Status::new(409, "Conflict", format!("container engine: {message}")),
            400 => Status::bad_request(format!("container engine: {message}")),
            _ => Status::internal(format!("container engine: {message}")),
        },
        E::RequestTimeoutError => Status::new(
            503,
            "ServiceUnavailable",
            format!(
                "the container engine did not answer within {REQUEST_TIMEOUT_SECS} s (it may be \
                 hung or overloaded), try again later"
            ),
        ),
        E::IOError { .. }
        | E::HyperResponseError { .. }
        | E::SocketNotFoundError(_)
        | E::HyperLegacyError { .. } => Status::new(
            503,
            "ServiceUnavailable",
            format!("the container engine is not reachable, try again later: {e}"),
        ),
        other => Status::internal(format!("container engine: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_that_is_down_or_hung_is_a_503() {
        let down = status(&bollard::errors::Error::SocketNotFoundError(
            "/run/docker.sock".into(),
        ));
        assert_eq!((down.code, down.reason), (503, "ServiceUnavailable"));
        assert!(down.message.contains("not reachable"), "{}", down.message);
        let hung = status(&bollard::errors::Error::RequestTimeoutError);
        assert_eq!((hung.code, hung.reason), (503, "ServiceUnavailable"));
        assert!(
            hung.message.contains("did not answer within 60 s"),
            "{}",
            hung.message
        );
        let missing = status(&bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message: "No such container: x".into(),
        });
        assert_eq!(missing.code, 404);
    }
}
