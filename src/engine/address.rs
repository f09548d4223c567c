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
    let found = candidates(runtime_dir)
        .into_iter()
        .find(|c| Path::new(c).exists());
    format!("unix://{}", found.as_deref().unwrap_or(DOCKER_SOCKET))
}

/// The sockets k2d looks for, in order, when neither `--engine` nor `DOCKER_HOST` says where the
/// engine is: Docker's, Podman's rootful one, then the user's Podman socket.
pub fn candidates(runtime_dir: Option<&str>) -> Vec<String> {
    let mut candidates = vec![DOCKER_SOCKET.to_string(), PODMAN_SOCKET.to_string()];
    if let Some(dir) = runtime_dir.filter(|d| !d.is_empty()) {
        candidates.push(format!("{dir}/podman/podman.sock"));
    }
    candidates
}

/// The socket path of a `unix://` (or bare path) engine URL; `None` for TCP engines.
pub fn socket_path(url: &str) -> Option<&str> {
    url.strip_prefix("unix://")
        .or_else(|| url.starts_with('/').then_some(url))
}

/// Checks, before k2d starts, that the engine socket of `url` exists and may be opened. The
/// error says which sockets were looked for (`looked_for`: the candidates when k2d chose the
/// socket itself) and what to do. A socket that exists but refuses connections is not an error
/// here: the engine may be starting, and k2d waits for it.
pub fn check_socket(url: &str, looked_for: &[String]) -> Result<(), String> {
    let Some(path) = socket_path(url) else {
        return Ok(());
    };
    if !Path::new(path).exists() {
        let looked = if looked_for.len() > 1 {
            format!(" (looked for {})", looked_for.join(", "))
        } else {
            String::new()
        };
        return Err(format!(
            "no container engine socket at {path}{looked}. Install and start Docker \
             (apt install docker.io; systemctl start docker) or Podman (systemctl start \
             podman.socket), or tell k2d where the engine is with --engine unix:///PATH/TO.sock \
             (or K2D_ENGINE, or DOCKER_HOST); --engine none serves the API without an engine"
        ));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let group = socket_group(path);
            let join = match &group {
                Some(g) => format!(
                    "add this user to the socket's group {g} (sudo usermod -aG {g} $USER, then \
                     log in again)"
                ),
                None => "give this user access to the socket".to_string(),
            };
            Err(format!(
                "permission denied on the container engine socket {path}: run k2d as root (sudo \
                 k2d serve), or {join}"
            ))
        }
        Err(e) => {
            tracing::warn!(
                "the container engine at {path} does not answer yet ({e}); k2d waits for it"
            );
            Ok(())
        }
    }
}

/// The name of the group owning `path`, from `/etc/group` (read directly: no NSS lookup, which a
/// static binary cannot do).
fn socket_group(path: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let gid = std::fs::metadata(path).ok()?.gid();
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    group_name(&groups, gid).or_else(|| Some(gid.to_string()))
}

/// The name of group `gid` in the text of an `/etc/group` file.
fn group_name(groups: &str, gid: u32) -> Option<String> {
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == gid).then(|| name.to_string())
    })
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
        assert_eq!(candidates(Some("/run/user/1000")).len(), 3);
        assert_eq!(candidates(None).len(), 2);
    }

    #[test]
    fn missing_socket_says_where_k2d_looked_and_what_to_do() {
        let looked = candidates(Some("/nonexistent"));
        let e = check_socket("unix:///nonexistent/docker.sock", &looked).unwrap_err();
        assert!(e.contains("/nonexistent/docker.sock"), "{e}");
        assert!(e.contains(PODMAN_SOCKET), "{e}");
        assert!(e.contains("--engine"), "{e}");
        assert!(check_socket("tcp://127.0.0.1:1", &[]).is_ok());
    }

    #[test]
    fn group_names_from_etc_group() {
        let groups = "root:x:0:\ndocker:x:998:alice\n";
        assert_eq!(group_name(groups, 998).as_deref(), Some("docker"));
        assert_eq!(group_name(groups, 5), None);
    }

    #[test]
    fn socket_paths() {
        assert_eq!(
            socket_path("unix:///var/run/docker.sock"),
            Some("/var/run/docker.sock")
        );
        assert_eq!(
            socket_path("/run/podman/podman.sock"),
            Some("/run/podman/podman.sock")
        );
        assert_eq!(socket_path("tcp://1.2.3.4:2375"), None);
    }
}
