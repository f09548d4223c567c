//! Numbers out of range, as kube-apiserver's validation refuses them: negative replica counts
//! (`ValidateNonnegativeField`) and port numbers outside 1-65535 (`IsValidPortNum`). The
//! runtime would otherwise hand them to the engine (a port 70000 publishes nothing, or fails
//! the container create long after the API said yes).

use serde_json::Value;

use super::FieldError;

/// apiserver's `InclusiveRangeError(1, 65535)`.
const PORT_RANGE: &str = "must be between 1 and 65535, inclusive";
/// apiserver's `ValidateNonnegativeField` message.
const NON_NEGATIVE: &str = "must be greater than or equal to 0";

/// Where the pod spec is in a workload with `spec.replicas`.
fn has_replicas(group: &str, resource: &str) -> bool {
    matches!(
        (group, resource),
        ("", "replicationcontrollers") | ("apps", "deployments" | "replicasets" | "statefulsets")
    )
}

/// Every out-of-range number k2d checks in `obj`.
pub fn number_errors(group: &str, resource: &str, obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if has_replicas(group, resource) {
        non_negative("spec.replicas", obj.pointer("/spec/replicas"), &mut errors);
    }
    if (group, resource) == ("", "services") {
        let ports = obj.pointer("/spec/ports").and_then(Value::as_array);
        for (i, p) in ports.into_iter().flatten().enumerate() {
            port(&format!("spec.ports[{i}].port"), p.get("port"), &mut errors);
            // a named targetPort is a string; only a number has a range
            if let Some(t) = p.get("targetPort").filter(|t| t.is_number()) {
                port(&format!("spec.ports[{i}].targetPort"), Some(t), &mut errors);
            }
        }
    }
    let spec_at = match (group, resource) {
        ("", "pods") => Some("spec"),
        _ if has_replicas(group, resource)
            || matches!(
                (group, resource),
                ("apps", "daemonsets") | ("batch", "jobs")
            ) =>
        {
            Some("spec.template.spec")
        }
        _ => None,
    };
    if let Some(at) = spec_at {
        let spec = obj.pointer(&format!("/{}", at.replace('.', "/")));
        for list in ["initContainers", "containers"] {
            let containers = spec.and_then(|s| s.get(list)).and_then(Value::as_array);
            for (i, c) in containers.into_iter().flatten().enumerate() {
                let ports = c.get("ports").and_then(Value::as_array);
                for (j, p) in ports.into_iter().flatten().enumerate() {
                    let field = format!("{at}.{list}[{i}].ports[{j}].containerPort");
                    port(&field, p.get("containerPort"), &mut errors);
                }
            }
        }
    }
    errors
}

fn non_negative(field: &str, v: Option<&Value>, errors: &mut Vec<FieldError>) {
    if let Some(n) = v.and_then(Value::as_i64).filter(|n| *n < 0) {
        errors.push(FieldError::invalid(field, n, NON_NEGATIVE));
    }
}

fn port(field: &str, v: Option<&Value>, errors: &mut Vec<FieldError>) {
    if let Some(n) = v
        .and_then(Value::as_i64)
        .filter(|n| !(1..=65535).contains(n))
    {
        errors.push(FieldError::invalid(field, n, PORT_RANGE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(group: &str, resource: &str, obj: Value) -> Vec<String> {
        number_errors(group, resource, &obj)
            .iter()
            .map(|e| format!("{}={}: {}", e.field, e.value, e.detail))
            .collect()
    }

    #[test]
    fn replicas_and_ports() {
        let dep = json!({"spec": {"replicas": -1, "template": {"spec": {"containers": [
            {"name": "c", "ports": [{"containerPort": 80}, {"containerPort": 0}]}]}}}});
        assert_eq!(
            fields("apps", "deployments", dep),
            [
                "spec.replicas=-1: must be greater than or equal to 0",
                "spec.template.spec.containers[0].ports[1].containerPort=0: must be between 1 and 65535, inclusive",
            ]
        );
        let svc = json!({"spec": {"ports": [{"port": 70000, "targetPort": "http"}, {"port": 80, "targetPort": -5}]}});
        assert_eq!(
            fields("", "services", svc),
            [
                "spec.ports[0].port=70000: must be between 1 and 65535, inclusive",
                "spec.ports[1].targetPort=-5: must be between 1 and 65535, inclusive",
            ]
        );
        assert!(fields("apps", "deployments", json!({"spec": {"replicas": 0}})).is_empty());
    }
}
