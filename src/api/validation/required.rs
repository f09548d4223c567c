//! Required fields: the `required` lists of the spec's schemas, checked as kube-apiserver's
//! validation reports them (`spec.template.spec.containers: Required value`, 422 Invalid with
//! `FieldValueRequired` causes).
//!
//! A field is missing when it is absent, `null`, or an empty list (Go cannot tell an empty list
//! from a missing one, and Kubernetes refuses `containers: []` the same way). Empty strings and
//! zero numbers count as set, so that values a client legitimately leaves empty are never
//! refused. `metadata` is left to the name checks (`metadata.name: Required value: name or
//! generateName is required`) and `status` is not checked: the server writes it, not the client.

use serde_json::Value;

use super::field_error::FieldError;
use crate::api::model::Ty;
use crate::generated::SCHEMAS;

/// Field paths of the required fields missing from `obj`, in schema order
/// (`spec.selector`, `spec.template.spec.containers[0].name`).
pub fn missing_required(obj: &Value, schema: usize) -> Vec<String> {
    let mut out = Vec::new();
    object(obj, schema, "", true, &mut out);
    out
}

/// [`missing_required`] as field errors, ready for [`super::invalid_status`] alongside the other
/// validation errors of the object.
pub fn required_errors(obj: &Value, schema: usize) -> Vec<FieldError> {
    missing_required(obj, schema)
        .into_iter()
        .map(|p| FieldError::required(p, ""))
        .collect()
}

fn is_missing(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

/// Fields the OpenAPI documents mark required that Kubernetes' own validation lets be empty or
/// absent: the schema, the field. An EndpointSlice of a Service without pods has no endpoints.
const MAY_BE_EMPTY: &[(&str, &str)] = &[("io.k8s.api.discovery.v1.EndpointSlice", "endpoints")];

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn object(v: &Value, schema: usize, path: &str, top: bool, out: &mut Vec<String>) {
    let Some(map) = v.as_object() else {
        return;
    };
    for f in SCHEMAS[schema].fields {
        if top && (f.name == "metadata" || f.name == "status") {
            continue;
        }
        let child = map.get(f.name);
        let p = join(path, f.name);
        let empty_allowed = MAY_BE_EMPTY.contains(&(SCHEMAS[schema].name, f.name));
        if f.required && is_missing(child) && !empty_allowed {
            out.push(p);
        } else if let Some(c) = child {
            value(c, &f.ty, &p, out);
        }
    }
}

fn value(v: &Value, ty: &Ty, path: &str, out: &mut Vec<String>) {
    match ty {
        Ty::Object(i) => object(v, *i, path, false, out),
        Ty::Array(t) => {
            for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                value(item, t, &format!("{path}[{i}]"), out);
            }
        }
        Ty::Map(t) => {
            for (k, item) in v.as_object().into_iter().flatten() {
                value(item, t, &format!("{path}[{k}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validation::field_error::invalid_status;
    use crate::generated::schema_index;
    use serde_json::json;

    fn schema(name: &str) -> usize {
        schema_index(name).unwrap()
    }

    #[test]
    fn an_endpoint_slice_may_have_no_endpoints() {
        let s = schema("io.k8s.api.discovery.v1.EndpointSlice");
        let empty = json!({"addressType": "IPv4", "endpoints": []});
        assert!(missing_required(&empty, s).is_empty());
        assert_eq!(
            missing_required(&json!({"endpoints": []}), s),
            vec!["addressType"]
        );
    }

    #[test]
    fn a_complete_deployment_has_nothing_missing() {
        let d = json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}]}}},
            "status": {"conditions": [{"reason": "no type or status"}]}});
        assert!(missing_required(&d, schema("io.k8s.api.apps.v1.Deployment")).is_empty());
    }

    #[test]
    fn deployment_without_selector_and_containers() {
        let d = json!({"spec": {"template": {"spec": {"containers": []}}}});
        let dep = schema("io.k8s.api.apps.v1.Deployment");
        assert_eq!(
            missing_required(&d, dep),
            vec!["spec.selector", "spec.template.spec.containers"]
        );
        let s = invalid_status("Deployment", "apps", "web", &required_errors(&d, dep));
        assert_eq!(
            s.message,
            r#"Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.spec.containers: Required value]"#
        );
        let v = s.to_json();
        assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueRequired");
        assert_eq!(v["details"]["causes"][0]["field"], "spec.selector");
        assert_eq!(v["details"]["causes"][0]["message"], "Required value");
    }

    #[test]
    fn pods_need_containers_with_names() {
        let pod = schema("io.k8s.api.core.v1.Pod");
        assert_eq!(
            missing_required(&json!({"spec": {}}), pod),
            vec!["spec.containers"]
        );
        let p = json!({"spec": {"containers": [{"image": "busybox"}, {"name": "b", "env": [{"value": "x"}]}]}});
        assert_eq!(
            missing_required(&p, pod),
            vec!["spec.containers[0].name", "spec.containers[1].env[0].name"]
        );
        // Empty strings count as set.
        assert!(missing_required(&json!({"spec": {"containers": [{"name": ""}]}}), pod).is_empty());
    }

    #[test]
    fn services_configmaps_namespaces() {
        let svc = schema("io.k8s.api.core.v1.Service");
        assert_eq!(
            missing_required(&json!({"spec": {"ports": [{"targetPort": 80}]}}), svc),
            vec!["spec.ports[0].port"]
        );
        let cm = schema("io.k8s.api.core.v1.ConfigMap");
        assert!(missing_required(&json!({"data": {"a": "b"}}), cm).is_empty());
        let ns = schema("io.k8s.api.core.v1.Namespace");
        assert!(missing_required(&json!({"metadata": {"name": "x"}}), ns).is_empty());
    }

    #[test]
    fn metadata_and_status_are_left_alone() {
        let ev = schema("io.k8s.api.core.v1.Event");
        // Event requires metadata and involvedObject; only the latter is reported here.
        assert_eq!(missing_required(&json!({}), ev), vec!["involvedObject"]);
    }
}
