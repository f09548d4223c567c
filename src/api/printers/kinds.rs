//! The cells a real API server computes instead of reading one field: the logic of Kubernetes'
//! built-in printers for the kinds people look at most. Anything not here prints its column's
//! JSONPath.

use serde_json::{Value, json};

use super::age;
use super::text;
use crate::api::model::ResourceInfo;

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
}

fn n(v: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn arr<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn none_if_empty(s: String) -> Value {
    if s.is_empty() {
        json!("<none>")
    } else {
        json!(s)
    }
}

fn count(v: &Value, path: &[&str]) -> Value {
    let c = path
        .iter()
        .try_fold(v, |v, k| v.get(k))
        .map_or(0, |x| match x {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        });
    json!(c)
}

/// `app=web,tier=front` for a `metav1.LabelSelector` (matchLabels, then expressions).
fn selector(sel: Option<&Value>) -> Value {
    let Some(sel) = sel else {
        return json!("<none>");
    };
    let mut parts: Vec<String> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", text(v))).collect())
        .unwrap_or_default();
    for e in arr(sel, &["matchExpressions"]) {
        let key = s(e, &["key"]).unwrap_or_default();
        let values = arr(e, &["values"])
            .iter()
            .map(text)
            .collect::<Vec<_>>()
            .join(",");
        parts.push(match s(e, &["operator"]).unwrap_or_default() {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other} ({values})"),
        });
    }
    none_if_empty(parts.join(","))
}

fn containers(obj: &Value, template: &[&str], field: &str) -> Value {
    let mut path = template.to_vec();
    path.push("containers");
    none_if_empty(
        arr(obj, &path)
            .iter()
            .filter_map(|c| s(c, &[field]))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// A pod's STATUS: the reason of the first container that is not running, else the phase; and
/// `Terminating` while it is being deleted.
fn pod_status(pod: &Value) -> String {
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return "Terminating".into();
    }
    let mut reason = s(pod, &["status", "reason"])
        .or(s(pod, &["status", "phase"]))
        .unwrap_or("Pending")
        .to_string();
    for (i, c) in arr(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let total = arr(pod, &["spec", "initContainers"]).len();
        if let Some(t) = c.pointer("/state/terminated") {
            if n(t, &["exitCode"]) == 0 {
                continue;
            }
            return format!("Init:{}", s(t, &["reason"]).unwrap_or("Error"));
        }
        if let Some(w) = c
            .pointer("/state/waiting")
            .and_then(|w| w.get("reason"))
            .and_then(Value::as_str)
            && w != "PodInitializing"
        {
            return format!("Init:{w}");
        }
        return format!("Init:{i}/{total}");
    }
    for c in arr(pod, &["status", "containerStatuses"]).iter().rev() {
        if let Some(w) = c.pointer("/state/waiting/reason").and_then(Value::as_str) {
            reason = w.to_string();
        } else if let Some(t) = c.pointer("/state/terminated") {
            reason = s(t, &["reason"]).map(str::to_string).unwrap_or_else(|| {
                match t.get("signal").and_then(Value::as_i64) {
                    Some(sig) if sig != 0 => format!("Signal:{sig}"),
                    _ => format!("ExitCode:{}", n(t, &["exitCode"])),
                }
            });
        }
    }
    reason
}

fn pod_cell(column: &str, pod: &Value) -> Option<Value> {
    let statuses = arr(pod, &["status", "containerStatuses"]);
    Some(match column {
        "Ready" => {
            let ready = statuses
                .iter()
                .filter(|c| c.get("ready") == Some(&json!(true)))
                .count();
            json!(format!(
                "{ready}/{}",
                arr(pod, &["spec", "containers"]).len()
            ))
        }
        "Status" => json!(pod_status(pod)),
        "Restarts" => json!(
            statuses
                .iter()
                .map(|c| n(c, &["restartCount"]))
                .sum::<i64>()
                .to_string()
        ),
        "IP" => none_if_empty(s(pod, &["status", "podIP"]).unwrap_or_default().to_string()),
        "Node" => none_if_empty(
            s(pod, &["spec", "nodeName"])
                .unwrap_or_default()
                .to_string(),
        ),
        "Nominated Node" => none_if_empty(
            s(pod, &["status", "nominatedNodeName"])
                .unwrap_or_default()
                .to_string(),
        ),
        "Readiness Gates" => {
            let gates = arr(pod, &["spec", "readinessGates"]);
            if gates.is_empty() {
                json!("<none>")
            } else {
                let met = gates
                    .iter()
                    .filter(|g| {
                        arr(pod, &["status", "conditions"]).iter().any(|c| {
                            c.get("type") == g.get("conditionType")
                                && s(c, &["status"]) == Some("True")
                        })
                    })
                    .count();
                json!(format!("{met}/{}", gates.len()))
            }
        }
        _ => return None,
    })
}

fn workload_cell(resource: &str, column: &str, obj: &Value) -> Option<Value> {
    let template = ["spec", "template", "spec"];
    Some(match (resource, column) {
        ("deployments" | "statefulsets", "Ready") => {
            json!(format!(
                "{}/{}",
                n(obj, &["status", "readyReplicas"]),
                obj.pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
            ))
        }
        ("deployments", "Up-to-date") => json!(n(obj, &["status", "updatedReplicas"])),
        ("deployments", "Available") => json!(n(obj, &["status", "availableReplicas"])),
        ("replicasets", "Desired") => json!(
            obj.pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1)
        ),
        ("replicasets", "Current") => json!(n(obj, &["status", "replicas"])),
        ("replicasets", "Ready") => json!(n(obj, &["status", "readyReplicas"])),
        ("daemonsets", "Desired") => json!(n(obj, &["status", "desiredNumberScheduled"])),
        ("daemonsets", "Current") => json!(n(obj, &["status", "currentNumberScheduled"])),
        ("daemonsets", "Ready") => json!(n(obj, &["status", "numberReady"])),
        ("daemonsets", "Up-to-date") => json!(n(obj, &["status", "updatedNumberScheduled"])),
        ("daemonsets", "Available") => json!(n(obj, &["status", "numberAvailable"])),
        ("daemonsets", "Node Selector") => selector(
            obj.pointer("/spec/template/spec/nodeSelector")
                .map(|m| json!({"matchLabels": m}))
                .as_ref(),
        ),
        (_, "Containers") => containers(obj, &template, "name"),
        (_, "Images") => containers(obj, &template, "image"),
        (_, "Selector") => selector(obj.pointer("/spec/selector")),
        _ => return None,
    })
}

