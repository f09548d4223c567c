//! Which container engine k2d talks to: the address given, `DOCKER_HOST`, or the first socket
//! that exists.

use std::path::Path;

/// The Docker socket.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// Podman's rootful socket.
pub const PODMAN_SOCKET: &str = "/run/podman/podman.sock";

/// The engine URL: the one given, else `DOCKER_HOST`, else the Docker socket if it exists, else
/// Podman's (rootful, then the user's), else the Docker socket.
pub fn resolve(
    explicit: Option<&str>,
    docker_host: Option<&str>,
    runtime_dir: Option<&str>,
) -> String {
    if let Some(e) = explicit.filter(|e| !e.is_empty()) {
        return e.to_string();
    }
    if let Some(h) = docker_host.filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    let mut candidates = vec![DOCKER_SOCKET.to_string(), PODMAN_SOCKET.to_string()];
    if let Some(dir) = runtime_dir {
        candidates.push(format!("{dir}/podman/podman.sock"));
    }
    let found = candidates.into_iter().find(|c| Path::new(c).exists());
    format!("unix://{}", found.as_deref().unwrap_or(DOCKER_SOCKET))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_then_docker_host_then_sockets() {
        assert_eq!(
            resolve(Some("tcp://1.2.3.4:2375"), Some("unix:///x"), None),
            "tcp://1.2.3.4:2375"
        );
        assert_eq!(resolve(None, Some("unix:///x"), None), "unix:///x");
        let r = resolve(None, None, Some("/nonexistent"));
        assert!(r.starts_with("unix:///"), "{r}");
    }
}
