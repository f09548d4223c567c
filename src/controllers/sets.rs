//! Starts the StatefulSet and DaemonSet controllers and what wakes them: their own objects, the
//! pods they control (or would adopt), and, for DaemonSets, the node (its labels and taints
//! decide where their pods belong). Each watch starts with a full list, so every set is
//! reconciled once when k2d starts. They need only the API, so they run with `--engine none`.

use std::sync::Arc;

use serde_json::Value;

use super::daemonset::DaemonSetController;
use super::events::Recorder;
use super::ownership;
use super::queue::Queue;
use super::replicaset::Key;
use super::statefulset::StatefulSetController;
use super::wakeups::{self, follow, key};
use crate::client::{Client, path};
use crate::store::EventKind;

/// Starts both controllers writing through `client`, recording events as from `host`.
pub fn start(client: Client, host: &str) {
    let sts = StatefulSetController::new(
        client.clone(),
        Recorder::new(client.clone(), "statefulset-controller", host),
    );
    let ds = DaemonSetController::new(
        client.clone(),
        Recorder::new(client.clone(), "daemonset-controller", host),
    );
    let store = client.ctx().store.clone();
    let q = sts.queue.clone();
    tokio::spawn(follow(
        store.clone(),
        "apps",
        "statefulsets",
        move |_, obj| {
            queue_self(&q, &obj);
            std::future::ready(())
        },
    ));
    let q = ds.queue.clone();
    tokio::spawn(follow(
        store.clone(),
        "apps",
        "daemonsets",
        move |_, obj| {
            queue_self(&q, &obj);
            std::future::ready(())
        },
    ));
    let (c, q) = (client.clone(), ds.queue.clone());
    tokio::spawn(follow(store.clone(), "", "nodes", move |_, _| {
        let (c, q) = (c.clone(), q.clone());
        async move { queue_all(&c, &q).await }
    }));
    let (c, sq, dq) = (client, sts.queue.clone(), ds.queue.clone());
    tokio::spawn(follow(store, "", "pods", move |kind, obj: Arc<Value>| {
        let (c, sq, dq) = (c.clone(), sq.clone(), dq.clone());
        async move { pod_changed(&c, &sq, &dq, kind, &obj).await }
    }));
    tokio::spawn(sts.run());
    tokio::spawn(ds.run());
}

fn queue_self(queue: &Queue<Key>, obj: &Value) {
    if let Some(name) = crate::api::meta::meta_str(obj, "name") {
        queue.add(key(obj, name));
    }
}

/// Queues every DaemonSet (the node changed).
async fn queue_all(client: &Client, queue: &Queue<Key>) {
    if let Ok(all) = client
        .list(&path("apps/v1", "daemonsets", None, None, None), None)
        .await
    {
        for ds in &all {
            queue_self(queue, ds);
        }
    }
}

/// A pod changed: queue the set that controls it, or, for an orphan, the sets that select it.
async fn pod_changed(
    client: &Client,
    statefulsets: &Queue<Key>,
    daemonsets: &Queue<Key>,
    kind: EventKind,
    pod: &Value,
) {
    if let Some(name) = ownership::controller_name(pod, "StatefulSet") {
        statefulsets.add(key(pod, name));
    } else if let Some(name) = ownership::controller_name(pod, "DaemonSet") {
        daemonsets.add(key(pod, name));
    } else if ownership::controller_ref(pod).is_none() && kind != EventKind::Deleted {
        wakeups::selecting(client, "apps/v1", "statefulsets", pod, statefulsets).await;
        wakeups::selecting(client, "apps/v1", "daemonsets", pod, daemonsets).await;
    }
}
