//! Containers made with plain `docker run` (no `io.k2d.instance` label) shown as pods: one
//! stored Pod per container in the foreign namespace, named after the container, annotated with
//! its id, with the status the engine gives. k2d never changes such a container; only a DELETE
//! of its pod by name removes it. Containers of another k2d (another instance label) and the
//! container k2d itself runs in (label `io.k2d.self`) are left out entirely.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::ListContainersOptions;
use serde_json::{Value, json};

use super::containers;
use super::reconcile::Runtime;
use super::status::{self, ContainerView, PodView};
use crate::api::meta;
use crate::client::path;
use crate::engine::labels;

/// The annotation that ties a pod to the plain container it shows.
pub const CONTAINER_ID: &str = labels::FOREIGN_CONTAINER_ANNOTATION;

/// Whether the pod shows a plain container (rather than being run by k2d).
pub fn is_foreign(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(CONTAINER_ID))
        .is_some()
}

/// Plain containers whose pods were deleted by name, newest last. Their removal raises engine
/// events (kill, die) while the container still exists; without this list, syncing on such an
/// event could show the pod again after its DELETE succeeded. Container ids are never reused,
/// so entries only need a bound, not an expiry.
static REMOVED: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// How many removed container ids [`REMOVED`] remembers.
const REMOVED_KEPT: usize = 256;

/// Records that the container `id` is being removed with its pod: it is never shown again.
pub fn removing(id: &str) {
    let mut removed = REMOVED.lock().unwrap_or_else(|e| e.into_inner());
    if removed.len() == REMOVED_KEPT {
        removed.pop_front();
    }
    removed.push_back(id.to_string());
}

/// Undoes [`removing`] when the engine refused the removal: the container stays, and so does
/// its pod.
pub fn removal_failed(id: &str) {
    REMOVED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|r| r != id);
}

/// Whether container `id` (full or short) was removed with its pod.
fn was_removed(id: &str) -> bool {
    REMOVED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|r| same_container(r, id))
}

/// Whether two container ids, each full or shortened, name the same container.
fn same_container(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Whether a container with these labels was made by no k2d and is not a k2d itself.
pub fn is_plain(labels: Option<&HashMap<String, String>>) -> bool {
    !labels.is_some_and(|l| l.contains_key(labels::INSTANCE) || l.contains_key(labels::SELF))
}

/// A container name as a pod name (a DNS-1123 subdomain): lower-cased, other characters as
/// `-`, trimmed to start and end alphanumeric, at most 253 characters.
pub fn pod_name(container_name: &str, id: &str) -> String {
    let lowered: String = container_name
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed: String = lowered
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(253)
        .collect();
    let trimmed = trimmed
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if trimmed.is_empty() {
        format!("container-{}", id.chars().take(12).collect::<String>())
    } else {
        trimmed
    }
}

fn restart_policy(c: &ContainerInspectResponse) -> &'static str {
    use bollard::models::RestartPolicyNameEnum as P;
    match c
        .host_config
        .as_ref()
        .and_then(|h| h.restart_policy.as_ref())
        .and_then(|r| r.name)
    {
        Some(P::ALWAYS | P::UNLESS_STOPPED) => "Always",
        Some(P::ON_FAILURE) => "OnFailure",
        _ => "Never",
    }
}

/// The Pod object that shows a plain container, with its status.
pub fn pod_for(
    c: &ContainerInspectResponse,
    namespace: &str,
    node: &str,
    host_ip: &str,
    old_status: Option<&Value>,
) -> Value {
    let id = c.id.clone().unwrap_or_default();
    let name = pod_name(c.name.as_deref().unwrap_or_default(), &id);
    let image = c
        .config
        .as_ref()
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let policy = restart_policy(c);
    let spec_container = json!({"name": name, "image": image});
    let instance = containers::instance(c);
    let running = instance.running();
    let ip = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .and_then(|n| {
            let mut ips: Vec<&String> = n
                .values()
                .filter_map(|e| e.ip_address.as_ref())
                .filter(|ip| !ip.is_empty())
                .collect();
            ips.sort();
            ips.first().map(|s| s.to_string())
        });
    let host_mode = c
        .host_config
        .as_ref()
        .and_then(|h| h.network_mode.as_deref())
        == Some("host");
    let started = instance.started_at.clone();
    let view = PodView {
        restart_policy: policy.into(),
        init: vec![],
        app: vec![ContainerView {
            spec: spec_container.clone(),
            current: Some(instance),
            previous: None,
            waiting: None,
            ready: running,
            started: running,
        }],
        sandbox_ready: running,
        pod_ip: if host_mode {
            Some(host_ip.to_string())
        } else {
            ip
        },
        host_ip: host_ip.into(),
        start_time: started.or_else(|| c.created.as_deref().and_then(status::engine_time)),
        qos_class: "BestEffort".into(),
        now: meta::now(),
    };
    let mut st = status::pod_status(&view, old_status);
    st["containerStatuses"][0]["restartCount"] = json!(c.restart_count.unwrap_or(0));
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {CONTAINER_ID: id},
        },
        "spec": {
            "nodeName": node,
            "restartPolicy": policy,
            "containers": [spec_container],
        },
        "status": st,
    })
}

