//! Pod Security admission: the Pod Security Standards' `baseline` and `restricted` levels,
//! enforced on pod creates and updates as a cluster's PodSecurity admission plugin enforces
//! them, for devices whose manifests come from less trusted sources.
//!
//! The level is `k2d serve --pod-security` (default `privileged`: no check, k2d's behaviour
//! before the flag existed); a namespace's `pod-security.kubernetes.io/enforce` label overrides
//! it for that namespace (a value that is not a level counts as `restricted`, failing closed, as
//! on a cluster). Only `enforce` is implemented (no `warn` or `audit` modes, no configurable
//! exemptions; the pods that show plain `docker run` containers are exempt, see [`admit`]).
//! A refusal is a 403 whose message lists every violation, in the real plugin's wording and
//! order: `pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces
//! (hostNetwork=true), hostPath volumes (volume "data"), privileged (container "c" must not set
//! securityContext.privileged=true)`.
//!
//! Checks, baseline: added capabilities beyond the default set, host namespaces, hostPath
//! volumes, host ports, privileged containers, `procMount`, an `Unconfined` seccomp profile,
//! unsafe sysctls. Restricted adds: `allowPrivilegeEscalation` must be false, capabilities must
//! drop ALL and add at most `NET_BIND_SERVICE`, only the volume types of the standard,
//! `runAsNonRoot` true, no `runAsUser` 0, a `RuntimeDefault` or `Localhost` seccomp profile.
//! AppArmor, SELinux and Windows host-process fields are not checked: k2d does not pass them
//! to the engine.

use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::Value;

use crate::api::ApiRequest;
use crate::api::status::{Status, StatusDetails};
use crate::store::{ObjectKey, Store};

/// The user k2d's pod runtime writes as (`crate::client::Client::new(_, "kubelet")`).
const KUBELET_USER: &str = "system:kubelet";

/// The namespace label that sets the level for that namespace.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The namespace label naming the version of the standard (shown in messages only: k2d checks
/// the latest version).
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

/// A level of the Pod Security Standards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Level {
    /// No restriction.
    Privileged,
    /// No known privilege escalation: no host namespaces, hostPath, privileged containers...
    Baseline,
    /// Current hardening practice on top of baseline: non-root, no privilege escalation...
    Restricted,
}

impl Level {
    /// The level's name as labels and messages spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// The level a label value names; anything else is `restricted` (fail closed).
    pub fn from_label(value: &str) -> Level {
        match value {
            "privileged" => Level::Privileged,
            "baseline" => Level::Baseline,
            _ => Level::Restricted,
        }
    }
}

static CLUSTER_LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sets the cluster-wide level (`--pod-security`).
pub fn set_cluster_level(level: Level) {
    CLUSTER_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The cluster-wide level.
pub fn cluster_level() -> Level {
    match CLUSTER_LEVEL.load(Ordering::Relaxed) {
        0 => Level::Privileged,
        1 => Level::Baseline,
        _ => Level::Restricted,
    }
}

/// Capabilities the baseline level allows a container to add (the container runtime's
/// defaults).
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls the baseline level allows (the namespaced, safe ones).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ping_group_range",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_wmem",
];

/// Volume sources the restricted level allows.
const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// `container "a"` or `containers "a", "b"` (and the same for volumes).
fn named(noun: &str, names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let plural = if names.len() == 1 { "" } else { "s" };
    format!("{noun}{plural} {}", quoted.join(", "))
}

fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds "`prefix`container(s) "a", "b" `rest`" to `parts` when `names` is not empty.
fn push_containers(parts: &mut Vec<String>, prefix: &str, names: &[String], rest: &str) {
    if !names.is_empty() {
        parts.push(format!("{prefix}{} {rest}", named("container", names)));
    }
}

/// "`check` (part; part)", or nothing when no part was found.
fn finding(check: &str, parts: Vec<String>) -> Option<String> {
    (!parts.is_empty()).then(|| format!("{check} ({})", parts.join("; ")))
}

/// "`check` (container(s) "a", "b" `rest`)", or nothing when `names` is empty.
fn containers_finding(check: &str, names: &[String], rest: &str) -> Option<String> {
    let mut parts = Vec::new();
    push_containers(&mut parts, "", names, rest);
    finding(check, parts)
}

/// Every container of a pod spec: init, regular and ephemeral.
fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |field| spec[field].as_array().into_iter().flatten())
}

