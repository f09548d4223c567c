//! `metrics.k8s.io/v1beta1` pods (PodMetrics), what `kubectl top pods` reads: the CPU and
//! working-set memory of each running container of each pod, measured when asked (see
//! [`crate::runtime::usage`]; nothing is sampled in the background). Read-only: get and list,
//! with label and field selectors on the pods' metadata. A pod without a running container has
//! no metrics (404 on get), as with metrics-server.

use std::collections::BTreeMap;
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::objects::filter::Filter;
use crate::api::objects::{blocking, object_reply};
use crate::api::status::Status;
use crate::api::{ApiRequest, ApiResult, Reply};
use crate::generated::metrics_v1beta1::PodMetricsTranslator;
use crate::runtime::usage::{self, ContainerUsage};

/// The API version of the metrics kinds.
pub const API_VERSION: &str = "metrics.k8s.io/v1beta1";

/// The podmetrics translator.
pub struct PodMetrics;

/// A CPU quantity in nanocores (`"1500000n"`), as metrics-server writes it.
pub fn cpu(nanocores: u64) -> String {
    format!("{nanocores}n")
}

/// A memory quantity in kibibytes (`"2048Ki"`), as metrics-server writes it.
pub fn memory(bytes: u64) -> String {
    format!("{}Ki", bytes / 1024)
}

/// A window as a Go duration (`"1.004s"`), as `metav1.Duration` serializes.
pub fn window(d: Duration) -> String {
    let text = format!("{}.{:09}", d.as_secs(), d.subsec_nanos());
    format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
}

/// The list reply of `kind` holding `items`.
pub fn list_reply(kind: &str, items: Vec<Value>) -> ApiResult {
    Ok(Reply::json(
        StatusCode::OK,
        &json!({"kind": kind, "apiVersion": API_VERSION, "metadata": {}, "items": items}),
    ))
}

/// PodMetrics of the pods in the request's namespace (all with none), one per pod with
/// measured containers, carrying the pod's labels, selected by the request's filter. Without an
/// engine (`--engine none`) no container runs, so no pod has metrics.
async fn measure(req: &ApiRequest) -> Result<Vec<Value>, Status> {
    let filter = Filter::from_request(req)?;
    let Some(engine) = req.ctx.engine.clone() else {
        return Ok(Vec::new());
    };
    let ns = req.namespace.clone();
    let m = usage::pods(&engine, ns.as_deref()).await?;
    let mut by_pod: BTreeMap<(String, String), Vec<&ContainerUsage>> = BTreeMap::new();
    for c in &m.usage {
        by_pod
            .entry((c.namespace.clone(), c.pod.clone()))
            .or_default()
            .push(c);
    }
    let now = crate::api::meta::now();
    let mut items = Vec::new();
    for ((namespace, name), containers) in by_pod {
        let key = crate::store::ObjectKey::new("", "pods", &namespace, &name);
        let pod = blocking(|| req.ctx.store.get(&key)).ok().flatten();
        let mut metadata = json!({"name": name, "namespace": namespace, "creationTimestamp": now});
        if let Some(labels) = pod.as_ref().and_then(|p| p.pointer("/metadata/labels")) {
            metadata["labels"] = labels.clone();
        }
        let obj = json!({
            "kind": "PodMetrics",
            "apiVersion": API_VERSION,
            "metadata": metadata,
            "timestamp": now,
            "window": window(m.window),
            "containers": containers.iter().map(|c| json!({
                "name": c.container,
                "usage": {"cpu": cpu(c.nanocores), "memory": memory(c.memory)},
            })).collect::<Vec<_>>(),
        });
        if filter.matches(&obj) {
            items.push(obj);
        }
    }
    Ok(items)
}

#[async_trait::async_trait]
impl PodMetricsTranslator for PodMetrics {
    async fn get(&self, req: ApiRequest) -> ApiResult {
        let items = measure(&req).await?;
        let name = req.name.as_deref().unwrap_or_default();
        match items.first() {
            Some(obj) => object_reply(&req, StatusCode::OK, obj),
            None => Err(Status::not_found("metrics.k8s.io", "pods", name)),
        }
    }

    async fn list(&self, req: ApiRequest) -> ApiResult {
        list_reply("PodMetricsList", measure(&req).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_windows() {
        assert_eq!(cpu(1_500_000), "1500000n");
        assert_eq!(memory(4 * 1024 * 1024 + 100), "4096Ki");
        assert_eq!(window(Duration::from_millis(1004)), "1.004s");
        assert_eq!(window(Duration::from_secs(2)), "2s");
    }
}
