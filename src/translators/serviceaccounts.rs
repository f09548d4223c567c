//! ServiceAccounts, with `serviceaccounts/token` (TokenRequest, `kubectl create token`): a
//! token signed by k2d for the service account, optionally bound to a pod or secret so it
//! stops working when that object goes. The pod runtime asks for the tokens it mounts the same
//! way a kubelet does.

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::objects::{self, blocking};
use crate::api::status::Status;
use crate::api::validation::{FieldError, invalid_status};
use crate::api::{ApiRequest, ApiResult, Reply, body, meta};
use crate::generated::core_v1::ServiceAccountTranslator;
use crate::security::tokens::{self, KubernetesClaim, Named};
use crate::store::ObjectKey;

/// The default token lifetime (one hour, as the API documents).
const DEFAULT_SECONDS: i64 = 3600;
/// The shortest lifetime a client may ask for.
const MIN_SECONDS: i64 = 600;

/// The serviceaccounts translator.
pub struct ServiceAccounts;

fn invalid(field: &str, value: Value, detail: &str, name: &str) -> Status {
    invalid_status(
        "TokenRequest",
        "authentication.k8s.io",
        name,
        &[FieldError::invalid(field, value, detail)],
    )
}

#[async_trait::async_trait]
impl ServiceAccountTranslator for ServiceAccounts {
    async fn create_token(&self, req: ApiRequest) -> ApiResult {
        let name = req.name.clone().unwrap_or_default();
        let ns = req.namespace.clone().unwrap_or_default();
        let (mut request, _) = body::decode(&req)?;
        if request
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("TokenRequest")
            != "TokenRequest"
        {
            return Err(Status::bad_request(format!(
                "the body must be a TokenRequest, not a {}",
                request["kind"]
            )));
        }
        let sa = objects::read_existing(&req.ctx, &req)?;
        let spec = request.get("spec").cloned().unwrap_or(json!({}));
        let seconds = match spec.get("expirationSeconds") {
            None | Some(Value::Null) => DEFAULT_SECONDS,
            Some(v) => v.as_i64().ok_or_else(|| {
                invalid(
                    "spec.expirationSeconds",
                    v.clone(),
                    "must be an integer",
                    &name,
                )
            })?,
        };
        if seconds < MIN_SECONDS {
            return Err(invalid(
                "spec.expirationSeconds",
                json!(seconds),
                "may not specify a duration less than 10 minutes",
                &name,
            ));
        }
        if seconds > 1 << 32 {
            return Err(invalid(
                "spec.expirationSeconds",
                json!(seconds),
                "may not specify a duration larger than 2^32 seconds",
                &name,
            ));
        }
        let audiences: Vec<String> = spec
            .get("audiences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut claim = KubernetesClaim {
            namespace: ns.clone(),
            serviceaccount: Named {
                name: name.clone(),
                uid: meta::meta_str(&sa, "uid").unwrap_or_default().to_string(),
            },
            pod: None,
            node: None,
        };
        let mut lifetime = seconds;
        if let Some(bound) = spec.get("boundObjectRef").filter(|b| b.is_object()) {
            let kind = bound["kind"].as_str().unwrap_or_default();
            let bound_name = bound["name"].as_str().unwrap_or_default();
            let resource = match kind {
                "Pod" => "pods",
                "Secret" => "secrets",
                other => {
                    return Err(invalid(
                        "spec.boundObjectRef.kind",
                        json!(other),
                        "supported values: \"Pod\", \"Secret\"",
                        &name,
                    ));
                }
            };
            let key = ObjectKey::new("", resource, &ns, bound_name);
            let obj = blocking(|| req.ctx.store.get(&key))
                .map_err(|e| objects::store_error(req.resource, bound_name, e))?
                .ok_or_else(|| Status::not_found("", resource, bound_name))?;
            let uid = meta::meta_str(&obj, "uid").unwrap_or_default().to_string();
            if let Some(want) = bound["uid"].as_str().filter(|u| !u.is_empty())
                && want != uid
            {
                return Err(Status::new(
                    409,
                    "Conflict",
                    format!(
                        "the UID in the bound object reference ({want}) does not match the UID in record ({uid}); the object might have been deleted and then recreated"
                    ),
                ));
            }
            request["spec"]["boundObjectRef"]["uid"] = json!(uid);
            if kind == "Pod" {
                claim.pod = Some(Named {
                    name: bound_name.to_string(),
                    uid,
                });
                if let Some(node) = obj.pointer("/spec/nodeName").and_then(Value::as_str) {
                    claim.node = Some(Named {
                        name: node.to_string(),
                        uid: String::new(),
                    });
                }
                // What a kubelet asks for is extended, as a cluster's API server extends it.
                if seconds == tokens::KUBELET_SECONDS {
                    lifetime = tokens::EXTENDED_SECONDS;
                }
            }
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = tokens::claims(claim, audiences.clone(), now, lifetime);
        let token = req
            .ctx
            .tokens
            .sign(&claims)
            .map_err(|e| Status::internal(e.to_string()))?;
        let expires = time::OffsetDateTime::from_unix_timestamp(claims.exp)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        request["apiVersion"] = json!("authentication.k8s.io/v1");
        request["kind"] = json!("TokenRequest");
        request["metadata"] =
            json!({"name": name, "namespace": ns, "creationTimestamp": meta::now()});
        request["spec"]["audiences"] = json!(claims.aud);
        request["spec"]["expirationSeconds"] = json!(seconds);
        request["status"] = json!({"token": token, "expirationTimestamp": expires});
        Ok(Reply::json(StatusCode::CREATED, &request))
    }
}
