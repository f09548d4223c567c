//! discovery.k8s.io/v1: `SetDefaults_EndpointPort` of EndpointSlices.

use serde_json::json;

use super::fields::{Object, items, set_missing};

/// An EndpointSlice: every port gets `name: ""` and `protocol: TCP` when they are not given.
pub fn endpoint_slice(obj: &mut Object) {
    for port in items(obj, "ports") {
        set_missing(port, "name", json!(""));
        set_missing(port, "protocol", json!("TCP"));
    }
}
