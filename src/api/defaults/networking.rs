//! networking.k8s.io/v1: `SetDefaults_NetworkPolicy` and `SetDefaults_NetworkPolicyPort`.
//! Ingresses have no defaults (`pathType` is required in v1, not defaulted).

use serde_json::json;

use super::fields::{Object, child_or_insert, is_empty_list, items, set_missing};

/// A NetworkPolicy: `policyTypes` defaults to `[Ingress]`, plus `Egress` when egress rules are
/// given; every port's `protocol` defaults to `TCP`.
pub fn network_policy(obj: &mut Object) {
    let Some(spec) = child_or_insert(obj, "spec") else {
        return;
    };
    if is_empty_list(spec.get("policyTypes")) {
        let mut types = vec!["Ingress"];
        if !is_empty_list(spec.get("egress")) {
            types.push("Egress");
        }
        spec.insert("policyTypes".into(), json!(types));
    }
    for direction in ["ingress", "egress"] {
        for rule in items(spec, direction) {
            for port in items(rule, "ports") {
                set_missing(port, "protocol", json!("TCP"));
            }
        }
    }
}
