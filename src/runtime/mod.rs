//! The pod runtime: what a kubelet does on a node, done against the container engine. Every
//! pod becomes a sandbox container holding the pod's network, IPC and UTS namespaces, and one
//! container per init and app container joined to it; the pod's status is read back from the
//! engine.
//!
//! - [`spec`] — a PodSpec's containers, env and volumes as engine container configurations;
//! - [`probes`] — startup, liveness and readiness probes;
//! - [`logs`] — `pods/log`.
//!
//! Its own parts:
//!
//! - [`pause`], [`network`], [`sandbox`] — the sandbox image, the pod network, the sandbox;
//! - [`containers`] — a pod's engine containers, [`reconcile`] — pods against containers;
//! - [`pull`], [`launch`], [`terminate`] — images, starting a container, ending a pod;
//! - [`status`] — engine state as PodStatus, [`backoff`] — restart back-off;
//! - [`engine_events`] — the engine's event stream, [`adopt`] — plain containers as pods.

pub mod adopt;
pub mod backoff;
pub mod containers;
pub mod engine_events;
pub mod launch;
pub mod logs;
pub mod network;
pub mod pause;
pub mod probes;
pub mod pull;
pub mod reconcile;
pub mod sandbox;
pub mod spec;
pub mod status;
pub mod terminate;
pub mod usage;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::api::meta;
use crate::client::Client;
use crate::engine::{Engine, labels};
use crate::store::{Event, Store, Watch};
use engine_events::Signal;
use reconcile::{Msg, Runtime};

/// The namespace plain containers are shown in unless configured otherwise.
pub const DEFAULT_FOREIGN_NAMESPACE: &str = "default";

static FOREIGN_NAMESPACE: OnceLock<String> = OnceLock::new();

/// Sets the namespace plain `docker run` containers are shown in (`--foreign-namespace`);
/// the first call wins.
pub fn set_foreign_namespace(namespace: &str) {
    let _ = FOREIGN_NAMESPACE.set(namespace.to_string());
}

/// The namespace plain containers are shown in.
pub fn foreign_namespace() -> String {
    FOREIGN_NAMESPACE
        .get()
        .cloned()
        .unwrap_or_else(|| DEFAULT_FOREIGN_NAMESPACE.to_string())
}

/// The node's name (see [`crate::controllers::node::node_name`]).
pub use crate::controllers::node::node_name;

/// Starts the pod runtime: it runs until the process ends.
pub fn start(client: Client, engine: Arc<Engine>, data_dir: PathBuf) {
    tokio::spawn(async move {
        engine.wait_ready(std::time::Duration::from_secs(5)).await;
        let store = client.ctx().store.clone();
        let (rt, mut probe_rx) = Runtime::new(client, engine.clone(), data_dir);
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
        engine_events::start(engine.clone(), ev_tx);
        let mut pods = watch_pods(&rt, &store);
        let mut configmaps = store.watch("", "configmaps", None, None).ok();
        let mut secrets = store.watch("", "secrets", None, None).ok();
        loop {
            tokio::select! {
                ev = recv(&mut pods) => match ev {
                    Some(ev) => {
                        let pod = &*ev.object;
                        if adopt::is_foreign(pod) || unscheduled(pod) {
                            continue;
                        }
                        if let (Some(uid), Some(ns), Some(name)) = (
                            meta::meta_str(pod, "uid"),
                            meta::meta_str(pod, "namespace"),
                            meta::meta_str(pod, "name"),
                        ) {
                            rt.kick(uid, ns, name, Msg::Kick);
                        }
                    }
                    None => pods = watch_pods(&rt, &store),
                },
                ev = recv(&mut configmaps) => match ev {
                    Some(ev) => rt.wake_referrers(false, &ev.key.namespace, &ev.key.name),
                    None => configmaps = store.watch("", "configmaps", None, None).ok(),
                },
                ev = recv(&mut secrets) => match ev {
                    Some(ev) => rt.wake_referrers(true, &ev.key.namespace, &ev.key.name),
                    None => secrets = store.watch("", "secrets", None, None).ok(),
                },
                u = probe_rx.recv() => if let Some(u) = u {
                    let found = rt
                        .running_pods()
                        .into_iter()
                        .find(|(uid, _, _)| *uid == u.pod_uid);
                    if let Some((uid, ns, name)) = found {
                        rt.kick(&uid, &ns, &name, Msg::Probe(u));
                    }
                },
                s = ev_rx.recv() => match s {
                    Some(Signal::Container { id, attributes, .. }) => {
                        match attributes.get(labels::INSTANCE) {
                            Some(i) if *i == engine.instance => {
                                if let (Some(uid), Some(ns), Some(name)) = (
                                    attributes.get(labels::POD_UID),
                                    attributes.get(labels::POD_NAMESPACE),
                                    attributes.get(labels::POD_NAME),
                                ) {
                                    rt.kick(uid, ns, name, Msg::Kick);
                                }
                            }
                            Some(_) => {}
                            None => {
                                tokio::spawn(adopt::sync_one(rt.clone(), id));
                            }
                        }
                    }
                    Some(Signal::Resync) => {
                        let rt = rt.clone();
                        let store = store.clone();
                        tokio::spawn(async move { resync(rt, store).await });
                    }
                    None => return,
                },
            }
        }
    });
}