/// The stored pods that show plain containers: container id → (name, pod).
async fn shown(rt: &Runtime, namespace: &str) -> HashMap<String, Value> {
    let list = rt
        .client
        .list(&path("v1", "pods", Some(namespace), None, None), None)
        .await
        .unwrap_or_default();
    list.into_iter()
        .filter_map(|p| {
            let id = p
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(CONTAINER_ID))
                .and_then(Value::as_str)?
                .to_string();
            Some((id, p))
        })
        .collect()
}

/// Brings the pod of plain container `id` up to date: made, updated or removed.
pub async fn sync_one(rt: Arc<Runtime>, id: String) {
    let namespace = super::foreign_namespace();
    let inspected = rt.engine.inspect_container(&id).await;
    let pods = shown(&rt, &namespace).await;
    match inspected {
        Ok(c) => {
            let labels = c.config.as_ref().and_then(|c| c.labels.as_ref());
            if !is_plain(labels) {
                return;
            }
            let full_id = c.id.clone().unwrap_or(id);
            if was_removed(&full_id) {
                return;
            }
            show(&rt, &c, &namespace, pods.get(&full_id)).await;
        }
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            let gone: Vec<&Value> = pods
                .iter()
                .filter(|(cid, _)| same_container(cid, &id))
                .map(|(_, p)| p)
                .collect();
            for p in gone {
                unshow(&rt, p).await;
            }
        }
        Err(e) => tracing::debug!("inspecting container {id}: {e}"),
    }
}

async fn unshow(rt: &Runtime, pod: &Value) {
    let p = path(
        "v1",
        "pods",
        meta::meta_str(pod, "namespace"),
        meta::meta_str(pod, "name"),
        None,
    );
    let uid = meta::meta_str(pod, "uid").unwrap_or_default();
    let _ = rt
        .client
        .delete(
            &p,
            &json!({"gracePeriodSeconds": 0, "preconditions": {"uid": uid}}),
        )
        .await;
}

async fn show(
    rt: &Runtime,
    c: &ContainerInspectResponse,
    namespace: &str,
    existing: Option<&Value>,
) {
    let mut pod = pod_for(
        c,
        namespace,
        &rt.node,
        &rt.host_ip,
        existing.and_then(|e| e.get("status")),
    );
    let name = meta::meta_str(&pod, "name").unwrap_or_default().to_string();
    let collection = path("v1", "pods", Some(namespace), None, None);
    let object = path("v1", "pods", Some(namespace), Some(&name), None);
    match existing {
        Some(e) if meta::meta_str(e, "name") == Some(name.as_str()) => {
            if e.get("status") == pod.get("status") {
                return;
            }
            let mut updated = e.clone();
            updated["status"] = pod["status"].take();
            if let Some(m) = updated.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
                m.remove("managedFields");
            }
            let sp = path("v1", "pods", Some(namespace), Some(&name), Some("status"));
            if let Err(e) = rt.client.replace(&sp, &updated).await {
                tracing::debug!("status of {sp}: {e}");
            }
        }
        other => {
            // Renamed: the old object goes, the new one comes.
            if let Some(e) = other {
                unshow(rt, e).await;
            }
            match rt.client.get(&object).await {
                Ok(Some(p)) if !is_foreign(&p) => {
                    tracing::info!(
                        "container {name} is not shown as a pod: a pod of that name exists"
                    );
                    return;
                }
                Ok(Some(p)) => unshow(rt, &p).await,
                _ => {}
            }
            ensure_namespace(rt, namespace).await;
            let status = pod["status"].take();
            if let Some(o) = pod.as_object_mut() {
                o.remove("status");
            }
            match rt.client.create(&collection, &pod).await {
                Ok(mut created) => {
                    created["status"] = status;
                    if let Some(m) = created.get_mut("metadata").and_then(Value::as_object_mut) {
                        m.remove("resourceVersion");
                        m.remove("managedFields");
                    }
                    let sp = path("v1", "pods", Some(namespace), Some(&name), Some("status"));
                    if let Err(e) = rt.client.replace(&sp, &created).await {
                        tracing::debug!("status of {sp}: {e}");
                    }
                }
                Err(e) => tracing::debug!("showing container {name} as a pod: {e}"),
            }
        }
    }
}

