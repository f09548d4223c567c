//! What wakes the workload controllers: store watches on Deployments, ReplicaSets and pods in
//! every namespace, each change mapped to the objects to reconcile (a pod to its controlling
//! ReplicaSet, a ReplicaSet to its Deployment, an orphan to whoever selects it). Each watch
//! starts with a full list, so every object is reconciled once when k2d starts.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::ownership;
use super::pod_state;
use super::queue::Queue;
use super::replicaset::Key;
use crate::api::meta;
use crate::api::selector::LabelSelector;
use crate::client::{Client, path};
use crate::store::{EventKind, Store};

/// Follows one resource in every namespace: the current objects (as Added), then each change,
/// for as long as the process runs. A watch that ends (it fell behind) starts over with a list.
pub async fn follow<F, Fut>(
    store: Arc<Store>,
    group: &'static str,
    resource: &'static str,
    mut on: F,
) where
    F: FnMut(EventKind, Arc<Value>) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.list_and_watch(group, resource, None)).await {
            Ok(Ok((items, _, mut watch))) => {
                for item in items {
                    on(EventKind::Added, Arc::new(item)).await;
                }
                while let Some(event) = watch.recv().await {
                    on(event.kind, event.object).await;
                }
            }
            Ok(Err(e)) => tracing::warn!("watching {resource} for the controllers: {e}"),
            Err(e) => tracing::warn!("watching {resource} for the controllers: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The queue key of the object named `name` in `obj`'s namespace.
pub fn key(obj: &Value, name: &str) -> Key {
    (
        meta::meta_str(obj, "namespace")
            .unwrap_or_default()
            .to_string(),
        name.to_string(),
    )
}

/// Queues the objects of `resource` in `obj`'s namespace whose selector matches `obj`.
pub async fn selecting(
    client: &Client,
    api_version: &str,
    resource: &str,
    obj: &Value,
    queue: &Queue<Key>,
) {
    let ns = meta::meta_str(obj, "namespace").unwrap_or_default();
    let Ok(candidates) = client
        .list(&path(api_version, resource, Some(ns), None, None), None)
        .await
    else {
        return;
    };
    for c in candidates {
        let selected = c
            .pointer("/spec/selector")
            .map(LabelSelector::from_json)
            .is_some_and(|s| s.is_ok_and(|s| !s.is_empty() && s.matches_object(obj)));
        if selected && let Some(name) = meta::meta_str(&c, "name") {
            queue.add(key(obj, name));
        }
    }
}

/// A Deployment changed: reconcile it.
pub fn deployment_changed(deployments: &Queue<Key>, obj: &Value) {
    if let Some(name) = meta::meta_str(obj, "name") {
        deployments.add(key(obj, name));
    }
}

/// A ReplicaSet changed: reconcile it and the Deployment that controls (or would adopt) it.
pub async fn replicaset_changed(
    client: &Client,
    replicasets: &Queue<Key>,
    deployments: &Queue<Key>,
    obj: &Value,
) {
    if let Some(name) = meta::meta_str(obj, "name") {
        replicasets.add(key(obj, name));
    }
    match ownership::controller_name(obj, "Deployment") {
        Some(d) => deployments.add(key(obj, d)),
        None if ownership::controller_ref(obj).is_none() => {
            selecting(client, "apps/v1", "deployments", obj, deployments).await
        }
        None => {}
    }
}

/// A pod changed: reconcile the ReplicaSet that controls (or would adopt) it. A pod that goes
/// away or finishes also wakes that ReplicaSet's Deployment (a Recreate rollout waits for the
/// old pods to be gone).
pub async fn pod_changed(
    client: &Client,
    replicasets: &Queue<Key>,
    deployments: &Queue<Key>,
    kind: EventKind,
    pod: &Value,
) {
    match ownership::controller_name(pod, "ReplicaSet") {
        Some(rs) => {
            replicasets.add(key(pod, rs));
            if kind == EventKind::Deleted || !pod_state::is_active(pod) {
                let ns = meta::meta_str(pod, "namespace").unwrap_or_default();
                if let Ok(Some(owner)) = client
                    .get(&path("apps/v1", "replicasets", Some(ns), Some(rs), None))
                    .await
                    && let Some(d) = ownership::controller_name(&owner, "Deployment")
                {
                    deployments.add(key(pod, d));
                }
            }
        }
        None if ownership::controller_ref(pod).is_none() && kind != EventKind::Deleted => {
            selecting(client, "apps/v1", "replicasets", pod, replicasets).await
        }
        None => {}
    }
}
