//! The cluster DNS server: answers names under `cluster.local` from the stored Services,
//! Endpoints and pods, and passes every other query to the host's resolvers unchanged. Listens
//! on UDP and TCP port 53 of [`super::DNS_IP`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

use super::names::{Lookup, lookup};
use crate::store::{ObjectKey, Store};

/// How long answers from the cluster may be cached (CoreDNS's kubernetes plugin uses 5 s too).
const TTL: u32 = 5;
/// How long an upstream resolver gets to answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest DNS message over UDP k2d reads.
const UDP_BUFFER: usize = 4096;

/// What the server answers from.
pub struct Resolver {
    store: Arc<Store>,
    upstreams: Vec<SocketAddr>,
}

/// The nameservers of a resolv.conf, except the cluster DNS itself.
pub fn upstreams_of(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .filter(|ip| *ip != IpAddr::V4(super::DNS_IP))
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

impl Resolver {
    /// A resolver over the store, forwarding to the host's nameservers.
    pub fn new(store: Arc<Store>) -> Resolver {
        let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        Resolver {
            store,
            upstreams: upstreams_of(&conf),
        }
    }

    fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        self.store
            .get(&ObjectKey::new("", resource, namespace, name))
            .ok()
            .flatten()
    }

    /// Ready addresses of a Service's Endpoints, with their hostnames.
    fn ready_endpoints(&self, namespace: &str, service: &str) -> Vec<(Ipv4Addr, Option<String>)> {
        let Some(ep) = self.get("endpoints", namespace, service) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for subset in ep["subsets"].as_array().into_iter().flatten() {
            for a in subset["addresses"].as_array().into_iter().flatten() {
                if let Some(ip) = a["ip"].as_str().and_then(|s| s.parse().ok())
                    && !out.iter().any(|(o, _)| *o == ip)
                {
                    out.push((ip, a["hostname"].as_str().map(str::to_string)));
                }
            }
        }
        out
    }

    /// The records for a cluster name and type: `None` means the name does not exist.
    fn cluster_records(&self, name: &Name, kind: RecordType, what: Lookup) -> Option<Vec<Record>> {
        let a = |ip: Ipv4Addr| Record::from_rdata(name.clone(), TTL, RData::A(A(ip)));
        let addresses: Vec<Ipv4Addr> = match what {
            Lookup::Service {
                namespace,
                name: svc,
            } => {
                let s = self.get("services", &namespace, &svc)?;
                let spec = &s["spec"];
                if spec["type"] == "ExternalName" {
                    let target = spec["externalName"].as_str().unwrap_or_default();
                    let target =
                        Name::from_ascii(format!("{}.", target.trim_end_matches('.'))).ok()?;
                    return Some(vec![Record::from_rdata(
                        name.clone(),
                        TTL,
                        RData::CNAME(CNAME(target)),
                    )]);
                }
                match spec["clusterIP"].as_str() {
                    Some("None") | None | Some("") => self
                        .ready_endpoints(&namespace, &svc)
                        .into_iter()
                        .map(|(ip, _)| ip)
                        .collect(),
                    Some(ip) => ip.parse().ok().into_iter().collect(),
                }
            }
            Lookup::Endpoint {
                namespace,
                service,
                hostname,
            } => {
                let found: Vec<Ipv4Addr> = self
                    .ready_endpoints(&namespace, &service)
                    .into_iter()
                    .filter(|(_, h)| h.as_deref() == Some(hostname.as_str()))
                    .map(|(ip, _)| ip)
                    .collect();
                if found.is_empty() {
                    return None;
                }
                found
            }
            Lookup::PodIp(ip) => vec![ip],
            Lookup::Empty => Vec::new(),
            Lookup::NotFound | Lookup::Outside => return None,
        };
        Some(if kind == RecordType::A || kind == RecordType::ANY {
            addresses.into_iter().map(a).collect()
        } else {
            Vec::new()
        })
    }

    /// The answer to a query message, or `None` when it goes to the host's resolvers.
    pub fn answer_locally(&self, query: &Message) -> Option<Message> {
        let q = query.queries.first()?;
        let what = lookup(&q.name.to_ascii());
        if what == Lookup::Outside {
            return None;
        }
        let mut reply = Message::response(query.metadata.id, OpCode::Query);
        reply.metadata.authoritative = true;
        reply.metadata.recursion_desired = query.metadata.recursion_desired;
        reply.metadata.recursion_available = true;
        reply.add_query(q.clone());
        match self.cluster_records(&q.name, q.query_type, what) {
            Some(records) => {
                reply.add_answers(records);
            }
            None => reply.metadata.response_code = ResponseCode::NXDomain,
        }
        Some(reply)
    }

    /// Passes a query to the host's resolvers in turn; the first answer wins.
    async fn forward(&self, raw: &[u8]) -> Option<Vec<u8>> {
        for upstream in &self.upstreams {
            let bind: SocketAddr = if upstream.is_ipv4() {
                "0.0.0.0:0".parse().expect("an address")
            } else {
                "[::]:0".parse().expect("an address")
            };
            let Ok(sock) = UdpSocket::bind(bind).await else {
                continue;
            };
            if sock.connect(upstream).await.is_err() || sock.send(raw).await.is_err() {
                continue;
            }
            let mut buf = vec![0u8; UDP_BUFFER];
            if let Ok(Ok(n)) = tokio::time::timeout(UPSTREAM_TIMEOUT, sock.recv(&mut buf)).await {
                buf.truncate(n);
                return Some(buf);
            }
        }
        None
    }

    /// The bytes answering the query bytes `raw` (a FORMERR for what does not parse, a
    /// SERVFAIL when no upstream answers).
    pub async fn respond(&self, raw: &[u8]) -> Option<Vec<u8>> {
        let query = match Message::from_vec(raw) {
            Ok(m) if m.metadata.message_type == MessageType::Query => m,
            Ok(_) => return None,
            Err(_) => {
                // The id is the first two bytes whenever there are two.
                let id = raw.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
                return Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
                    .to_vec()
                    .ok();
            }
        };
        if let Some(reply) = self.answer_locally(&query) {
            return reply.to_vec().ok();
        }
        match self.forward(raw).await {
            Some(bytes) => Some(bytes),
            None => {
                let mut fail =
                    Message::error_msg(query.metadata.id, OpCode::Query, ResponseCode::ServFail);
                fail.add_queries(query.queries.clone());
                fail.to_vec().ok()
            }
        }
    }
}

