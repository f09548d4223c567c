//! Whether a DaemonSet's pod belongs on a node, as the DaemonSet controller decides it: the
//! template's `nodeSelector` matches the node's labels, its required node affinity (label
//! expressions, and `metadata.name` fields) admits the node, and its tolerations, plus those a
//! DaemonSet adds to every pod, tolerate each of the node's NoSchedule and NoExecute taints.
//! The added tolerations include `node.kubernetes.io/unschedulable`, so a cordoned node keeps
//! and still gets DaemonSet pods, as in Kubernetes.

use serde_json::{Value, json};

use crate::api::meta;

/// The tolerations the DaemonSet controller adds to its pods: (key, effect). `hostNetwork`
/// pods also tolerate `network-unavailable`.
const ADDED: &[(&str, &str)] = &[
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
];

/// `tolerations` with the DaemonSet's own added (those already present are not repeated).
pub fn with_added_tolerations(spec: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let extra = host_network.then_some(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    for (key, effect) in ADDED.iter().copied().chain(extra) {
        let t = json!({"key": key, "operator": "Exists", "effect": effect});
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Whether `toleration` tolerates `taint`.
fn tolerates(toleration: &Value, taint: &Value) -> bool {
    let s = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_string();
    let effect = s(toleration, "effect");
    if !effect.is_empty() && effect != s(taint, "effect") {
        return false;
    }
    let key = s(toleration, "key");
    match s(toleration, "operator").as_str() {
        "Exists" => key.is_empty() || key == s(taint, "key"),
        // Equal, the default.
        _ => key == s(taint, "key") && s(toleration, "value") == s(taint, "value"),
    }
}

fn label<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// Whether one node selector requirement (`key`, `operator`, `values`) holds for `value`.
fn requirement_holds(req: &Value, value: Option<&str>) -> bool {
    let values: Vec<&str> = req
        .get("values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let number = |s: &str| s.parse::<i64>().ok();
    match req.get("operator").and_then(Value::as_str).unwrap_or("") {
        "In" => value.is_some_and(|v| values.contains(&v)),
        "NotIn" => value.is_none_or(|v| !values.contains(&v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a > b)
        }
        "Lt" => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a < b)
        }
        _ => false,
    }
}

/// Whether a nodeSelectorTerm admits the node (all its expressions and fields hold).
fn term_admits(term: &Value, node: &Value) -> bool {
    let list = |f: &str| {
        term.get(f)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let exprs = list("matchExpressions");
    let fields = list("matchFields");
    if exprs.is_empty() && fields.is_empty() {
        // An empty term matches no objects.
        return false;
    }
    exprs.iter().all(|r| {
        let key = r.get("key").and_then(Value::as_str).unwrap_or("");
        requirement_holds(r, label(node, key))
    }) && fields.iter().all(|r| {
        let value = match r.get("key").and_then(Value::as_str) {
            Some("metadata.name") => meta::meta_str(node, "name"),
            _ => None,
        };
        requirement_holds(r, value)
    })
}

/// Whether the pod of `template` (a PodTemplateSpec) belongs on `node`.
pub fn should_run(template: &Value, node: &Value) -> bool {
    let spec = template.get("spec").cloned().unwrap_or(json!({}));
    let selected = spec
        .get("nodeSelector")
        .and_then(Value::as_object)
        .is_none_or(|sel| {
            sel.iter()
                .all(|(k, v)| v.as_str().is_some_and(|v| label(node, k) == Some(v)))
        });
    if !selected {
        return false;
    }
    if let Some(terms) = spec
        .pointer(
            "/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms",
        )
        .and_then(Value::as_array)
        && !terms.iter().any(|t| term_admits(t, node))
    {
        return false;
    }
    let tolerations = with_added_tolerations(&spec);
    node.pointer("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| {
            matches!(
                t.get("effect").and_then(Value::as_str),
                Some("NoSchedule" | "NoExecute")
            )
        })
        .all(|taint| tolerations.iter().any(|t| tolerates(t, taint)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Value {
        json!({"metadata": {"name": "edge-1", "labels": {"kubernetes.io/os": "linux", "zone": "a", "cores": "4"}}, "spec": {}})
    }

    #[test]
    fn node_selector_and_affinity() {
        let t = |spec: Value| json!({"spec": spec});
        assert!(should_run(&t(json!({})), &node()));
        assert!(should_run(
            &t(json!({"nodeSelector": {"zone": "a"}})),
            &node()
        ));
        assert!(!should_run(
            &t(json!({"nodeSelector": {"zone": "b"}})),
            &node()
        ));
        let aff = |term: Value| {
            t(
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}}),
            )
        };
        assert!(should_run(
            &aff(
                json!({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]})
            ),
            &node()
        ));
        assert!(!should_run(
            &aff(
                json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]})
            ),
            &node()
        ));
        assert!(should_run(
            &aff(
                json!({"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["2"]}]})
            ),
            &node()
        ));
        assert!(!should_run(
            &aff(json!({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]})),
            &node()
        ));
        assert!(should_run(
            &aff(
                json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["edge-1"]}]})
            ),
            &node()
        ));
        assert!(!should_run(
            &aff(
                json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}]})
            ),
            &node()
        ));
        assert!(!should_run(&aff(json!({})), &node()));
    }

    #[test]
    fn taints_need_tolerations_but_cordon_does_not() {
        let mut n = node();
        n["spec"]["taints"] =
            json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]);
        assert!(
            should_run(&json!({"spec": {}}), &n),
            "a cordoned node keeps DaemonSet pods"
        );
        n["spec"]["taints"] =
            json!([{"key": "dedicated", "value": "edge", "effect": "NoSchedule"}]);
        assert!(!should_run(&json!({"spec": {}}), &n));
        let tol = |t: Value| json!({"spec": {"tolerations": [t]}});
        assert!(should_run(
            &tol(json!({"key": "dedicated", "operator": "Equal", "value": "edge"})),
            &n
        ));
        assert!(!should_run(
            &tol(json!({"key": "dedicated", "value": "other"})),
            &n
        ));
        assert!(should_run(&tol(json!({"operator": "Exists"})), &n));
        assert!(!should_run(
            &tol(json!({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"})),
            &n
        ));
        n["spec"]["taints"] = json!([{"key": "soft", "effect": "PreferNoSchedule"}]);
        assert!(should_run(&json!({"spec": {}}), &n));
    }

    #[test]
    fn added_tolerations_are_not_repeated() {
        let spec = json!({"hostNetwork": true, "tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]});
        let t = with_added_tolerations(&spec);
        assert_eq!(t.len(), ADDED.len() + 1);
    }
}
