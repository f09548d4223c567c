//! From a PodSpec to engine container configurations: env (with `valueFrom` and `$(VAR)`
//! expansion), volumes and mounts, resources, security context, devices, and the sandbox's
//! network settings (ports, DNS, hostname, host aliases, sysctls). Pure translation: the
//! runtime creates what these functions describe. A field that cannot be honoured on the
//! engine is named in a warning, never silently dropped.
//!
//! - [`quantity`] holds Kubernetes resource quantities, exactly;
//! - [`expand`] holds `$(VAR)` references;
//! - [`fieldref`] holds downward API values (`fieldRef`, `resourceFieldRef`);
//! - [`mod@env`] holds `env` and `envFrom`;
//! - [`process`] holds command, args, workingDir, stdin and tty;
//! - [`resources`] holds limits and requests;
//! - [`security`] holds security contexts;
//! - [`sandbox`] holds the sandbox's ports, namespaces, hostname and DNS;
//! - [`mounts`] holds volumeMounts as engine mounts and devices;
//! - [`volumes`] holds the files of configMap, secret, downwardAPI, projected, emptyDir and
//!   hostPath volumes, written by [`atomic`];
//! - [`credentials`] holds imagePullSecrets;
//! - [`mod@references`] holds the ConfigMaps and Secrets a pod names.
//!
//! What lives where, for the runtime that cleans up after a pod:
//! - `<pod_dir>/volumes/{empty-dir,configmap,secret,downward-api,projected}/<volume>`: the
//!   pod's files (the pod directory is 0700; remove it with the pod);
//! - engine volume `k2d-emptydir-<pod uid>-<volume>` (labelled `io.k2d.pod.uid`): an emptyDir
//!   with medium Memory, a tmpfs shared by the pod's containers (remove it with the pod);
//! - engine volume `k2d-pvc-<namespace>-<claim>`: a persistentVolumeClaim's data, and
//!   `k2d-pvc-<namespace>-<pod>-<volume>` for a generic ephemeral volume (the storage piece's).

pub mod atomic;
pub mod credentials;
pub mod env;
pub mod expand;
pub mod fieldref;
pub mod mounts;
pub mod process;
pub mod quantity;
pub mod references;
pub mod resources;
pub mod sandbox;
pub mod security;
pub mod service_env;
pub mod volumes;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use std::collections::HashMap;
use std::path::Path;

use bollard::models::{ContainerCreateBody, HostConfig};
use serde_json::Value;

use crate::api::Status;
use crate::client::Client;

/// The objects a pod refers to (ConfigMaps and Secrets by name, in the pod's namespace), read
/// once before its containers are created.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// ConfigMaps by name.
    pub configmaps: HashMap<String, Value>,
    /// Secrets by name.
    pub secrets: HashMap<String, Value>,
    /// Service account tokens for the pod's projected `serviceAccountToken` sources, by
    /// (audience, expirationSeconds), issued through TokenRequest as a kubelet asks for them.
    pub tokens: HashMap<(String, i64), String>,
    /// The Services whose variables the pod's containers get (`KUBERNETES_SERVICE_HOST`, ...):
    /// those of its namespace when `enableServiceLinks` is not false, and `kubernetes`.
    pub services: Vec<Value>,
}

/// Reads the ConfigMaps and Secrets a pod's env, envFrom, volumes and imagePullSecrets name.
/// Missing ones are left out (whether that is an error depends on `optional`, which
/// [`apply_container`] decides).
pub async fn resolve(client: &Client, pod: &Value) -> Result<Resolved, Status> {
    references::resolve(client, pod).await
}

/// Where a container runs: what it needs besides its own spec.
pub struct ContainerInput<'a> {
    /// The pod.
    pub pod: &'a Value,
    /// The container's entry of `spec.containers` or `spec.initContainers`.
    pub container: &'a Value,
    /// `true` for an init container.
    pub init: bool,
    /// The engine id of the pod's sandbox container (whose namespaces it joins).
    pub sandbox_id: &'a str,
    /// The pod's IP (`status.podIP` for env).
    pub pod_ip: &'a str,
    /// The node's name (`spec.nodeName`) and address (`status.hostIP`).
    pub node_name: &'a str,
    /// The node's address.
    pub host_ip: &'a str,
    /// The ConfigMaps and Secrets the pod refers to.
    pub resolved: &'a Resolved,
    /// The pod's own directory for volume contents (made by [`prepare_volumes`]).
    pub pod_dir: &'a Path,
}

