//! `pods/portforward`: SPDY/3.1, raw or tunnelled in a WebSocket. For every connection the
//! client forwards it opens two streams with the same `requestID` and `port`: `data` carries
//! the bytes, `error` carries a message if the pod's port cannot be reached. k2d connects to
//! `127.0.0.1:<port>` inside the pod's network namespace, as a kubelet does, so the port need
//! not be published nor reachable from the host; where k2d cannot enter the namespace it
//! connects to the pod's address on its engine network (and to the host's loopback for
//! `hostNetwork` pods).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::netns::{self, NetNs};
use super::spdy::{self, Stream};
use super::{Transport, websocket};
use crate::api::objects::read_existing;
use crate::api::{ApiRequest, ApiResult, Status};

/// The WebSocket subprotocol that tunnels SPDY.
const WS_PROTOCOLS: &[&str] = &["SPDY/3.1+portforward.k8s.io"];
/// The SPDY stream protocol of port-forward.
const SPDY_PROTOCOLS: &[&str] = &["portforward.k8s.io"];
/// How long connecting to the pod's port may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read from the pod's port per data frame.
const CHUNK: usize = 32 * 1024;

/// Where the forwarded connections go.
#[derive(Clone)]
enum Destination {
    /// The loopback of the pod's network namespace.
    Namespace(NetNs),
    /// An address k2d reaches directly.
    Address(IpAddr),
}

impl Destination {
    async fn connect(&self, port: u16) -> Result<TcpStream, String> {
        let connected = match self {
            Destination::Namespace(ns) => ns.connect(port, CONNECT_TIMEOUT).await,
            Destination::Address(ip) => {
                match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((*ip, port))).await {
                    Ok(r) => r,
                    Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
                }
            }
        };
        connected.map_err(|e| match self {
            Destination::Namespace(_) => {
                format!("failed to connect to 127.0.0.1:{port} in the pod's network namespace: {e}")
            }
            Destination::Address(ip) => format!("failed to connect to {ip}:{port}: {e}"),
        })
    }
}

/// The address port-forward connects to without entering the pod's namespace: the host for
/// `hostNetwork` pods, else `status.podIP`.
fn target(pod: &Value, pod_name: &str) -> Result<IpAddr, Status> {
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    if phase != "Running" {
        return Err(Status::bad_request(format!(
            "unable to forward ports: pod {pod_name} is not running (phase {phase})"
        )));
    }
    if crate::runtime::sandbox::host_network(pod) {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    pod.pointer("/status/podIP")
        .and_then(Value::as_str)
        .and_then(|ip| ip.parse().ok())
        .ok_or_else(|| {
            Status::bad_request(format!(
                "unable to forward ports: pod {pod_name} has no IP address"
            ))
        })
}

/// Answers `pods/portforward`.
pub async fn serve(mut req: ApiRequest) -> ApiResult {
    let pod = read_existing(&req.ctx, &req)?;
    let pod_name = req.name.clone().unwrap_or_default();
    let ip = target(&pod, &pod_name)?;
    let ns = match &req.ctx.engine {
        Some(engine) if !crate::runtime::sandbox::host_network(&pod) => {
            netns::of_pod(engine, &pod).await
        }
        _ => None,
    };
    let destination = ns.map_or(Destination::Address(ip), Destination::Namespace);
    let transport = super::negotiate(&req.headers, WS_PROTOCOLS, SPDY_PROTOCOLS)?;
    let upgrade = super::take_upgrade(&mut req)?;
    let reply = super::switching(&transport);
    tokio::spawn(async move {
        let io = match upgrade.await {
            Ok(io) => TokioIo::new(io),
            Err(e) => {
                tracing::debug!("port-forward upgrade failed: {e}");
                return;
            }
        };
        let accepted = match transport {
            Transport::WebSocket(_) => {
                spdy::serve(websocket::byte_pipe(websocket::accept(io).await))
            }
            Transport::Spdy(_) => spdy::serve(io),
        };
        forward(accepted, pod_name, destination).await;
    });
    Ok(reply)
}

/// Pairs the streams of each forwarded connection and connects them to the pod. Returns when
/// the client's connection ends; the forwarded connections end with it.
async fn forward(mut accepted: mpsc::Receiver<Stream>, pod_name: String, to: Destination) {
    let mut pending: HashMap<String, (Option<Stream>, Option<Stream>)> = HashMap::new();
    let mut connections = JoinSet::new();
    while let Some(stream) = accepted.recv().await {
        while connections.try_join_next().is_some() {}
        let id = stream.header("requestid").unwrap_or("").to_string();
        let slot = pending.entry(id.clone()).or_default();
        match stream.header("streamtype") {
            Some("error") => slot.0 = Some(stream),
            Some("data") => slot.1 = Some(stream),
            other => {
                let message = format!("unknown stream type {other:?}");
                stream.out.send_and_finish(Bytes::from(message)).await;
                continue;
            }
        }
        let ready = matches!(pending.get(&id), Some((Some(_), Some(_))));
        if ready && let Some((Some(error), Some(data))) = pending.remove(&id) {
            connections.spawn(connect(error, data, pod_name.clone(), to.clone()));
        }
    }
}

async fn connect(error: Stream, mut data: Stream, pod_name: String, to: Destination) {
    let port = data.header("port").unwrap_or("").to_string();
    let Some(port_n) = port.parse::<u16>().ok().filter(|p| *p > 0) else {
        let m = format!("invalid port {port:?}: must be a number between 1 and 65535");
        error.out.send_and_finish(Bytes::from(m)).await;
        data.out.finish().await;
        return;
    };
    let tcp = match to.connect(port_n).await {
        Ok(tcp) => tcp,
        Err(why) => {
            let m = format!("error forwarding port {port_n} to pod {pod_name}: {why}");
            error.out.send_and_finish(Bytes::from(m)).await;
            data.out.finish().await;
            return;
        }
    };
    let _ = tcp.set_nodelay(true);
    let (mut rd, mut wr) = tcp.into_split();
    let upstream = async {
        while let Some(b) = data.incoming.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    };
    let out = data.out.clone();
    let downstream = async {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if !out.send(Bytes::copy_from_slice(&buf[..n])).await {
                        return;
                    }
                }
            }
        }
        out.finish().await;
    };
    tokio::join!(upstream, downstream);
    error.out.finish().await;
}
