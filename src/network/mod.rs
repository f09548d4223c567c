//! Cluster networking on one host: Service names resolve from every pod, and Service addresses
//! answer, as they do in a cluster.
//!
//! The design, in short: the whole service network (10.96.0.0/16) is made local to the host
//! with one `local` route ("AnyIP"), so k2d can listen on any cluster IP without an address per
//! Service and without packet rewriting. Pods reach cluster IPs through their default gateway
//! (the host); the host reaches them directly.
//!
//! - [`anyip`]: the `local` route for the service network;
//! - [`names`]: what a DNS name under `cluster.local` asks for;
//! - [`dns`]: the cluster DNS server on 10.96.0.10, answering from the store and forwarding
//!   other names to the host's resolvers;
//! - [`proxy`]: one listener per Service port (cluster IP, node port, load balancer port),
//!   forwarding each connection to a ready endpoint.

pub mod anyip;
pub mod dns;
pub mod names;
pub mod proxy;

use std::net::Ipv4Addr;

use crate::client::Client;

/// The service network: cluster IPs are allocated from it.
pub const SERVICE_NETWORK: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 96, 0, 0), 16);
/// The cluster IP of the `kubernetes` Service.
pub const KUBERNETES_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);
/// The address of the cluster DNS server (kube-dns's usual address).
pub const DNS_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 10);
/// The cluster domain.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// `true` when `ip` is in the service network.
pub fn in_service_network(ip: Ipv4Addr) -> bool {
    let (base, bits) = SERVICE_NETWORK;
    let mask = u32::MAX << (32 - bits);
    u32::from(ip) & mask == u32::from(base) & mask
}

/// The resolver settings of a pod with dnsPolicy ClusterFirst in `namespace`: nameservers,
/// search domains and options, as a cluster's kubelet writes them.
pub fn pod_dns(namespace: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        vec![DNS_IP.to_string()],
        vec![
            format!("{namespace}.svc.{CLUSTER_DOMAIN}"),
            format!("svc.{CLUSTER_DOMAIN}"),
            CLUSTER_DOMAIN.to_string(),
        ],
        vec!["ndots:5".to_string()],
    )
}

/// Set once the cluster DNS server listens.
static DNS_READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The resolver settings for ClusterFirst pods in `namespace`, once the cluster DNS serves
/// (`None` before, or when it cannot: pods then use the engine's default DNS).
pub fn cluster_dns(namespace: &str) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
    DNS_READY
        .load(std::sync::atomic::Ordering::Acquire)
        .then(|| pod_dns(namespace))
}

/// Records that the cluster DNS serves.
pub(crate) fn dns_ready() {
    DNS_READY.store(true, std::sync::atomic::Ordering::Release);
}

/// Makes the service network local, then starts the DNS server and the Service proxy.
pub fn start(client: Client) {
    tokio::spawn(async move {
        if let Err(e) = anyip::ensure(SERVICE_NETWORK.0, SERVICE_NETWORK.1).await {
            tracing::warn!(
                "cluster IPs and cluster DNS are unavailable: making {}/{} local failed: {e} \
                 (k2d needs CAP_NET_ADMIN in the host's network namespace)",
                SERVICE_NETWORK.0,
                SERVICE_NETWORK.1
            );
            return;
        }
        dns::start(client.ctx().store.clone());
        proxy::start(client);
    });
}
