//! The endpoints controllers: for every Service with a selector, the Endpoints object of the
//! same name and the EndpointSlices (owned by the Service) that list the pods it selects, as a
//! cluster's endpoints and endpointslice controllers keep them. Ready pods are addresses,
//! not-ready pods with an IP are `notReadyAddresses` (slices: `ready: false`), terminating pods
//! leave the Endpoints and stay in slices as `terminating`. Ports come from each Service port's
//! `targetPort`, a number or the name of a container port; a pod without that named port is
//! left out of that port's subset (it lands in a subset, or a slice, with the ports it has).
//!
//! Woken by the store's watches on Services and Pods; a pod change matters only when what an
//! endpoint is made of changed (labels, IP, readiness, deletion, ports, node). Each wake-up
//! reconciles the Services of the namespaces that changed and writes only what differs.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::client::{Client, path};
use crate::controllers::watches::{Wake, Wakeups};
use crate::store::{Event, EventKind};

/// The `managed-by` label value of slices this controller keeps.
pub const SLICE_MANAGER: &str = "endpointslice-controller.k8s.io";
/// The label naming a slice's manager.
pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The label naming a slice's Service.
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
/// The label a headless Service's Endpoints and slices carry.
pub const HEADLESS: &str = "service.kubernetes.io/headless";

/// `true` when the pod's `Ready` condition is `True`.
pub fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn str_at<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `true` when every pair of `selector` is among the pod's labels (an empty selector selects
/// nothing here: Services without a selector have no managed endpoints).
pub fn selects(selector: &Map<String, Value>, pod: &Value) -> bool {
    !selector.is_empty()
        && selector
            .iter()
            .all(|(k, v)| pod.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v))
}

/// The container port a Service port reaches on a pod: a numeric `targetPort` (or, without
/// one, `port`) as is; a named one looked up among the pod's container ports of the same
/// protocol. `None` when the pod has no such named port.
pub fn target_port(service_port: &Value, pod: &Value) -> Option<i64> {
    let protocol = service_port["protocol"].as_str().unwrap_or("TCP");
    match &service_port["targetPort"] {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .find(|p| {
                p["name"].as_str() == Some(name.as_str())
                    && p["protocol"].as_str().unwrap_or("TCP") == protocol
            })
            .and_then(|p| p["containerPort"].as_i64()),
        _ => service_port["port"].as_i64(),
    }
}

/// The endpoint ports of `pod` for the Service's ports (those it can resolve), sorted by name
/// as the endpoints controller repacks them.
fn pod_ports(svc: &Value, pod: &Value) -> Vec<Value> {
    let mut ports: Vec<Value> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|sp| {
            let port = target_port(sp, pod)?;
            let mut p = Map::new();
            if let Some(name) = sp["name"].as_str().filter(|s| !s.is_empty()) {
                p.insert("name".into(), json!(name));
            }
            p.insert("port".into(), json!(port));
            p.insert(
                "protocol".into(),
                json!(sp["protocol"].as_str().unwrap_or("TCP")),
            );
            if let Some(a) = sp["appProtocol"].as_str() {
                p.insert("appProtocol".into(), json!(a));
            }
            Some(Value::Object(p))
        })
        .collect();
    ports.sort_by_key(|p| p.to_string());
    ports
}

fn target_ref(pod: &Value) -> Value {
    json!({
        "kind": "Pod",
        "namespace": pod["metadata"]["namespace"],
        "name": pod["metadata"]["name"],
        "uid": pod["metadata"]["uid"],
    })
}

/// One pod as an endpoint of `svc`, if it is one at all: its IP, readiness, whether it is
/// terminating, and its resolved ports. `None` when it has ports to resolve but resolves none.
struct PodEndpoint<'a> {
    pod: &'a Value,
    ip: &'a str,
    ready: bool,
    terminating: bool,
    ports: Vec<Value>,
}

