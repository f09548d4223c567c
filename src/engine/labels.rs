//! The labels k2d puts on what it creates in the engine. k2d finds its own containers, networks
//! and volumes by these labels, never by name; anything without them belongs to someone else.

/// Which k2d created it (the instance id, kept in the data directory). Containers of another
/// k2d on the same engine are neither adopted nor shown.
pub const INSTANCE: &str = "io.k2d.instance";
/// On the container k2d itself runs in (the k2d image sets it): such a container is never shown
/// as a pod, so it cannot be deleted through the API; `docker ps` shows it.
pub const SELF: &str = "io.k2d.self";
/// The uid of the pod a container belongs to.
pub const POD_UID: &str = "io.k2d.pod.uid";
/// The pod's name.
pub const POD_NAME: &str = "io.k2d.pod.name";
/// The pod's namespace.
pub const POD_NAMESPACE: &str = "io.k2d.pod.namespace";
/// The container's name in the pod spec (absent on the sandbox).
pub const CONTAINER_NAME: &str = "io.k2d.container.name";
/// What the container is in its pod: [`ROLE_SANDBOX`], [`ROLE_INIT`] or [`ROLE_APP`].
pub const CONTAINER_ROLE: &str = "io.k2d.container.role";
/// The container that holds a pod's network, IPC and UTS namespaces.
pub const ROLE_SANDBOX: &str = "sandbox";
/// An init container.
pub const ROLE_INIT: &str = "init";
/// An app container.
pub const ROLE_APP: &str = "app";
/// A digest of the container spec the container was created from; a different digest means
/// the spec changed and the container is replaced.
pub const SPEC_HASH: &str = "io.k2d.container.spec-hash";
/// Which run of a container this is: 0 for the first, one more for every restart (the pod
/// status' `restartCount` is recomputed from it after k2d restarts).
pub const ATTEMPT: &str = "io.k2d.container.attempt";
/// The engine id of the sandbox whose namespaces an app or init container joined: a container
/// joined to an older sandbox is restarted into the current one.
pub const SANDBOX_ID: &str = "io.k2d.sandbox.id";

/// The annotation on the Pod k2d shows for a container it did not create: the container's id.
pub const FOREIGN_CONTAINER_ANNOTATION: &str = "k2d.io/container-id";
