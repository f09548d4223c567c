//! `metrics.k8s.io/v1beta1` nodes (NodeMetrics), what `kubectl top node` reads: the host's CPU
//! and memory in use, measured when asked from `/proc` (see [`crate::runtime::usage::host`]).
//! Read-only: get and list; the one node is the Node k2d publishes (named after the host, so
//! measured with `--engine none` too).

use http::StatusCode;
use serde_json::{Value, json};

use super::podmetrics::{API_VERSION, cpu, list_reply, memory, window};
use crate::api::objects::filter::Filter;
use crate::api::objects::object_reply;
use crate::api::status::Status;
use crate::api::{ApiRequest, ApiResult};
use crate::generated::metrics_v1beta1::NodeMetricsTranslator;
use crate::runtime::usage;

/// The nodemetrics translator.
pub struct NodeMetrics;

/// The NodeMetrics of the node, if the request's filter selects it.
async fn measure(req: &ApiRequest) -> Result<Vec<Value>, Status> {
    let filter = Filter::from_request(req)?;
    let name = crate::runtime::node_name();
    let key = crate::store::ObjectKey::new("", "nodes", "", &name);
    let node = crate::api::objects::blocking(|| req.ctx.store.get(&key))
        .ok()
        .flatten();
    let mut metadata = json!({"name": name, "creationTimestamp": crate::api::meta::now()});
    if let Some(labels) = node.as_ref().and_then(|n| n.pointer("/metadata/labels")) {
        metadata["labels"] = labels.clone();
    }
    let probe = json!({"metadata": metadata});
    if !filter.matches(&probe) {
        return Ok(Vec::new());
    }
    let m = usage::host().await?;
    Ok(vec![json!({
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": metadata,
        "timestamp": crate::api::meta::now(),
        "window": window(m.window),
        "usage": {"cpu": cpu(m.usage.nanocores), "memory": memory(m.usage.memory)},
    })])
}

#[async_trait::async_trait]
impl NodeMetricsTranslator for NodeMetrics {
    async fn get(&self, req: ApiRequest) -> ApiResult {
        let items = measure(&req).await?;
        let name = req.name.as_deref().unwrap_or_default();
        match items.first() {
            Some(obj) => object_reply(&req, StatusCode::OK, obj),
            None => Err(Status::not_found("metrics.k8s.io", "nodes", name)),
        }
    }

    async fn list(&self, req: ApiRequest) -> ApiResult {
        list_reply("NodeMetricsList", measure(&req).await?)
    }
}
