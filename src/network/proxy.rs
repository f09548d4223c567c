//! The Service proxy: one TCP listener per Service port, on the cluster IP (which the AnyIP
//! route makes local), on the node port for NodePort and LoadBalancer Services, and on the
//! Service port of the node for LoadBalancer Services. Each accepted connection goes to the
//! next ready endpoint (round robin over the Service's Endpoints), trying the others when one
//! refuses. Listeners change with the Services; connections already open are never cut by a
//! Service change. Idle listeners cost a socket and a parked task, no CPU.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::client::{Client, path};
use crate::store::{EventKind, Store};

/// How long connecting to one endpoint may take before the next is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A Service port: namespace, Service name, port name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Namespace.
    pub namespace: String,
    /// Service name.
    pub service: String,
    /// The Service port's name ("" when it has none).
    pub port_name: String,
}

/// The endpoints of every Service port: where connections may go.
#[derive(Default)]
struct Table {
    ports: HashMap<Target, Vec<SocketAddr>>,
    next: HashMap<Target, Arc<AtomicUsize>>,
}

/// The addresses to listen on for one Service: (address, target) for each TCP port.
pub fn listeners_of(svc: &Value, node_ip: Option<Ipv4Addr>) -> Vec<(SocketAddr, Target)> {
    let ns = svc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = svc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spec = &svc["spec"];
    let kind = spec["type"].as_str().unwrap_or("ClusterIP");
    if kind == "ExternalName" {
        return Vec::new();
    }
    let cluster_ip = spec["clusterIP"]
        .as_str()
        .and_then(|s| s.parse::<Ipv4Addr>().ok())
        .filter(|ip| super::in_service_network(*ip) && *ip != super::DNS_IP);
    let mut out = Vec::new();
    for p in spec["ports"].as_array().into_iter().flatten() {
        if p["protocol"].as_str().unwrap_or("TCP") != "TCP" {
            continue;
        }
        let Some(port) = p["port"].as_u64().and_then(|n| u16::try_from(n).ok()) else {
            continue;
        };
        let target = Target {
            namespace: ns.to_string(),
            service: name.to_string(),
            port_name: p["name"].as_str().unwrap_or_default().to_string(),
        };
        if let Some(ip) = cluster_ip {
            out.push((SocketAddr::new(IpAddr::V4(ip), port), target.clone()));
        }
        if matches!(kind, "NodePort" | "LoadBalancer")
            && let Some(node_port) = p["nodePort"].as_u64().and_then(|n| u16::try_from(n).ok())
        {
            out.push((
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), node_port),
                target.clone(),
            ));
        }
        if kind == "LoadBalancer"
            && let Some(ip) = node_ip
        {
            out.push((SocketAddr::new(IpAddr::V4(ip), port), target));
        }
    }
    out
}

