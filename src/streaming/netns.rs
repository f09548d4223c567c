//! Connections made inside a pod's network namespace, as a kubelet makes them for
//! port-forward: to `127.0.0.1:<port>` of the pod, so a port that is neither published nor
//! reachable from the host (bound to the pod's loopback, or on an isolated network) is
//! reached too. Entering a namespace changes the calling thread, so every connection is made
//! on a thread of its own that ends right after.

use std::fs::File;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nix::sched::{CloneFlags, setns};
use tokio::net::TcpStream;

use crate::engine::{Engine, labels};

/// The network namespace of a process (`/proc/<pid>/ns/net`), kept open.
#[derive(Clone)]
pub struct NetNs(Arc<File>);

impl NetNs {
    /// Opens the network namespace of a running process.
    pub fn of_process(pid: i64) -> std::io::Result<Self> {
        File::open(format!("/proc/{pid}/ns/net")).map(|f| NetNs(Arc::new(f)))
    }

    /// Connects to `127.0.0.1:port` inside the namespace.
    pub async fn connect(&self, port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
        let ns = self.0.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("k2d-netns-connect".into())
            .spawn(move || {
                let connected = setns(ns.as_ref(), CloneFlags::CLONE_NEWNET)
                    .map_err(std::io::Error::from)
                    .and_then(|_| {
                        let addr = SocketAddr::from(([127, 0, 0, 1], port));
                        std::net::TcpStream::connect_timeout(&addr, timeout)
                    })
                    .and_then(|s| s.set_nonblocking(true).map(|_| s));
                let _ = tx.send(connected);
            })?;
        let stream = rx
            .await
            .map_err(|_| std::io::Error::other("the connecting thread ended"))??;
        TcpStream::from_std(stream)
    }
}

/// The network namespace of a pod: that of its sandbox (or, for a pod that shows a plain
/// `docker run` container, of that container). `None` when it is not running or k2d cannot
/// open it (another PID namespace, no privileges).
pub async fn of_pod(engine: &Engine, pod: &serde_json::Value) -> Option<NetNs> {
    let id = match pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(labels::FOREIGN_CONTAINER_ANNOTATION))
        .and_then(serde_json::Value::as_str)
    {
        Some(id) => id.to_string(),
        None => {
            let uid = crate::api::meta::meta_str(pod, "uid")?;
            let mut found = crate::runtime::containers::list(engine, Some(uid))
                .await
                .ok()?;
            found.retain(|c| {
                crate::runtime::containers::label(c, labels::CONTAINER_ROLE)
                    == Some(labels::ROLE_SANDBOX)
                    && c.state == Some(bollard::models::ContainerSummaryStateEnum::RUNNING)
            });
            found.sort_by_key(|c| {
                std::cmp::Reverse(crate::runtime::containers::attempt(c.labels.as_ref()))
            });
            found.first()?.id.clone()?
        }
    };
    let state = engine.inspect_container(&id).await.ok()?.state?;
    let pid = state
        .pid
        .filter(|p| *p > 0 && state.running == Some(true))?;
    NetNs::of_process(pid).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connects_inside_a_namespace() {
        // k2d's own namespace stands in for a pod's (entering it needs the same privileges).
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let ns = NetNs::of_process(std::process::id() as i64).unwrap();
        let (connected, accepted) =
            tokio::join!(ns.connect(port, Duration::from_secs(5)), listener.accept());
        assert_eq!(connected.unwrap().peer_addr().unwrap().port(), port);
        assert!(accepted.is_ok());
        drop(listener);
        let refused = ns.connect(port, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    }
}
