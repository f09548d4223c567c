//! Defaults of one container (`containers`, `initContainers` and `ephemeralContainers` alike),
//! as `SetDefaults_Container`, `SetDefaults_Probe`, `SetDefaults_HTTPGetAction` and
//! `SetDefaults_ObjectFieldSelector` and the declarative defaults of the core/v1 types apply
//! them.

use serde_json::{Value, json};

use super::fields::{
    Object, child, child_or_insert, items, set_blank, set_missing, set_zero, str_of,
};
use super::image::default_pull_policy;

/// Where the kubelet reads a container's termination message from.
pub const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";

/// Fills in the defaults of one container.
pub fn apply(container: &mut Object) {
    let image = str_of(container, "image").to_string();
    set_blank(container, "imagePullPolicy", default_pull_policy(&image));
    set_blank(
        container,
        "terminationMessagePath",
        TERMINATION_MESSAGE_PATH,
    );
    set_blank(container, "terminationMessagePolicy", "File");
    // A struct in the Go types: always serialised, `{}` when empty.
    set_missing(container, "resources", json!({}));
    for port in items(container, "ports") {
        set_blank(port, "protocol", "TCP");
    }
    for env in items(container, "env") {
        if let Some(field_ref) = child(env, "valueFrom").and_then(|v| child(v, "fieldRef")) {
            field_selector(field_ref);
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = child(container, probe) {
            self::probe(probe);
        }
    }
    if let Some(lifecycle) = child(container, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(get) = child(lifecycle, hook).and_then(|h| child(h, "httpGet")) {
                http_get(get);
            }
        }
    }
}

/// `SetDefaults_Probe`, and the defaults of its handler.
fn probe(probe: &mut Object) {
    set_zero(probe, "timeoutSeconds", 1);
    set_zero(probe, "periodSeconds", 10);
    set_zero(probe, "successThreshold", 1);
    set_zero(probe, "failureThreshold", 3);
    if let Some(get) = child(probe, "httpGet") {
        http_get(get);
    }
    if let Some(grpc) = child(probe, "grpc") {
        // `service` is a pointer with a declarative default of "": it is always serialised.
        set_missing(grpc, "service", json!(""));
    }
}

/// `SetDefaults_HTTPGetAction`: path `/`, scheme `HTTP`.
fn http_get(get: &mut Object) {
    set_blank(get, "path", "/");
    set_blank(get, "scheme", "HTTP");
}

/// `SetDefaults_ObjectFieldSelector`: `apiVersion: v1`.
pub fn field_selector(selector: &mut Object) {
    set_blank(selector, "apiVersion", "v1");
}

/// What a Pod (not a template) adds to each container: requests default to the limits given.
pub fn requests_from_limits(container: &mut Object) {
    let Some(resources) = child(container, "resources") else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    if let Some(requests) = child_or_insert(resources, "requests") {
        for (name, quantity) in limits {
            requests.entry(name).or_insert(quantity);
        }
    }
}

/// What a Pod with `hostNetwork: true` adds to each container port: `hostPort` equal to
/// `containerPort`.
pub fn host_ports(container: &mut Object) {
    for port in items(container, "ports") {
        if let Some(container_port) = port.get("containerPort").cloned() {
            let zero = port.get("hostPort").is_none_or(|p| p.is_null() || p == 0);
            if zero {
                port.insert("hostPort".into(), container_port);
            }
        }
    }
}