/// Creates the foreign namespace when it does not exist (it is configurable, so it may be
/// none of the default ones).
async fn ensure_namespace(rt: &Runtime, namespace: &str) {
    let p = path("v1", "namespaces", None, Some(namespace), None);
    if let Ok(None) = rt.client.get(&p).await {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        if let Err(e) = rt
            .client
            .create(&path("v1", "namespaces", None, None, None), &ns)
            .await
            && e.code != 409
        {
            tracing::warn!("creating the namespace {namespace} for plain containers: {e}");
        }
    }
}

/// Shows every plain container and forgets the pods of containers that are gone.
pub async fn resync(rt: Arc<Runtime>) {
    let namespace = super::foreign_namespace();
    let opts = ListContainersOptions {
        all: true,
        ..Default::default()
    };
    let Ok(list) = rt.engine.list_containers(opts).await else {
        return;
    };
    let plain: HashSet<String> = list
        .iter()
        .filter(|c| is_plain(c.labels.as_ref()))
        .filter_map(|c| c.id.clone())
        .collect();
    for (id, pod) in shown(&rt, &namespace).await {
        if !plain.contains(&id) {
            unshow(&rt, &pod).await;
        }
    }
    for id in plain {
        sync_one(rt.clone(), id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_container_is_never_shown_again_unless_its_removal_failed() {
        let (gone, kept) = ("a1b2c3d4e5f6aaaa", "f6e5d4c3b2a1bbbb");
        removing(gone);
        removing(kept);
        removal_failed(kept);
        assert!(was_removed(gone) && was_removed(&gone[..12]));
        assert!(!was_removed(kept));
    }

    #[test]
    fn container_names_become_pod_names() {
        assert_eq!(pod_name("/My_App", "abc"), "my-app");
        assert_eq!(pod_name("web.1", "abc"), "web.1");
        assert_eq!(pod_name("__", "0123456789abcdef"), "container-0123456789ab");
        assert_eq!(pod_name(&"a".repeat(300), "x").len(), 253);
    }

    #[test]
    fn plain_means_no_instance_label() {
        assert!(is_plain(None));
        let theirs = HashMap::from([(labels::INSTANCE.to_string(), "x".to_string())]);
        assert!(!is_plain(Some(&theirs)));
        assert!(is_plain(Some(&HashMap::new())));
        let k2d = HashMap::from([(labels::SELF.to_string(), "true".to_string())]);
        assert!(!is_plain(Some(&k2d)));
    }

    #[test]
    fn a_plain_container_as_a_pod() {
        let c: ContainerInspectResponse = serde_json::from_value(json!({
            "Id": "0123456789abcdef",
            "Name": "/web",
            "Created": "2024-01-01T00:00:00.5Z",
            "Config": {"Image": "k2d-test/httpd:latest"},
            "Image": "sha256:feed",
            "RestartCount": 2,
            "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}},
            "State": {"Status": "running", "Running": true, "ExitCode": 0,
                "StartedAt": "2024-01-01T00:00:01.5Z", "FinishedAt": "0001-01-01T00:00:00Z"},
            "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.5"}}}
        }))
        .unwrap();
        let p = pod_for(&c, "default", "node", "10.0.0.1", None);
        assert_eq!(p["metadata"]["name"], "web");
        assert_eq!(
            p["metadata"]["annotations"][CONTAINER_ID],
            "0123456789abcdef"
        );
        assert_eq!(p["spec"]["restartPolicy"], "Always");
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(p["status"]["podIP"], "172.17.0.5");
        assert_eq!(p["status"]["containerStatuses"][0]["restartCount"], 2);
        assert_eq!(p["status"]["startTime"], "2024-01-01T00:00:01Z");
    }
}
