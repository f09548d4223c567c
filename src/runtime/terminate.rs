//! The end of a pod: graceful termination when it is deleted (preStop hooks, the stop signal,
//! SIGKILL after the grace period), removal of its containers and files, and the final delete
//! of the pod object.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::containers;
use super::reconcile::{
    Runtime, State, field_path, grace_seconds, hook_command, hook_sleep, unsupported_hook,
};
use super::status::Instance;
use crate::api::meta;
use crate::client::path;
use crate::controllers::events::EventType;
use crate::engine::labels;

impl Runtime {
    /// Graceful termination of a pod being deleted: preStop hooks and SIGTERM to every running
    /// container, SIGKILL after the grace period, removal of all its containers, then the pod
    /// object itself.
    pub(super) async fn terminate(
        &self,
        pod: &Value,
        uid: &str,
        observed: &[(String, String, Instance, Value)],
        st: &mut State,
    ) -> Result<(), String> {
        st.probes.clear();
        let grace = grace_seconds(pod);
        let deadline = Instant::now() + Duration::from_secs(grace.max(0) as u64);
        let specs: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut stops = Vec::new();
        for (role, cname, inst, _) in observed {
            if role == labels::ROLE_SANDBOX || !inst.running() {
                continue;
            }
            let spec = specs
                .iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(cname))
                .cloned()
                .unwrap_or(Value::Null);
            let fp = field_path(role == labels::ROLE_INIT, cname);
            self.recorder
                .record(
                    pod,
                    Some(&fp),
                    EventType::Normal,
                    "Killing",
                    &format!("Stopping container {cname}"),
                )
                .await;
            let engine = self.engine.clone();
            let recorder = self.recorder.clone();
            let pod = pod.clone();
            let id = inst.id.clone();
            stops.push(async move {
                if let Some(w) = unsupported_hook(&spec, "preStop") {
                    recorder
                        .record(&pod, Some(&fp), EventType::Warning, "Unsupported", &w)
                        .await;
                }
                if let Some(cmd) = hook_command(&spec, "preStop") {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if let Err(e) =
                        containers::exec(&engine, &id, cmd, left.max(Duration::from_secs(1))).await
                    {
                        recorder
                            .record(
                                &pod,
                                Some(&fp),
                                EventType::Warning,
                                "FailedPreStopHook",
                                &format!("PreStopHook failed: {e}"),
                            )
                            .await;
                    }
                } else if let Some(secs) = hook_sleep(&spec, "preStop") {
                    let left = deadline.saturating_duration_since(Instant::now());
                    tokio::time::sleep(Duration::from_secs(secs).min(left)).await;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                let _ = containers::terminate(&engine, &id, left.as_secs() as i64).await;
            });
        }
        futures_util::future::join_all(stops).await;
        self.remove_all(uid).await?;
        let p = path(
            "v1",
            "pods",
            meta::meta_str(pod, "namespace"),
            meta::meta_str(pod, "name"),
            None,
        );
        self.client
            .delete(
                &p,
                &json!({"gracePeriodSeconds": 0, "preconditions": {"uid": uid}}),
            )
            .await
            .map_err(|e| format!("deleting pod {p}: {e}"))?;
        Ok(())
    }

    /// Removes the engine volumes made for pod `uid` alone (memory-backed emptyDirs, named
    /// after the pod's uid); claims' volumes are the storage controller's, never removed here.
    /// Found by name, not by their label: Podman 4.x drops the labels of a volume that a
    /// container's mount creates.
    async fn remove_volumes(&self, uid: &str) {
        let prefix = super::spec::mounts::memory_volume(uid, "");
        let filters = std::collections::HashMap::from([("name".to_string(), vec![prefix.clone()])]);
        let docker = self.engine.docker();
        let listed = docker
            .list_volumes(Some(bollard::query_parameters::ListVolumesOptions {
                filters: Some(filters),
            }))
            .await;
        let volumes = match listed {
            Ok(v) => v.volumes.unwrap_or_default(),
            Err(e) => {
                tracing::warn!("listing the volumes of pod {uid}: {e}");
                return;
            }
        };
        for v in volumes.into_iter().filter(|v| v.name.starts_with(&prefix)) {
            let opts = bollard::query_parameters::RemoveVolumeOptions { force: true };
            if let Err(e) = docker.remove_volume(&v.name, Some(opts)).await {
                tracing::warn!("removing volume {} of pod {uid}: {e}", v.name);
            }
        }
    }

    /// Removes every container of pod `uid` and its volume directory.
    pub async fn remove_all(&self, uid: &str) -> Result<(), String> {
        let list = containers::list(&self.engine, Some(uid))
            .await
            .map_err(|e| format!("listing containers: {e}"))?;
        // App and init containers first, the sandbox last.
        let mut ids: Vec<(bool, String)> = list
            .iter()
            .filter_map(|c| {
                let sandbox =
                    containers::label(c, labels::CONTAINER_ROLE) == Some(labels::ROLE_SANDBOX);
                c.id.clone().map(|id| (sandbox, id))
            })
            .collect();
        ids.sort();
        for (_, id) in ids {
            containers::remove(&self.engine, &id)
                .await
                .map_err(|e| format!("removing container {id}: {e}"))?;
        }
        self.remove_volumes(uid).await;
        let dir = self.data_dir.join("pods").join(uid);
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!("removing {}: {e}", dir.display());
        }
        Ok(())
    }
}
