//! A pod's sandbox: the pause container holding the pod's network, IPC and UTS namespaces,
//! attached to the pod network (or the host's for hostNetwork pods), with the pod's hostname.

use bollard::models::{ContainerCreateBody, HostConfig, RestartPolicy, RestartPolicyNameEnum};
use bollard::query_parameters::CreateContainerOptions;
use serde_json::Value;

use super::containers::{self, Identity};
use super::{network, pause};
use crate::engine::{Engine, labels};

/// Whether the pod uses the host's network.
pub fn host_network(pod: &Value) -> bool {
    pod.pointer("/spec/hostNetwork")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The hostname of a pod: `spec.hostname`, else its name, cut to 63 characters.
pub fn hostname(pod: &Value) -> String {
    let h = pod
        .pointer("/spec/hostname")
        .and_then(Value::as_str)
        .or_else(|| pod.pointer("/metadata/name").and_then(Value::as_str))
        .unwrap_or("pod");
    h.chars().take(63).collect()
}

/// The sandbox's configuration before [`super::spec::apply_sandbox`] completes it.
pub fn base_config(engine: &Engine, pod: &Value, who: &Identity<'_>) -> ContainerCreateBody {
    let host = host_network(pod);
    ContainerCreateBody {
        image: Some(pause::image()),
        cmd: Some(vec![pause::CMD_LINE.into()]),
        labels: Some(containers::labels_for(engine, who)),
        // The engine refuses a hostname with the host's network.
        hostname: (!host).then(|| hostname(pod)),
        host_config: Some(HostConfig {
            network_mode: Some(if host {
                "host".into()
            } else {
                network::NAME.into()
            }),
            ipc_mode: Some("shareable".into()),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Creates and starts a sandbox for the pod (run number `attempt`): the pause image and the pod
/// network are made first when missing. Returns the container's id and the warnings of
/// [`super::spec::apply_sandbox`].
pub async fn create(
    engine: &Engine,
    pod: &Value,
    uid: &str,
    attempt: u32,
) -> Result<(String, Vec<String>), String> {
    pause::ensure(engine).await?;
    if !host_network(pod) {
        network::ensure(engine).await?;
    }
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespace = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let who = Identity {
        uid,
        pod: name,
        namespace,
        container: None,
        role: labels::ROLE_SANDBOX,
        attempt,
        sandbox_id: None,
    };
    let mut body = base_config(engine, pod, &who);
    let warnings = super::spec::apply_sandbox(&mut body, pod);
    let container_name = containers::name("POD", name, namespace, uid, attempt);
    let docker = engine.docker();
    let opts = CreateContainerOptions {
        name: Some(container_name.clone()),
        ..Default::default()
    };
    let created = match docker
        .create_container(Some(opts.clone()), body.clone())
        .await
    {
        Ok(c) => c,
        // A sandbox of this name left by an interrupted start: replace it.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => {
            containers::remove(engine, &container_name)
                .await
                .map_err(|e| e.to_string())?;
            docker
                .create_container(Some(opts), body)
                .await
                .map_err(|e| format!("creating the pod sandbox: {e}"))?
        }
        Err(e) => return Err(format!("creating the pod sandbox: {e}")),
    };
    if let Err(e) = docker
        .start_container(
            &created.id,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
    {
        let _ = containers::remove(engine, &created.id).await;
        return Err(format!("starting the pod sandbox: {e}"));
    }
    Ok((created.id, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostname_is_the_pod_name_or_spec_hostname() {
        assert_eq!(hostname(&json!({"metadata": {"name": "web"}})), "web");
        assert_eq!(
            hostname(&json!({"metadata": {"name": "web"}, "spec": {"hostname": "h"}})),
            "h"
        );
        let long = "a".repeat(80);
        assert_eq!(hostname(&json!({"metadata": {"name": long}})).len(), 63);
    }
}