fn service_cell(column: &str, svc: &Value) -> Option<Value> {
    let ty = s(svc, &["spec", "type"]).unwrap_or("ClusterIP");
    Some(match column {
        "Type" => json!(ty),
        "Cluster-IP" => none_if_empty(
            s(svc, &["spec", "clusterIP"])
                .unwrap_or_default()
                .to_string(),
        ),
        "External-IP" => {
            let mut ips: Vec<String> = arr(svc, &["spec", "externalIPs"])
                .iter()
                .map(text)
                .collect();
            for i in arr(svc, &["status", "loadBalancer", "ingress"]) {
                ips.extend(s(i, &["ip"]).or(s(i, &["hostname"])).map(str::to_string));
            }
            match (ty, ips.is_empty()) {
                ("ExternalName", _) => json!(s(svc, &["spec", "externalName"]).unwrap_or("<none>")),
                ("LoadBalancer", true) => json!("<pending>"),
                (_, true) => json!("<none>"),
                (_, false) => json!(ips.join(",")),
            }
        }
        "Port(s)" => {
            let ports: Vec<String> = arr(svc, &["spec", "ports"])
                .iter()
                .map(|p| {
                    let proto = s(p, &["protocol"]).unwrap_or("TCP");
                    match p.get("nodePort").and_then(Value::as_i64) {
                        Some(np) if np != 0 => format!("{}:{np}/{proto}", n(p, &["port"])),
                        _ => format!("{}/{proto}", n(p, &["port"])),
                    }
                })
                .collect();
            none_if_empty(ports.join(","))
        }
        "Selector" => {
            let sel = svc.pointer("/spec/selector").and_then(Value::as_object);
            none_if_empty(
                sel.map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", text(v)))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default(),
            )
        }
        _ => return None,
    })
}

fn node_cell(column: &str, node: &Value) -> Option<Value> {
    Some(match column {
        "Status" => {
            let ready = arr(node, &["status", "conditions"])
                .iter()
                .find(|c| s(c, &["type"]) == Some("Ready"));
            let mut st = match ready.and_then(|c| s(c, &["status"])) {
                Some("True") => "Ready".to_string(),
                Some(_) => "NotReady".to_string(),
                None => "Unknown".to_string(),
            };
            if node.pointer("/spec/unschedulable") == Some(&json!(true)) {
                st.push_str(",SchedulingDisabled");
            }
            json!(st)
        }
        "Roles" => {
            let labels = node.pointer("/metadata/labels").and_then(Value::as_object);
            let roles: Vec<&str> = labels
                .into_iter()
                .flat_map(|m| m.keys())
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .collect();
            none_if_empty(roles.join(","))
        }
        _ => return None,
    })
}

