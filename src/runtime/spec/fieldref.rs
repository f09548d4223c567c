//! Downward API values: a pod's fields (`fieldRef`) and a container's resources
//! (`resourceFieldRef`), for env and for downwardAPI volume files.

use std::collections::BTreeMap;

use serde_json::Value;

use super::quantity::{Quantity, ceil_div};
use super::{list_at, str_at};

/// What the engine knows about a pod that its object may not say yet.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts<'a> {
    /// The pod's IP.
    pub pod_ip: &'a str,
    /// The node's address.
    pub host_ip: &'a str,
    /// The node's name.
    pub node_name: &'a str,
}

/// The value of `fieldRef.fieldPath` for env (`metadata.labels['app']`, `status.podIP`, ...).
/// Whole label and annotation maps (`metadata.labels`) are only for volumes, see
/// [`volume_field`].
pub fn env_field(pod: &Value, path: &str, facts: &Facts<'_>) -> Result<String, String> {
    let meta = pod.get("metadata").unwrap_or(&Value::Null);
    if let Some((map, key)) = subscript(path) {
        return Ok(meta
            .get(map)
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string());
    }
    let s = |v: Option<&str>| v.unwrap_or("").to_string();
    Ok(match path {
        "metadata.name" => s(str_at(meta, "name")),
        "metadata.namespace" => s(str_at(meta, "namespace")),
        "metadata.uid" => s(str_at(meta, "uid")),
        "spec.nodeName" => {
            let name = pod.pointer("/spec/nodeName").and_then(Value::as_str);
            s(name.filter(|n| !n.is_empty()).or(Some(facts.node_name)))
        }
        "spec.serviceAccountName" => s(pod
            .pointer("/spec/serviceAccountName")
            .and_then(Value::as_str)),
        "status.podIP" | "status.podIPs" => facts.pod_ip.to_string(),
        "status.hostIP" | "status.hostIPs" => facts.host_ip.to_string(),
        other => return Err(format!("unsupported fieldPath: {other}")),
    })
}

/// The contents of a downwardAPI volume file for `fieldRef.fieldPath`: the env values of
/// metadata fields, and whole label or annotation maps as sorted `key="value"` lines.
pub fn volume_field(pod: &Value, path: &str) -> Result<String, String> {
    match path {
        "metadata.labels" | "metadata.annotations" => {
            let map = &path["metadata.".len()..];
            let entries: BTreeMap<&str, &str> = pod
                .pointer(&format!("/metadata/{map}"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            Ok(entries
                .iter()
                .map(|(k, v)| format!("{k}={}\n", go_quote(v)))
                .collect())
        }
        "metadata.name" | "metadata.namespace" | "metadata.uid" => {
            env_field(pod, path, &Facts::default())
        }
        _ if subscript(path).is_some() => env_field(pod, path, &Facts::default()),
        other => Err(format!("unsupported fieldPath for a volume: {other}")),
    }
}

/// `metadata.labels['key']` → (`labels`, `key`).
fn subscript(path: &str) -> Option<(&str, &str)> {
    for map in ["labels", "annotations"] {
        let prefix = format!("metadata.{map}['");
        if let Some(rest) = path.strip_prefix(&prefix)
            && let Some(key) = rest.strip_suffix("']")
        {
            return Some((map, key));
        }
    }
    None
}

/// A string quoted like Go's `%q` (the format of the kubelet's downward API map files).
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The value of a `resourceFieldRef` (`limits.cpu`, `requests.memory`, ...) of the container
/// `container` (the referring one when the reference names none), divided by `divisor` and
/// rounded up. An unset limit is the node's allocatable amount (the host's CPUs and memory).
pub fn resource(pod: &Value, container: &str, r: &Value) -> Result<String, String> {
    let name = str_at(r, "containerName")
        .filter(|n| !n.is_empty())
        .unwrap_or(container);
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let c = list_at(spec, "containers")
        .iter()
        .chain(list_at(spec, "initContainers"))
        .find(|c| str_at(c, "name") == Some(name))
        .ok_or_else(|| format!("container {name:?} not found in the pod"))?;
    let field = str_at(r, "resource").unwrap_or("");
    let divisor = match r.get("divisor") {
        Some(d) => Quantity::from_json(d)?,
        None => Quantity::from_units(1),
    };
    if divisor.nanos() <= 0 {
        return Err(format!("invalid divisor for {field}"));
    }
    let (section, kind) = field
        .split_once('.')
        .ok_or_else(|| format!("unsupported container resource: {field}"))?;
    let set = c
        .pointer(&format!("/resources/{section}/{kind}"))
        .map(Quantity::from_json)
        .transpose()?;
    let amount = match (section, kind, set) {
        (_, _, Some(q)) => q,
        ("limits", "cpu", None) => Quantity::from_units(node_cpus()),
        ("limits", "memory", None) => Quantity::from_units(node_memory()),
        ("requests", "cpu" | "memory", None) => Quantity::from_units(0),
        _ => return Err(format!("unsupported container resource: {field}")),
    };
    let value = match kind {
        "cpu" => ceil_div(amount.milli(), divisor.milli().max(1)),
        "memory" => ceil_div(amount.value(), divisor.value().max(1)),
        _ => return Err(format!("unsupported container resource: {field}")),
    };
    Ok(value.to_string())
}

/// The CPUs of the host (the node's allocatable CPU).
pub fn node_cpus() -> i128 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as i128)
}

