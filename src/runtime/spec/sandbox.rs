//! The sandbox container holds what a pod's containers share: its network (ports, DNS,
//! hostname, host aliases, namespaced sysctls) and IPC namespaces (made shareable), or the
//! host's with hostNetwork, hostPID and hostIPC.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use serde_json::Value;

use super::{flag, list_at, str_at};

/// Where the node's own resolver configuration is.
const RESOLV_CONF: &str = "/etc/resolv.conf";
/// The resolver configuration systemd-resolved keeps behind its local stub.
const RESOLVED_CONF: &str = "/run/systemd/resolve/resolv.conf";

/// Sets the sandbox's ports, namespaces, hostname, host aliases, DNS and sysctls.
pub fn apply(body: &mut ContainerCreateBody, pod: &Value) -> Vec<String> {
    let mut warnings = Vec::new();
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let host_network = flag(spec, "hostNetwork");
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    if host_network {
        host.network_mode = Some("host".into());
    }
    host.ipc_mode = Some(
        if flag(spec, "hostIPC") {
            "host"
        } else {
            "shareable"
        }
        .into(),
    );
    if flag(spec, "hostPID") {
        host.pid_mode = Some("host".into());
    }
    ports(body, spec, host_network, &mut warnings);
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    if !host_network {
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let hostname = str_at(spec, "hostname")
            .filter(|h| !h.is_empty())
            .unwrap_or(name);
        body.hostname = Some(truncate_hostname(hostname));
        if let Some(sub) = str_at(spec, "subdomain").filter(|s| !s.is_empty()) {
            let ns = pod
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let domain = format!("{sub}.{ns}.svc.cluster.local");
            if flag(spec, "setHostnameAsFQDN") {
                body.hostname = Some(format!("{}.{domain}", truncate_hostname(hostname)));
            }
            body.domainname = Some(domain);
        }
    }
    let mut extra = Vec::new();
    for (i, alias) in list_at(spec, "hostAliases").iter().enumerate() {
        let Some(ip) = str_at(alias, "ip") else {
            continue;
        };
        for h in list_at(alias, "hostnames").iter().filter_map(Value::as_str) {
            extra.push(format!("{h}:{ip}"));
        }
        if host_network {
            warnings.push(format!(
                "spec.hostAliases[{i}]: with hostNetwork the engine keeps the node's /etc/hosts, ignored"
            ));
        }
    }
    if !extra.is_empty() && !host_network {
        host.extra_hosts = Some(extra);
    }
    dns(host, spec, host_network, None, &mut warnings);
    if let Some(class) = str_at(spec, "runtimeClassName") {
        warnings.push(format!(
            "spec.runtimeClassName: RuntimeClass {class:?} is not resolved to an engine runtime by k2d, the engine's default runtime is used"
        ));
    }
    if spec.get("resources").is_some() {
        warnings.push(
            "spec.resources: pod-level resources are not enforced by k2d on Docker (container resources are), ignored"
                .into(),
        );
    }
    sysctls(host, spec, host_network, &mut warnings);
    warnings
}

/// Exposed ports for every declared containerPort, published ones for those with hostPort.
fn ports(
    body: &mut ContainerCreateBody,
    spec: &Value,
    host_network: bool,
    warnings: &mut Vec<String>,
) {
    let mut exposed: Vec<String> = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for (list, containers) in [
        ("initContainers", list_at(spec, "initContainers")),
        ("containers", list_at(spec, "containers")),
    ] {
        for (ci, c) in containers.iter().enumerate() {
            for (pi, p) in list_at(c, "ports").iter().enumerate() {
                let Some(port) = p.get("containerPort").and_then(Value::as_i64) else {
                    continue;
                };
                let proto = str_at(p, "protocol").unwrap_or("TCP").to_ascii_lowercase();
                if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
                    warnings.push(format!(
                        "spec.{list}[{ci}].ports[{pi}].protocol: {proto} is not a protocol the engine publishes, ignored"
                    ));
                    continue;
                }
                let key = format!("{port}/{proto}");
                if !exposed.contains(&key) {
                    exposed.push(key.clone());
                }
                let Some(host_port) = p.get("hostPort").and_then(Value::as_i64).filter(|&h| h > 0)
                else {
                    continue;
                };
                if host_network {
                    continue;
                }
                let binding = PortBinding {
                    host_ip: str_at(p, "hostIP")
                        .filter(|h| !h.is_empty())
                        .map(String::from),
                    host_port: Some(host_port.to_string()),
                };
                bindings
                    .entry(key)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(binding);
            }
        }
    }
    if !exposed.is_empty() {
        body.exposed_ports = Some(exposed);
    }
    if !bindings.is_empty() {
        body.host_config
            .get_or_insert_with(HostConfig::default)
            .port_bindings = Some(bindings);
    }
}