fn pod_endpoints<'a>(svc: &Value, pods: &'a [Value]) -> Vec<PodEndpoint<'a>> {
    let Some(selector) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
        return Vec::new();
    };
    let headless = svc.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    let has_ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    let publish_not_ready = svc
        .pointer("/spec/publishNotReadyAddresses")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let ns = svc.pointer("/metadata/namespace");
    let mut out: Vec<PodEndpoint> = pods
        .iter()
        .filter(|p| p.pointer("/metadata/namespace") == ns && selects(selector, p))
        .filter(|p| {
            !matches!(
                str_at(p, "/status/phase"),
                Some("Succeeded") | Some("Failed")
            )
        })
        .filter_map(|pod| {
            let ip = str_at(pod, "/status/podIP")?;
            let ports = pod_ports(svc, pod);
            if has_ports && ports.is_empty() || !has_ports && !headless {
                return None;
            }
            Some(PodEndpoint {
                pod,
                ip,
                ready: publish_not_ready || pod_ready(pod),
                terminating: pod.pointer("/metadata/deletionTimestamp").is_some(),
                ports,
            })
        })
        .collect();
    out.sort_by(|a, b| a.ip.cmp(b.ip));
    out
}

/// One subset being built: its ports, ready addresses, not-ready addresses.
type SubsetParts = (Vec<Value>, Vec<Value>, Vec<Value>);

/// The `subsets` of the Service's Endpoints: pods grouped by the ports they resolve, ready
/// ones as `addresses` and the others as `notReadyAddresses`, each sorted by IP.
pub fn subsets(svc: &Value, pods: &[Value]) -> Vec<Value> {
    let publish_not_ready = svc
        .pointer("/spec/publishNotReadyAddresses")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let svc_name = svc.pointer("/metadata/name").and_then(Value::as_str);
    let mut groups: BTreeMap<String, SubsetParts> = BTreeMap::new();
    for e in pod_endpoints(svc, pods) {
        if e.terminating && !publish_not_ready {
            continue;
        }
        let mut address = json!({"ip": e.ip, "targetRef": target_ref(e.pod)});
        if let Some(node) = str_at(e.pod, "/spec/nodeName") {
            address["nodeName"] = json!(node);
        }
        if let Some(host) = str_at(e.pod, "/spec/hostname")
            && str_at(e.pod, "/spec/subdomain") == svc_name
        {
            address["hostname"] = json!(host);
        }
        let key = Value::Array(e.ports.clone()).to_string();
        let group = groups
            .entry(key)
            .or_insert_with(|| (e.ports.clone(), Vec::new(), Vec::new()));
        if e.ready {
            group.1.push(address);
        } else {
            group.2.push(address);
        }
    }
    groups
        .into_values()
        .map(|(ports, ready, not_ready)| {
            let mut s = Map::new();
            if !ready.is_empty() {
                s.insert("addresses".into(), Value::Array(ready));
            }
            if !not_ready.is_empty() {
                s.insert("notReadyAddresses".into(), Value::Array(not_ready));
            }
            if !ports.is_empty() {
                s.insert("ports".into(), Value::Array(ports));
            }
            Value::Object(s)
        })
        .collect()
}

/// The content of one EndpointSlice: its address type, ports and endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct SliceContent {
    /// `IPv4` or `IPv6`.
    pub address_type: &'static str,
    /// The slice's ports.
    pub ports: Vec<Value>,
    /// The slice's endpoints, sorted by address.
    pub endpoints: Vec<Value>,
}

/// The EndpointSlices of the Service: one per address type and set of resolved ports; with no
/// endpoint at all, one empty IPv4 slice (as the controller keeps a placeholder).
pub fn slices(svc: &Value, pods: &[Value]) -> Vec<SliceContent> {
    let mut groups: BTreeMap<(&'static str, String), SliceContent> = BTreeMap::new();
    for e in pod_endpoints(svc, pods) {
        let address_type = if e.ip.contains(':') { "IPv6" } else { "IPv4" };
        let mut endpoint = json!({
            "addresses": [e.ip],
            "conditions": {
                "ready": e.ready && !e.terminating,
                "serving": e.ready,
                "terminating": e.terminating,
            },
            "targetRef": target_ref(e.pod),
        });
        if let Some(node) = str_at(e.pod, "/spec/nodeName") {
            endpoint["nodeName"] = json!(node);
        }
        if let Some(host) = str_at(e.pod, "/spec/hostname") {
            endpoint["hostname"] = json!(host);
        }
        let key = (address_type, Value::Array(e.ports.clone()).to_string());
        groups
            .entry(key)
            .or_insert_with(|| SliceContent {
                address_type,
                ports: e.ports.clone(),
                endpoints: Vec::new(),
            })
            .endpoints
            .push(endpoint);
    }
    if groups.is_empty() {
        return vec![SliceContent {
            address_type: "IPv4",
            ports: Vec::new(),
            endpoints: Vec::new(),
        }];
    }
    groups.into_values().collect()
}

/// The labels of the Service's Endpoints: the Service's own, plus the headless label.
pub fn endpoints_labels(svc: &Value) -> Map<String, Value> {
    let mut labels = svc
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.remove(HEADLESS);
    if svc.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None") {
        labels.insert(HEADLESS.into(), json!(""));
    }
    labels
}

