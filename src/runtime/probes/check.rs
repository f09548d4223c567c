//! One probe attempt: exec through the engine, an HTTP(S) GET or a TCP connection to the
//! pod, each bounded by the probe's timeout. Returns success or failure with the message the
//! kubelet would give.

use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::exec::StartExecResults;
use bollard::models::ExecConfig;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::config::{Action, resolve_port};

/// The User-Agent of the kubelet's HTTP probes.
const USER_AGENT: &str = "kube-probe/1.35";
/// How much of an exec probe's output is kept for the message.
const MAX_OUTPUT: usize = 10 * 1024;

/// The outcome of one attempt.
pub type Outcome = Result<(), String>;

/// What an attempt needs to know about the container.
pub struct Subject<'a> {
    /// The engine client.
    pub docker: &'a Docker,
    /// The engine id of the container (for exec).
    pub container_id: &'a str,
    /// The pod's IP (the default host of HTTP and TCP probes).
    pub pod_ip: &'a str,
    /// The container's spec (for named ports).
    pub spec: &'a Value,
}

/// Runs one attempt of `action` within `timeout`.
pub async fn attempt(action: &Action, subject: &Subject<'_>, timeout: Duration) -> Outcome {
    match action {
        Action::Exec(cmd) => exec(subject, cmd, timeout).await,
        Action::Http {
            host,
            port,
            path,
            scheme,
            headers,
        } => {
            let port = resolve_port(port, subject.spec)?;
            let host = if host.is_empty() {
                subject.pod_ip
            } else {
                host
            };
            http_get(host, port, path, scheme, headers, timeout).await
        }
        Action::Tcp { host, port } => {
            let port = resolve_port(port, subject.spec)?;
            let host = if host.is_empty() {
                subject.pod_ip
            } else {
                host
            };
            connect(host, port, timeout).await.map(drop)
        }
        Action::Grpc { port } => Err(format!(
            "gRPC probes are not supported by k2d (port {port}); the probe fails"
        )),
    }
}