fn job_cell(column: &str, job: &Value) -> Option<Value> {
    let has = |ty: &str| {
        arr(job, &["status", "conditions"])
            .iter()
            .any(|c| s(c, &["type"]) == Some(ty) && s(c, &["status"]) == Some("True"))
    };
    Some(match column {
        "Status" => json!(if has("Complete") {
            "Complete"
        } else if has("Failed") {
            "Failed"
        } else if has("Suspended") {
            "Suspended"
        } else if has("FailureTarget") {
            "FailureTarget"
        } else if has("SuccessCriteriaMet") {
            "SuccessCriteriaMet"
        } else {
            "Running"
        }),
        "Completions" => {
            let done = n(job, &["status", "succeeded"]);
            match job.pointer("/spec/completions").and_then(Value::as_i64) {
                Some(c) => json!(format!("{done}/{c}")),
                None => json!(format!(
                    "{done}/1 of {}",
                    job.pointer("/spec/parallelism")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )),
            }
        }
        "Duration" => match s(job, &["status", "startTime"]) {
            None => json!(""),
            Some(start) => {
                let parse = |t: &str| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                };
                let end = s(job, &["status", "completionTime"])
                    .and_then(parse)
                    .unwrap_or_else(time::OffsetDateTime::now_utc);
                json!(
                    parse(start)
                        .map(|st| age::human((end - st).whole_seconds()))
                        .unwrap_or_default()
                )
            }
        },
        _ => return None,
    })
}

fn event_cell(column: &str, ev: &Value) -> Option<Value> {
    let last = s(ev, &["lastTimestamp"])
        .or(s(ev, &["eventTime"]))
        .or(s(ev, &["metadata", "creationTimestamp"]));
    Some(match column {
        "Last Seen" => json!(last.map(age::since).unwrap_or_else(|| "<unknown>".into())),
        "First Seen" => json!(
            s(ev, &["firstTimestamp"])
                .or(last)
                .map(age::since)
                .unwrap_or_else(|| "<unknown>".into())
        ),
        "Object" => json!(format!(
            "{}/{}",
            s(ev, &["involvedObject", "kind"])
                .unwrap_or_default()
                .to_lowercase(),
            s(ev, &["involvedObject", "name"]).unwrap_or_default()
        )),
        "Count" => json!(n(ev, &["count"]).max(1).to_string()),
        _ => return None,
    })
}

fn binding_cell(column: &str, b: &Value) -> Option<Value> {
    let subjects = |kind: &str| -> Value {
        let names: Vec<String> = arr(b, &["subjects"])
            .iter()
            .filter(|x| s(x, &["kind"]) == Some(kind))
            .map(|x| match (kind, s(x, &["namespace"])) {
                ("ServiceAccount", Some(ns)) => {
                    format!("{ns}/{}", s(x, &["name"]).unwrap_or_default())
                }
                _ => s(x, &["name"]).unwrap_or_default().to_string(),
            })
            .collect();
        if names.is_empty() {
            Value::Null
        } else {
            json!(names.join(", "))
        }
    };
    Some(match column {
        "Role" => json!(format!(
            "{}/{}",
            s(b, &["roleRef", "kind"]).unwrap_or_default(),
            s(b, &["roleRef", "name"]).unwrap_or_default()
        )),
        "Users" => subjects("User"),
        "Groups" => subjects("Group"),
        "ServiceAccounts" => subjects("ServiceAccount"),
        _ => return None,
    })
}

fn ingress_cell(column: &str, ing: &Value) -> Option<Value> {
    Some(match column {
        "Class" => none_if_empty(
            s(ing, &["spec", "ingressClassName"])
                .unwrap_or_default()
                .to_string(),
        ),
        "Hosts" => {
            let hosts: Vec<&str> = arr(ing, &["spec", "rules"])
                .iter()
                .map(|r| s(r, &["host"]).unwrap_or("*"))
                .collect();
            json!(if hosts.is_empty() {
                "*".to_string()
            } else {
                hosts.join(",")
            })
        }
        "Address" => {
            let addrs: Vec<&str> = arr(ing, &["status", "loadBalancer", "ingress"])
                .iter()
                .filter_map(|i| s(i, &["ip"]).or(s(i, &["hostname"])))
                .collect();
            json!(addrs.join(","))
        }
        "Ports" => json!(if arr(ing, &["spec", "tls"]).is_empty() {
            "80"
        } else {
            "80, 443"
        }),
        _ => return None,
    })
}

