//! `k2d status`: the engine (reachable? Docker or Podman, which version), the data directory,
//! whether k2d runs and where it listens, and how many objects of the main kinds exist.
//!
//! Works with k2d down and up. The running k2d is found by the record it writes at start
//! (`serving.json` in the data directory, with its pid); while it runs, the object counts come
//! from its API (as the admin, over HTTPS verified with k2d's CA), since the store file is
//! locked by the server; while it is down they are read from the store file directly.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;

use crate::security::files;
use crate::server::startup::{self, Serving};

/// The kinds `k2d status` counts: (group, version, resource).
const COUNTED: &[(&str, &str, &str)] = &[
    ("", "v1", "namespaces"),
    ("", "v1", "pods"),
    ("", "v1", "services"),
    ("apps", "v1", "deployments"),
    ("apps", "v1", "replicasets"),
    ("apps", "v1", "statefulsets"),
    ("apps", "v1", "daemonsets"),
    ("batch", "v1", "jobs"),
    ("batch", "v1", "cronjobs"),
    ("", "v1", "configmaps"),
    ("", "v1", "secrets"),
    ("", "v1", "persistentvolumeclaims"),
];

/// How long one question to the engine or to k2d may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// Prints the status; `Ok(false)` when the engine or k2d is not up.
pub async fn run(data_dir: &Path, engine_url: &str) -> Result<bool> {
    let mut healthy = true;
    println!("k2d {}", env!("CARGO_PKG_VERSION"));

    match engine_summary(engine_url).await {
        _ if engine_url == "none" => println!("engine:     none (the API only; nothing runs)"),
        Ok(s) => println!("engine:     {engine_url}: {s}"),
        Err(e) => {
            healthy = false;
            println!("engine:     {engine_url}: not reachable: {e}");
        }
    }

    let store = data_dir.join("store.redb");
    let size = std::fs::metadata(&store).map(|m| m.len()).ok();
    match (data_dir.is_dir(), size) {
        (false, _) => println!(
            "data dir:   {} (does not exist yet: k2d serve creates it)",
            data_dir.display()
        ),
        (true, Some(n)) => println!(
            "data dir:   {} (store {:.1} MiB)",
            data_dir.display(),
            n as f64 / 1048576.0
        ),
        (true, None) => println!("data dir:   {} (no store yet)", data_dir.display()),
    }

    let serving = startup::running(data_dir);
    let counts = match &serving {
        Some(s) => {
            println!(
                "k2d:        running (pid {}), listening on {}, clients use {}",
                s.pid, s.listen, s.server
            );
            println!(
                "kubeconfig: {} (try: kubectl --kubeconfig {} get nodes)",
                data_dir.join("kubeconfig").display(),
                data_dir.join("kubeconfig").display()
            );
            tokio::time::timeout(ASK_TIMEOUT, counts_from_api(data_dir, s))
                .await
                .unwrap_or_else(|_| Err(anyhow!("k2d did not answer within {ASK_TIMEOUT:?}")))
                .map(|c| ("from the API", c))
        }
        None => {
            healthy = false;
            println!("k2d:        not running (start it with k2d serve, or the k2d service)");
            if size.is_some() {
                counts_from_store(data_dir).map(|c| ("from the store; k2d is not running", c))
            } else {
                Err(anyhow!("none yet (no store in the data directory)"))
            }
        }
    };
    match counts {
        Ok((source, counts)) => {
            println!("objects ({source}):");
            for (resource, n) in counts {
                println!("  {resource:<24} {n}");
            }
        }
        Err(e) => {
            healthy &= serving.is_none();
            println!("objects:    {e:#}");
        }
    }
    Ok(healthy)
}

/// "Docker Engine 20.10.24 (API 1.41), 5 containers (3 running)".
async fn engine_summary(url: &str) -> Result<String> {
    crate::engine::check_socket(url, &[]).map_err(anyhow::Error::msg)?;
    let engine = crate::engine::Engine::new(url, "")?;
    tokio::time::timeout(ASK_TIMEOUT, async {
        engine.negotiate().await?;
        let docker = engine.docker();
        let version = docker.version().await?;
        let info = docker.info().await?;
        Ok::<_, bollard::errors::Error>((version, info))
    })
    .await
    .map_err(|_| anyhow!("no answer within {ASK_TIMEOUT:?}"))?
    .map(|(version, info)| {
        let product = version
            .components
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .find(|n| n.contains("Podman"))
            .unwrap_or("Docker Engine");
        format!(
            "{product} {} (API {}), {} containers ({} running)",
            version.version.unwrap_or_default(),
            version.api_version.unwrap_or_default(),
            info.containers.unwrap_or(0),
            info.containers_running.unwrap_or(0)
        )
    })
    .map_err(|e| anyhow!("{e}"))
}

/// Object counts read from the store file (k2d is not running, so it is not locked).
fn counts_from_store(data_dir: &Path) -> Result<Vec<(String, usize)>> {
    let store = crate::store::Store::open(data_dir)
        .map_err(|e| anyhow!("opening the store in {}: {e}", data_dir.display()))?;
    COUNTED
        .iter()
        .map(|(group, _, resource)| {
            let (items, _) = store
                .list(group, resource, None)
                .map_err(|e| anyhow!("listing {resource}: {e}"))?;
            Ok((resource.to_string(), items.len()))
        })
        .collect()
}

/// Object counts from the running k2d's API, as the admin.
async fn counts_from_api(data_dir: &Path, serving: &Serving) -> Result<Vec<(String, usize)>> {
    let read = |name: &str| -> Result<String> {
        files::read_optional(&data_dir.join(name))?
            .with_context(|| format!("{} is missing", data_dir.join(name).display()))
    };
    let ca = CertificateDer::from_pem_slice(read("ca.crt")?.as_bytes()).context("ca.crt")?;
    let token = read("token")?.trim().to_string();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).context("k2d's CA")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();

    // Connect where it listens; the loopback address when it listens on all addresses.
    let listen: std::net::SocketAddr = serving.listen.parse().context("serving.json")?;
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
        other => other,
    };
    let tcp = tokio::net::TcpStream::connect((ip, listen.port()))
        .await
        .with_context(|| format!("connecting to {ip}:{}", listen.port()))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::IpAddress(ip.into()), tcp)
        .await
        .context("TLS with k2d")?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    let driver = tokio::spawn(conn);
    let mut counts = Vec::new();
    for (group, version, resource) in COUNTED {
        let path = if group.is_empty() {
            format!("/api/{version}/{resource}")
        } else {
            format!("/apis/{group}/{version}/{resource}")
        };
        let req = http::Request::get(&path)
            .header(http::header::HOST, format!("{ip}"))
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())?;
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            anyhow::bail!("GET {path}: {status}");
        }
        let list: Value = serde_json::from_slice(&body).with_context(|| format!("GET {path}"))?;
        let n = list["items"].as_array().map_or(0, Vec::len);
        counts.push((resource.to_string(), n));
    }
    driver.abort();
    Ok(counts)
}
