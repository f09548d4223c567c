//! Scenario tests: the flows of real clients (Helm 4, kubectl, controllers) run through
//! [`apply`](super::apply) and [`record_update`](super::record_update), checked against what
//! kube-apiserver answers and writes.

mod errors;
mod helm;
mod kubectl;
mod managers;
mod real_server;
mod updates;

use serde_json::Value;

use super::fields_v1;
use crate::generated::schema_index;

pub const T1: &str = "2026-11-21T04:53:09Z";
pub const T2: &str = "2026-11-21T05:00:00Z";
pub const T3: &str = "2026-11-21T06:00:00Z";
pub const T4: &str = "2026-11-21T07:00:00Z";

/// The schema of Deployments.
pub fn deployment() -> Option<usize> {
    schema_index("io.k8s.api.apps.v1.Deployment")
}

/// The schema of Services.
pub fn service() -> Option<usize> {
    schema_index("io.k8s.api.core.v1.Service")
}

/// The managedFields entry of this manager and operation.
pub fn entry<'a>(object: &'a Value, manager: &str, operation: &str) -> &'a Value {
    try_entry(object, manager, operation).unwrap_or_else(|| {
        panic!(
            "no {operation} entry for {manager} in {:#}",
            object["metadata"]["managedFields"]
        )
    })
}

/// The managedFields entry of this manager and operation, if any.
pub fn try_entry<'a>(object: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

/// The `fieldsV1` of an entry as the real server writes it.
pub fn fields(entry: &Value) -> String {
    fields_v1::to_json_string(&fields_v1::from_value(&entry["fieldsV1"]).unwrap())
}

/// (manager, operation, subresource) of every entry, in order.
pub fn writers(object: &Value) -> Vec<(String, String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                    (s("manager"), s("operation"), s("subresource"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The object without its managedFields.
pub fn without_managed_fields(object: &Value) -> Value {
    let mut o = object.clone();
    o["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    o
}