impl ContainerInput<'_> {
    /// The JSON path of the container in the pod (`spec.containers[1]`), for warnings.
    pub fn field_path(&self) -> String {
        let list = if self.init {
            "initContainers"
        } else {
            "containers"
        };
        let name = self.container.get("name").and_then(Value::as_str);
        let index = self
            .pod
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .position(|c| c.get("name").and_then(Value::as_str) == name)
            })
            .unwrap_or(0);
        format!("spec.{list}[{index}]")
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        self.container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Completes the configuration of an app or init container, whose image, name, labels and
/// namespace joins (network, IPC, UTS of the sandbox) the runtime has set. Adds command and
/// args with `$(VAR)` expansion, workingDir, env and envFrom, mounts, resources, security
/// context, tty/stdin. Variables already in `body.env` (the Kubernetes service variables, set
/// by the runtime before the call) come first: the container's `$(VAR)` references see them
/// and its own env and envFrom replace them, as in the kubelet. Returns warnings for fields that cannot be honoured; `Err` is a
/// CreateContainerConfigError message (a missing ConfigMap key that is not optional, ...).
///
/// Also sets the stop signal and timeout (`lifecycle.stopSignal`,
/// `terminationGracePeriodSeconds`) and the PID namespace: the host's with `hostPID`, the sandbox's with
/// `shareProcessNamespace`. Creates missing `subPath` directories of emptyDir and hostPath
/// volumes, as the kubelet does when it starts a container.
pub fn apply_container(
    body: &mut ContainerCreateBody,
    input: &ContainerInput<'_>,
) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let at = input.field_path();
    let base: Vec<(String, String)> = match &body.env {
        Some(given) => given
            .iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (e.clone(), String::new()),
            })
            .collect(),
        None => service_env::variables(&input.resolved.services),
    };
    let env = env::build(input, &base, &at, &mut warnings)?;
    process::apply(body, input.container, &env);
    process::apply_stop(body, input.pod, input.container);
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    resources::apply(host, input.container, &at, &mut warnings);
    security::apply(body, input, &at, &mut warnings)?;
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    mounts::apply(host, input, &env, &at, &mut warnings)?;
    let spec = input.pod.get("spec").unwrap_or(&Value::Null);
    if spec.get("hostPID").and_then(Value::as_bool) == Some(true) {
        host.pid_mode = Some("host".into());
    } else if spec.get("shareProcessNamespace").and_then(Value::as_bool) == Some(true) {
        host.pid_mode = Some(format!("container:{}", input.sandbox_id));
    }
    if !env.is_empty() {
        body.env = Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect());
    }
    Ok(warnings)
}

/// Completes the configuration of a pod's sandbox: published ports (hostPort, hostIP,
/// protocol), hostNetwork/hostPID/hostIPC, hostname and subdomain, host aliases, DNS config,
/// sysctls. Returns warnings for fields that cannot be honoured.
pub fn apply_sandbox(body: &mut ContainerCreateBody, pod: &Value) -> Vec<String> {
    let mut warnings = sandbox::apply(body, pod);
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    if let Some((nameservers, searches, options)) = crate::network::cluster_dns(ns) {
        let cluster = sandbox::ResolvConf {
            nameservers,
            searches,
            options,
        };
        warnings.extend(sandbox::apply_cluster_dns(body, pod, &cluster));
    }
    warnings
}

/// Makes the contents of a pod's volumes in `pod_dir` (ConfigMap, Secret, downwardAPI and
/// projected files with their modes, emptyDir directories) before its containers are created,
/// and again when a ConfigMap or Secret it mounts changes. `Err` is a message for the pod's
/// events (FailedMount).
pub fn prepare_volumes(pod: &Value, resolved: &Resolved, pod_dir: &Path) -> Result<(), String> {
    volumes::prepare(pod, resolved, pod_dir)
}

/// The names of the ConfigMaps and Secrets a pod refers to (env, envFrom, volumes, projected
/// sources, imagePullSecrets): a change to one of them may change the pod's files.
pub fn references(pod: &Value) -> (Vec<String>, Vec<String>) {
    references::names(pod)
}

/// The registry credentials for pulling `image`, from the pod's imagePullSecrets
/// (`kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg`, `auth` or
/// username/password), if one of them matches the image's registry.
pub fn pull_credentials(
    pod: &Value,
    resolved: &Resolved,
    image: &str,
) -> Option<bollard::auth::DockerCredentials> {
    credentials::for_image(pod, resolved, image)
}

/// The string at `key` of a JSON object, if it is one.
pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The array at `key` of a JSON object (empty when absent).
pub(crate) fn list_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `true` when `v[key]` is the boolean `true`.
pub(crate) fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool) == Some(true)
}