/// The ready endpoints of each port of an Endpoints object.
pub fn endpoints_of(ep: &Value) -> HashMap<Target, Vec<SocketAddr>> {
    let ns = ep
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = ep
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out: HashMap<Target, Vec<SocketAddr>> = HashMap::new();
    for subset in ep["subsets"].as_array().into_iter().flatten() {
        let ips: Vec<IpAddr> = subset["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["ip"].as_str()?.parse().ok())
            .collect();
        for p in subset["ports"].as_array().into_iter().flatten() {
            if p["protocol"].as_str().unwrap_or("TCP") != "TCP" {
                continue;
            }
            let Some(port) = p["port"].as_u64().and_then(|n| u16::try_from(n).ok()) else {
                continue;
            };
            let target = Target {
                namespace: ns.to_string(),
                service: name.to_string(),
                port_name: p["name"].as_str().unwrap_or_default().to_string(),
            };
            out.entry(target)
                .or_default()
                .extend(ips.iter().map(|ip| SocketAddr::new(*ip, port)));
        }
    }
    out
}

/// The proxy's state: the endpoint table and the open listeners.
struct Proxy {
    table: Arc<RwLock<Table>>,
    listeners: HashMap<SocketAddr, (Target, tokio::task::JoinHandle<()>)>,
    node_ip: Option<Ipv4Addr>,
}

impl Proxy {
    /// Opens and closes listeners so they match the Services.
    async fn sync_listeners(&mut self, services: &HashMap<(String, String), Value>) {
        let mut want: HashMap<SocketAddr, Target> = HashMap::new();
        for svc in services.values() {
            for (addr, target) in listeners_of(svc, self.node_ip) {
                want.entry(addr).or_insert(target);
            }
        }
        self.listeners.retain(|addr, (target, task)| {
            let keep = want.get(addr) == Some(target);
            if !keep {
                task.abort();
            }
            keep
        });
        for (addr, target) in want {
            if self.listeners.contains_key(&addr) {
                continue;
            }
            match TcpListener::bind(addr).await {
                Ok(listener) => {
                    let task = tokio::spawn(serve(listener, target.clone(), self.table.clone()));
                    self.listeners.insert(addr, (target, task));
                }
                Err(e) => tracing::warn!(
                    "service {}/{} cannot listen on {addr}: {e}",
                    target.namespace,
                    target.service
                ),
            }
        }
    }

    fn set_endpoints(&self, namespace: &str, name: &str, ep: Option<&Value>) {
        let mut table = self.table.write().expect("proxy table lock");
        table
            .ports
            .retain(|t, _| !(t.namespace == namespace && t.service == name));
        if let Some(ep) = ep {
            for (target, addrs) in endpoints_of(ep) {
                table.next.entry(target.clone()).or_default();
                table.ports.insert(target, addrs);
            }
        }
    }
}

async fn serve(listener: TcpListener, target: Target, table: Arc<RwLock<Table>>) {
    loop {
        let Ok((conn, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let _ = conn.set_nodelay(true);
        let (target, table) = (target.clone(), table.clone());
        tokio::spawn(async move { forward(conn, &target, &table).await });
    }
}

/// Connects a client to the next endpoint that accepts, then copies both ways until either
/// side closes.
async fn forward(mut conn: TcpStream, target: &Target, table: &RwLock<Table>) {
    let (addrs, start) = {
        let t = table.read().expect("proxy table lock");
        let addrs = t.ports.get(target).cloned().unwrap_or_default();
        let start = t
            .next
            .get(target)
            .map_or(0, |n| n.fetch_add(1, Ordering::Relaxed));
        (addrs, start)
    };
    for i in 0..addrs.len() {
        let addr = addrs[(start + i) % addrs.len()];
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(mut upstream)) => {
                let _ = upstream.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
                return;
            }
            _ => continue,
        }
    }
    // The `kubernetes` Service's endpoint is k2d itself on the node address; a k2d listening
    // on loopback only is still reached there, from the host side of the proxy.
    if target.namespace == "default"
        && target.service == "kubernetes"
        && let Some(port) = addrs.first().map(SocketAddr::port)
        && let Ok(Ok(mut upstream)) = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))),
        )
        .await
    {
        let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
        return;
    }
    tracing::debug!(
        "service {}/{} port {:?}: no ready endpoint accepted the connection",
        target.namespace,
        target.service,
        target.port_name
    );
}