fn pdb_cell(column: &str, pdb: &Value) -> Option<Value> {
    let or_na = |field: &str| match pdb.pointer(&format!("/spec/{field}")) {
        Some(v) if !v.is_null() => json!(text(v)),
        _ => json!("N/A"),
    };
    Some(match column {
        "Min Available" => or_na("minAvailable"),
        "Max Unavailable" => or_na("maxUnavailable"),
        "Allowed Disruptions" => json!(n(pdb, &["status", "disruptionsAllowed"])),
        _ => return None,
    })
}

/// `a, b, c + N more...`: the first three of a list, as the endpoint printers shorten it.
fn first_three(items: Vec<String>, empty: &str) -> Value {
    match items.len() {
        0 => json!(empty),
        1..=3 => json!(items.join(",")),
        n => json!(format!("{} + {} more...", items[..3].join(","), n - 3)),
    }
}

/// `ip:port` for every ready address and port of an Endpoints object.
fn endpoints_cell(column: &str, ep: &Value) -> Option<Value> {
    if column != "Endpoints" {
        return None;
    }
    let mut items = Vec::new();
    for subset in arr(ep, &["subsets"]) {
        let ports = arr(subset, &["ports"]);
        for a in arr(subset, &["addresses"]) {
            let ip = s(a, &["ip"]).unwrap_or_default();
            if ports.is_empty() {
                items.push(ip.to_string());
            }
            for p in ports {
                items.push(format!("{ip}:{}", n(p, &["port"])));
            }
        }
    }
    Some(first_three(items, "<none>"))
}

fn endpointslice_cell(column: &str, slice: &Value) -> Option<Value> {
    Some(match column {
        "Ports" => {
            let ports: Vec<String> = arr(slice, &["ports"])
                .iter()
                .map(|p| n(p, &["port"]).to_string())
                .collect();
            match ports.len() {
                0 => json!("<unset>"),
                _ => json!(ports.join(",")),
            }
        }
        "Endpoints" => first_three(
            arr(slice, &["endpoints"])
                .iter()
                .flat_map(|e| arr(e, &["addresses"]).iter().map(text))
                .collect(),
            "<unset>",
        ),
        _ => return None,
    })
}

/// `RWO,ROX,RWX,RWOP`, as kubectl abbreviates access modes.
fn access_modes(modes: &[Value]) -> Value {
    let short: Vec<&str> = modes
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect();
    json!(short.join(","))
}

fn volume_cell(resource: &str, column: &str, obj: &Value) -> Option<Value> {
    Some(match (resource, column) {
        ("persistentvolumeclaims", "Access Modes") => {
            access_modes(arr(obj, &["status", "accessModes"]))
        }
        ("persistentvolumes", "Access Modes") => access_modes(arr(obj, &["spec", "accessModes"])),
        (_, "Status") if obj.pointer("/metadata/deletionTimestamp").is_some() => {
            json!("Terminating")
        }
        (_, "VolumeAttributesClass") => {
            json!(s(obj, &["spec", "volumeAttributesClassName"]).unwrap_or("<unset>"))
        }
        ("persistentvolumes", "Claim") => match obj.pointer("/spec/claimRef") {
            Some(c) => json!(format!(
                "{}/{}",
                s(c, &["namespace"]).unwrap_or_default(),
                s(c, &["name"]).unwrap_or_default()
            )),
            None => json!(""),
        },
        ("persistentvolumeclaims", "VolumeMode") | ("persistentvolumes", "VolumeMode") => {
            json!(s(obj, &["spec", "volumeMode"]).unwrap_or("Filesystem"))
        }
        _ => return None,
    })
}

/// A StorageClass's name, with ` (default)` for the default class.
fn storageclass_cell(column: &str, sc: &Value) -> Option<Value> {
    if column != "Name" {
        return None;
    }
    let name = s(sc, &["metadata", "name"]).unwrap_or_default();
    let annotations = sc.pointer("/metadata/annotations");
    let default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|a| annotations.and_then(|m| m.get(*a)).and_then(Value::as_str) == Some("true"));
    Some(json!(if default {
        format!("{name} (default)")
    } else {
        name.to_string()
    }))
}

