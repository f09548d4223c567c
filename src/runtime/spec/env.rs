//! A container's environment: `envFrom` (ConfigMaps and Secrets, with a prefix) first, then
//! `env` (values with `$(VAR)` references to earlier entries, and `valueFrom` ConfigMap and
//! Secret keys, pod fields and container resources), a later entry replacing an earlier one of
//! the same name, in the order the kubelet applies them.

use base64::Engine as _;
use serde_json::Value;

use super::expand::expand_with;
use super::fieldref::{self, Facts};
use super::{ContainerInput, Resolved, flag, list_at, str_at};

/// The environment of `input`'s container as ordered (name, value) pairs, each name once,
/// on top of `base` (the Kubernetes service variables: referable with `$(VAR)`, replaced by
/// the container's own). `Err` is the kubelet's CreateContainerConfigError message.
pub fn build(
    input: &ContainerInput<'_>,
    base: &[(String, String)],
    at: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, String)>, String> {
    let ns = input
        .pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let mut env = Env::default();
    for (k, v) in base {
        env.set(k.clone(), v.clone());
    }
    for (i, from) in list_at(input.container, "envFrom").iter().enumerate() {
        let prefix = str_at(from, "prefix").unwrap_or("");
        let (kind, reference, entries) = if let Some(r) = from.get("configMapRef") {
            let cm = input
                .resolved
                .configmaps
                .get(str_at(r, "name").unwrap_or(""));
            ("configMap", r, cm.map(configmap_entries))
        } else if let Some(r) = from.get("secretRef") {
            let s = input.resolved.secrets.get(str_at(r, "name").unwrap_or(""));
            ("secret", r, s.map(secret_entries))
        } else {
            continue;
        };
        let name = str_at(reference, "name").unwrap_or("");
        let Some(entries) = entries else {
            if flag(reference, "optional") {
                continue;
            }
            return Err(format!("{} {name:?} not found", kind.to_lowercase()));
        };
        let mut invalid = Vec::new();
        for (key, value) in entries {
            let var = format!("{prefix}{key}");
            if is_env_var_name(&var) {
                env.set(var, value);
            } else {
                invalid.push(var);
            }
        }
        if !invalid.is_empty() {
            invalid.sort();
            warnings.push(format!(
                "{at}.envFrom[{i}]: keys [{}] from the EnvFrom {kind} {ns}/{name} were skipped since they are considered invalid environment variable names",
                invalid.join(", ")
            ));
        }
    }
    let facts = Facts {
        pod_ip: input.pod_ip,
        host_ip: input.host_ip,
        node_name: input.node_name,
    };
    for var in list_at(input.container, "env") {
        let Some(name) = str_at(var, "name") else {
            continue;
        };
        let value = match var.get("valueFrom") {
            None => expand_with(str_at(var, "value").unwrap_or(""), &env.vars),
            Some(from) => match value_from(input, ns, from, &facts)? {
                Some(v) => v,
                None => continue,
            },
        };
        env.set(name.to_string(), value);
    }
    Ok(env.vars)
}

/// The value of `valueFrom`; `None` when an optional source is missing.
fn value_from(
    input: &ContainerInput<'_>,
    ns: &str,
    from: &Value,
    facts: &Facts<'_>,
) -> Result<Option<String>, String> {
    if let Some(r) = from.get("fieldRef") {
        let path = str_at(r, "fieldPath").unwrap_or("");
        return fieldref::env_field(input.pod, path, facts).map(Some);
    }
    if let Some(r) = from.get("resourceFieldRef") {
        return fieldref::resource(input.pod, input.name(), r).map(Some);
    }
    let (kind, r) = if let Some(r) = from.get("configMapKeyRef") {
        ("ConfigMap", r)
    } else if let Some(r) = from.get("secretKeyRef") {
        ("Secret", r)
    } else {
        return Err("valueFrom names no source".into());
    };
    let name = str_at(r, "name").unwrap_or("");
    let key = str_at(r, "key").unwrap_or("");
    let optional = flag(r, "optional");
    let entries = lookup(input.resolved, kind, name);
    let Some(entries) = entries else {
        if optional {
            return Ok(None);
        }
        return Err(format!("{} {name:?} not found", kind.to_lowercase()));
    };
    match entries.into_iter().find(|(k, _)| k == key) {
        Some((_, v)) => Ok(Some(v)),
        None if optional => Ok(None),
        None => Err(format!("couldn't find key {key} in {kind} {ns}/{name}")),
    }
}

