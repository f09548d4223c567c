//! Starting one run of a pod's container: its configuration (image, labels, the sandbox's
//! namespaces, then the PodSpec translation), creation, start, the postStart hook, and
//! removal of runs older than the previous one.

use std::time::Duration;

use bollard::models::{ContainerCreateBody, HostConfig, RestartPolicy, RestartPolicyNameEnum};
use bollard::query_parameters::{CreateContainerOptions, StartContainerOptions};
use serde_json::Value;

use super::containers::{self, Identity};
use super::reconcile::{
    Runs, Runtime, State, field_path, grace_seconds, hook_command, hook_sleep, str_at,
    unsupported_hook,
};
use super::spec;
use super::status::Waiting;
use crate::api::meta;
use crate::controllers::events::EventType;
use crate::engine::labels;

impl Runtime {
    /// Creates and starts run `attempt` of a container, removing runs older than the previous
    /// one. Problems become the container's waiting state.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run(
        &self,
        pod: &Value,
        uid: &str,
        sandbox_id: &str,
        pod_ip: &str,
        init: bool,
        r: &mut Runs,
        attempt: u32,
        st: &mut State,
    ) {
        let name = r.name();
        let fp = field_path(init, &name);
        if let Err(w) = self.image(pod, init, r, st).await {
            st.waiting.insert(name, w);
            return;
        }
        let pod_name = meta::meta_str(pod, "name").unwrap_or_default();
        let namespace = meta::meta_str(pod, "namespace").unwrap_or_default();
        let who = Identity {
            uid,
            pod: pod_name,
            namespace,
            container: Some(&name),
            role: if init {
                labels::ROLE_INIT
            } else {
                labels::ROLE_APP
            },
            attempt,
            sandbox_id: Some(sandbox_id),
        };
        let join = format!("container:{sandbox_id}");
        let strings = |key: &str| -> Option<Vec<String>> {
            r.spec.get(key).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
        };
        let mut body = ContainerCreateBody {
            image: Some(str_at(&r.spec, "/image").to_string()),
            // command and args as written (the image's own when absent); apply_container
            // replaces them with their `$(VAR)`-expanded form.
            entrypoint: strings("command"),
            cmd: strings("args").or_else(|| strings("command").map(|_| Vec::new())),
            labels: Some(containers::labels_for(&self.engine, &who)),
            host_config: Some(HostConfig {
                network_mode: Some(join.clone()),
                uts_mode: crate::engine::podman::uts_mode(&self.engine, &join),
                ipc_mode: Some(join),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::NO),
                    maximum_retry_count: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let resolved = st.resolved.clone().unwrap_or_default();
        let pod_dir = self.data_dir.join("pods").join(uid);
        let input = spec::ContainerInput {
            pod,
            container: &r.spec,
            init,
            sandbox_id,
            pod_ip,
            node_name: &self.node,
            host_ip: &self.host_ip,
            resolved: &resolved,
            pod_dir: &pod_dir,
        };
        match spec::apply_container(&mut body, &input) {
            Ok(warnings) => self.unsupported(pod, Some(&fp), &warnings).await,
            Err(e) => {
                self.recorder
                    .record(
                        pod,
                        Some(&fp),
                        EventType::Warning,
                        "Failed",
                        &format!("Error: {e}"),
                    )
                    .await;
                st.waiting.insert(
                    name,
                    Waiting {
                        reason: "CreateContainerConfigError".into(),
                        message: e,
                    },
                );
                return;
            }
        }
        let engine_name = containers::name(&name, pod_name, namespace, uid, attempt);
        let mounts = body
            .host_config
            .as_ref()
            .and_then(|h| h.mounts.clone())
            .unwrap_or_default();
        if let Err(e) = crate::engine::podman::create_mount_volumes(&self.engine, &mounts).await {
            tracing::warn!("creating the volumes of {engine_name}: {e}");
        }
        let docker = self.engine.docker();
        let opts = CreateContainerOptions {
            name: Some(engine_name.clone()),
            ..Default::default()
        };
        let created = match docker
            .create_container(Some(opts.clone()), body.clone())
            .await
        {
            Ok(c) => Ok(c),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => {
                // Left by a start that k2d did not finish: replace it.
                let _ = containers::remove(&self.engine, &engine_name).await;
                docker.create_container(Some(opts), body).await
            }
            Err(e) => Err(e),
        };
        let id = match created {
            Ok(c) => c.id,
            Err(e) => {
                let message = match e {
                    bollard::errors::Error::DockerResponseServerError { message, .. } => message,
                    other => other.to_string(),
                };
                self.recorder
                    .record(
                        pod,
                        Some(&fp),
                        EventType::Warning,
                        "Failed",
                        &format!("Error: {message}"),
                    )
                    .await;
                st.waiting.insert(
                    name,
                    Waiting {
                        reason: "CreateContainerError".into(),
                        message,
                    },
                );
                return;
            }
        };
        st.waiting.remove(&name);
        self.recorder
            .record(
                pod,
                Some(&fp),
                EventType::Normal,
                "Created",
                &format!("Created container {name}"),
            )
            .await;
        // Keep only the previous run (for `kubectl logs --previous`).
        for old in r.runs.iter().skip(1) {
            let _ = containers::remove(&self.engine, &old.id).await;
        }
        r.runs.truncate(1);
        if let Err(e) = docker
            .start_container(&id, None::<StartContainerOptions>)
            .await
        {
            let message = match e {
                bollard::errors::Error::DockerResponseServerError { message, .. } => message,
                other => other.to_string(),
            };
            self.recorder
                .record(
                    pod,
                    Some(&fp),
                    EventType::Warning,
                    "Failed",
                    &format!("Error: {message}"),
                )
                .await;
        } else {
            self.recorder
                .record(
                    pod,
                    Some(&fp),
                    EventType::Normal,
                    "Started",
                    &format!("Started container {name}"),
                )
                .await;
            if let Some(w) = unsupported_hook(&r.spec, "postStart") {
                self.unsupported(pod, Some(&fp), &[w]).await;
            }
            if let Some(secs) = hook_sleep(&r.spec, "postStart") {
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
            if let Some(cmd) = hook_command(&r.spec, "postStart") {
                let timeout = Duration::from_secs(grace_seconds(pod).max(1) as u64);
                if let Err(e) = containers::exec(&self.engine, &id, cmd, timeout).await {
                    self.recorder
                        .record(
                            pod,
                            Some(&fp),
                            EventType::Warning,
                            "FailedPostStartHook",
                            &format!("PostStartHook failed: {e}"),
                        )
                        .await;
                    let _ = containers::stop(&self.engine, &id, 0).await;
                }
            }
        }
        // Read back what the engine made of it, for the status.
        if let Ok(i) = self.engine.inspect_container(&id).await {
            r.runs.insert(0, containers::instance(&i));
        }
    }
}
