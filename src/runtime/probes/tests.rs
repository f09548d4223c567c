//! Probes against a local HTTP server and against real containers (skipped with a note when
//! no engine answers).

use std::time::Duration;

use bollard::models::{ContainerCreateBody, ExecConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::check::{Subject, attempt};
use super::config::{Action, Config};
use super::{ProbeKind, ProbeUpdate, Target, start};
use crate::runtime::spec::testutil::{engine, remove, run, unique};

/// A one-shot HTTP server answering `status`; returns its port and the request it got.
async fn server(status: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        s.write_all(answer.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    (port, task)
}

async fn local(action: Value) -> Result<(), String> {
    // Never contacted: these actions do not use the engine.
    let docker =
        bollard::Docker::connect_with_http("http://127.0.0.1:1", 1, bollard::API_DEFAULT_VERSION)
            .unwrap();
    let cfg = Config::parse(&action).unwrap();
    let spec = json!({"name": "c", "ports": [{"name": "web", "containerPort": 1}]});
    let subject = Subject {
        docker: &docker,
        container_id: "x",
        pod_ip: "127.0.0.1",
        spec: &spec,
    };
    attempt(&cfg.action, &subject, Duration::from_secs(2)).await
}

#[tokio::test]
async fn http_get_statuses_and_headers() {
    let (port, req) = server("200 OK").await;
    local(json!({"httpGet": {"port": port, "path": "/healthz?full=1",
        "httpHeaders": [{"name": "X-Probe", "value": "k2d"}]}}))
    .await
    .unwrap();
    let req = req.await.unwrap().to_ascii_lowercase();
    assert!(req.starts_with("get /healthz?full=1 http/1.1\r\n"), "{req}");
    assert!(req.contains("user-agent: kube-probe/"), "{req}");
    assert!(req.contains("x-probe: k2d"), "{req}");
    assert!(req.contains(&format!("host: 127.0.0.1:{port}")), "{req}");

    let (port, _) = server("302 Found\r\nlocation: http://elsewhere.example/").await;
    local(json!({"httpGet": {"port": port}})).await.unwrap();
    let (port, _) = server("503 Service Unavailable").await;
    assert_eq!(
        local(json!({"httpGet": {"port": port}})).await.unwrap_err(),
        "HTTP probe failed with statuscode: 503"
    );
}

/// A server answering each request from `answers` in turn; returns its port and the request
/// lines it got.
async fn servers(answers: Vec<String>) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut lines = Vec::new();
        for answer in answers {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap();
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            lines.push(text.lines().next().unwrap_or("").to_string());
            let reply = format!("HTTP/1.1 {answer}\r\ncontent-length: 0\r\n\r\n");
            s.write_all(reply.as_bytes()).await.unwrap();
        }
        lines
    });
    (port, task)
}

#[tokio::test]
async fn same_host_redirects_are_followed() {
    let (port, lines) = servers(vec![
        "301 Moved Permanently\r\nlocation: /healthz/".into(),
        "307 Temporary Redirect\r\nlocation: deep".into(),
        "500 Internal Server Error".into(),
    ])
    .await;
    let err = local(json!({"httpGet": {"port": port, "path": "/healthz"}}))
        .await
        .unwrap_err();
    assert_eq!(err, "HTTP probe failed with statuscode: 500");
    assert_eq!(
        lines.await.unwrap(),
        vec![
            "GET /healthz HTTP/1.1",
            "GET /healthz/ HTTP/1.1",
            "GET /healthz/deep HTTP/1.1"
        ]
    );
    let (port, _) = servers(vec!["302 Found\r\nlocation: /loop".into(); 10]).await;
    let err = local(json!({"httpGet": {"port": port}})).await.unwrap_err();
    assert!(err.ends_with("stopped after 10 redirects"), "{err}");
}

#[tokio::test]
async fn https_accepts_any_certificate() {
    let certified = rcgen::generate_simple_self_signed(vec!["k2d-probe.invalid".into()]).unwrap();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tls.read(&mut buf).await.unwrap();
        tls.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .await
            .unwrap();
        tls.flush().await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    local(json!({"httpGet": {"port": port, "scheme": "HTTPS", "path": "/secure"}}))
        .await
        .unwrap();
    assert!(served.await.unwrap().starts_with("GET /secure HTTP/1.1"));
    // Once the server is gone, the probe fails.
    let plain = local(json!({"httpGet": {"port": port, "scheme": "HTTP"}})).await;
    assert!(plain.is_err());
}

#[tokio::test]
async fn tcp_grpc_and_unknown_ports() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    local(json!({"tcpSocket": {"port": port}})).await.unwrap();
    drop(listener);
    let err = local(json!({"tcpSocket": {"port": port}}))
        .await
        .unwrap_err();
    assert!(
        err.starts_with(&format!("dial tcp 127.0.0.1:{port}: connect:")),
        "{err}"
    );
    let err = local(json!({"httpGet": {"port": port}})).await.unwrap_err();
    assert!(
        err.starts_with(&format!("Get \"http://127.0.0.1:{port}/\":")),
        "{err}"
    );
    let err = local(json!({"grpc": {"port": 9000}})).await.unwrap_err();
    assert!(err.contains("gRPC probes are not supported"), "{err}");
    let err = local(json!({"tcpSocket": {"port": "nope"}}))
        .await
        .unwrap_err();
    assert!(err.contains("\"nope\""), "{err}");
    assert!(matches!(
        Config::parse(&json!({"grpc": {"port": 1}})).unwrap().action,
        Action::Grpc { .. }
    ));
}

async fn next(rx: &mut mpsc::Receiver<ProbeUpdate>, within: Duration) -> Option<ProbeUpdate> {
    tokio::time::timeout(within, rx.recv()).await.ok().flatten()
}

