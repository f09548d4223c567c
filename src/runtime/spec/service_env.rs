//! The Service environment variables of a container (`KUBERNETES_SERVICE_HOST`,
//! `WEB_PORT_80_TCP_ADDR`, ...), in the Docker-links form the kubelet writes for every Service
//! of the pod's namespace and for `kubernetes`.

use serde_json::Value;

/// The variables for these Services, in order (later Services do not override earlier ones).
pub fn variables(services: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for svc in services {
        let spec = &svc["spec"];
        let ip = spec["clusterIP"].as_str().unwrap_or_default();
        if ip.is_empty() || ip == "None" || spec["type"] == "ExternalName" {
            continue;
        }
        let name = svc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_uppercase()
            .replace('-', "_");
        let ports = spec["ports"].as_array().cloned().unwrap_or_default();
        let Some(first) = ports.first() else { continue };
        let port_of = |p: &Value| p["port"].as_u64().unwrap_or(0);
        let proto_of = |p: &Value| p["protocol"].as_str().unwrap_or("TCP").to_string();
        let mut vars = vec![
            (format!("{name}_SERVICE_HOST"), ip.to_string()),
            (format!("{name}_SERVICE_PORT"), port_of(first).to_string()),
        ];
        for p in &ports {
            if let Some(pn) = p["name"].as_str().filter(|n| !n.is_empty()) {
                vars.push((
                    format!(
                        "{name}_SERVICE_PORT_{}",
                        pn.to_ascii_uppercase().replace('-', "_")
                    ),
                    port_of(p).to_string(),
                ));
            }
        }
        vars.push((
            format!("{name}_PORT"),
            format!(
                "{}://{ip}:{}",
                proto_of(first).to_ascii_lowercase(),
                port_of(first)
            ),
        ));
        for p in &ports {
            let (port, proto) = (port_of(p), proto_of(p));
            let prefix = format!("{name}_PORT_{port}_{proto}");
            vars.push((
                prefix.clone(),
                format!("{}://{ip}:{port}", proto.to_ascii_lowercase()),
            ));
            vars.push((format!("{prefix}_PROTO"), proto.to_ascii_lowercase()));
            vars.push((format!("{prefix}_PORT"), port.to_string()));
            vars.push((format!("{prefix}_ADDR"), ip.to_string()));
        }
        for (k, v) in vars {
            if !out.iter().any(|(ok, _)| *ok == k) {
                out.push((k, v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubernetes_and_named_ports() {
        let k = json!({"metadata": {"name": "kubernetes"}, "spec": {"clusterIP": "10.96.0.1",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}});
        let web = json!({"metadata": {"name": "my-web"}, "spec": {"clusterIP": "10.96.3.4",
            "ports": [{"port": 80, "protocol": "TCP"}, {"name": "dns", "port": 53, "protocol": "UDP"}]}});
        let headless = json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}});
        let v = variables(&[k, web, headless]);
        let get = |n: &str| v.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("KUBERNETES_SERVICE_HOST"), Some("10.96.0.1"));
        assert_eq!(get("KUBERNETES_SERVICE_PORT"), Some("443"));
        assert_eq!(get("KUBERNETES_SERVICE_PORT_HTTPS"), Some("443"));
        assert_eq!(get("KUBERNETES_PORT"), Some("tcp://10.96.0.1:443"));
        assert_eq!(get("KUBERNETES_PORT_443_TCP_ADDR"), Some("10.96.0.1"));
        assert_eq!(get("MY_WEB_PORT_53_UDP"), Some("udp://10.96.3.4:53"));
        assert_eq!(get("MY_WEB_SERVICE_PORT_DNS"), Some("53"));
        assert!(get("H_SERVICE_HOST").is_none());
    }
}
