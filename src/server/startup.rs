//! What `k2d serve` checks before it serves, each failure as a message that says what to do (the
//! data directory it cannot write, the port that is taken), and the record of a running k2d that
//! `k2d status` reads.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::security::files;

/// The file (in the data directory) a running k2d describes itself in.
pub const SERVING_FILE: &str = "serving.json";

/// The first I/O error in an error chain.
fn io_kind(e: &anyhow::Error) -> Option<(ErrorKind, Option<i32>)> {
    e.chain()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map(|io| (io.kind(), io.raw_os_error()))
}

/// Creates the data directory (mode 0700) and checks k2d can write files in it; the error says
/// which path and what to do.
///
/// A full disk is not an error here: k2d starts and serves what it has stored, and each write
/// is refused with a 507 Status until there is room again.
pub fn data_dir(dir: &Path) -> Result<()> {
    let probe = dir.join(".write-check");
    files::ensure_private_dir(dir).map_err(|e| data_dir_error(dir, &e))?;
    let result = files::write_private(&probe, b"k2d")
        .and_then(|()| std::fs::remove_file(&probe).context("removing the write check"));
    match result {
        Err(e) if io_kind(&e).is_some_and(|(_, code)| code == Some(libc::ENOSPC)) => {
            let _ = std::fs::remove_file(&probe);
            tracing::warn!(
                "the data directory {} is full: serving what is stored; writes fail until there is room",
                dir.display()
            );
            Ok(())
        }
        other => other.map_err(|e| data_dir_error(dir, &e)),
    }
}

fn data_dir_error(dir: &Path, e: &anyhow::Error) -> anyhow::Error {
    let why = match io_kind(e) {
        Some((ErrorKind::PermissionDenied, _)) => "permission denied".to_string(),
        Some((_, Some(libc::EROFS))) => "the file system is read-only".to_string(),
        Some((_, Some(libc::ENOTDIR))) => "a part of the path is not a directory".to_string(),
        _ => format!("{e:#}"),
    };
    anyhow!(
        "k2d cannot write its data directory {} ({why}). Run k2d as root (sudo k2d serve), or \
         give it a directory this user may write with --data-dir DIR (or K2D_DATA_DIR=DIR)",
        dir.display()
    )
}

/// Binds the API port; the error says which port and what to do.
pub async fn listen(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| listen_error(addr, &e))
}

fn listen_error(addr: SocketAddr, e: &std::io::Error) -> anyhow::Error {
    let port = addr.port();
    let ip = addr.ip();
    match e.kind() {
        ErrorKind::AddrInUse => anyhow!(
            "port {port} on {ip} is already in use: another k2d (k2d status shows it) or another \
             program listens there (ss -ltnp 'sport = :{port}' shows which). Stop it, or start k2d \
             on another port with --port PORT (or K2D_PORT=PORT)"
        ),
        ErrorKind::PermissionDenied => anyhow!(
            "k2d may not listen on port {port} (ports below 1024 need root or \
             CAP_NET_BIND_SERVICE): run k2d as root, or choose a port of 1024 or above with --port"
        ),
        ErrorKind::AddrNotAvailable => anyhow!(
            "{ip} is not an address of this host: choose one of its addresses with \
             --listen-address (0.0.0.0 listens on all of them)"
        ),
        _ => anyhow!("listening on {addr}: {e}"),
    }
}

/// What a running k2d tells `k2d status` about itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Serving {
    /// Process id.
    pub pid: u32,
    /// The address and port it listens on.
    pub listen: String,
    /// The URL its kubeconfig gives clients.
    pub server: String,
    /// The container engine URL.
    pub engine: String,
    /// k2d's version.
    pub version: String,
}

/// The record's path in `data_dir`.
pub fn serving_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SERVING_FILE)
}

/// Writes the record of this process (once per start).
pub fn record(data_dir: &Path, serving: &Serving) -> Result<()> {
    let text = serde_json::to_vec_pretty(serving)?;
    files::write_private(&serving_path(data_dir), &text)
}

/// The record of the k2d serving from `data_dir`, if that process still runs.
pub fn running(data_dir: &Path) -> Option<Serving> {
    let text = files::read_optional(&serving_path(data_dir)).ok()??;
    let serving: Serving = serde_json::from_str(&text).ok()?;
    let exe = std::fs::read_link(format!("/proc/{}/exe", serving.pid)).ok()?;
    let alive = exe
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("k2d"));
    alive.then_some(serving)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwritable_data_dir_says_which_and_what_to_do() {
        let e = data_dir(Path::new("/proc/k2d-data"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/proc/k2d-data"), "{e}");
        assert!(e.contains("--data-dir"), "{e}");
        let e = data_dir(Path::new("/dev/null/k2d"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a directory"), "{e}");
    }

    #[tokio::test]
    async fn taken_port_says_which_and_what_to_do() {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = first.local_addr().unwrap();
        let e = listen(addr).await.unwrap_err().to_string();
        assert!(e.contains(&format!("port {}", addr.port())), "{e}");
        assert!(e.contains("--port"), "{e}");
    }

    #[test]
    fn the_record_of_this_process_reads_back_while_it_runs() {
        let dir = std::env::temp_dir().join(format!("k2d-serving-{}", std::process::id()));
        files::ensure_private_dir(&dir).unwrap();
        let mut s = Serving {
            pid: std::process::id(),
            listen: "0.0.0.0:6443".into(),
            server: "https://127.0.0.1:6443".into(),
            engine: "unix:///var/run/docker.sock".into(),
            version: "0".into(),
        };
        record(&dir, &s).unwrap();
        // The test binary is named k2d-<hash>, like k2d itself.
        assert_eq!(running(&dir), Some(s.clone()));
        s.pid = u32::MAX;
        record(&dir, &s).unwrap();
        assert_eq!(running(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