fn key_of(obj: &Value) -> (String, String) {
    let m = |f: &str| {
        obj.pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (m("namespace"), m("name"))
}

/// Sets `status.loadBalancer.ingress` of a LoadBalancer Service to the node's address.
async fn publish_load_balancer(client: &Client, svc: &Value, node_ip: Ipv4Addr) {
    if svc["spec"]["type"] != "LoadBalancer" {
        return;
    }
    let want = json!([{"ip": node_ip.to_string(), "ipMode": "VIP"}]);
    if svc.pointer("/status/loadBalancer/ingress") == Some(&want) {
        return;
    }
    let (ns, name) = key_of(svc);
    let p = path("v1", "services", Some(&ns), Some(&name), Some("status"));
    if let Err(e) = client
        .merge_patch(&p, &json!({"status": {"loadBalancer": {"ingress": want}}}))
        .await
    {
        tracing::warn!("publishing the load balancer address of {ns}/{name}: {e}");
    }
}

/// Starts the proxy: follows Services and Endpoints from the store.
pub fn start(client: Client) {
    tokio::spawn(async move {
        let node_ip = crate::controllers::node::host_ip().parse::<Ipv4Addr>().ok();
        let mut proxy = Proxy {
            table: Arc::default(),
            listeners: HashMap::new(),
            node_ip,
        };
        loop {
            if let Err(e) = follow(&client, &mut proxy).await {
                tracing::warn!("service proxy: {e}; starting over");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
}

/// Lists Services and Endpoints, then follows their changes until a watch ends.
async fn follow(client: &Client, proxy: &mut Proxy) -> anyhow::Result<()> {
    let store: &Arc<Store> = &client.ctx().store;
    let (svcs, _, mut svc_watch) = store.list_and_watch("", "services", None)?;
    let (eps, _, mut ep_watch) = store.list_and_watch("", "endpoints", None)?;
    let mut services: HashMap<(String, String), Value> =
        svcs.into_iter().map(|s| (key_of(&s), s)).collect();
    for ep in &eps {
        let (ns, name) = key_of(ep);
        proxy.set_endpoints(&ns, &name, Some(ep));
    }
    proxy.sync_listeners(&services).await;
    if let Some(ip) = proxy.node_ip {
        for svc in services.values() {
            publish_load_balancer(client, svc, ip).await;
        }
    }
    loop {
        tokio::select! {
            ev = svc_watch.recv() => {
                let Some(ev) = ev else { anyhow::bail!("the Service watch ended") };
                let key = key_of(&ev.object);
                if ev.kind == EventKind::Deleted {
                    services.remove(&key);
                } else {
                    if let Some(ip) = proxy.node_ip {
                        publish_load_balancer(client, &ev.object, ip).await;
                    }
                    services.insert(key, (*ev.object).clone());
                }
                proxy.sync_listeners(&services).await;
            }
            ev = ep_watch.recv() => {
                let Some(ev) = ev else { anyhow::bail!("the Endpoints watch ended") };
                let (ns, name) = key_of(&ev.object);
                let ep = (ev.kind != EventKind::Deleted).then_some(&*ev.object);
                proxy.set_endpoints(&ns, &name, ep);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_of_each_service_type() {
        let svc = json!({"metadata": {"namespace": "a", "name": "web"}, "spec": {"type": "LoadBalancer",
            "clusterIP": "10.96.1.2", "ports": [{"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"},
            {"name": "dns", "port": 53, "protocol": "UDP"}]}});
        let l = listeners_of(&svc, Some(Ipv4Addr::new(192, 168, 1, 5)));
        let addrs: Vec<String> = l.iter().map(|(a, _)| a.to_string()).collect();
        assert_eq!(addrs, ["10.96.1.2:80", "0.0.0.0:30080", "192.168.1.5:80"]);
        assert_eq!(l[0].1.port_name, "http");
        let headless = json!({"metadata": {"namespace": "a", "name": "h"}, "spec": {"clusterIP": "None",
            "ports": [{"port": 80}]}});
        assert!(listeners_of(&headless, None).is_empty());
    }

    #[test]
    fn endpoints_by_port_name() {
        let ep = json!({"metadata": {"namespace": "a", "name": "web"}, "subsets": [
            {"addresses": [{"ip": "172.18.0.2"}, {"ip": "172.18.0.3"}],
             "notReadyAddresses": [{"ip": "172.18.0.4"}],
             "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]});
        let t = endpoints_of(&ep);
        let key = Target {
            namespace: "a".into(),
            service: "web".into(),
            port_name: "http".into(),
        };
        let addrs: Vec<String> = t[&key].iter().map(|a| a.to_string()).collect();
        assert_eq!(addrs, ["172.18.0.2:8080", "172.18.0.3:8080"]);
    }
}