fn lookup(resolved: &Resolved, kind: &str, name: &str) -> Option<Vec<(String, String)>> {
    if kind == "ConfigMap" {
        resolved.configmaps.get(name).map(configmap_entries)
    } else {
        resolved.secrets.get(name).map(secret_entries)
    }
}

/// A ConfigMap's `data` (env takes only text).
fn configmap_entries(cm: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = cm
        .get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A Secret's `data`, base64-decoded (and `stringData`, should a stored one hold it).
pub fn secret_entries(s: &Value) -> Vec<(String, String)> {
    secret_bytes(s)
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect()
}

/// A Secret's decoded `data` and `stringData` by key, sorted by key.
pub fn secret_bytes(s: &Value) -> Vec<(String, Vec<u8>)> {
    let mut out = std::collections::BTreeMap::new();
    if let Some(m) = s.get("data").and_then(Value::as_object) {
        for (k, v) in m {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap_or(""))
                .unwrap_or_default();
            out.insert(k.clone(), decoded);
        }
    }
    if let Some(m) = s.get("stringData").and_then(Value::as_object) {
        for (k, v) in m {
            out.insert(k.clone(), v.as_str().unwrap_or("").as_bytes().to_vec());
        }
    }
    out.into_iter().collect()
}

/// A name the kubelet accepts from envFrom: `[-._a-zA-Z][-._a-zA-Z0-9]*`.
fn is_env_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// Variables in the order they were first set, a later value replacing an earlier one.
#[derive(Default)]
struct Env {
    vars: Vec<(String, String)>,
}