/// The computed cell of `column` for `obj`, or `None` when the column's JSONPath says it all.
pub fn cell(resource: &ResourceInfo, column: &str, obj: &Value) -> Option<Value> {
    match (resource.group, resource.name) {
        ("", "pods") => pod_cell(column, obj),
        ("apps", r) => workload_cell(r, column, obj),
        ("batch", "jobs") => job_cell(column, obj).or_else(|| workload_cell("jobs", column, obj)),
        ("batch", "cronjobs") => match column {
            "Suspend" => Some(json!(
                obj.pointer("/spec/suspend")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            )),
            "Active" => Some(count(obj, &["status", "active"])),
            "Timezone" => Some(none_if_empty(
                s(obj, &["spec", "timeZone"])
                    .unwrap_or_default()
                    .to_string(),
            )),
            "Last Schedule" => Some(json!(
                s(obj, &["status", "lastScheduleTime"])
                    .map(age::since)
                    .unwrap_or_else(|| "<none>".into())
            )),
            "Containers" => Some(containers(
                obj,
                &["spec", "jobTemplate", "spec", "template", "spec"],
                "name",
            )),
            "Images" => Some(containers(
                obj,
                &["spec", "jobTemplate", "spec", "template", "spec"],
                "image",
            )),
            "Selector" => Some(selector(obj.pointer("/spec/jobTemplate/spec/selector"))),
            _ => None,
        },
        ("", "services") => service_cell(column, obj),
        ("", "endpoints") => endpoints_cell(column, obj),
        ("discovery.k8s.io", "endpointslices") => endpointslice_cell(column, obj),
        ("", r @ ("persistentvolumeclaims" | "persistentvolumes")) => volume_cell(r, column, obj),
        ("storage.k8s.io", "storageclasses") => storageclass_cell(column, obj),
        ("", "nodes") => node_cell(column, obj),
        ("", "configmaps") if column == "Data" => {
            let data = count(obj, &["data"]).as_u64().unwrap_or(0)
                + count(obj, &["binaryData"]).as_u64().unwrap_or(0);
            Some(json!(data))
        }
        ("", "secrets") if column == "Data" => Some(count(obj, &["data"])),
        ("", "serviceaccounts") if column == "Secrets" => Some(count(obj, &["secrets"])),
        ("", "events") => event_cell(column, obj),
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            binding_cell(column, obj)
        }
        ("networking.k8s.io", "ingresses") => ingress_cell(column, obj),
        ("policy", "poddisruptionbudgets") => pdb_cell(column, obj),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::cells;
    use serde_json::json;

    fn resource(group: &str, name: &str) -> &'static crate::api::model::ResourceInfo {
        crate::generated::resource(group, name).unwrap()
    }

    #[test]
    fn pods_print_like_kubectl_get_pods_wide() {
        let pod = json!({
            "metadata": {"name": "web-1", "creationTimestamp": "2020-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "docker-node"},
            "status": {"phase": "Running", "podIP": "10.244.0.12", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        });
        let c = cells(resource("", "pods"), &pod);
        assert_eq!(
            c[..4],
            [
                json!("web-1"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("3")
            ]
        );
        assert!(c[4].as_str().unwrap().ends_with('y') || c[4].as_str().unwrap().contains('y'));
        assert_eq!(
            c[5..],
            [
                json!("10.244.0.12"),
                json!("docker-node"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let mut deleting = pod.clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2020-01-01T00:00:00Z");
        assert_eq!(cells(resource("", "pods"), &deleting)[2], "Terminating");
    }

    #[test]
    fn services_and_deployments() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.96.12.86",
            "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}, {"port": 53, "protocol": "UDP"}], "selector": {"app": "web"}}});
        let c = cells(resource("", "services"), &svc);
        assert_eq!(
            c[1..5],
            [
                json!("NodePort"),
                json!("10.96.12.86"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP")
            ]
        );
        assert_eq!(c[6], "app=web");
        let dep = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}});
        let c = cells(resource("apps", "deployments"), &dep);
        assert_eq!(c[1..4], [json!("2/2"), json!(2), json!(2)]);
        assert_eq!(
            c[5..],
            [json!("nginx"), json!("nginx:1.27"), json!("app=web")]
        );
    }

    #[test]
    fn config_data_counts() {
        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(cells(resource("", "configmaps"), &cm)[1], 3);
        let sec = json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "MQ=="}});
        assert_eq!(
            cells(resource("", "secrets"), &sec)[1..3],
            [json!("Opaque"), json!(1)]
        );
    }
}
