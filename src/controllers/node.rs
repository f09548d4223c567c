//! The one Node: the host k2d runs on, described from the engine (capacity, OS, kernel, engine
//! version) and the host (name, addresses, machine and boot ids). Written when k2d starts and
//! whenever the engine comes or goes, never on a timer: `lastHeartbeatTime` is the time of the
//! last such write. Cordoning (`spec.unschedulable`) adds the `unschedulable` taint as a
//! cluster's node lifecycle controller does.

use std::net::IpAddr;

use serde_json::{Value, json};

use crate::api::meta;
use crate::api::version;
use crate::client::{Client, path};
use crate::engine::Engine;

/// The taint a cordoned node carries.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// How many pods the node admits (the kubelet's default `maxPods`).
const MAX_PODS: u32 = 110;

/// The node's name: the host name, lower-cased (node names are DNS subdomains).
pub fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_ascii_lowercase())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "k2d".to_string())
}

/// The node's address: the first IPv4 address of an interface that is neither loopback nor
/// one of the engine's bridges, else any non-loopback address, else loopback.
pub fn host_ip() -> String {
    let ifs = if_addrs::get_if_addrs().unwrap_or_default();
    let bridge = |name: &str| {
        ["docker", "br-", "veth", "cni", "podman", "virbr"]
            .iter()
            .any(|p| name.starts_with(p))
    };
    let pick = |want_v4: bool, skip_bridges: bool| {
        ifs.iter()
            .filter(|i| !(i.is_loopback() || skip_bridges && bridge(&i.name)))
            .map(|i| i.ip())
            .find(|ip| ip.is_ipv4() == want_v4 || !want_v4)
    };
    pick(true, true)
        .or_else(|| pick(true, false))
        .or_else(|| pick(false, false))
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
        .to_string()
}

/// The Kubernetes spelling of an architecture (`amd64`, `arm64`, `arm`).
pub fn kube_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn read_id(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// What the engine says about the host; `None` when it does not answer.
pub struct EngineFacts {
    /// CPUs.
    pub cpus: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Operating system as the engine names it.
    pub os_image: String,
    /// Kernel version.
    pub kernel: String,
    /// `docker://20.10.24` or `podman://4.3.1`.
    pub runtime_version: String,
}

/// Asks the engine for the facts a Node reports.
pub async fn engine_facts(engine: &Engine) -> Option<EngineFacts> {
    let docker = engine.docker();
    let info = docker.info().await.ok()?;
    let version = docker.version().await.ok();
    let podman = version
        .as_ref()
        .and_then(|v| v.components.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.name.to_ascii_lowercase().contains("podman"))
        });
    let server = info.server_version.clone().unwrap_or_default();
    Some(EngineFacts {
        cpus: info.ncpu.unwrap_or(1),
        memory: info.mem_total.unwrap_or(0),
        os_image: info.operating_system.clone().unwrap_or_default(),
        kernel: info.kernel_version.clone().unwrap_or_default(),
        runtime_version: format!("{}://{server}", if podman { "podman" } else { "docker" }),
    })
}

/// The Node's labels.
fn labels(name: &str) -> Value {
    let arch = kube_arch(std::env::consts::ARCH);
    json!({
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": arch,
        "node-role.kubernetes.io/control-plane": "",
    })
}

/// The Node's status from the engine's facts (`None`: the engine does not answer, so the node
/// is not Ready).
pub fn status(name: &str, facts: Option<&EngineFacts>, now: &str) -> Value {
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        })
    };
    let ready = match facts {
        Some(_) => condition(
            "Ready",
            "True",
            "KubeletReady",
            "k2d is posting ready status; the container engine answers",
        ),
        None => condition(
            "Ready",
            "False",
            "ContainerRuntimeUnreachable",
            "the container engine does not answer",
        ),
    };
    let (cpus, memory) = facts.map_or((0, 0), |f| (f.cpus, f.memory));
    let capacity = json!({
        "cpu": cpus.to_string(),
        "memory": format!("{}Ki", memory / 1024),
        "pods": MAX_PODS.to_string(),
    });
    json!({
        "capacity": capacity,
        "allocatable": capacity,
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "k2d has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "k2d has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "k2d has sufficient PID available"),
            ready,
        ],
        "addresses": [
            {"type": "InternalIP", "address": host_ip()},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
        "nodeInfo": {
            "machineID": read_id("/etc/machine-id"),
            "systemUUID": read_id("/sys/class/dmi/id/product_uuid"),
            "bootID": read_id("/proc/sys/kernel/random/boot_id"),
            "kernelVersion": facts.map(|f| f.kernel.clone()).unwrap_or_default(),
            "osImage": facts.map(|f| f.os_image.clone()).unwrap_or_default(),
            "containerRuntimeVersion": facts.map(|f| f.runtime_version.clone()).unwrap_or_default(),
            "kubeletVersion": version::git_version(),
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": kube_arch(std::env::consts::ARCH),
        },
    })
}

