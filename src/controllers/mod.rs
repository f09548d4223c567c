//! What makes a single Docker host act as a cluster's control plane and node: controllers that
//! watch the store and act through the in-process API client ([`crate::client`]), as the
//! controllers of a real cluster act through its API server. Every controller is woken by
//! changes (store watches, the engine's event stream); none polls while nothing happens.

pub mod events;

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::router::Router;

/// Starts every controller on this runtime. They run until the process ends. `data_dir` is
/// k2d's data directory (the pod runtime keeps volume contents under it).
pub fn start(router: Arc<Router>, data_dir: PathBuf) {
    if let Some(engine) = router.ctx.engine.clone() {
        let client = crate::client::Client::new(router.clone(), "kubelet");
        crate::runtime::start(client, engine, data_dir);
    }
}
