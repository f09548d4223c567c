//! The generated default of every translator method: stored-object semantics (see [`objects`]).
//! Writes to a resource that nothing in k2d acts on carry a warning that k2d stores the object
//! but does not act on it, so a person sees what was not done. [`ACTED_ON`] lists the resources
//! whose stored objects k2d's controllers, runtime, proxy or authorizer use.

use super::objects::{self, scale};
use super::status::Status;
use super::{ApiRequest, ApiResult};

/// (group, resource) of the kinds k2d acts on with plain stored-object semantics for their
/// writes: mounted or read into pods (ConfigMaps, Secrets), served by the proxy and DNS
/// (Services, Endpoints), run (Pods, Jobs, CronJobs), rolled out (Deployments, ReplicaSets,
/// StatefulSets, DaemonSets and their ControllerRevisions), provisioned (StorageClasses,
/// claims), authorizing (RBAC), issuing tokens (ServiceAccounts), describing the host (Nodes),
/// expired after `--event-ttl` (Events, which a cluster does nothing else with).
pub const ACTED_ON: &[(&str, &str)] = &[
    ("", "events"),
    ("events.k8s.io", "events"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "services"),
    ("", "endpoints"),
    ("", "serviceaccounts"),
    ("", "nodes"),
    ("", "pods"),
    ("", "persistentvolumeclaims"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "controllerrevisions"),
    ("storage.k8s.io", "storageclasses"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
];

/// `true` when k2d acts on objects of this resource.
pub fn acted_on(resource: &crate::api::model::ResourceInfo) -> bool {
    ACTED_ON.contains(&(resource.group, resource.name))
}

fn warn(req: &ApiRequest, result: ApiResult) -> ApiResult {
    if acted_on(req.resource) {
        return result;
    }
    result.map(|r| r.warn(objects::stored_only_warning(req.resource)))
}

/// The answer for a verb or subresource no translator serves.
pub fn unsupported(req: &ApiRequest) -> Status {
    Status::method_not_allowed(format!(
        "{} is not supported on {} by k2d",
        req.verb.as_str(),
        req.target_name()
    ))
}

/// Default `get`.
pub async fn get(req: ApiRequest) -> ApiResult {
    objects::list::get(&req.ctx, &req).await
}

/// Default `list`.
pub async fn list(req: ApiRequest) -> ApiResult {
    objects::list::list(&req.ctx, &req).await
}

/// Default `watch`.
pub async fn watch(req: ApiRequest) -> ApiResult {
    objects::watch::watch(&req.ctx, &req).await
}

/// Default `create`.
pub async fn create(req: ApiRequest) -> ApiResult {
    warn(&req, objects::create::create(&req.ctx, &req).await)
}

/// Default `update`.
pub async fn update(req: ApiRequest) -> ApiResult {
    warn(&req, objects::update::update(&req.ctx, &req).await)
}

/// Default `patch`.
pub async fn patch(req: ApiRequest) -> ApiResult {
    warn(&req, objects::update::patch(&req.ctx, &req).await)
}

/// Default `delete`.
pub async fn delete(req: ApiRequest) -> ApiResult {
    warn(&req, objects::delete::delete(&req.ctx, &req).await)
}

/// Default `deletecollection`.
pub async fn delete_collection(req: ApiRequest) -> ApiResult {
    warn(
        &req,
        objects::delete::delete_collection(&req.ctx, &req).await,
    )
}

/// Default `get` of a subresource: `status` is the object itself, `scale` its Scale view.
pub async fn get_subresource(req: ApiRequest) -> ApiResult {
    match req.route.subresource {
        Some("status") => objects::list::get(&req.ctx, &req).await,
        Some("scale") => scale::get(&req.ctx, &req).await,
        _ => Err(not_served(&req)),
    }
}

/// Default `update` of a subresource.
pub async fn update_subresource(req: ApiRequest) -> ApiResult {
    match req.route.subresource {
        Some("status") => warn(&req, objects::update::update(&req.ctx, &req).await),
        Some("scale") => warn(&req, scale::update(&req.ctx, &req).await),
        _ => Err(not_served(&req)),
    }
}

/// Default `patch` of a subresource.
pub async fn patch_subresource(req: ApiRequest) -> ApiResult {
    match req.route.subresource {
        Some("status") => warn(&req, objects::update::patch(&req.ctx, &req).await),
        Some("scale") => warn(&req, scale::patch(&req.ctx, &req).await),
        _ => Err(not_served(&req)),
    }
}

/// Default `create` on a subresource (`serviceaccounts/token`).
pub async fn create_subresource(req: ApiRequest) -> ApiResult {
    Err(not_served(&req))
}

/// Default `delete` of a subresource.
pub async fn delete_subresource(req: ApiRequest) -> ApiResult {
    Err(not_served(&req))
}

/// Default connect (exec, attach, portforward): the object must exist; k2d then says it cannot
/// do this for a stored object.
pub async fn connect_subresource(req: ApiRequest) -> ApiResult {
    objects::list::get(&req.ctx, &req).await?;
    Err(not_served(&req))
}

/// 405 for a subresource that only a translator can serve, naming what is missing.
fn not_served(req: &ApiRequest) -> Status {
    Status::method_not_allowed(format!(
        "k2d does not serve {} {} for stored objects",
        req.verb.as_str(),
        req.target_name()
    ))
}
