//! From a PodSpec to engine container configurations: env (with `valueFrom` and `$(VAR)`
//! expansion), volumes and mounts, resources, security context, devices, and the sandbox's
//! network settings (ports, DNS, hostname, host aliases, sysctls). Pure translation: the
//! runtime creates what these functions describe. A field that cannot be honoured on the
//! engine is named in a warning, never silently dropped.

use std::collections::HashMap;
use std::path::Path;

use bollard::models::ContainerCreateBody;
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
}

/// Reads the ConfigMaps and Secrets a pod's env, envFrom, volumes and imagePullSecrets name.
/// Missing ones are left out (whether that is an error depends on `optional`, which
/// [`apply_container`] decides).
pub async fn resolve(client: &Client, pod: &Value) -> Result<Resolved, Status> {
    let _ = (client, pod);
    Ok(Resolved::default())
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

/// Completes the configuration of an app or init container, whose image, name, labels and
/// namespace joins (network, IPC, UTS of the sandbox) the runtime has set. Adds command and
/// args with `$(VAR)` expansion, workingDir, env and envFrom, mounts, resources, security
/// context, tty/stdin. Returns warnings for fields that cannot be honoured; `Err` is a
/// CreateContainerConfigError message (a missing ConfigMap key that is not optional, ...).
pub fn apply_container(
    body: &mut ContainerCreateBody,
    input: &ContainerInput<'_>,
) -> Result<Vec<String>, String> {
    let _ = (body, input);
    Ok(Vec::new())
}

/// Completes the configuration of a pod's sandbox: published ports (hostPort, hostIP,
/// protocol), hostNetwork/hostPID/hostIPC, hostname and subdomain, host aliases, DNS config,
/// sysctls. Returns warnings for fields that cannot be honoured.
pub fn apply_sandbox(body: &mut ContainerCreateBody, pod: &Value) -> Vec<String> {
    let _ = (body, pod);
    Vec::new()
}

/// Makes the contents of a pod's volumes in `pod_dir` (ConfigMap, Secret, downwardAPI and
/// projected files with their modes, emptyDir directories) before its containers are created,
/// and again when a ConfigMap or Secret it mounts changes. `Err` is a message for the pod's
/// events (FailedMount).
pub fn prepare_volumes(pod: &Value, resolved: &Resolved, pod_dir: &Path) -> Result<(), String> {
    let _ = (pod, resolved, pod_dir);
    Ok(())
}

/// The names of the ConfigMaps and Secrets a pod refers to (env, envFrom, volumes, projected
/// sources, imagePullSecrets): a change to one of them may change the pod's files.
pub fn references(pod: &Value) -> (Vec<String>, Vec<String>) {
    let _ = pod;
    (Vec::new(), Vec::new())
}

/// The registry credentials for pulling `image`, from the pod's imagePullSecrets
/// (`kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg`, `auth` or
/// username/password), if one of them matches the image's registry.
pub fn pull_credentials(
    pod: &Value,
    resolved: &Resolved,
    image: &str,
) -> Option<bollard::auth::DockerCredentials> {
    let _ = (pod, resolved, image);
    None
}