fn container_name(c: &Value) -> String {
    c["name"].as_str().unwrap_or_default().to_string()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Keeps the first occurrence of each value.
fn dedup(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
}

/// The containers for which `bad` finds something, and everything found (each value once).
fn containers_with(
    spec: &Value,
    bad: impl Fn(&Value) -> Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut found = Vec::new();
    for c in containers(spec) {
        let values = bad(c);
        if !values.is_empty() {
            names.push(container_name(c));
            found.extend(values);
        }
    }
    dedup(&mut found);
    (names, found)
}

/// The names of the containers `bad` picks.
fn containers_where(spec: &Value, bad: impl Fn(&Value) -> bool) -> Vec<String> {
    containers(spec)
        .filter(|c| bad(c))
        .map(container_name)
        .collect()
}

fn capabilities_baseline(spec: &Value) -> Option<String> {
    let (names, caps) = containers_with(spec, |c| {
        strings(&c["securityContext"]["capabilities"]["add"])
            .into_iter()
            .filter(|cap| !BASELINE_CAPABILITIES.contains(&cap.as_str()))
            .collect()
    });
    let rest = format!(
        "must not include {} in securityContext.capabilities.add",
        quoted_list(&caps)
    );
    containers_finding("non-default capabilities", &names, &rest)
}

fn host_namespaces(spec: &Value) -> Option<String> {
    let set: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|f| spec[*f].as_bool() == Some(true))
        .map(|f| format!("{f}=true"))
        .collect();
    (!set.is_empty()).then(|| format!("host namespaces ({})", set.join(", ")))
}

fn volumes_with(spec: &Value, source: &str) -> Vec<String> {
    spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.get(source).is_some_and(|s| !s.is_null()))
        .map(|v| v["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn host_path_volumes(spec: &Value) -> Option<String> {
    let names = volumes_with(spec, "hostPath");
    (!names.is_empty()).then(|| format!("hostPath volumes ({})", named("volume", &names)))
}

fn host_ports(spec: &Value) -> Option<String> {
    let (names, ports) = containers_with(spec, |c| {
        c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["hostPort"].as_i64())
            .filter(|p| *p != 0)
            .map(|p| p.to_string())
            .collect()
    });
    (!names.is_empty()).then(|| {
        let verb = if names.len() == 1 { "uses" } else { "use" };
        let noun = if ports.len() == 1 {
            "hostPort"
        } else {
            "hostPorts"
        };
        format!(
            "hostPort ({} {verb} {noun} {})",
            named("container", &names),
            ports.join(", ")
        )
    })
}

fn privileged(spec: &Value) -> Option<String> {
    let names = containers_where(spec, |c| {
        c["securityContext"]["privileged"].as_bool() == Some(true)
    });
    containers_finding(
        "privileged",
        &names,
        "must not set securityContext.privileged=true",
    )
}

fn proc_mount(spec: &Value) -> Option<String> {
    let (names, values) = containers_with(spec, |c| {
        c["securityContext"]["procMount"]
            .as_str()
            .filter(|m| *m != "Default")
            .map(str::to_string)
            .into_iter()
            .collect()
    });
    let rest = format!(
        "must not set securityContext.procMount to {}",
        quoted_list(&values)
    );
    containers_finding("procMount", &names, &rest)
}

fn seccomp_type(sc: &Value) -> Option<&str> {
    sc["seccompProfile"]["type"].as_str()
}

fn seccomp_baseline(spec: &Value) -> Option<String> {
    let mut parts = Vec::new();
    if seccomp_type(&spec["securityContext"]) == Some("Unconfined") {
        parts.push(
            "pod must not set securityContext.seccompProfile.type to \"Unconfined\"".to_string(),
        );
    }
    let names = containers_where(spec, |c| {
        seccomp_type(&c["securityContext"]) == Some("Unconfined")
    });
    push_containers(
        &mut parts,
        "",
        &names,
        "must not set securityContext.seccompProfile.type to \"Unconfined\"",
    );
    finding("seccompProfile", parts)
}