/// A pod name as the kubelet makes it a hostname: at most 63 characters, without a trailing
/// `-` or `.`.
fn truncate_hostname(name: &str) -> String {
    if name.len() <= 63 {
        return name.to_string();
    }
    let cut: String = name.chars().take(63).collect();
    cut.trim_end_matches(['-', '.']).to_string()
}

/// Sets the sandbox's DNS for a `ClusterFirst` pod once the cluster DNS exists (`cluster`:
/// its nameserver, the pod's search domains and `ndots:5`), merged with the pod's dnsConfig
/// as the kubelet merges. For the Services piece; [`apply`] leaves ClusterFirst pods on the
/// engine's default DNS.
pub fn apply_cluster_dns(
    body: &mut ContainerCreateBody,
    pod: &Value,
    cluster: &ResolvConf,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    dns(
        host,
        spec,
        flag(spec, "hostNetwork"),
        Some(cluster),
        &mut warnings,
    );
    warnings
}

/// dnsPolicy and dnsConfig: `Default` takes the node's resolver configuration, `None` only
/// dnsConfig, `ClusterFirst` (and `ClusterFirstWithHostNet`) the cluster DNS when given (else
/// nothing: the engine's default DNS), each merged with dnsConfig.
fn dns(
    host: &mut HostConfig,
    spec: &Value,
    host_network: bool,
    cluster: Option<&ResolvConf>,
    warnings: &mut Vec<String>,
) {
    let policy = str_at(spec, "dnsPolicy").unwrap_or("ClusterFirst");
    let config = spec.get("dnsConfig");
    let mut base = match policy {
        "Default" => ResolvConf::of_node(),
        "None" => {
            if config.is_none() {
                warnings.push(
                    "spec.dnsConfig: dnsPolicy None requires dnsConfig; the engine's default DNS applies"
                        .into(),
                );
            }
            ResolvConf::default()
        }
        "ClusterFirst" if host_network => {
            // The kubelet falls back to Default for a host-network pod with ClusterFirst.
            ResolvConf::of_node()
        }
        "ClusterFirstWithHostNet" | "ClusterFirst" => match cluster {
            Some(c) => c.clone(),
            None => {
                if config.is_some() {
                    warnings.push(
                        "spec.dnsConfig: merged with the cluster DNS, which is not set up yet; ignored"
                            .into(),
                    );
                }
                return;
            }
        },
        other => {
            warnings.push(format!("spec.dnsPolicy: unknown policy {other:?}, ignored"));
            ResolvConf::default()
        }
    };
    if let Some(cfg) = config {
        for ns in list_at(cfg, "nameservers").iter().filter_map(Value::as_str) {
            if !base.nameservers.iter().any(|n| n == ns) {
                base.nameservers.push(ns.to_string());
            }
        }
        for s in list_at(cfg, "searches").iter().filter_map(Value::as_str) {
            if !base.searches.iter().any(|x| x == s) {
                base.searches.push(s.to_string());
            }
        }
        for o in list_at(cfg, "options") {
            let Some(name) = str_at(o, "name") else {
                continue;
            };
            let text = match str_at(o, "value") {
                Some(v) => format!("{name}:{v}"),
                None => name.to_string(),
            };
            base.options.retain(|x| x.split(':').next() != Some(name));
            base.options.push(text);
        }
    }
    if !base.nameservers.is_empty() {
        host.dns = Some(base.nameservers);
    }
    if !base.searches.is_empty() {
        host.dns_search = Some(base.searches);
    }
    if !base.options.is_empty() {
        host.dns_options = Some(base.options);
    }
}