/// The labels of the Service's slices: those of its Endpoints, the Service's name and the
/// manager.
pub fn slice_labels(svc: &Value) -> Map<String, Value> {
    let mut labels = endpoints_labels(svc);
    labels.insert(SERVICE_NAME.into(), svc["metadata"]["name"].clone());
    labels.insert(MANAGED_BY.into(), json!(SLICE_MANAGER));
    labels
}

fn owner_ref(svc: &Value) -> Value {
    json!([{
        "apiVersion": "v1",
        "kind": "Service",
        "name": svc["metadata"]["name"],
        "uid": svc["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

/// An array that may be missing, `null` or empty, as one value.
fn array_or_empty(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Array(a)) if !a.is_empty() => Value::Array(a.clone()),
        _ => json!([]),
    }
}

fn labels_of(obj: &Value) -> Value {
    obj.pointer("/metadata/labels")
        .cloned()
        .filter(|l| !l.is_null())
        .unwrap_or_else(|| json!({}))
}

/// What makes an endpoint pod relevant to the endpoints: if this did not change, a pod event
/// changes no Endpoints.
fn fingerprint(pod: &Value) -> String {
    json!([
        pod.pointer("/metadata/labels"),
        pod.pointer("/metadata/deletionTimestamp").is_some(),
        pod.pointer("/status/podIP"),
        pod.pointer("/status/phase"),
        pod_ready(pod),
        pod.pointer("/spec/nodeName"),
        pod.pointer("/spec/hostname"),
        pod.pointer("/spec/subdomain"),
        pod.pointer("/spec/containers")
            .and_then(Value::as_array)
            .map(|cs| cs.iter().map(|c| c["ports"].clone()).collect::<Vec<_>>()),
    ])
    .to_string()
}

/// The endpoints controller's state: what it last saw of each pod.
struct Controller {
    client: Client,
    seen: HashMap<(String, String), String>,
}

impl Controller {
    /// Namespaces whose Services need a look after these changes, and the selector-managed
    /// Services that were deleted (their Endpoints go with them).
    fn triage(&mut self, events: &[Event]) -> (HashSet<String>, Vec<(String, String)>) {
        let mut namespaces = HashSet::new();
        let mut deleted = Vec::new();
        for e in events {
            let ns = e.key.namespace.clone();
            let name = e.key.name.clone();
            if e.key.resource == "pods" {
                let id = (ns.clone(), name);
                let changed = if e.kind == EventKind::Deleted {
                    self.seen.remove(&id);
                    true
                } else {
                    let print = fingerprint(&e.object);
                    self.seen.insert(id, print.clone()) != Some(print)
                };
                if changed {
                    namespaces.insert(ns);
                }
            } else {
                if e.kind == EventKind::Deleted {
                    if e.object.pointer("/spec/selector").is_some() {
                        deleted.push((ns.clone(), name));
                    }
                    continue;
                }
                namespaces.insert(ns);
            }
        }
        (namespaces, deleted)
    }

    async fn reconcile_namespace(&self, ns: &str) {
        let services = match self
            .client
            .list(&path("v1", "services", Some(ns), None, None), None)
            .await
        {
            Ok(s) => s,
            Err(e) => return tracing::warn!("listing Services of {ns}: {e}"),
        };
        let selected: Vec<&Value> = services
            .iter()
            .filter(|s| {
                s.pointer("/spec/selector")
                    .and_then(Value::as_object)
                    .is_some_and(|m| !m.is_empty())
                    && s.pointer("/metadata/deletionTimestamp").is_none()
            })
            .collect();
        if selected.is_empty() {
            return;
        }
        let pods = match self
            .client
            .list(&path("v1", "pods", Some(ns), None, None), None)
            .await
        {
            Ok(p) => p,
            Err(e) => return tracing::warn!("listing Pods of {ns}: {e}"),
        };
        for svc in selected {
            let svc_name = svc["metadata"]["name"].as_str().unwrap_or_default();
            // Each write reads what it replaces; a conflict (someone wrote in between) is
            // tried once more on a fresh read.
            for (what, endpoints) in [("Endpoints", true), ("EndpointSlices", false)] {
                for attempt in 0..2 {
                    let written = if endpoints {
                        self.write_endpoints(svc, &pods).await
                    } else {
                        self.write_slices(svc, &pods).await
                    };
                    match written {
                        Err(e) if e.code == 409 && attempt == 0 => continue,
                        Err(e) => tracing::warn!("writing the {what} of {ns}/{svc_name}: {e}"),
                        Ok(()) => {}
                    }
                    break;
                }
            }
        }
    }

    async fn write_endpoints(
        &self,
        svc: &Value,
        pods: &[Value],
    ) -> Result<(), crate::api::status::Status> {
        let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = svc["metadata"]["name"].as_str().unwrap_or_default();
        let subsets = Value::Array(subsets(svc, pods));
        let labels = Value::Object(endpoints_labels(svc));
        let p = path("v1", "endpoints", Some(ns), Some(name), None);
        match self.client.get(&p).await? {
            Some(mut current) => {
                if array_or_empty(current.get("subsets")) == subsets
                    && labels_of(&current) == labels
                {
                    return Ok(());
                }
                current["subsets"] = subsets;
                current["metadata"]["labels"] = labels;
                self.client.replace(&p, &current).await?;
            }
            None => {
                let obj = json!({
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "subsets": subsets,
                });
                self.client
                    .create(&path("v1", "endpoints", Some(ns), None, None), &obj)
                    .await?;
            }
        }
        Ok(())
    }

    async fn write_slices(
        &self,
        svc: &Value,
        pods: &[Value],
    ) -> Result<(), crate::api::status::Status> {
        let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = svc["metadata"]["name"].as_str().unwrap_or_default();
        let collection = path(
            "discovery.k8s.io/v1",
            "endpointslices",
            Some(ns),
            None,
            None,
        );
        let mut existing = self
            .client
            .list(
                &collection,
                Some(&format!(
                    "{SERVICE_NAME}={name},{MANAGED_BY}={SLICE_MANAGER}"
                )),
            )
            .await?;
        let labels = Value::Object(slice_labels(svc));
        let owners = owner_ref(svc);
        let mut desired = slices(svc, pods);
        // Slices that already hold exactly a desired content stay; of the rest, existing
        // slices of the same address type are rewritten before any is created or deleted.
        let content_of = |s: &Value| {
            (
                s["addressType"].as_str().unwrap_or("").to_string(),
                array_or_empty(s.get("ports")),
            )
        };
        let mut unmatched: Vec<Value> = Vec::new();
        for slice in existing.drain(..) {
            let key = content_of(&slice);
            if let Some(i) = desired
                .iter()
                .position(|d| (d.address_type.to_string(), Value::Array(d.ports.clone())) == key)
            {
                let d = desired.remove(i);
                self.put_slice(&collection, Some(slice), &d, &labels, &owners, name)
                    .await?;
            } else {
                unmatched.push(slice);
            }
        }
        for d in desired {
            let reuse = unmatched
                .iter()
                .position(|s| s["addressType"].as_str() == Some(d.address_type))
                .map(|i| unmatched.remove(i));
            self.put_slice(&collection, reuse, &d, &labels, &owners, name)
                .await?;
        }
        for slice in unmatched {
            let n = slice["metadata"]["name"].as_str().unwrap_or_default();
            self.client
                .delete(&format!("{collection}/{n}"), &json!({}))
                .await?;
        }
        Ok(())
    }

    /// Creates a slice with this content, or rewrites `current` when it differs.
    async fn put_slice(
        &self,
        collection: &str,
        current: Option<Value>,
        content: &SliceContent,
        labels: &Value,
        owners: &Value,
        service: &str,
    ) -> Result<(), crate::api::status::Status> {
        let endpoints = Value::Array(content.endpoints.clone());
        let ports = Value::Array(content.ports.clone());
        match current {
            Some(mut s) => {
                if array_or_empty(s.get("endpoints")) == endpoints
                    && array_or_empty(s.get("ports")) == ports
                    && s["addressType"] == content.address_type
                    && labels_of(&s) == *labels
                    && s.pointer("/metadata/ownerReferences") == Some(owners)
                {
                    return Ok(());
                }
                s["addressType"] = json!(content.address_type);
                s["endpoints"] = endpoints;
                s["ports"] = ports;
                s["metadata"]["labels"] = labels.clone();
                s["metadata"]["ownerReferences"] = owners.clone();
                let n = s["metadata"]["name"].as_str().unwrap_or_default();
                self.client
                    .replace(&format!("{collection}/{n}"), &s)
                    .await?;
            }
            None => {
                let obj = json!({
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "generateName": format!("{service}-"),
                        "labels": labels,
                        "ownerReferences": owners,
                    },
                    "addressType": content.address_type,
                    "endpoints": endpoints,
                    "ports": ports,
                });
                self.client.create(collection, &obj).await?;
            }
        }
        Ok(())
    }

    /// Removes the Endpoints of a deleted Service (its slices go with their owner).
    async fn forget(&self, ns: &str, name: &str) {
        let p = path("v1", "endpoints", Some(ns), Some(name), None);
        if let Err(e) = self.client.delete(&p, &json!({})).await {
            tracing::warn!("deleting the Endpoints of {ns}/{name}: {e}");
        }
    }

    async fn reconcile_all(&mut self) {
        let namespaces = match self
            .client
            .list(&path("v1", "namespaces", None, None, None), None)
            .await
        {
            Ok(n) => n,
            Err(e) => return tracing::warn!("listing namespaces: {e}"),
        };
        for n in &namespaces {
            if let Some(ns) = n["metadata"]["name"].as_str() {
                self.reconcile_namespace(ns).await;
            }
        }
    }
}

/// Starts the controller: reconciles every Service once, then follows changes.
pub fn start(client: Client) {
    tokio::spawn(async move {
        let store = client.ctx().store.clone();
        let mut wakeups = match Wakeups::open(store, &[("", "services"), ("", "pods")]) {
            Ok(w) => w,
            Err(e) => return tracing::warn!("the endpoints controller cannot watch: {e}"),
        };
        let mut controller = Controller {
            client,
            seen: HashMap::new(),
        };
        controller.reconcile_all().await;
        while let Some(wake) = wakeups.next().await {
            match wake {
                Wake::Resync => controller.reconcile_all().await,
                Wake::Changes(events) => {
                    let (namespaces, deleted) = controller.triage(&events);
                    for (ns, name) in deleted {
                        controller.forget(&ns, &name).await;
                    }
                    for ns in namespaces {
                        controller.reconcile_namespace(&ns).await;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ip: Option<&str>, ready: bool, ports: Value) -> Value {
        let mut p = json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
            "spec": {"nodeName": "node", "containers": [{"name": "c", "ports": ports}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
        });
        if let Some(ip) = ip {
            p["status"]["podIP"] = json!(ip);
        }
        p
    }

    fn service(ports: Value) -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "svc-uid", "labels": {"team": "a"}},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.20", "ports": ports},
        })
    }

    #[test]
    fn ready_and_not_ready_pods_split_and_ipless_pods_left_out() {
        let svc = service(json!([{"name": "http", "port": 80, "targetPort": 8080}]));
        let pods = vec![
            pod("b", Some("172.17.0.3"), true, json!([])),
            pod("a", Some("172.17.0.2"), true, json!([])),
            pod("c", Some("172.17.0.4"), false, json!([])),
            pod("d", None, true, json!([])),
        ];
        let s = subsets(&svc, &pods);
        assert_eq!(s.len(), 1);
        let ips: Vec<&str> = s[0]["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["ip"].as_str().unwrap())
            .collect();
        assert_eq!(ips, ["172.17.0.2", "172.17.0.3"]);
        assert_eq!(s[0]["notReadyAddresses"][0]["ip"], "172.17.0.4");
        assert_eq!(
            s[0]["ports"],
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
        );
        assert_eq!(s[0]["addresses"][0]["targetRef"]["kind"], "Pod");
        assert_eq!(s[0]["addresses"][0]["targetRef"]["uid"], "uid-a");
        assert_eq!(s[0]["addresses"][0]["nodeName"], "node");
        let sl = slices(&svc, &pods);
        assert_eq!(sl.len(), 1);
        assert_eq!(sl[0].endpoints.len(), 3);
        assert_eq!(sl[0].endpoints[2]["conditions"]["ready"], false);
    }

    #[test]
    fn named_ports_resolve_per_pod_and_missing_names_split_subsets() {
        let svc = service(json!([
            {"name": "http", "port": 80, "targetPort": "web"},
            {"name": "metrics", "port": 9090, "targetPort": "metrics"},
        ]));
        let pods = vec![
            pod(
                "a",
                Some("10.0.0.1"),
                true,
                json!([{"name": "web", "containerPort": 8080}, {"name": "metrics", "containerPort": 9100}]),
            ),
            pod(
                "b",
                Some("10.0.0.2"),
                true,
                json!([{"name": "web", "containerPort": 8081}]),
            ),
            pod("c", Some("10.0.0.3"), true, json!([])),
        ];
        let s = subsets(&svc, &pods);
        assert_eq!(s.len(), 2, "{s:#?}");
        let with_both = s
            .iter()
            .find(|x| x["ports"].as_array().unwrap().len() == 2)
            .unwrap();
        assert_eq!(with_both["addresses"][0]["ip"], "10.0.0.1");
        let only_http = s
            .iter()
            .find(|x| x["ports"].as_array().unwrap().len() == 1)
            .unwrap();
        assert_eq!(only_http["addresses"][0]["ip"], "10.0.0.2");
        assert_eq!(only_http["ports"][0]["port"], 8081);
        assert_eq!(slices(&svc, &pods).len(), 2);
    }

    #[test]
    fn terminating_pods_leave_endpoints_but_stay_in_slices() {
        let svc = service(json!([{"port": 80}]));
        let mut p = pod("a", Some("10.0.0.1"), true, json!([]));
        p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(subsets(&svc, std::slice::from_ref(&p)).is_empty());
        let sl = slices(&svc, &[p]);
        assert_eq!(
            sl[0].endpoints[0]["conditions"],
            json!({"ready": false, "serving": true, "terminating": true})
        );
        assert_eq!(sl[0].ports, vec![json!({"port": 80, "protocol": "TCP"})]);
    }

    #[test]
    fn no_pods_give_no_subsets_and_one_empty_slice() {
        let svc = service(json!([{"port": 80}]));
        assert!(subsets(&svc, &[]).is_empty());
        let sl = slices(&svc, &[]);
        assert_eq!(sl.len(), 1);
        assert!(sl[0].ports.is_empty() && sl[0].endpoints.is_empty());
        let other = json!({"metadata": {"namespace": "other", "labels": {"app": "web"}}, "status": {"podIP": "1.2.3.4"}});
        assert!(subsets(&svc, &[other]).is_empty());
    }

    #[test]
    fn headless_services_list_pods_without_ports_and_are_labelled() {
        let mut svc = service(json!([]));
        svc["spec"]["clusterIP"] = json!("None");
        let pods = vec![pod("a", Some("10.0.0.1"), true, json!([]))];
        let s = subsets(&svc, &pods);
        assert_eq!(s[0]["addresses"][0]["ip"], "10.0.0.1");
        assert!(s[0].get("ports").is_none());
        assert_eq!(endpoints_labels(&svc)[HEADLESS], "");
        let l = slice_labels(&svc);
        assert_eq!(l[SERVICE_NAME], "web");
        assert_eq!(l[MANAGED_BY], SLICE_MANAGER);
        assert_eq!(l["team"], "a");
    }

    #[test]
    fn publish_not_ready_addresses_makes_every_pod_ready() {
        let mut svc = service(json!([{"port": 80}]));
        svc["spec"]["publishNotReadyAddresses"] = json!(true);
        let s = subsets(&svc, &[pod("a", Some("10.0.0.1"), false, json!([]))]);
        assert_eq!(s[0]["addresses"][0]["ip"], "10.0.0.1");
    }

    #[test]
    fn target_port_defaults_to_port_and_matches_protocol() {
        let p = pod(
            "a",
            Some("1.1.1.1"),
            true,
            json!([{"name": "dns", "containerPort": 53, "protocol": "UDP"}]),
        );
        assert_eq!(target_port(&json!({"port": 80}), &p), Some(80));
        assert_eq!(
            target_port(
                &json!({"port": 53, "targetPort": "dns", "protocol": "UDP"}),
                &p
            ),
            Some(53)
        );
        assert_eq!(
            target_port(&json!({"port": 53, "targetPort": "dns"}), &p),
            None
        );
    }

    #[test]
    fn only_relevant_pod_changes_change_the_fingerprint() {
        let a = pod("a", Some("1.1.1.1"), true, json!([]));
        let mut b = a.clone();
        b["metadata"]["annotations"] = json!({"x": "y"});
        b["status"]["containerStatuses"] = json!([{"restartCount": 1}]);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b["status"]["conditions"][0]["status"] = json!("False");
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
