//! A k2d process started for a test, and a minimal HTTPS client to talk to it.

#![allow(dead_code)]

pub mod api;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// A running k2d with its own data directory and port; killed on drop.
pub struct K2d {
    child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    pub token: String,
    ca: CertificateDer<'static>,
    /// Extra `k2d serve` arguments, kept for restarts.
    args: Vec<String>,
}

/// An answer.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Which credentials a request carries.
pub enum Creds<'a> {
    None,
    Token(&'a str),
    /// A raw `Authorization` header value.
    Authorization(&'a str),
    AdminCertificate,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl K2d {
    pub fn start(name: &str) -> K2d {
        K2d::start_with(name, &[])
    }

    /// Starts k2d with extra `serve` arguments.
    pub fn start_with(name: &str, args: &[&str]) -> K2d {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let data_dir = std::env::temp_dir().join(format!("k2d-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let port = free_port();
        let child = spawn(&data_dir, port, &args);
        let (token, ca) = wait_ready(&data_dir, child.id());
        K2d {
            child,
            port,
            data_dir,
            token,
            ca,
            args,
        }
    }

    /// Kills k2d with SIGKILL (as a power cut would stop it) and starts it again on the same
    /// data directory and port.
    pub fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(&self.data_dir, self.port, &self.args);
        let (token, ca) = wait_ready(&self.data_dir, self.child.id());
        self.token = token;
        self.ca = ca;
    }

    fn tls_config(&self, creds: &Creds) -> Arc<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match creds {
            Creds::AdminCertificate => {
                let cert = CertificateDer::from_pem_slice(
                    &std::fs::read(self.data_dir.join("admin.crt")).unwrap(),
                )
                .unwrap();
                let key = PrivateKeyDer::from_pem_slice(
                    &std::fs::read(self.data_dir.join("admin.key")).unwrap(),
                )
                .unwrap();
                builder.with_client_auth_cert(vec![cert], key).unwrap()
            }
            _ => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// One request with a body and content type, on a new connection.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        self.send_with(method, path, Creds::Token(&self.token), content_type, body)
            .await
    }

    /// One request with a body and content type, with these credentials, on a new connection.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        creds: Creds<'_>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        self.exchange(
            method,
            path,
            creds,
            None,
            Some((content_type, Bytes::from(body))),
            Duration::from_secs(5),
        )
        .await
    }

    /// One request on a new connection. Streams (watches) are read until `read_for` elapses.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        creds: Creds<'_>,
        accept: Option<&str>,
        read_for: Duration,
    ) -> Answer {
        self.exchange(method, path, creds, accept, None, read_for)
            .await
    }

    /// One request on a new connection; without a body, writes send `{}` as JSON.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        creds: Creds<'_>,
        accept: Option<&str>,
        body: Option<(&str, Bytes)>,
        read_for: Duration,
    ) -> Answer {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let connector = tokio_rustls::TlsConnector::from(self.tls_config(&creds));
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("127.0.0.1:{}", self.port));
        match creds {
            Creds::Token(t) => req = req.header("authorization", format!("Bearer {t}")),
            Creds::Authorization(v) => req = req.header("authorization", v),
            _ => {}
        }
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        let (content_type, body) = match body {
            Some((ct, b)) => (ct, b),
            None if matches!(method, "POST" | "PUT" | "PATCH") => {
                ("application/json", Bytes::from_static(b"{}"))
            }
            None => ("", Bytes::new()),
        };
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        let resp = send
            .send_request(req.body(Full::new(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut body_stream = resp.into_body();
        let mut collected = Vec::new();
        let deadline = tokio::time::Instant::now() + read_for;
        loop {
            match tokio::time::timeout_at(deadline, body_stream.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Some(d) = frame.data_ref() {
                        collected.extend_from_slice(d);
                    }
                }
                Ok(Some(Err(e))) => panic!("reading {path}: {e}"),
                Ok(None) | Err(_) => break,
            }
        }
        Answer {
            status,
            headers,
            body: Bytes::from(collected),
        }
    }

    /// Stops k2d with SIGTERM and returns its exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        unsafe_kill(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "k2d did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn spawn(data_dir: &std::path::Path, port: u16, args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_k2d"))
        .args([
            "serve",
            "--listen-address",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--log-level",
            "warn",
            "--engine",
            "none",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("K2D_ADVERTISE_ADDRESS")
        .stdout(Stdio::null())
        .spawn()
        .expect("k2d starts")
}

/// Waits until the k2d with process id `pid` serves: it writes `serving.json` with its pid
/// just before its accept loop, after its credentials, signing key and store are in place (the
/// port alone is not enough: it is bound first, and a restart leaves the old files behind).
fn wait_ready(data_dir: &std::path::Path, pid: u32) -> (String, CertificateDer<'static>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let serving_pid = || -> Option<u64> {
        let text = std::fs::read(data_dir.join("serving.json")).ok()?;
        serde_json::from_slice::<serde_json::Value>(&text).ok()?["pid"].as_u64()
    };
    while serving_pid() != Some(u64::from(pid)) {
        assert!(Instant::now() < deadline, "k2d did not start serving");
        std::thread::sleep(Duration::from_millis(20));
    }
    let token = std::fs::read_to_string(data_dir.join("token"))
        .unwrap()
        .trim()
        .to_string();
    let ca_pem = std::fs::read(data_dir.join("ca.crt")).unwrap();
    let ca = CertificateDer::from_pem_slice(&ca_pem)
        .unwrap()
        .into_owned();
    (token, ca)
}

fn unsafe_kill(pid: u32) {
    Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
}

impl Drop for K2d {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
