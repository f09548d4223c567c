//! What kube-apiserver's default admission plugins add to a Pod when it is created, kept apart
//! from defaulting: [`apply`](super::apply) does not call it, because admission runs once, on
//! create, and only for Pods (never for the pod templates of workloads).
//!
//! [`pod_on_create`] does what these plugins do in a cluster that has no PriorityClasses and no
//! taints of its own:
//!
//! - `ServiceAccount`: `serviceAccountName: default` (and the deprecated `serviceAccount`) when
//!   the pod names none; and, through [`service_account_volume`], the projected
//!   `kube-api-access-<suffix>` volume (token, `kube-root-ca.crt`, namespace) mounted at
//!   [`SERVICE_ACCOUNT_MOUNT`] in every container, unless automounting is turned off.
//! - `Priority`: `priority: 0` and `preemptionPolicy: PreemptLowerPriority` when the pod names
//!   no `priorityClassName` (a pod that names one is left alone: k2d has no PriorityClasses to
//!   read the value from).
//! - `DefaultTolerationSeconds`: tolerations of the `node.kubernetes.io/not-ready` and
//!   `node.kubernetes.io/unreachable` `NoExecute` taints for 300 seconds, unless the pod already
//!   tolerates them. They change nothing on a single Docker host (nothing taints it), and every
//!   real cluster shows them, so tools that compare objects see what they expect.

use serde_json::{Value, json};

use super::fields::{Object, child, set_missing, str_of};

/// The service account of pods that name none.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// How long pods stay bound to a node that is not ready or unreachable, in seconds.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// The taints `DefaultTolerationSeconds` adds tolerations for, in the order it adds them.
pub const TOLERATED_TAINTS: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

/// Adds to a Pod being created what the default admission plugins add (see the module
/// documentation). Call it on create only, after [`apply`](super::apply).
pub fn pod_on_create(pod: &mut Object) {
    let Some(spec) = child(pod, "spec") else {
        return;
    };
    if str_of(spec, "serviceAccountName").is_empty() {
        spec.insert("serviceAccountName".into(), json!(DEFAULT_SERVICE_ACCOUNT));
        spec.insert("serviceAccount".into(), json!(DEFAULT_SERVICE_ACCOUNT));
    }
    if str_of(spec, "priorityClassName").is_empty() {
        set_missing(spec, "priority", json!(0));
        set_missing(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
    default_tolerations(spec);
}

fn default_tolerations(spec: &mut Object) {
    let missing: Vec<&str> = {
        let existing: &[Value] = spec
            .get("tolerations")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        TOLERATED_TAINTS
            .into_iter()
            .filter(|taint| !existing.iter().any(|t| tolerates(t, taint)))
            .collect()
    };
    if missing.is_empty() {
        return;
    }
    if !spec.get("tolerations").is_some_and(Value::is_array) {
        spec.insert("tolerations".into(), json!([]));
    }
    if let Some(Value::Array(tolerations)) = spec.get_mut("tolerations") {
        for key in missing {
            tolerations.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }));
        }
    }
}

/// Whether a toleration tolerates a `NoExecute` taint with this key and no value.
fn tolerates(toleration: &Value, taint_key: &str) -> bool {
    let field = |name| {
        toleration
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let effect_matches = matches!(field("effect"), "" | "NoExecute");
    let key_matches = match field("key") {
        "" => field("operator") == "Exists",
        key => key == taint_key,
    };
    let value_matches = match field("operator") {
        "Exists" => true,
        "" | "Equal" => field("value").is_empty(),
        _ => false,
    };
    effect_matches && key_matches && value_matches
}

/// Where pods find their service account token, CA and namespace.
pub const SERVICE_ACCOUNT_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How long the mounted token asks to live (a kubelet's request; the server extends it).
pub const TOKEN_EXPIRATION_SECONDS: i64 = 3607;

/// Adds the service account volume and its mounts to a Pod being created, as the
/// `ServiceAccount` admission plugin does: `automount` is the service account's
/// `automountServiceAccountToken` (the pod's own field wins); `suffix` names the volume.
pub fn service_account_volume(pod: &mut Object, automount: bool, suffix: &str) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let wanted = spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .unwrap_or(automount);
    if !wanted {
        return;
    }
    let mounted_already = |c: &Value| {
        c["volumeMounts"]
            .as_array()
            .is_some_and(|ms| ms.iter().any(|m| m["mountPath"] == SERVICE_ACCOUNT_MOUNT))
    };
    let name = format!("kube-api-access-{suffix}");
    let mut used = false;
    for field in ["initContainers", "containers"] {
        for c in spec
            .get_mut(field)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if mounted_already(c) || !c.is_object() {
                continue;
            }
            let mount = json!({"name": name, "mountPath": SERVICE_ACCOUNT_MOUNT, "readOnly": true});
            match c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                Some(ms) => ms.push(mount),
                None => c["volumeMounts"] = json!([mount]),
            }
            used = true;
        }
    }
    if !used {
        return;
    }
    let volume = json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]
        }
    });
    match spec.get_mut("volumes").and_then(Value::as_array_mut) {
        Some(vs) => vs.push(volume),
        None => {
            spec.insert("volumes".into(), json!([volume]));
        }
    }
}

#[cfg(test)]
mod service_account_tests {
    use super::*;

    fn pod(extra: Value) -> Object {
        let mut p = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "volumeMounts": [
            {"name": "own", "mountPath": SERVICE_ACCOUNT_MOUNT}]}], "initContainers": [{"name": "i"}]}});
        if let (Some(s), Some(e)) = (p["spec"].as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        p.as_object().unwrap().clone()
    }

    #[test]
    fn token_volume_mounted_where_not_mounted_already() {
        let mut p = pod(json!({}));
        service_account_volume(&mut p, true, "abcde");
        let spec = &p["spec"];
        assert_eq!(spec["volumes"][0]["name"], "kube-api-access-abcde");
        assert_eq!(
            spec["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["path"],
            "token"
        );
        assert_eq!(
            spec["containers"][0]["volumeMounts"][0]["mountPath"],
            SERVICE_ACCOUNT_MOUNT
        );
        assert_eq!(
            spec["containers"][1]["volumeMounts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            spec["initContainers"][0]["volumeMounts"][0]["readOnly"],
            true
        );
    }

    #[test]
    fn automount_off_on_the_account_or_the_pod() {
        let mut p = pod(json!({}));
        service_account_volume(&mut p, false, "x");
        assert!(p["spec"].get("volumes").is_none());
        let mut q = pod(json!({"automountServiceAccountToken": false}));
        service_account_volume(&mut q, true, "x");
        assert!(q["spec"].get("volumes").is_none());
        let mut r = pod(json!({"automountServiceAccountToken": true}));
        service_account_volume(&mut r, false, "x");
        assert!(r["spec"].get("volumes").is_some());
    }
}
