//! The in-process API client of k2d's controllers and pod runtime. They change objects the way
//! a controller of a real cluster does, through the API with the same routes, translators,
//! validation, defaults, managed fields and watch events as any client, without HTTP.

use std::sync::Arc;

use http::Method;
use http_body_util::BodyExt;
use serde_json::Value;

use crate::api::request::Query;
use crate::api::router::Router;
use crate::api::status::Status;
use crate::security::auth::{ADMIN_GROUP, AUTHENTICATED_GROUP, User};

/// A client acting as one component (its name is the field manager of its writes).
#[derive(Clone)]
pub struct Client {
    router: Arc<Router>,
    manager: String,
    user: User,
}

/// The path of a resource's collection or object: `api_version` is `v1` or `group/version`,
/// `subresource` is appended when given.
pub fn path(
    api_version: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
    subresource: Option<&str>,
) -> String {
    let mut p = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    if let Some(ns) = namespace {
        p.push_str("/namespaces/");
        p.push_str(ns);
    }
    p.push('/');
    p.push_str(resource);
    if let Some(n) = name {
        p.push('/');
        p.push_str(n);
    }
    if let Some(s) = subresource {
        p.push('/');
        p.push_str(s);
    }
    p
}

/// The path of an object given as a JSON value of `resource` (its apiVersion, namespace and
/// name), with an optional subresource.
pub fn object_path(resource: &str, obj: &Value, subresource: Option<&str>) -> String {
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("v1");
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
    let name = obj.pointer("/metadata/name").and_then(Value::as_str);
    path(api_version, resource, ns, name, subresource)
}

impl Client {
    /// A client for the component `manager` (e.g. `kube-controller-manager`, `kubelet`), with
    /// the rights of a system component.
    pub fn new(router: Arc<Router>, manager: &str) -> Client {
        Client {
            router,
            manager: manager.to_string(),
            user: User {
                name: format!("system:{manager}"),
                groups: vec![ADMIN_GROUP.into(), AUTHENTICATED_GROUP.into()],
            },
        }
    }

    /// The store and engine the API serves from.
    pub fn ctx(&self) -> &Arc<crate::api::objects::ApiContext> {
        &self.router.ctx
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        content_type: &'static str,
        body: Option<&Value>,
    ) -> Result<Value, Status> {
        let mut q: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if method != Method::GET && method != Method::DELETE {
            q.push(("fieldManager".into(), self.manager.clone()));
        }
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(content_type),
        );
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        let body = body
            .map(|b| serde_json::to_vec(b).expect("a JSON value serializes"))
            .unwrap_or_default();
        let reply = self
            .router
            .call(
                &method,
                path,
                Query(q),
                headers,
                body.into(),
                self.user.clone(),
            )
            .await?;
        let bytes = reply
            .body
            .collect()
            .await
            .map_err(|e| Status::internal(format!("reading an in-process answer: {e}")))?
            .to_bytes();
        serde_json::from_slice(&bytes)
            .map_err(|e| Status::internal(format!("decoding an in-process answer: {e}")))
    }

    /// GET of one object; `None` when it does not exist.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, Status> {
        match self
            .send(Method::GET, path, &[], "application/json", None)
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// LIST of a collection, optionally narrowed by a label selector: the items.
    pub async fn list(
        &self,
        path: &str,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, Status> {
        let query: Vec<(&str, &str)> = label_selector
            .map(|s| vec![("labelSelector", s)])
            .unwrap_or_default();
        let list = self
            .send(Method::GET, path, &query, "application/json", None)
            .await?;
        Ok(match list {
            Value::Object(mut m) => match m.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
    }

    /// POST of a new object to a collection (or of a subresource such as `eviction`).
    pub async fn create(&self, path: &str, obj: &Value) -> Result<Value, Status> {
        self.send(Method::POST, path, &[], "application/json", Some(obj))
            .await
    }

    /// PUT of a whole object (or of its `status`): fails with 409 when its resourceVersion is
    /// no longer current.
    pub async fn replace(&self, path: &str, obj: &Value) -> Result<Value, Status> {
        self.send(Method::PUT, path, &[], "application/json", Some(obj))
            .await
    }

    /// JSON merge patch of an object (or of its `status`).
    pub async fn merge_patch(&self, path: &str, patch: &Value) -> Result<Value, Status> {
        self.send(
            Method::PATCH,
            path,
            &[],
            "application/merge-patch+json",
            Some(patch),
        )
        .await
    }

    /// DELETE of an object with these DeleteOptions (`{}` for the defaults); `None` when it was
    /// already gone.
    pub async fn delete(&self, path: &str, options: &Value) -> Result<Option<Value>, Status> {
        match self
            .send(Method::DELETE, path, &[], "application/json", Some(options))
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_of_core_and_group_resources() {
        assert_eq!(
            path("v1", "pods", Some("ns"), Some("p"), Some("status")),
            "/api/v1/namespaces/ns/pods/p/status"
        );
        assert_eq!(
            path("apps/v1", "deployments", Some("ns"), None, None),
            "/apis/apps/v1/namespaces/ns/deployments"
        );
        assert_eq!(
            path("v1", "nodes", None, Some("n"), None),
            "/api/v1/nodes/n"
        );
        let rs = json!({"apiVersion": "apps/v1", "metadata": {"namespace": "a", "name": "b"}});
        assert_eq!(
            object_path("replicasets", &rs, Some("scale")),
            "/apis/apps/v1/namespaces/a/replicasets/b/scale"
        );
    }
}
