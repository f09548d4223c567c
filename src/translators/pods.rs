//! Pods: run by the pod runtime when k2d has an engine. A new pod is bound to this node
//! (`spec.nodeName`); a DELETE is graceful (the pod is marked with `deletionTimestamp` and
//! stays until the runtime has stopped and removed its containers, then the runtime deletes it
//! with grace period 0); a DELETE with grace period 0 removes the object at once and the
//! runtime removes the containers afterwards. A pod that shows a plain `docker run` container
//! is deleted by removing that container, and only when it is deleted by name (a collection
//! delete leaves it). Without an engine, pods are stored objects.

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::objects::delete::{Outcome, delete_object};
use crate::api::objects::filter::Filter;
use crate::api::objects::options::{DeleteOptions, delete_options};
use crate::api::objects::{
    self, ApiContext, CONFLICT_RETRIES, blocking, is_write_conflict, key, object_reply, store_error,
};
use crate::api::status::Status;
use crate::api::{ApiRequest, ApiResult, Reply, meta, stored};
use crate::generated::core_v1::PodTranslator;
use crate::runtime::adopt;

/// The pods translator.
pub struct Pods;

pub use crate::api::objects::delete::pod_grace_period as grace_period;

/// Deletes one pod as a kubelet-backed API server does.
async fn delete_pod(
    ctx: &ApiContext,
    req: &ApiRequest,
    pod: &Value,
    opts: &DeleteOptions,
) -> Result<Outcome, Status> {
    let resource = req.resource;
    if adopt::is_foreign(pod) {
        // The user asked for this pod by name: its container goes with it.
        if !opts.dry_run
            && let (Some(engine), Some(id)) = (
                ctx.engine.as_ref(),
                pod.pointer("/metadata/annotations")
                    .and_then(|a| a.get(adopt::CONTAINER_ID))
                    .and_then(Value::as_str),
            )
        {
            adopt::removing(id);
            if let Err(e) = crate::runtime::containers::remove(engine, id).await {
                adopt::removal_failed(id);
                return Err(crate::engine::status(&e));
            }
        }
        return match delete_object(ctx, resource, pod, opts) {
            // The runtime saw the container go and removed the pod first.
            Err(e) if e.code == 404 => Ok(Outcome::Deleted(pod.clone())),
            other => other,
        };
    }
    delete_object(ctx, resource, pod, opts)
}

/// What the scheduler does to a new pod on the single node: binds it (`spec.nodeName`), or
/// leaves it Pending and unschedulable while the node is cordoned.
fn scheduler(req: &ApiRequest) -> impl FnOnce(&mut Value) + use<> {
    let node = crate::runtime::node_name();
    // A cordoned node takes no new pods: they stay Pending, unscheduled, until it is
    // uncordoned (see controllers::node). A node not yet published takes them.
    let node_key = crate::store::ObjectKey::new("", "nodes", "", &node);
    let cordoned = blocking(|| req.ctx.store.get(&node_key))
        .ok()
        .flatten()
        .is_some_and(|n| !crate::controllers::node::schedulable(Some(&n)));
    move |pod: &mut Value| {
        let empty = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if !empty {
            return;
        }
        if cordoned {
            pod["status"] = json!({"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "lastProbeTime": null, "lastTransitionTime": crate::api::meta::now(),
                "message": "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
            }]});
        } else if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("nodeName".into(), json!(node));
            // As the API server does on create: a new pod is Pending until its kubelet says
            // more (here: until the runtime reaches the engine, which may be down).
            if !pod["status"].is_object() {
                pod["status"] = json!({});
            }
            if pod.pointer("/status/phase").is_none() {
                pod["status"]["phase"] = json!("Pending");
            }
        }
    }
}

#[async_trait::async_trait]
impl PodTranslator for Pods {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::create(req).await;
        }
        let schedule = scheduler(&req);
        objects::create::create_with(&req.ctx, &req, schedule).await
    }

    /// A pod that server-side apply creates (Helm 4 creates its test pods so) is scheduled as
    /// a POSTed one is.
    async fn patch(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::patch(req).await;
        }
        let schedule = scheduler(&req);
        objects::update::patch_with(&req.ctx, &req, schedule).await
    }

    async fn delete(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::delete(req).await;
        }
        let opts = delete_options(&req)?;
        let mut attempt = 0;
        let mut last: Option<Value> = None;
        loop {
            let pod = match (objects::read_existing(&req.ctx, &req), last) {
                (Ok(pod), _) => pod,
                // Gone while retrying (the runtime removed the pod of a plain container
                // whose container this delete removed): deleted.
                (Err(e), Some(previous)) if e.code == 404 => {
                    return object_reply(&req, StatusCode::OK, &previous);
                }
                (Err(e), _) => return Err(e),
            };
            last = Some(pod.clone());
            match delete_pod(&req.ctx, &req, &pod, &opts).await {
                Ok(outcome) => return object_reply(&req, StatusCode::OK, outcome.object()),
                // The runtime wrote the pod's status meanwhile: read it again, as the real
                // server retries a delete on a concurrent update.
                Err(e) if is_write_conflict(&e) && attempt < CONFLICT_RETRIES => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    async fn delete_collection(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::delete_collection(req).await;
        }
        let opts = delete_options(&req)?;
        let filter = Filter::from_request(&req)?;
        let (items, revision, _) = objects::list::select(&req.ctx, &req, &filter, None)?;
        let mut deleted = Vec::new();
        for pod in &items {
            // A plain container is removed only when its pod is deleted by name; its pod
            // would come back at once anyway.
            if adopt::is_foreign(pod) {
                continue;
            }
            let mut result = delete_pod(&req.ctx, &req, pod, &opts).await;
            for _ in 0..CONFLICT_RETRIES {
                if !result.as_ref().is_err_and(is_write_conflict) {
                    break;
                }
                let k = key(
                    req.resource,
                    meta::meta_str(pod, "namespace"),
                    meta::meta_str(pod, "name").unwrap_or_default(),
                );
                let fresh = blocking(|| req.ctx.store.get(&k))
                    .map_err(|e| store_error(req.resource, &k.name, e))?;
                let Some(fresh) = fresh else {
                    result = Err(Status::not_found("", "pods", &k.name));
                    break;
                };
                result = delete_pod(&req.ctx, &req, &fresh, &opts).await;
            }
            match result {
                Ok(o) => deleted.push(o.object().clone()),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Reply::json(
            StatusCode::OK,
            &json!({
                "kind": "PodList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": revision.to_string()},
                "items": deleted,
            }),
        ))
    }

    async fn get_log(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::get_subresource(req).await;
        }
        crate::runtime::logs::serve(&req).await
    }

    async fn connect_exec(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::connect_subresource(req).await;
        }
        crate::streaming::exec::serve_exec(req).await
    }

    async fn connect_attach(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::connect_subresource(req).await;
        }
        crate::streaming::exec::serve_attach(req).await
    }

    async fn connect_portforward(&self, req: ApiRequest) -> ApiResult {
        if req.ctx.engine.is_none() {
            return stored::connect_subresource(req).await;
        }
        crate::streaming::portforward::serve(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_period_from_request_then_pod_then_default() {
        let mut opts = DeleteOptions::background();
        assert_eq!(grace_period(&opts, &json!({})), 30);
        let pod = json!({"spec": {"terminationGracePeriodSeconds": 3}});
        assert_eq!(grace_period(&opts, &pod), 3);
        opts.grace_period = Some(0);
        assert_eq!(grace_period(&opts, &pod), 0);
    }
}
