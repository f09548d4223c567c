//! What makes a single Docker host act as a cluster's control plane and node: controllers that
//! watch the store and act through the in-process API client ([`crate::client`]), as the
//! controllers of a real cluster act through its API server. Every controller is woken by
//! changes (store watches, the engine's event stream); none polls while nothing happens.

pub mod endpoints;
pub mod events;
pub mod kubernetes_service;
pub mod node;
pub mod storage;
pub mod wakeups;

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::router::Router;
use crate::client::Client;

/// What the controllers need to know about the running k2d.
#[derive(Clone, Debug)]
pub struct ControllerOptions {
    /// k2d's data directory (the pod runtime keeps volume contents under it).
    pub data_dir: PathBuf,
    /// The port k2d serves the API on (the `kubernetes` Service reaches it).
    pub port: u16,
}

/// Starts every controller on this runtime. They run until the process ends.
pub fn start(router: Arc<Router>, options: ControllerOptions) {
    let _ = &options.data_dir;
    if let Some(engine) = router.ctx.engine.clone() {
        node::start(Client::new(router.clone(), "kubelet"), engine);
    }
    endpoints::start(Client::new(router.clone(), "endpoint-controller"));
    kubernetes_service::start(Client::new(router.clone(), "kube-apiserver"), options.port);
    storage::start(Client::new(
        router.clone(),
        "persistentvolume-binder-controller",
    ));
}
