//! What makes a single Docker host act as a cluster's control plane and node: controllers that
//! watch the store and act through the in-process API client ([`crate::client`]), as the
//! controllers of a real cluster act through its API server. Every controller is woken by
//! changes (store watches, the engine's event stream); none polls while nothing happens.

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpoints;
pub mod event_expiry;
pub mod events;
pub mod job;
pub mod kubernetes_service;
pub mod node;
pub mod ownership;
pub mod pod_control;
pub mod pod_state;
pub mod queue;
pub mod replicaset;
pub mod revisions;
pub mod serviceaccounts;
pub mod sets;
pub mod statefulset;
pub mod storage;
pub mod template_hash;
pub mod wakeups;
pub mod watches;

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::router::Router;
use crate::client::Client;
use deployment::DeploymentController;
use events::Recorder;
use replicaset::ReplicaSetController;

/// The field manager (and user) the workload controllers write as.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// What the controllers need to know about the running k2d.
#[derive(Clone, Debug)]
pub struct ControllerOptions {
    /// k2d's data directory (the pod runtime keeps volume contents under it).
    pub data_dir: PathBuf,
    /// The port k2d serves the API on (the `kubernetes` Service reaches it).
    pub port: u16,
    /// How long an Event is kept after its last write (`--event-ttl`).
    pub event_ttl: std::time::Duration,
}

/// Starts every controller on this runtime. They run until the process ends.
pub fn start(router: Arc<Router>, options: ControllerOptions) {
    let ControllerOptions {
        data_dir,
        port,
        event_ttl,
    } = options;
    event_expiry::start(Client::new(router.clone(), "kube-apiserver"), event_ttl);
    let ca = std::fs::read_to_string(data_dir.join("ca.crt")).unwrap_or_default();
    serviceaccounts::start(
        crate::client::Client::new(router.clone(), "kube-controller-manager"),
        ca,
    );
    if let Some(engine) = router.ctx.engine.clone() {
        node::start(
            crate::client::Client::new(router.clone(), "kubelet"),
            engine.clone(),
        );
        crate::network::start(crate::client::Client::new(router.clone(), "kube-proxy"));
        crate::runtime::start(
            crate::client::Client::new(router.clone(), "kubelet"),
            engine,
            data_dir,
        );
    }
    start_workload_controllers(&router);
    sets::start(
        Client::new(router.clone(), CONTROLLER_MANAGER),
        &host_name(),
    );
    endpoints::start(Client::new(router.clone(), "endpoint-controller"));
    kubernetes_service::start(Client::new(router.clone(), "kube-apiserver"), port);
    storage::start(Client::new(
        router.clone(),
        "persistentvolume-binder-controller",
    ));
}

/// The ReplicaSet, Deployment, Job and CronJob controllers. They need only the API, so they run with
/// `--engine none` too.
fn start_workload_controllers(router: &Arc<Router>) {
    let client = Client::new(router.clone(), CONTROLLER_MANAGER);
    let host = host_name();
    let rs = ReplicaSetController::new(
        client.clone(),
        Recorder::new(client.clone(), "replicaset-controller", &host),
    );
    let dc = DeploymentController::new(
        client.clone(),
        Recorder::new(client.clone(), "deployment-controller", &host),
    );
    let store = client.ctx().store.clone();
    let (rsq, dq) = (rs.queue.clone(), dc.queue.clone());
    tokio::spawn(wakeups::follow(
        store.clone(),
        "apps",
        "deployments",
        move |_, obj| {
            wakeups::deployment_changed(&dq, &obj);
            std::future::ready(())
        },
    ));
    let (c, rsq2, dq) = (client.clone(), rs.queue.clone(), dc.queue.clone());
    tokio::spawn(wakeups::follow(
        store.clone(),
        "apps",
        "replicasets",
        move |_, obj| {
            let (c, rsq, dq) = (c.clone(), rsq2.clone(), dq.clone());
            async move { wakeups::replicaset_changed(&c, &rsq, &dq, &obj).await }
        },
    ));
    let (c, dq) = (client.clone(), dc.queue.clone());
    tokio::spawn(wakeups::follow(store, "", "pods", move |kind, obj| {
        let (c, rsq, dq) = (c.clone(), rsq.clone(), dq.clone());
        async move { wakeups::pod_changed(&c, &rsq, &dq, kind, &obj).await }
    }));
    tokio::spawn(rs.run());
    tokio::spawn(dc.run());
    job::start(
        client.clone(),
        Recorder::new(client.clone(), "job-controller", &host),
    );
    cronjob::start(
        client.clone(),
        Recorder::new(client.clone(), "cronjob-controller", &host),
    );
}

/// This host's name, for the `source.host` of events.
fn host_name() -> String {
    node::node_name()
}