/// The memory of the host in bytes (`MemTotal` of /proc/meminfo, the node's allocatable
/// memory).
pub fn node_memory() -> i128 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i128>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web-0", "namespace": "shop", "uid": "1234-5678",
                "labels": {"app": "web", "tier": "front"},
                "annotations": {"note": "say \"hi\"\n", "k2d.io/x": "y"}},
            "spec": {"serviceAccountName": "builder", "containers": [
                {"name": "app", "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                    "requests": {"cpu": "250m", "memory": "64Mi"}}},
                {"name": "side"}
            ]}
        })
    }

    const FACTS: Facts<'static> = Facts {
        pod_ip: "172.18.0.5",
        host_ip: "192.168.1.2",
        node_name: "k2d",
    };

    #[test]
    fn env_fields() {
        let p = pod();
        let f = |path| env_field(&p, path, &FACTS).unwrap();
        assert_eq!(f("metadata.name"), "web-0");
        assert_eq!(f("metadata.namespace"), "shop");
        assert_eq!(f("metadata.uid"), "1234-5678");
        assert_eq!(f("metadata.labels['app']"), "web");
        assert_eq!(f("metadata.labels['missing']"), "");
        assert_eq!(f("metadata.annotations['k2d.io/x']"), "y");
        assert_eq!(f("status.podIP"), "172.18.0.5");
        assert_eq!(f("status.podIPs"), "172.18.0.5");
        assert_eq!(f("status.hostIP"), "192.168.1.2");
        assert_eq!(f("spec.nodeName"), "k2d");
        assert_eq!(f("spec.serviceAccountName"), "builder");
        assert!(env_field(&p, "spec.bogus", &FACTS).is_err());
    }

    #[test]
    fn volume_fields_format_maps_like_the_kubelet() {
        let p = pod();
        assert_eq!(
            volume_field(&p, "metadata.labels").unwrap(),
            "app=\"web\"\ntier=\"front\"\n"
        );
        assert_eq!(
            volume_field(&p, "metadata.annotations").unwrap(),
            "k2d.io/x=\"y\"\nnote=\"say \\\"hi\\\"\\n\"\n"
        );
        assert_eq!(volume_field(&p, "metadata.name").unwrap(), "web-0");
        assert_eq!(
            volume_field(&p, "metadata.labels['tier']").unwrap(),
            "front"
        );
        assert!(volume_field(&p, "status.podIP").is_err());
    }

    #[test]
    fn resources_with_divisors() {
        let p = pod();
        let r = |v: Value| resource(&p, "app", &v).unwrap();
        assert_eq!(r(json!({"resource": "limits.cpu"})), "1");
        assert_eq!(r(json!({"resource": "limits.cpu", "divisor": "1m"})), "500");
        assert_eq!(
            r(json!({"resource": "requests.cpu", "divisor": "1m"})),
            "250"
        );
        assert_eq!(r(json!({"resource": "limits.memory"})), "134217728");
        assert_eq!(
            r(json!({"resource": "limits.memory", "divisor": "1Mi"})),
            "128"
        );
        assert_eq!(
            r(json!({"resource": "requests.memory", "divisor": "1M"})),
            "68"
        );
        assert_eq!(
            r(json!({"resource": "limits.memory", "divisor": "1Mi", "containerName": "app"})),
            "128"
        );
    }

    #[test]
    fn unset_limits_are_the_nodes_allocatable() {
        let p = pod();
        let cpus = resource(&p, "side", &json!({"resource": "limits.cpu"})).unwrap();
        assert_eq!(cpus, node_cpus().to_string());
        let mem = resource(&p, "side", &json!({"resource": "limits.memory"})).unwrap();
        assert!(mem.parse::<i128>().unwrap() > 0);
        assert_eq!(mem, node_memory().to_string());
        let req = resource(&p, "side", &json!({"resource": "requests.cpu"})).unwrap();
        assert_eq!(req, "0");
        assert!(resource(&p, "nope", &json!({"resource": "limits.cpu"})).is_err());
        assert!(resource(&p, "app", &json!({"resource": "limits.gpu"})).is_err());
        assert!(
            resource(
                &p,
                "app",
                &json!({"resource": "limits.cpu", "divisor": "0"})
            )
            .is_err()
        );
    }
}