/// Starts the UDP and TCP servers on the cluster DNS address.
pub fn start(store: Arc<Store>) {
    let resolver = Arc::new(Resolver::new(store));
    let addr = SocketAddr::new(IpAddr::V4(super::DNS_IP), 53);
    let udp_resolver = resolver.clone();
    tokio::spawn(async move {
        match UdpSocket::bind(addr).await {
            Ok(sock) => {
                super::dns_ready();
                serve_udp(Arc::new(sock), udp_resolver).await
            }
            Err(e) => tracing::warn!("cluster DNS cannot listen on udp {addr}: {e}"),
        }
    });
    tokio::spawn(async move {
        match TcpListener::bind(addr).await {
            Ok(listener) => serve_tcp(listener, resolver).await,
            Err(e) => tracing::warn!("cluster DNS cannot listen on tcp {addr}: {e}"),
        }
    });
}

async fn serve_udp(sock: Arc<UdpSocket>, resolver: Arc<Resolver>) {
    let mut buf = vec![0u8; UDP_BUFFER];
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!("cluster DNS receive: {e}");
                continue;
            }
        };
        let raw = buf[..n].to_vec();
        let (sock, resolver) = (sock.clone(), resolver.clone());
        tokio::spawn(async move {
            if let Some(reply) = resolver.respond(&raw).await {
                let _ = sock.send_to(&reply, peer).await;
            }
        });
    }
}

async fn serve_tcp(listener: TcpListener, resolver: Arc<Resolver>) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let resolver = resolver.clone();
        tokio::spawn(async move {
            // Each message is preceded by its length in two bytes (RFC 1035, 4.2.2).
            loop {
                let Ok(len) = conn.read_u16().await else {
                    return;
                };
                let mut raw = vec![0u8; len as usize];
                if conn.read_exact(&mut raw).await.is_err() {
                    return;
                }
                let Some(reply) = resolver.respond(&raw).await else {
                    return;
                };
                let Ok(len) = u16::try_from(reply.len()) else {
                    return;
                };
                if conn.write_u16(len).await.is_err() || conn.write_all(&reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_skip_the_cluster_dns() {
        let conf = "search x\nnameserver 10.96.0.10\nnameserver 192.168.1.1\nnameserver ::1\n";
        assert_eq!(
            upstreams_of(conf),
            vec![
                "192.168.1.1:53".parse().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
    }
}