/// Runs the command in the container; exit code 0 is success. A command still running at
/// the timeout is a failure (the engine cannot stop an exec'd process; it runs on).
async fn exec(subject: &Subject<'_>, cmd: &[String], timeout: Duration) -> Outcome {
    let shown = format!("{cmd:?}");
    let run = async {
        let config = ExecConfig {
            cmd: Some(cmd.to_vec()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let exec = subject
            .docker
            .create_exec(subject.container_id, config)
            .await
            .map_err(|e| e.to_string())?;
        let mut out = String::new();
        if let StartExecResults::Attached { mut output, .. } = subject
            .docker
            .start_exec(&exec.id, None)
            .await
            .map_err(|e| e.to_string())?
        {
            while let Some(chunk) = output.next().await {
                let chunk = chunk.map_err(|e| e.to_string())?;
                if out.len() < MAX_OUTPUT {
                    out.push_str(&chunk.to_string());
                }
            }
        }
        let inspect = subject
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((inspect.exit_code, out))
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(format!(
            "command {shown} timed out after {}s",
            timeout.as_secs()
        )),
        Ok(Err(e)) => Err(format!("command {shown} could not run: {e}")),
        Ok(Ok((Some(0), _))) => Ok(()),
        Ok(Ok((code, out))) => {
            let code = code.map_or("unknown".to_string(), |c| c.to_string());
            let out = out.trim_end();
            Err(format!("command {shown} exited with {code}: {out}"))
        }
    }
}

async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let addr = host_port(host, port);
    match tokio::time::timeout(timeout, TcpStream::connect(&addr)).await {
        Err(_) => Err(format!("dial tcp {addr}: i/o timeout")),
        Ok(Err(e)) => Err(format!("dial tcp {addr}: connect: {e}")),
        Ok(Ok(s)) => Ok(s),
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// How many redirects an HTTP probe follows, as the kubelet's.
const MAX_REDIRECTS: usize = 10;

/// One hop of an HTTP probe.
#[derive(Clone, Debug, PartialEq)]
struct Hop {
    https: bool,
    host: String,
    port: u16,
    path: String,
}

impl Hop {
    fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!(
            "{scheme}://{}{}",
            host_port(&self.host, self.port),
            self.path
        )
    }
}

/// An HTTP/1.1 GET; a status from 200 to 399 is success. Redirects to the same host are
/// followed (at most 10); a redirect to another host is a success, as the kubelet counts it.
/// HTTPS skips certificate verification, as the kubelet does.
async fn http_get(
    host: &str,
    port: u16,
    path: &str,
    scheme: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Outcome {
    let first = Hop {
        https: scheme.eq_ignore_ascii_case("HTTPS"),
        host: host.to_string(),
        port,
        path: path.to_string(),
    };
    let url = first.url();
    let run = async {
        let mut hop = first.clone();
        for _ in 0..MAX_REDIRECTS {
            let (status, location) = get(&hop, headers, timeout).await?;
            if !(300..400).contains(&status) {
                return Ok(status);
            }
            match location.and_then(|l| redirect(&hop, &l)) {
                Some(next) if next.host == first.host => hop = next,
                // Another host, or nowhere to go: the redirect itself is the answer.
                _ => return Ok(status),
            }
        }
        Err(format!("stopped after {MAX_REDIRECTS} redirects"))
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
        Ok(Err(e)) => Err(format!("Get {url:?}: {e}")),
        Ok(Ok(s)) if (200..400).contains(&s) => Ok(()),
        Ok(Ok(s)) => Err(format!("HTTP probe failed with statuscode: {s}")),
    }
}

/// Where a `Location` leads from `hop`: an absolute URL, an absolute path, or a path relative
/// to the current one.
fn redirect(hop: &Hop, location: &str) -> Option<Hop> {
    if let Some((scheme, rest)) = location.split_once("://") {
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let uri: http::uri::Authority = authority.parse().ok()?;
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let host = uri
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        return Some(Hop {
            https,
            host,
            port,
            path: path.to_string(),
        });
    }
    let path = if location.starts_with('/') {
        location.to_string()
    } else {
        let dir = hop.path.split('?').next().unwrap_or("/");
        let dir = &dir[..=dir.rfind('/').unwrap_or(0)];
        format!("{dir}{location}")
    };
    Some(Hop {
        path,
        ..hop.clone()
    })
}

/// One request; the status and the `Location` header.
async fn get(
    hop: &Hop,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<(u16, Option<String>), String> {
    let tcp = connect(&hop.host, hop.port, timeout).await?;
    let mut req = http::Request::builder()
        .method("GET")
        .uri(&hop.path)
        .header("host", host_port(&hop.host, hop.port))
        .header("user-agent", USER_AGENT)
        .header("accept", "*/*");
    for (name, value) in headers {
        let h = req.headers_mut().ok_or("invalid request")?;
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = http::HeaderValue::from_str(value).map_err(|e| e.to_string())?;
        h.insert(name, value);
    }
    let req = req.body(Empty::<Bytes>::new()).map_err(|e| e.to_string())?;
    if hop.https {
        let name =
            rustls_pki_types::ServerName::try_from(hop.host.clone()).map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(insecure_tls())
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        send(TokioIo::new(tls), req).await
    } else {
        send(TokioIo::new(tcp), req).await
    }
}

async fn send<T>(io: T, req: http::Request<Empty<Bytes>>) -> Result<(u16, Option<String>), String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let res = sender.send_request(req).await.map_err(|e| e.to_string());
    driver.abort();
    let res = res?;
    let location = res
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    Ok((res.status().as_u16(), location))
}

/// A TLS client that accepts any server certificate (the kubelet's probes do not verify).
fn insecure_tls() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyCertificate(provider.clone()));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Arc::new(config)
}

/// Accepts every certificate; checks signatures so the handshake itself is sound.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(path: &str) -> Hop {
        Hop {
            https: false,
            host: "10.0.0.7".into(),
            port: 8080,
            path: path.into(),
        }
    }

    #[test]
    fn redirect_targets() {
        let from = hop("/app/health?x=1");
        assert_eq!(redirect(&from, "/login").unwrap(), hop("/login"));
        assert_eq!(redirect(&from, "ready").unwrap(), hop("/app/ready"));
        let abs = redirect(&from, "https://10.0.0.7:8443/secure").unwrap();
        assert_eq!(
            abs,
            Hop {
                https: true,
                host: "10.0.0.7".into(),
                port: 8443,
                path: "/secure".into()
            }
        );
        let other = redirect(&from, "http://example.com").unwrap();
        assert_eq!(
            (other.host.as_str(), other.port, other.path.as_str()),
            ("example.com", 80, "/")
        );
        let v6 = redirect(&from, "http://[::1]:81/x").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 81));
        assert!(redirect(&from, "ftp://x/y").is_none());
    }
}