async fn recv(w: &mut Option<Watch>) -> Option<Event> {
    match w {
        Some(w) => w.recv().await,
        None => std::future::pending().await,
    }
}

/// A watch of every pod, after waking the worker of each pod stored now.
fn watch_pods(rt: &Arc<Runtime>, store: &Arc<Store>) -> Option<Watch> {
    let (items, _, watch) = match store.list_and_watch("", "pods", None) {
        Ok(x) => x,
        Err(e) => {
            tracing::error!("the pod runtime cannot watch pods: {e}");
            return None;
        }
    };
    for pod in &items {
        kick_pod(rt, pod);
    }
    Some(watch)
}

/// A pod not placed on the node (created while the node was cordoned): nothing runs it yet.
pub fn unscheduled(pod: &Value) -> bool {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
}

fn kick_pod(rt: &Arc<Runtime>, pod: &Value) {
    if adopt::is_foreign(pod) || unscheduled(pod) {
        return;
    }
    if let (Some(uid), Some(ns), Some(name)) = (
        meta::meta_str(pod, "uid"),
        meta::meta_str(pod, "namespace"),
        meta::meta_str(pod, "name"),
    ) {
        rt.kick(uid, ns, name, Msg::Kick);
    }
}

/// After (re)connecting to the engine: containers of pods that no longer exist go, every pod
/// is looked at again, plain containers are shown again.
async fn resync(rt: Arc<Runtime>, store: Arc<Store>) {
    let pods = match tokio::task::block_in_place(|| store.list("", "pods", None)) {
        Ok((items, _)) => items,
        Err(e) => {
            tracing::warn!("resync: listing pods: {e}");
            return;
        }
    };
    let uids: HashSet<&str> = pods
        .iter()
        .filter_map(|p| meta::meta_str(p, "uid"))
        .collect();
    match containers::list(&rt.engine, None).await {
        Ok(list) => {
            let orphans: HashSet<String> = list
                .iter()
                .filter_map(|c| containers::label(c, labels::POD_UID))
                .filter(|u| !uids.contains(u))
                .map(str::to_string)
                .collect();
            for uid in orphans {
                tracing::info!("removing the containers of pod {uid}, which no longer exists");
                if let Err(e) = rt.remove_all(&uid).await {
                    tracing::warn!("{e}");
                }
            }
        }
        Err(e) => tracing::warn!("resync: listing containers: {e}"),
    }
    for pod in &pods {
        kick_pod(&rt, pod);
    }
    rt.kick_all();
    adopt::resync(rt).await;
}
