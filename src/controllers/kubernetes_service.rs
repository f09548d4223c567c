//! The `kubernetes` Service in `default`, as every cluster's API server keeps it: cluster IP
//! 10.96.0.1 (the first address of the service network, which the services translator never
//! hands out), port 443 named `https` reaching k2d's own port, and its Endpoints and
//! EndpointSlice (no selector) pointing at the node's address. Written at start, and only what
//! differs from what is stored.

use serde_json::{Value, json};

use crate::api::status::Status;
use crate::client::{Client, path};
use crate::controllers::endpoints::SERVICE_NAME;

/// The Service's name and namespace.
pub const NAME: &str = "kubernetes";
/// Its namespace.
pub const NAMESPACE: &str = "default";
/// Its cluster IP.
pub const CLUSTER_IP: &str = "10.96.0.1";

fn labels() -> Value {
    json!({"component": "apiserver", "provider": "kubernetes"})
}

/// The Service as created.
pub fn service(port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels()},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": CLUSTER_IP,
            "clusterIPs": [CLUSTER_IP],
            "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
        },
    })
}

/// The Endpoints' subsets: the node's address and k2d's port.
pub fn subsets(host: &str, port: u16) -> Value {
    json!([{
        "addresses": [{"ip": host}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }])
}

/// The EndpointSlice's content (addressType, endpoints, ports).
pub fn slice(host: &str, port: u16) -> Value {
    json!({
        "addressType": if host.contains(':') { "IPv6" } else { "IPv4" },
        "endpoints": [{"addresses": [host], "conditions": {"ready": true, "serving": true, "terminating": false}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    })
}

/// Creates the Service if missing, else makes its port reach `port` again.
async fn ensure_service(client: &Client, port: u16) -> Result<(), Status> {
    let p = path("v1", "services", Some(NAMESPACE), Some(NAME), None);
    match client.get(&p).await? {
        None => {
            client
                .create(
                    &path("v1", "services", Some(NAMESPACE), None, None),
                    &service(port),
                )
                .await?;
        }
        Some(current) => {
            let want = service(port)["spec"]["ports"].clone();
            let same_target = current.pointer("/spec/ports/0/targetPort") == Some(&json!(port))
                && current.pointer("/spec/ports/0/port") == Some(&json!(443));
            if !same_target {
                client
                    .merge_patch(&p, &json!({"spec": {"ports": want}}))
                    .await?;
            }
        }
    }
    Ok(())
}

/// Writes `fields` (top-level fields and labels) into the object at `item` of `collection`,
/// creating it when missing; writes nothing when it already holds them.
async fn ensure_object(
    client: &Client,
    collection: &str,
    kind: &str,
    api_version: &str,
    labels: Value,
    fields: Value,
) -> Result<(), Status> {
    let item = format!("{collection}/{NAME}");
    match client.get(&item).await? {
        None => {
            let mut obj = json!({
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
            });
            for (k, v) in fields.as_object().into_iter().flatten() {
                obj[k] = v.clone();
            }
            client.create(collection, &obj).await?;
        }
        Some(mut current) => {
            let mut changed = current.pointer("/metadata/labels") != Some(&labels);
            for (k, v) in fields.as_object().into_iter().flatten() {
                if current.get(k) != Some(v) {
                    current[k] = v.clone();
                    changed = true;
                }
            }
            if changed {
                current["metadata"]["labels"] = labels;
                client.replace(&item, &current).await?;
            }
        }
    }
    Ok(())
}

/// Ensures the Service, its Endpoints and its EndpointSlice for a k2d on `host`:`port`.
pub async fn ensure(client: &Client, host: &str, port: u16) -> Result<(), Status> {
    ensure_service(client, port).await?;
    ensure_object(
        client,
        &path("v1", "endpoints", Some(NAMESPACE), None, None),
        "Endpoints",
        "v1",
        labels(),
        json!({"subsets": subsets(host, port)}),
    )
    .await?;
    ensure_object(
        client,
        &path(
            "discovery.k8s.io/v1",
            "endpointslices",
            Some(NAMESPACE),
            None,
            None,
        ),
        "EndpointSlice",
        "discovery.k8s.io/v1",
        json!({SERVICE_NAME: NAME}),
        slice(host, port),
    )
    .await
}

/// Writes the `kubernetes` Service and its endpoints once, at start.
pub fn start(client: Client, port: u16) {
    tokio::spawn(async move {
        let host = crate::controllers::node::host_ip();
        if let Err(e) = ensure(&client, &host, port).await {
            tracing::warn!("writing the kubernetes Service: {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_reaches_k2d_port_and_endpoints_the_node() {
        let s = service(7443);
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 7443);
        assert_eq!(s["spec"]["ports"][0]["port"], 443);
        assert_eq!(s["spec"]["clusterIP"], CLUSTER_IP);
        assert!(s["spec"].get("selector").is_none());
        assert_eq!(
            subsets("192.168.1.5", 7443)[0]["addresses"][0]["ip"],
            "192.168.1.5"
        );
        assert_eq!(slice("fe80::1", 1)["addressType"], "IPv6");
        assert_eq!(slice("10.0.0.1", 1)["addressType"], "IPv4");
    }
}