/// Keeps conditions whose status did not change at their old `lastTransitionTime`.
fn keep_transitions(old: Option<&Value>, new: &mut Value) {
    let Some(old) = old
        .and_then(|o| o.pointer("/status/conditions"))
        .and_then(Value::as_array)
    else {
        return;
    };
    let Some(conds) = new.get_mut("conditions").and_then(Value::as_array_mut) else {
        return;
    };
    for c in conds {
        let same = old
            .iter()
            .find(|o| o.get("type") == c.get("type") && o.get("status") == c.get("status"));
        if let Some(o) = same
            && let Some(t) = o.get("lastTransitionTime")
        {
            c["lastTransitionTime"] = t.clone();
        }
    }
}

/// The taints the node should carry: the user's, plus the unschedulable taint exactly when
/// cordoned.
pub fn taints(node: &Value) -> Option<Value> {
    let cordoned = node
        .pointer("/spec/unschedulable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let current: Vec<Value> = node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = current
        .iter()
        .any(|t| t.get("key").and_then(Value::as_str) == Some(UNSCHEDULABLE_TAINT));
    if cordoned == has {
        return None;
    }
    let mut next: Vec<Value> = current
        .into_iter()
        .filter(|t| t.get("key").and_then(Value::as_str) != Some(UNSCHEDULABLE_TAINT))
        .collect();
    if cordoned {
        next.push(json!({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAddedToNode": meta::now()}));
    }
    Some(Value::Array(next))
}

/// `true` when new pods may be placed on the node (it exists and is not cordoned).
pub fn schedulable(node: Option<&Value>) -> bool {
    node.is_some_and(|n| {
        !n.pointer("/spec/unschedulable")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    })
}

/// Creates the Node if it is missing and writes its status (only when something other than
/// the heartbeat changed). Call at start and whenever the engine comes or goes.
pub async fn publish(client: &Client, facts: Option<&EngineFacts>) {
    let name = node_name();
    let node_path = path("v1", "nodes", None, Some(&name), None);
    let existing = match client.get(&node_path).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("reading the Node: {e}");
            return;
        }
    };
    let now = meta::now();
    let mut status = status(&name, facts, &now);
    keep_transitions(existing.as_ref(), &mut status);
    let current = match existing {
        Some(n) => n,
        None => {
            let node = json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": labels(&name)},
                "spec": {},
            });
            match client
                .create(&path("v1", "nodes", None, None, None), &node)
                .await
            {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!("creating the Node {name}: {e}");
                    return;
                }
            }
        }
    };
    if unchanged_but_heartbeat(current.get("status"), &status) {
        return;
    }
    let patch = json!({"status": status});
    if let Err(e) = client
        .merge_patch(
            &path("v1", "nodes", None, Some(&name), Some("status")),
            &patch,
        )
        .await
    {
        tracing::warn!("writing the Node's status: {e}");
    }
}

/// `true` when two statuses differ only in heartbeat times.
fn unchanged_but_heartbeat(old: Option<&Value>, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(cs) = v.get_mut("conditions").and_then(Value::as_array_mut) {
            for c in cs {
                if let Some(m) = c.as_object_mut() {
                    m.remove("lastHeartbeatTime");
                }
            }
        }
        v
    };
    old.is_some_and(|o| strip(o) == strip(new))
}

/// Publishes the Node once the engine answers, then keeps its taints in step with cordoning.
pub fn start(client: Client, engine: std::sync::Arc<Engine>) {
    tokio::spawn(async move {
        engine.wait_ready(std::time::Duration::from_secs(5)).await;
        let facts = engine_facts(&engine).await;
        publish(&client, facts.as_ref()).await;
        follow_cordon(&client).await;
    });
}