fn sysctls(spec: &Value) -> Option<String> {
    let bad: Vec<String> = spec["securityContext"]["sysctls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .map(str::to_string)
        .collect();
    (!bad.is_empty()).then(|| format!("forbidden sysctls ({})", bad.join(", ")))
}

fn allow_privilege_escalation(spec: &Value) -> Option<String> {
    let names = containers_where(spec, |c| {
        c["securityContext"]["allowPrivilegeEscalation"].as_bool() != Some(false)
    });
    containers_finding(
        "allowPrivilegeEscalation != false",
        &names,
        "must set securityContext.allowPrivilegeEscalation=false",
    )
}

fn capabilities_restricted(spec: &Value) -> Option<String> {
    let no_drop = containers_where(spec, |c| {
        !strings(&c["securityContext"]["capabilities"]["drop"])
            .iter()
            .any(|d| d == "ALL")
    });
    let (adders, caps) = containers_with(spec, |c| {
        strings(&c["securityContext"]["capabilities"]["add"])
            .into_iter()
            .filter(|cap| cap != "NET_BIND_SERVICE")
            .collect()
    });
    let mut parts = Vec::new();
    push_containers(
        &mut parts,
        "",
        &no_drop,
        "must set securityContext.capabilities.drop=[\"ALL\"]",
    );
    let add = format!(
        "must not include {} in securityContext.capabilities.add",
        quoted_list(&caps)
    );
    push_containers(&mut parts, "", &adders, &add);
    finding("unrestricted capabilities", parts)
}

fn restricted_volumes(spec: &Value) -> Option<String> {
    let mut names = Vec::new();
    let mut types = Vec::new();
    for v in spec["volumes"].as_array().into_iter().flatten() {
        let Some(fields) = v.as_object() else {
            continue;
        };
        let bad: Vec<String> = fields
            .iter()
            .filter(|(k, val)| {
                k.as_str() != "name"
                    && !val.is_null()
                    && !RESTRICTED_VOLUME_TYPES.contains(&k.as_str())
            })
            .map(|(k, _)| k.clone())
            .collect();
        if !bad.is_empty() {
            names.push(v["name"].as_str().unwrap_or_default().to_string());
            types.extend(bad);
        }
    }
    dedup(&mut types);
    (!names.is_empty()).then(|| {
        let verb = if names.len() == 1 { "uses" } else { "use" };
        let noun = if types.len() == 1 { "type" } else { "types" };
        format!(
            "restricted volume types ({} {verb} restricted volume {noun} {})",
            named("volume", &names),
            quoted_list(&types)
        )
    })
}

fn run_as_non_root(spec: &Value) -> Option<String> {
    let pod_value = spec["securityContext"]["runAsNonRoot"].as_bool();
    let mut parts = Vec::new();
    if pod_value == Some(false) {
        parts.push("pod must not set securityContext.runAsNonRoot=false".to_string());
    }
    let set_false = containers_where(spec, |c| {
        c["securityContext"]["runAsNonRoot"].as_bool() == Some(false)
    });
    push_containers(
        &mut parts,
        "",
        &set_false,
        "must not set securityContext.runAsNonRoot=false",
    );
    if pod_value != Some(true) {
        let unset = containers_where(spec, |c| {
            c["securityContext"]["runAsNonRoot"].as_bool().is_none()
        });
        push_containers(
            &mut parts,
            "pod or ",
            &unset,
            "must set securityContext.runAsNonRoot=true",
        );
    }
    finding("runAsNonRoot != true", parts)
}

fn run_as_user(spec: &Value) -> Option<String> {
    let mut parts = Vec::new();
    if spec["securityContext"]["runAsUser"].as_i64() == Some(0) {
        parts.push("pod must not set runAsUser=0".to_string());
    }
    let names = containers_where(spec, |c| {
        c["securityContext"]["runAsUser"].as_i64() == Some(0)
    });
    push_containers(&mut parts, "", &names, "must not set runAsUser=0");
    finding("runAsUser=0", parts)
}

fn seccomp_restricted(spec: &Value) -> Option<String> {
    let allowed = |t: Option<&str>| matches!(t, Some("RuntimeDefault" | "Localhost"));
    let pod_type = seccomp_type(&spec["securityContext"]);
    let mut parts = Vec::new();
    if let Some(t) = pod_type.filter(|t| !allowed(Some(t))) {
        parts.push(format!(
            "pod must not set securityContext.seccompProfile.type to {t:?}"
        ));
    }
    let (bad_names, bad_types) = containers_with(spec, |c| {
        seccomp_type(&c["securityContext"])
            .filter(|t| !allowed(Some(t)))
            .map(str::to_string)
            .into_iter()
            .collect()
    });
    let bad = format!(
        "must not set securityContext.seccompProfile.type to {}",
        quoted_list(&bad_types)
    );
    push_containers(&mut parts, "", &bad_names, &bad);
    if !allowed(pod_type) {
        let unset = containers_where(spec, |c| seccomp_type(&c["securityContext"]).is_none());
        push_containers(
            &mut parts,
            "pod or ",
            &unset,
            "must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
        );
    }
    finding("seccompProfile", parts)
}

/// What `spec` breaks at `level`, each a "check (details)" phrase, in the order the real
/// plugin lists them: the baseline checks, then those restricted adds or replaces.
pub fn violations(level: Level, spec: &Value) -> Vec<String> {
    type Check = fn(&Value) -> Option<String>;
    let baseline: &[Check] = match level {
        Level::Privileged => return Vec::new(),
        Level::Baseline => &[
            capabilities_baseline,
            host_namespaces,
            host_path_volumes,
            host_ports,
            privileged,
            proc_mount,
            seccomp_baseline,
            sysctls,
        ],
        // Restricted replaces the baseline checks of capabilities, hostPath (by the volume
        // types) and seccomp with stricter ones.
        Level::Restricted => &[host_namespaces, host_ports, privileged, proc_mount, sysctls],
    };
    let restricted: &[Check] = if level == Level::Restricted {
        &[
            allow_privilege_escalation,
            capabilities_restricted,
            restricted_volumes,
            run_as_non_root,
            run_as_user,
            seccomp_restricted,
        ]
    } else {
        &[]
    };
    baseline
        .iter()
        .chain(restricted)
        .filter_map(|check| check(spec))
        .collect()
}

/// The level and the version shown in messages that apply to pods of `namespace`.
fn effective_level(store: &Store, namespace: &str) -> (Level, String) {
    let ns = store
        .get(&ObjectKey::new("", "namespaces", "", namespace))
        .ok()
        .flatten();
    let label = |name: &str| {
        ns.as_ref()
            .and_then(|n| n.pointer("/metadata/labels"))
            .and_then(|l| l.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let level = label(ENFORCE_LABEL)
        .map(|v| Level::from_label(&v))
        .unwrap_or_else(cluster_level);
    let version = label(ENFORCE_VERSION_LABEL).unwrap_or_else(|| "latest".to_string());
    (level, version)
}

/// A pod spec with what an update may change without a new check (container images) removed:
/// an update that changes nothing else is not checked again, as on a cluster.
fn checked_part(pod: &Value) -> Value {
    let mut spec = pod["spec"].clone();
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[field].as_array_mut().into_iter().flatten() {
            if let Some(c) = c.as_object_mut() {
                c.remove("image");
            }
        }
    }
    spec
}

/// Admits a pod about to be stored by `req` (`old` is the stored version for an update,
/// `None` for a create): 403 Forbidden when it breaks the level that applies to its namespace.
/// Writes of other resources, of the status subresource, and updates that leave the checked
/// part of the spec alone pass unchecked; so do the pods k2d's runtime writes to show plain
/// `docker run` containers (k2d runs nothing for them: like a cluster's mirror pods, they only
/// show what already runs).
pub fn admit(
    store: &Store,
    req: &ApiRequest,
    old: Option<&Value>,
    new: &Value,
) -> Result<(), Status> {
    let resource = req.resource;
    if !resource.group.is_empty()
        || resource.name != "pods"
        || req.route.subresource == Some("status")
    {
        return Ok(());
    }
    if old.is_some_and(|old| checked_part(old) == checked_part(new)) {
        return Ok(());
    }
    if req.user.name == KUBELET_USER && crate::runtime::adopt::is_foreign(new) {
        return Ok(());
    }
    let namespace = crate::api::meta::meta_str(new, "namespace").unwrap_or_default();
    let (level, version) = effective_level(store, namespace);
    let found = violations(level, &new["spec"]);
    if found.is_empty() {
        return Ok(());
    }
    let name = crate::api::meta::meta_str(new, "name").unwrap_or_default();
    Err(Status::new(
        403,
        "Forbidden",
        format!(
            "pods {name:?} is forbidden: violates PodSecurity \"{}:{version}\": {}",
            level.as_str(),
            found.join(", ")
        ),
    )
    .with_details(StatusDetails {
        name: name.to_string(),
        kind: "pods".into(),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_default_pod_passes_baseline_but_not_restricted() {
        let spec = json!({"containers": [{"name": "c", "image": "busybox"}]});
        assert!(violations(Level::Privileged, &spec).is_empty());
        assert!(violations(Level::Baseline, &spec).is_empty());
        assert_eq!(
            violations(Level::Restricted, &spec),
            vec![
                "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)",
                "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"])",
                "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true)",
                "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            ]
        );
    }

    #[test]
    fn baseline_names_every_violation_as_the_real_plugin_does() {
        let spec = json!({
            "hostNetwork": true, "hostPID": true, "hostIPC": false,
            "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"},
                                            {"name": "net.ipv4.tcp_syncookies", "value": "1"}]},
            "volumes": [{"name": "data", "hostPath": {"path": "/"}}, {"name": "e", "emptyDir": {}},
                        {"name": "dev", "hostPath": {"path": "/dev"}}],
            "containers": [
                {"name": "c", "image": "x", "securityContext": {"privileged": true,
                    "capabilities": {"add": ["NET_ADMIN", "CHOWN", "SYS_TIME"]}},
                 "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]},
                {"name": "d", "image": "x", "securityContext": {"privileged": false,
                    "procMount": "Unmasked", "seccompProfile": {"type": "Unconfined"}}},
            ],
        });
        assert_eq!(
            violations(Level::Baseline, &spec),
            vec![
                "non-default capabilities (container \"c\" must not include \"NET_ADMIN\", \"SYS_TIME\" in securityContext.capabilities.add)",
                "host namespaces (hostNetwork=true, hostPID=true)",
                "hostPath volumes (volumes \"data\", \"dev\")",
                "hostPort (container \"c\" uses hostPort 8080)",
                "privileged (container \"c\" must not set securityContext.privileged=true)",
                "procMount (container \"d\" must not set securityContext.procMount to \"Unmasked\")",
                "seccompProfile (container \"d\" must not set securityContext.seccompProfile.type to \"Unconfined\")",
                "forbidden sysctls (kernel.msgmax)",
            ]
        );
        let two = json!({"containers": [
            {"name": "a", "securityContext": {"privileged": true}, "ports": [{"hostPort": 80}]},
            {"name": "b", "securityContext": {"privileged": true}, "ports": [{"hostPort": 443}]},
        ], "initContainers": [{"name": "i", "securityContext": {"privileged": true}}]});
        assert_eq!(
            violations(Level::Baseline, &two),
            vec![
                "hostPort (containers \"a\", \"b\" use hostPorts 80, 443)",
                "privileged (containers \"i\", \"a\", \"b\" must not set securityContext.privileged=true)",
            ]
        );
    }

    #[test]
    fn restricted_accepts_a_hardened_pod_and_replaces_the_baseline_volume_check() {
        let hardened = json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"name": "cfg", "configMap": {"name": "x"}}, {"name": "tok", "projected": {}}],
            "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
        });
        assert!(violations(Level::Restricted, &hardened).is_empty());
        let mut worse = hardened.clone();
        worse["volumes"] = json!([{"name": "h", "hostPath": {"path": "/"}}]);
        worse["securityContext"]["runAsUser"] = json!(0);
        worse["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["SYS_ADMIN"]);
        assert_eq!(
            violations(Level::Restricted, &worse),
            vec![
                "unrestricted capabilities (container \"c\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)",
                "restricted volume types (volume \"h\" uses restricted volume type \"hostPath\")",
                "runAsUser=0 (pod must not set runAsUser=0)",
            ]
        );
    }

    #[test]
    fn labels_name_levels_and_unknown_values_fail_closed() {
        assert_eq!(Level::from_label("privileged"), Level::Privileged);
        assert_eq!(Level::from_label("baseline"), Level::Baseline);
        assert_eq!(Level::from_label("restricted"), Level::Restricted);
        assert_eq!(Level::from_label("Baseline"), Level::Restricted);
        assert_eq!(Level::from_label(""), Level::Restricted);
    }

    #[test]
    fn only_pod_spec_changes_beyond_images_are_checked_again() {
        let a = json!({"metadata": {"name": "p"}, "spec": {"hostNetwork": true,
            "containers": [{"name": "c", "image": "one"}]}});
        let mut b = a.clone();
        b["spec"]["containers"][0]["image"] = json!("two");
        b["metadata"]["labels"] = json!({"x": "y"});
        assert_eq!(checked_part(&a), checked_part(&b));
        b["spec"]["hostPID"] = json!(true);
        assert_ne!(checked_part(&a), checked_part(&b));
    }
}