impl Env {
    fn set(&mut self, name: String, value: String) {
        match self.vars.iter_mut().find(|(k, _)| *k == name) {
            Some(entry) => entry.1 = value,
            None => self.vars.push((name, value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::spec::testutil::{input_for, resolved};
    use serde_json::json;

    fn pod(container: Value) -> Value {
        json!({
            "metadata": {"name": "api", "namespace": "prod", "uid": "u-1", "labels": {"app": "api"}},
            "spec": {"nodeName": "k2d", "serviceAccountName": "default", "containers": [container]}
        })
    }

    type Vars = Vec<(String, String)>;

    fn build_for(container: Value) -> (Result<Vars, String>, Vec<String>) {
        let p = pod(container);
        let r = resolved();
        let mut w = Vec::new();
        let out = build(&input_for(&p, &r), &[], "spec.containers[0]", &mut w);
        (out, w)
    }

    fn vars(container: Value) -> Vec<(String, String)> {
        let (out, _) = build_for(container);
        out.unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_expand_earlier_entries() {
        let got = vars(json!({"name": "c", "env": [
            {"name": "HOST", "value": "db"},
            {"name": "URL", "value": "postgres://$(HOST):5432/$(DB)"},
            {"name": "LIT", "value": "$$(HOST)"},
            {"name": "DB", "value": "main"}
        ]}));
        assert_eq!(
            got,
            pairs(&[
                ("HOST", "db"),
                ("URL", "postgres://db:5432/$(DB)"),
                ("LIT", "$(HOST)"),
                ("DB", "main")
            ])
        );
    }

    #[test]
    fn configmap_and_secret_keys() {
        let got = vars(json!({"name": "c", "env": [
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "log.level"}}},
            {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "x", "optional": true}}},
            {"name": "OPTKEY", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "nope", "optional": true}}}
        ]}));
        assert_eq!(got, pairs(&[("LEVEL", "debug"), ("PASS", "s3cr3t")]));
    }

    #[test]
    fn missing_sources_are_config_errors() {
        let err = |c: Value| build_for(c).0.unwrap_err();
        assert_eq!(
            err(
                json!({"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k"}}}]})
            ),
            "configmap \"gone\" not found"
        );
        assert_eq!(
            err(
                json!({"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k"}}}]})
            ),
            "secret \"gone\" not found"
        );
        assert_eq!(
            err(
                json!({"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "k"}}}]})
            ),
            "couldn't find key k in ConfigMap prod/settings"
        );
        assert_eq!(
            err(
                json!({"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "db", "key": "k"}}}]})
            ),
            "couldn't find key k in Secret prod/db"
        );
        assert_eq!(
            err(json!({"name": "c", "envFrom": [{"configMapRef": {"name": "gone"}}]})),
            "configmap \"gone\" not found"
        );
        assert_eq!(
            err(json!({"name": "c", "envFrom": [{"secretRef": {"name": "gone"}}]})),
            "secret \"gone\" not found"
        );
    }

    #[test]
    fn env_from_with_prefix_skips_invalid_keys_and_env_overrides() {
        let (out, warnings) = build_for(json!({"name": "c",
            "envFrom": [
                {"configMapRef": {"name": "settings"}, "prefix": "APP_"},
                {"secretRef": {"name": "db"}},
                {"configMapRef": {"name": "gone", "optional": true}},
                {"configMapRef": {"name": "weird"}}
            ],
            "env": [{"name": "APP_mode", "value": "override-$(APP_mode)"}]
        }));
        let got = out.unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("APP_log.level", "debug"),
                ("APP_mode", "override-fast"),
                ("password", "s3cr3t"),
                ("user", "admin"),
                ("GOOD", "1"),
            ])
        );
        assert_eq!(
            warnings,
            vec![
                "spec.containers[0].envFrom[3]: keys [1BAD, WITH SPACE] from the EnvFrom configMap prod/weird were skipped since they are considered invalid environment variable names"
            ]
        );
    }

    #[test]
    fn downward_api_fields_and_resources() {
        let got = vars(json!({"name": "c",
        "resources": {"limits": {"memory": "256Mi"}},
        "env": [
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}},
            {"name": "HOSTIP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
            {"name": "REF", "value": "$(POD).$(NS)"}
        ]}));
        assert_eq!(
            got,
            pairs(&[
                ("POD", "api"),
                ("NS", "prod"),
                ("UID", "u-1"),
                ("APP", "api"),
                ("IP", "10.0.0.7"),
                ("IPS", "10.0.0.7"),
                ("HOSTIP", "192.168.0.2"),
                ("NODE", "k2d"),
                ("SA", "default"),
                ("MEM", "256"),
                ("REF", "api.prod"),
            ])
        );
    }

    #[test]
    fn service_variables_come_first_and_yield() {
        let p = pod(json!({"name": "c", "env": [
            {"name": "DB_URL", "value": "tcp://$(DB_SERVICE_HOST):$(DB_SERVICE_PORT)"},
            {"name": "DB_SERVICE_PORT", "value": "6543"}
        ]}));
        let r = resolved();
        let base = pairs(&[
            ("DB_SERVICE_HOST", "10.96.0.20"),
            ("DB_SERVICE_PORT", "5432"),
        ]);
        let got = build(
            &input_for(&p, &r),
            &base,
            "spec.containers[0]",
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("DB_SERVICE_HOST", "10.96.0.20"),
                ("DB_SERVICE_PORT", "6543"),
                ("DB_URL", "tcp://10.96.0.20:5432"),
            ])
        );
    }

    #[test]
    fn env_var_names() {
        assert!(is_env_var_name("A_b.c-1"));
        assert!(is_env_var_name("_x"));
        assert!(is_env_var_name(".x"));
        assert!(!is_env_var_name("1x"));
        assert!(!is_env_var_name(""));
        assert!(!is_env_var_name("a=b"));
    }
}
