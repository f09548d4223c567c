//! Paths inside volumes, as kube-apiserver validates them (`ValidatePodSpec`): a volume mount's
//! `subPath`/`subPathExpr` and the `items[].path` of configMap, secret, downwardAPI and projected
//! volumes must stay inside the volume. The runtime joins them to host directories (emptyDir,
//! hostPath, the files of a configMap), so `../../etc` or `/etc` would reach the host: they are
//! refused with 422 Invalid and apiserver's messages before anything is stored.

use serde_json::Value;

use super::FieldError;

/// Where the pod spec is in an object of this resource (group, plural), as a path of keys.
fn pod_spec_path(group: &str, resource: &str) -> Option<&'static [&'static str]> {
    Some(match (group, resource) {
        ("", "pods") => &["spec"],
        ("", "podtemplates") => &["template", "spec"],
        ("", "replicationcontrollers")
        | ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets")
        | ("batch", "jobs") => &["spec", "template", "spec"],
        ("batch", "cronjobs") => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// Every path problem in the pod spec of `obj`, if its resource has one.
pub fn pod_path_errors(group: &str, resource: &str, obj: &Value) -> Vec<FieldError> {
    let Some(keys) = pod_spec_path(group, resource) else {
        return Vec::new();
    };
    let mut spec = obj;
    for k in keys {
        match spec.get(k) {
            Some(v) => spec = v,
            None => return Vec::new(),
        }
    }
    let at = keys.join(".");
    let mut errors = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in items(spec, list) {
            for (j, m) in items(c, "volumeMounts") {
                mount(
                    &format!("{at}.{list}[{i}].volumeMounts[{j}]"),
                    m,
                    &mut errors,
                );
            }
        }
    }
    for (i, v) in items(spec, "volumes") {
        let vol_at = format!("{at}.volumes[{i}]");
        for source in ["configMap", "secret", "downwardAPI"] {
            if let Some(s) = v.get(source) {
                key_paths(&format!("{vol_at}.{source}"), s, &mut errors);
            }
        }
        if let Some(p) = v.get("projected") {
            for (k, s) in items(p, "sources") {
                for source in ["configMap", "secret", "downwardAPI"] {
                    if let Some(s) = s.get(source) {
                        let src_at = format!("{vol_at}.projected.sources[{k}].{source}");
                        key_paths(&src_at, s, &mut errors);
                    }
                }
            }
        }
    }
    errors
}

/// The elements of the array `v[key]`, with their index.
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// `subPath` and `subPathExpr` of one volume mount.
fn mount(at: &str, m: &Value, errors: &mut Vec<FieldError>) {
    let sub = m.get("subPath").and_then(Value::as_str).unwrap_or_default();
    let expr = m
        .get("subPathExpr")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !sub.is_empty() && !expr.is_empty() {
        errors.push(FieldError::invalid(
            format!("{at}.subPathExpr"),
            expr,
            "subPathExpr and subPath are mutually exclusive",
        ));
    }
    if !sub.is_empty() {
        descending(&format!("{at}.subPath"), sub, errors);
    }
    if !expr.is_empty() {
        descending(&format!("{at}.subPathExpr"), expr, errors);
    }
}

/// The `items[].path` of a configMap, secret or downwardAPI source.
fn key_paths(at: &str, source: &Value, errors: &mut Vec<FieldError>) {
    for (i, item) in items(source, "items") {
        let field = format!("{at}.items[{i}].path");
        match item.get("path").and_then(Value::as_str) {
            None | Some("") => errors.push(FieldError::required(field, "")),
            Some(p) => {
                descending(&field, p, errors);
                // apiserver's validateLocalNonReservedPath: `..data` and the like are the
                // atomic writer's own names.
                if p.starts_with("..") && !p.starts_with("../") {
                    errors.push(FieldError::invalid(field, p, "must not start with '..'"));
                }
            }
        }
    }
}

/// apiserver's `validateLocalDescendingPath`: relative, and no `..` element.
fn descending(field: &str, path: &str, errors: &mut Vec<FieldError>) {
    if path.starts_with('/') {
        errors.push(FieldError::invalid(field, path, "must be a relative path"));
    }
    if path.split('/').any(|part| part == "..") {
        errors.push(FieldError::invalid(field, path, "must not contain '..'"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(group: &str, resource: &str, obj: Value) -> Vec<String> {
        pod_path_errors(group, resource, &obj)
            .iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .collect()
    }

    #[test]
    fn sub_paths_must_descend() {
        let pod = json!({"spec": {"containers": [{"name": "c", "volumeMounts": [
            {"name": "v", "mountPath": "/a", "subPath": "../../etc"},
            {"name": "v", "mountPath": "/b", "subPath": "/etc"},
            {"name": "v", "mountPath": "/c", "subPathExpr": "x/../../$(POD_NAME)"},
            {"name": "v", "mountPath": "/d", "subPath": "a", "subPathExpr": "b"},
            {"name": "v", "mountPath": "/e", "subPath": "a/..b/c..d"},
        ]}]}});
        assert_eq!(
            messages("", "pods", pod),
            [
                "spec.containers[0].volumeMounts[0].subPath: must not contain '..'",
                "spec.containers[0].volumeMounts[1].subPath: must be a relative path",
                "spec.containers[0].volumeMounts[2].subPathExpr: must not contain '..'",
                "spec.containers[0].volumeMounts[3].subPathExpr: subPathExpr and subPath are mutually exclusive",
            ]
        );
    }

    #[test]
    fn volume_item_paths_must_descend_in_templates_too() {
        let dep = json!({"spec": {"template": {"spec": {"volumes": [
            {"name": "a", "configMap": {"name": "c", "items": [{"key": "k", "path": "../x"}, {"key": "k", "path": "..data"}]}},
            {"name": "b", "projected": {"sources": [{"secret": {"name": "s", "items": [{"key": "k", "path": "/abs"}]}}]}},
            {"name": "c", "downwardAPI": {"items": [{"path": ""}]}},
        ]}}}});
        assert_eq!(
            messages("apps", "deployments", dep),
            [
                "spec.template.spec.volumes[0].configMap.items[0].path: must not contain '..'",
                "spec.template.spec.volumes[0].configMap.items[1].path: must not start with '..'",
                "spec.template.spec.volumes[1].projected.sources[0].secret.items[0].path: must be a relative path",
                "spec.template.spec.volumes[2].downwardAPI.items[0].path: ",
            ]
        );
        assert!(messages("", "configmaps", json!({"spec": {}})).is_empty());
    }
}