/// The parts of a resolv.conf the engine takes.
#[derive(Clone, Default, Debug, PartialEq)]
pub struct ResolvConf {
    /// `nameserver` lines.
    pub nameservers: Vec<String>,
    /// `search` (and `domain`) domains.
    pub searches: Vec<String>,
    /// `options`, as `name` or `name:value`.
    pub options: Vec<String>,
}

impl ResolvConf {
    /// Parses resolv.conf text.
    pub fn parse(text: &str) -> ResolvConf {
        let mut r = ResolvConf::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => r.nameservers.extend(words.next().map(String::from)),
                Some("search" | "domain") => {
                    r.searches = words.map(String::from).collect();
                }
                Some("options") => r.options.extend(words.map(String::from)),
                _ => {}
            }
        }
        r
    }

    /// The node's configuration: /etc/resolv.conf, or systemd-resolved's upstream one when
    /// the node's only names a loopback stub (unreachable from a pod's network).
    pub fn of_node() -> ResolvConf {
        let read = |p| {
            std::fs::read_to_string(p)
                .map(|t| ResolvConf::parse(&t))
                .ok()
        };
        let mut conf = read(RESOLV_CONF).unwrap_or_default();
        let loopback = |n: &String| n.starts_with("127.") || n == "::1";
        if !conf.nameservers.is_empty()
            && conf.nameservers.iter().all(loopback)
            && let Some(upstream) = read(RESOLVED_CONF)
        {
            conf.nameservers = upstream.nameservers;
        }
        conf.nameservers.retain(|n| !loopback(n));
        conf
    }
}

/// Pod sysctls on the sandbox (network and IPC ones are namespaced there; a host-network pod
/// cannot set `net.*`).
fn sysctls(host: &mut HostConfig, spec: &Value, host_network: bool, warnings: &mut Vec<String>) {
    let mut out = HashMap::new();
    let list = spec
        .pointer("/securityContext/sysctls")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (i, s) in list.iter().enumerate() {
        let (Some(name), Some(value)) = (str_at(s, "name"), str_at(s, "value")) else {
            continue;
        };
        if !namespaced(name) {
            warnings.push(format!(
                "spec.securityContext.sysctls[{i}]: {name} is not namespaced, it cannot be set for one pod, ignored"
            ));
            continue;
        }
        if host_network && name.starts_with("net.") {
            warnings.push(format!(
                "spec.securityContext.sysctls[{i}]: {name} cannot be set for a pod on the host's network, ignored"
            ));
            continue;
        }
        out.insert(name.to_string(), value.to_string());
    }
    if !out.is_empty() {
        host.sysctls = Some(out);
    }
}

