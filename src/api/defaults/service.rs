//! Services: `SetDefaults_Service`, plus the IP-family fields the real server's Service storage
//! fills in on create (see the module documentation for why they are set here while the
//! cluster IP itself is not).

use serde_json::{Value, json};

use super::fields::{
    Object, child, child_or_insert, is_empty_list, is_empty_map, is_unset, items, set_blank,
    set_missing, str_of,
};

/// How long ClientIP session affinity sticks when no timeout is given: three hours.
pub const CLIENT_IP_TIMEOUT_SECONDS: i64 = 10800;

/// The IP family of k2d's single-stack service network.
pub const IP_FAMILY: &str = "IPv4";

/// A Service.
pub fn service(obj: &mut Object) {
    let Some(spec) = child_or_insert(obj, "spec") else {
        return;
    };
    affinity(spec);
    set_blank(spec, "type", "ClusterIP");
    let kind = str_of(spec, "type").to_string();
    for port in items(spec, "ports") {
        set_blank(port, "protocol", "TCP");
        let unset = match port.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(v) => v.as_f64() == Some(0.0),
        };
        if unset && let Some(number) = port.get("port").cloned() {
            port.insert("targetPort".into(), number);
        }
    }
    let external_ips = !is_empty_list(spec.get("externalIPs"));
    let externally_accessible = matches!(kind.as_str(), "NodePort" | "LoadBalancer")
        || (kind == "ClusterIP" && external_ips);
    if externally_accessible {
        set_blank(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(kind.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        set_missing(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        set_missing(spec, "allocateLoadBalancerNodePorts", json!(true));
        load_balancer_ip_mode(obj);
    }
    if let Some(spec) = child(obj, "spec") {
        cluster_ips(spec);
        if kind != "ExternalName" {
            ip_families(spec);
        }
    }
}

/// `sessionAffinity` defaults to `None`, which drops any `sessionAffinityConfig`; `ClientIP`
/// gets a three-hour timeout unless one is given.
fn affinity(spec: &mut Object) {
    set_blank(spec, "sessionAffinity", "None");
    match str_of(spec, "sessionAffinity") {
        "None" => {
            spec.remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"));
            if is_unset(timeout) {
                spec.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": CLIENT_IP_TIMEOUT_SECONDS}}),
                );
            }
        }
        _ => {}
    }
}

/// Load-balancer ingress points with an IP get `ipMode: VIP`.
fn load_balancer_ip_mode(obj: &mut Object) {
    let Some(lb) = child(obj, "status").and_then(|s| child(s, "loadBalancer")) else {
        return;
    };
    for ingress in items(lb, "ingress") {
        if !str_of(ingress, "ip").is_empty() {
            set_missing(ingress, "ipMode", json!("VIP"));
        }
    }
}

/// `clusterIP` and `clusterIPs[0]` are one value: whichever is given fills in the other
/// (allocating an address when neither is given is the Service translator's job).
fn cluster_ips(spec: &mut Object) {
    let ip = str_of(spec, "clusterIP").to_string();
    let first = spec
        .get("clusterIPs")
        .and_then(Value::as_array)
        .and_then(|ips| ips.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    match first {
        None if !ip.is_empty() => {
            spec.insert("clusterIPs".into(), json!([ip]));
        }
        Some(first) if ip.is_empty() && !first.is_empty() => {
            spec.insert("clusterIP".into(), json!(first));
        }
        _ => {}
    }
}

/// `ipFamilyPolicy` and `ipFamilies` on a single-stack IPv4 network: `SingleStack` and
/// `[IPv4]`, except a headless Service without a selector (`RequireDualStack`, every family the
/// network has); families follow the cluster IPs when those are given.
fn ip_families(spec: &mut Object) {
    let headless = str_of(spec, "clusterIP") == "None";
    let selectorless = is_empty_map(spec.get("selector"));
    let policy = if headless && selectorless {
        "RequireDualStack"
    } else {
        "SingleStack"
    };
    set_missing(spec, "ipFamilyPolicy", json!(policy));
    if !is_empty_list(spec.get("ipFamilies")) {
        return;
    }
    let mut families: Vec<&str> = spec
        .get("clusterIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|ip| *ip != "None" && !ip.is_empty())
        .map(|ip| if ip.contains(':') { "IPv6" } else { "IPv4" })
        .collect();
    families.dedup();
    if families.is_empty() {
        families.push(IP_FAMILY);
    }
    spec.insert("ipFamilies".into(), json!(families));
}