async fn exec(docker: &bollard::Docker, id: &str, cmd: &[&str]) {
    let config = ExecConfig {
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    let e = docker.create_exec(id, config).await.unwrap();
    let _ = docker.start_exec(&e.id, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
}

async fn ip_of(docker: &bollard::Docker, id: &str) -> String {
    let inspect = docker.inspect_container(id, None).await.unwrap();
    let nets = inspect.network_settings.unwrap().networks.unwrap();
    nets.values()
        .find_map(|n| n.ip_address.clone().filter(|ip| !ip.is_empty()))
        .unwrap()
}

#[tokio::test]
async fn startup_gates_readiness_and_readiness_follows_the_server() {
    let Some(engine) = engine().await else { return };
    let docker = engine.docker();
    let body = ContainerCreateBody {
        image: Some("k2d-test/httpd:latest".into()),
        ..Default::default()
    };
    let id = run(&docker, &unique("probe-httpd"), body)
        .await
        .expect("httpd container");
    let ip = ip_of(&docker, &id).await;
    let spec = json!({
        "name": "web", "ports": [{"name": "http", "containerPort": 80}],
        "startupProbe": {"exec": {"command": ["sh", "-c", "test -f /tmp/started"]}, "periodSeconds": 1, "failureThreshold": 30},
        "readinessProbe": {"httpGet": {"port": "http", "path": "/index.html"}, "periodSeconds": 1, "failureThreshold": 2},
        "livenessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1}
    });
    let (tx, mut rx) = mpsc::channel(16);
    let target = Target {
        pod_uid: "u-probe".into(),
        container: "web".into(),
        container_id: id.clone(),
        pod_ip: ip,
        spec,
    };
    let probes = start(engine.clone(), target, tx);
    let early = next(&mut rx, Duration::from_millis(2500)).await;
    exec(&docker, &id, &["touch", "/tmp/started"]).await;
    let first = next(&mut rx, Duration::from_secs(5)).await;
    let second = next(&mut rx, Duration::from_secs(5)).await;
    exec(&docker, &id, &["rm", "/var/www/index.html"]).await;
    let third = next(&mut rx, Duration::from_secs(6)).await;
    let quiet = next(&mut rx, Duration::from_millis(1500)).await;
    drop(probes);
    remove(&docker, &id).await;
    assert!(
        early.is_none(),
        "nothing before startup succeeds: {early:?}"
    );
    let first = first.expect("startup success");
    assert_eq!((first.kind, first.success), (ProbeKind::Startup, true));
    assert_eq!(
        (first.pod_uid.as_str(), first.container.as_str()),
        ("u-probe", "web")
    );
    let second = second.expect("readiness success");
    assert_eq!((second.kind, second.success), (ProbeKind::Readiness, true));
    let third = third.expect("readiness failure");
    assert_eq!((third.kind, third.success), (ProbeKind::Readiness, false));
    assert_eq!(third.message, "HTTP probe failed with statuscode: 404");
    assert!(
        quiet.is_none(),
        "liveness stays alive and unchanged verdicts are not sent: {quiet:?}"
    );
}

#[tokio::test]
async fn exec_failures_and_timeouts() {
    let Some(engine) = engine().await else { return };
    let docker = engine.docker();
    let body = ContainerCreateBody {
        image: Some("k2d-test/busybox:latest".into()),
        cmd: Some(vec!["sleep".into(), "60".into()]),
        ..Default::default()
    };
    let id = run(&docker, &unique("probe-busybox"), body)
        .await
        .expect("busybox container");
    let spec = json!({
        "name": "app",
        "livenessProbe": {"exec": {"command": ["sh", "-c", "echo sick; exit 3"]}, "periodSeconds": 1, "failureThreshold": 2},
        "readinessProbe": {"exec": {"command": ["sleep", "5"]}, "timeoutSeconds": 1, "periodSeconds": 1, "initialDelaySeconds": 1}
    });
    let (tx, mut rx) = mpsc::channel(16);
    let target = Target {
        pod_uid: "u-exec".into(),
        container: "app".into(),
        container_id: id.clone(),
        pod_ip: String::new(),
        spec,
    };
    let probes = start(engine.clone(), target, tx);
    let first = next(&mut rx, Duration::from_secs(6)).await;
    let quiet = next(&mut rx, Duration::from_secs(4)).await;
    drop(probes);
    remove(&docker, &id).await;
    let first = first.expect("liveness failure");
    assert_eq!((first.kind, first.success), (ProbeKind::Liveness, false));
    assert_eq!(
        first.message,
        "command [\"sh\", \"-c\", \"echo sick; exit 3\"] exited with 3: sick"
    );
    assert!(
        quiet.is_none(),
        "a timing-out readiness probe stays not ready, unreported: {quiet:?}"
    );

    // The timeout itself, on one attempt.
    let id = run(
        &docker,
        &unique("probe-timeout"),
        ContainerCreateBody {
            image: Some("k2d-test/busybox:latest".into()),
            cmd: Some(vec!["sleep".into(), "30".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let spec = json!({"name": "app"});
    let subject = Subject {
        docker: &docker,
        container_id: &id,
        pod_ip: "",
        spec: &spec,
    };
    let slow = attempt(
        &Action::Exec(vec!["sleep".into(), "5".into()]),
        &subject,
        Duration::from_secs(1),
    )
    .await;
    let fine = attempt(
        &Action::Exec(vec!["true".into()]),
        &subject,
        Duration::from_secs(5),
    )
    .await;
    remove(&docker, &id).await;
    assert_eq!(
        slow.unwrap_err(),
        "command [\"sleep\", \"5\"] timed out after 1s"
    );
    fine.unwrap();
}