/// The sysctls a container engine can set in a pod's own namespaces (network and IPC).
fn namespaced(name: &str) -> bool {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    name.starts_with("net.") || name.starts_with("fs.mqueue.") || IPC.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(spec: Value) -> (ContainerCreateBody, Vec<String>) {
        let pod = json!({"metadata": {"name": "web-7f9c", "namespace": "shop"}, "spec": spec});
        let mut body = ContainerCreateBody::default();
        let w = apply(&mut body, &pod);
        (body, w)
    }

    fn host(b: &ContainerCreateBody) -> &HostConfig {
        b.host_config.as_ref().unwrap()
    }

    #[test]
    fn ports_are_exposed_and_host_ports_published() {
        let (b, w) = run(json!({"containers": [
            {"name": "web", "ports": [
                {"containerPort": 80, "hostPort": 8080},
                {"containerPort": 53, "protocol": "UDP", "hostPort": 5353, "hostIP": "127.0.0.1"},
                {"containerPort": 9090, "name": "metrics"}
            ]},
            {"name": "side", "ports": [{"containerPort": 3868, "protocol": "SCTP"}]}
        ]}));
        assert!(w.is_empty(), "{w:?}");
        let mut exposed = b.exposed_ports.clone().unwrap();
        exposed.sort();
        assert_eq!(exposed, vec!["3868/sctp", "53/udp", "80/tcp", "9090/tcp"]);
        let pb = host(&b).port_bindings.as_ref().unwrap();
        assert_eq!(pb.len(), 2);
        assert_eq!(
            pb["80/tcp"],
            Some(vec![PortBinding {
                host_ip: None,
                host_port: Some("8080".into())
            }])
        );
        assert_eq!(
            pb["53/udp"],
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some("5353".into())
            }])
        );
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["ExposedPorts"]["80/tcp"], json!({}));
    }

    #[test]
    fn namespaces_and_hostname() {
        let (b, _) = run(json!({"containers": [{"name": "c"}]}));
        assert_eq!(b.hostname.as_deref(), Some("web-7f9c"));
        assert_eq!(b.domainname, None);
        assert_eq!(host(&b).ipc_mode.as_deref(), Some("shareable"));
        assert_eq!(host(&b).network_mode, None);
        assert_eq!(host(&b).pid_mode, None);
        let (b, _) = run(json!({"hostname": "db-0", "subdomain": "db", "containers": []}));
        assert_eq!(b.hostname.as_deref(), Some("db-0"));
        assert_eq!(b.domainname.as_deref(), Some("db.shop.svc.cluster.local"));
        let (b, _) = run(json!({"hostname": "db-0", "subdomain": "db", "setHostnameAsFQDN": true}));
        assert_eq!(
            b.hostname.as_deref(),
            Some("db-0.db.shop.svc.cluster.local")
        );
        let (b, _) = run(
            json!({"hostNetwork": true, "hostPID": true, "hostIPC": true,
            "containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]}),
        );
        assert_eq!(host(&b).network_mode.as_deref(), Some("host"));
        assert_eq!(host(&b).pid_mode.as_deref(), Some("host"));
        assert_eq!(host(&b).ipc_mode.as_deref(), Some("host"));
        assert_eq!(b.hostname, None);
        assert_eq!(host(&b).port_bindings, None);
        assert_eq!(b.exposed_ports, Some(vec!["80/tcp".into()]));
    }

    #[test]
    fn pod_fields_without_an_engine_meaning_warn() {
        let (_, w) =
            run(json!({"runtimeClassName": "gvisor", "resources": {"limits": {"cpu": "1"}}}));
        assert_eq!(w.len(), 2);
        assert!(w[0].starts_with("spec.runtimeClassName: RuntimeClass \"gvisor\""));
        assert!(w[1].starts_with("spec.resources: pod-level resources"));
    }

    #[test]
    fn long_names_are_truncated_like_the_kubelet() {
        let name = format!("{}-{}", "a".repeat(62), "b".repeat(10));
        assert_eq!(truncate_hostname(&name), "a".repeat(62));
        assert_eq!(truncate_hostname("short"), "short");
        let wide = "é".repeat(40);
        assert_eq!(
            truncate_hostname(&wide),
            wide,
            "never cut inside a character"
        );
    }

    #[test]
    fn host_aliases() {
        let (b, w) = run(json!({"hostAliases": [
            {"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]},
            {"ip": "::1", "hostnames": ["v6"]}
        ], "containers": []}));
        assert!(w.is_empty());
        assert_eq!(
            host(&b).extra_hosts,
            Some(vec![
                "foo.local:10.1.2.3".into(),
                "bar.local:10.1.2.3".into(),
                "v6:::1".into()
            ])
        );
        let (b, w) = run(
            json!({"hostNetwork": true, "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["x"]}]}),
        );
        assert_eq!(host(&b).extra_hosts, None);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn dns_none_takes_dns_config() {
        let (b, w) = run(json!({"dnsPolicy": "None", "dnsConfig": {
            "nameservers": ["1.1.1.1", "8.8.8.8"], "searches": ["corp.example"],
            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]
        }}));
        assert!(w.is_empty());
        let h = host(&b);
        assert_eq!(h.dns, Some(vec!["1.1.1.1".into(), "8.8.8.8".into()]));
        assert_eq!(h.dns_search, Some(vec!["corp.example".into()]));
        assert_eq!(h.dns_options, Some(vec!["ndots:2".into(), "edns0".into()]));
        let (_, w) = run(json!({"dnsPolicy": "None"}));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn dns_default_is_the_nodes() {
        let (b, _) = run(
            json!({"dnsPolicy": "Default", "dnsConfig": {"options": [{"name": "ndots", "value": "1"}]}}),
        );
        let node = ResolvConf::of_node();
        let h = host(&b);
        assert_eq!(h.dns.clone().unwrap_or_default(), node.nameservers);
        assert_eq!(h.dns_search.clone().unwrap_or_default(), node.searches);
        assert_eq!(h.dns_options.as_ref().unwrap().last().unwrap(), "ndots:1");
        let (b, _) = run(json!({}));
        assert_eq!(
            (host(&b).dns.clone(), host(&b).dns_search.clone()),
            (None, None)
        );
    }

    #[test]
    fn cluster_first_waits_for_the_cluster_dns() {
        let spec = json!({"dnsConfig": {"searches": ["extra.example"], "options": [{"name": "ndots", "value": "2"}]}});
        let (b, w) = run(spec.clone());
        assert_eq!(
            (host(&b).dns.clone(), host(&b).dns_search.clone()),
            (None, None)
        );
        assert_eq!(
            w,
            vec!["spec.dnsConfig: merged with the cluster DNS, which is not set up yet; ignored"]
        );
        let pod = json!({"metadata": {"name": "p", "namespace": "shop"}, "spec": spec});
        let cluster = ResolvConf {
            nameservers: vec!["10.96.0.10".into()],
            searches: vec!["shop.svc.cluster.local".into(), "svc.cluster.local".into()],
            options: vec!["ndots:5".into()],
        };
        let mut body = ContainerCreateBody::default();
        assert!(apply_cluster_dns(&mut body, &pod, &cluster).is_empty());
        let h = host(&body);
        assert_eq!(h.dns, Some(vec!["10.96.0.10".into()]));
        assert_eq!(
            h.dns_search,
            Some(vec![
                "shop.svc.cluster.local".into(),
                "svc.cluster.local".into(),
                "extra.example".into()
            ])
        );
        assert_eq!(h.dns_options, Some(vec!["ndots:2".into()]));
    }

    #[test]
    fn resolv_conf_parsing() {
        let r = ResolvConf::parse(
            "# generated\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch a.example b.example\noptions ndots:5 rotate\n",
        );
        assert_eq!(r.nameservers, vec!["10.0.0.2", "10.0.0.3"]);
        assert_eq!(r.searches, vec!["a.example", "b.example"]);
        assert_eq!(r.options, vec!["ndots:5", "rotate"]);
    }

    #[test]
    fn sysctls_go_to_the_sandbox() {
        let (b, w) = run(json!({"securityContext": {"sysctls": [
            {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"},
            {"name": "kernel.shm_rmid_forced", "value": "1"}
        ]}}));
        assert!(w.is_empty());
        let s = host(&b).sysctls.clone().unwrap();
        assert_eq!(s["net.ipv4.ip_unprivileged_port_start"], "0");
        assert_eq!(s["kernel.shm_rmid_forced"], "1");
        let (b, w) = run(json!({"securityContext": {"sysctls": [
            {"name": "vm.swappiness", "value": "10"}, {"name": "fs.mqueue.msg_max", "value": "20"}]}}));
        assert_eq!(host(&b).sysctls.clone().unwrap().len(), 1);
        assert_eq!(
            w,
            vec![
                "spec.securityContext.sysctls[0]: vm.swappiness is not namespaced, it cannot be set for one pod, ignored"
            ]
        );
        let (b, w) = run(json!({"hostNetwork": true, "securityContext": {"sysctls": [
            {"name": "net.core.somaxconn", "value": "1024"}]}}));
        assert_eq!(host(&b).sysctls, None);
        assert_eq!(w.len(), 1);
    }
}
