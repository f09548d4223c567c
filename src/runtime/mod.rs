//! The pod runtime: what a kubelet does on a node, done against the container engine. Every
//! pod becomes a sandbox container holding the pod's network, IPC and UTS namespaces, and one
//! container per init and app container joined to it; the pod's status is read back from the
//! engine.
//!
//! - [`spec`]: a PodSpec's containers, env and volumes as engine container configurations;
//! - [`probes`]: startup, liveness and readiness probes;
//! - [`logs`]: serving `pods/log`.

pub mod logs;
pub mod probes;
pub mod spec;