/// Adds or removes the unschedulable taint whenever `spec.unschedulable` changes.
async fn follow_cordon(client: &Client) {
    let name = node_name();
    let mut watch = match client.ctx().store.watch("", "nodes", None, None) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("watching the Node: {e}");
            return;
        }
    };
    let node_path = path("v1", "nodes", None, Some(&name), None);
    if let Ok(Some(node)) = client.get(&node_path).await {
        retaint(client, &node_path, &node).await;
        tokio::task::block_in_place(|| bind_waiting_pods(client, &node));
    }
    while let Some(event) = watch.recv().await {
        if event.key.name == name && event.kind != crate::store::EventKind::Deleted {
            retaint(client, &node_path, &event.object).await;
            tokio::task::block_in_place(|| bind_waiting_pods(client, &event.object));
        }
    }
}

/// Places the pods created while the node was cordoned on it, once it is schedulable again.
fn bind_waiting_pods(client: &Client, node: &Value) {
    if !schedulable(Some(node)) {
        return;
    }
    let name = node_name();
    let store = &client.ctx().store;
    let Ok((pods, _)) = store.list("", "pods", None) else {
        return;
    };
    for pod in pods {
        let waiting = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && !meta::is_deleting(&pod)
            && pod
                .pointer(&format!(
                    "/metadata/annotations/{}",
                    crate::engine::labels::FOREIGN_CONTAINER_ANNOTATION.replace('/', "~1")
                ))
                .is_none();
        if !waiting {
            continue;
        }
        let mut bound = pod.clone();
        bound["spec"]["nodeName"] = json!(name);
        if let Some(conds) = bound
            .pointer_mut("/status/conditions")
            .and_then(Value::as_array_mut)
        {
            conds.retain(|c| c["type"] != "PodScheduled");
            conds.push(
                json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
                              "lastTransitionTime": meta::now()}),
            );
        }
        let key = crate::store::ObjectKey::new(
            "",
            "pods",
            meta::meta_str(&pod, "namespace").unwrap_or_default(),
            meta::meta_str(&pod, "name").unwrap_or_default(),
        );
        if let Err(e) = store.update(&key, bound, meta::resource_version(&pod)) {
            tracing::debug!(
                "placing pod {}/{} on the node: {e}",
                key.namespace,
                key.name
            );
        }
    }
}

async fn retaint(client: &Client, node_path: &str, node: &Value) {
    if let Some(taints) = taints(node)
        && let Err(e) = client
            .merge_patch(node_path, &json!({"spec": {"taints": taints}}))
            .await
    {
        tracing::warn!("tainting the Node: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_in_kubernetes_spelling() {
        assert_eq!(kube_arch("x86_64"), "amd64");
        assert_eq!(kube_arch("aarch64"), "arm64");
        assert_eq!(kube_arch("arm"), "arm");
    }

    #[test]
    fn cordon_adds_and_uncordon_removes_the_taint() {
        let cordoned = json!({"spec": {"unschedulable": true, "taints": [{"key": "x", "effect": "NoSchedule"}]}});
        let t = taints(&cordoned).expect("a taint to add");
        assert_eq!(t.as_array().unwrap().len(), 2);
        assert_eq!(t[1]["key"], UNSCHEDULABLE_TAINT);
        let tainted = json!({"spec": {"unschedulable": true, "taints": t}});
        assert_eq!(taints(&tainted), None);
        let uncordoned = json!({"spec": {"taints": tainted["spec"]["taints"]}});
        assert_eq!(
            taints(&uncordoned),
            Some(json!([{"key": "x", "effect": "NoSchedule"}]))
        );
        assert!(!schedulable(Some(&cordoned)));
        assert!(schedulable(Some(&uncordoned)));
        assert!(!schedulable(None));
    }

    #[test]
    fn status_reports_capacity_and_readiness() {
        let facts = EngineFacts {
            cpus: 2,
            memory: 2048 * 1024,
            os_image: "Debian".into(),
            kernel: "6.1".into(),
            runtime_version: "docker://20.10.24".into(),
        };
        let s = status("n", Some(&facts), "t");
        assert_eq!(s["capacity"]["cpu"], "2");
        assert_eq!(s["capacity"]["memory"], "2048Ki");
        assert_eq!(s["conditions"][3]["type"], "Ready");
        assert_eq!(s["conditions"][3]["status"], "True");
        let down = status("n", None, "t");
        assert_eq!(down["conditions"][3]["status"], "False");
    }

    #[test]
    fn heartbeat_alone_is_no_change() {
        let a = status("n", None, "t1");
        let mut b = status("n", None, "t2");
        keep_transitions(Some(&json!({"status": a.clone()})), &mut b);
        assert!(unchanged_but_heartbeat(Some(&a), &b));
    }
}
