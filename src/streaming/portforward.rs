//! `pods/portforward`: SPDY/3.1, raw or tunnelled in a WebSocket. For every connection the
//! client forwards it opens two streams with the same `requestID` and `port`: `data` carries
//! the bytes, `error` carries a message if the pod's port cannot be reached. k2d connects to
//! the port at the pod's address on its engine network (or on the host for `hostNetwork`
//! pods), so the port need not be published.

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

/// The address port-forward connects to: the host for `hostNetwork` pods, else `status.podIP`.
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
        forward(accepted, pod_name, ip).await;
    });
    Ok(reply)
}

/// Pairs the streams of each forwarded connection and connects them to the pod. Returns when
/// the client's connection ends; the forwarded connections end with it.
pub async fn forward(mut accepted: mpsc::Receiver<Stream>, pod_name: String, ip: IpAddr) {
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
            connections.spawn(connect(error, data, pod_name.clone(), ip));
        }
    }
}

async fn connect(error: Stream, mut data: Stream, pod_name: String, ip: IpAddr) {
    let port = data.header("port").unwrap_or("").to_string();
    let Some(port_n) = port.parse::<u16>().ok().filter(|p| *p > 0) else {
        let m = format!("invalid port {port:?}: must be a number between 1 and 65535");
        error.out.send_and_finish(Bytes::from(m)).await;
        data.out.finish().await;
        return;
    };
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((ip, port_n))).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return refuse(error, data, &pod_name, ip, port_n, &e.to_string()).await,
        Err(_) => return refuse(error, data, &pod_name, ip, port_n, "timed out").await,
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

async fn refuse(error: Stream, data: Stream, pod_name: &str, ip: IpAddr, port: u16, why: &str) {
    let m = format!(
        "error forwarding port {port} to pod {pod_name}: failed to connect to {ip}:{port}: {why}"
    );
    error.out.send_and_finish(Bytes::from(m)).await;
    data.out.finish().await;
}
