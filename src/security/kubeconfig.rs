//! The admin kubeconfig: cluster `k2d` with the CA embedded, user `k2d-admin` with the bearer
//! token, and a context that selects them.

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::json;

/// Name of the cluster, context and kubeconfig entries.
pub const CLUSTER_NAME: &str = "k2d";

/// A kubeconfig for `server` (an `https://` URL), trusting `ca_cert` (PEM), as `token`.
pub fn render(server: &str, ca_cert: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_cert.as_bytes());
    let user = super::auth::ADMIN_USER;
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": CLUSTER_NAME, "context": {"cluster": CLUSTER_NAME, "user": user, "namespace": "default"}}],
        "current-context": CLUSTER_NAME,
        "preferences": {},
    });
    serde_yaml_ng::to_string(&doc).expect("a JSON value serializes to YAML")
}

/// The same kubeconfig with every cluster's server replaced by `server`.
pub fn with_server(kubeconfig: &str, server: &str) -> Result<String> {
    let mut doc: serde_json::Value =
        serde_yaml_ng::from_str(kubeconfig).context("parsing the kubeconfig")?;
    for c in doc["clusters"].as_array_mut().into_iter().flatten() {
        c["cluster"]["server"] = json!(server);
    }
    Ok(serde_yaml_ng::to_string(&doc)?)
}

/// `https://host:port`, with IPv6 addresses in brackets.
pub fn server_url(host: &str, port: u16) -> String {
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(ip)) => format!("https://[{ip}]:{port}"),
        _ => format!("https://{host}:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_retargets() {
        let k = render("https://127.0.0.1:6443", "PEM", "tok");
        let v: serde_json::Value = serde_yaml_ng::from_str(&k).unwrap();
        assert_eq!(v["current-context"], "k2d");
        assert_eq!(v["users"][0]["user"]["token"], "tok");
        let k = with_server(&k, "https://10.0.0.5:6443").unwrap();
        let v: serde_json::Value = serde_yaml_ng::from_str(&k).unwrap();
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "https://10.0.0.5:6443"
        );
        assert_eq!(server_url("::1", 6443), "https://[::1]:6443");
    }
}
