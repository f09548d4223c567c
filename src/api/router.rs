//! From an authenticated HTTP request to an answer: the fixed endpoints (version, health,
//! discovery, OpenAPI) first, then the generated route table and the translators.

use futures_util::FutureExt;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;

use super::model::Verb;
use super::reply::{Body, Reply};
use super::request::{ApiRequest, Query};
use super::status::Status;
use super::{ApiResult, discovery, openapi, version};
use crate::generated::{self, RESOURCES, ROUTES, Translators};
use crate::security::auth::User;

/// Kubernetes' own limit on request bodies (3 MiB); larger writes could not be stored anyway.
pub const DEFAULT_BODY_LIMIT: usize = 3 * 1024 * 1024;

/// The routed part of the server: the translators and request limits.
pub struct Router {
    /// One translator per resource.
    pub translators: Translators,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// `host:port` to publish when the request has no `Host` header.
    pub server_address: String,
    /// The store and what else every request can reach.
    pub ctx: std::sync::Arc<super::objects::ApiContext>,
}

impl Router {
    /// Answers one request from an authenticated user.
    pub async fn handle(&self, req: Request<Incoming>, user: User) -> Response<Body> {
        // A bug must cost one request a 500, never the connection or the process.
        let result = std::panic::AssertUnwindSafe(self.route(req, user))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned());
                tracing::error!(
                    "request handler panicked: {}",
                    what.as_deref().unwrap_or("(no message)")
                );
                Err(Status::internal(
                    "k2d failed to handle this request; the error is in its log",
                ))
            });
        let mut resp = result.unwrap_or_else(Reply::from).into_response();
        resp.headers_mut()
            .entry(http::header::CACHE_CONTROL)
            .or_insert(http::HeaderValue::from_static("no-cache, private"));
        resp
    }

    async fn route(&self, mut req: Request<Incoming>, user: User) -> ApiResult {
        let path = req.uri().path().to_string();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let query = Query::parse(req.uri().query());
        let get = req.method() == Method::GET || req.method() == Method::HEAD;
        if get {
            let headers = req.headers();
            match segments.as_slice() {
                ["version"] => return Ok(Reply::json(StatusCode::OK, &json!(version::info()))),
                ["healthz" | "livez" | "readyz"] | ["healthz" | "livez" | "readyz", _] => {
                    return Ok(Reply::bytes(
                        StatusCode::OK,
                        "text/plain; charset=utf-8",
                        "ok",
                    ));
                }
                ["api"] => {
                    return Ok(discovery::api(
                        headers,
                        &discovery::server_address(headers, &self.server_address),
                    ));
                }
                ["apis"] => return Ok(discovery::apis(headers)),
                ["api", "v1"] => return discovery::resource_list("", "v1"),
                ["apis", group] => return discovery::group(group),
                ["apis", group, version] => return discovery::resource_list(group, version),
                ["openapi", "v3"] => return Ok(openapi::root()),
                ["openapi", "v3", rest @ ..] => {
                    return openapi::document(&rest.join("/"), &query, headers);
                }
                _ => {}
            }
        }
        let routed = self.resolve(req.method(), &segments, query)?;
        // Before the body is read, as a real server does: a caller without the right spends
        // no memory of k2d's on a body.
        self.authorize(&user, &routed)?;
        let (upgrade, body) = if routed.verb == Verb::Connect {
            (Some(hyper::upgrade::on(&mut req)), bytes::Bytes::new())
        } else {
            let limited = Limited::new(req.body_mut(), self.body_limit);
            match limited.collect().await {
                Ok(b) => (None, b.to_bytes()),
                Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                    return Err(Status::too_large(self.body_limit));
                }
                Err(e) => {
                    return Err(Status::bad_request(format!(
                        "reading the request body: {e}"
                    )));
                }
            }
        };
        let headers = std::mem::take(req.headers_mut());
        generated::dispatch(
            &self.translators,
            routed.request(headers, body, user, upgrade, &self.ctx),
        )
        .await
    }

    /// Answers a request made inside the process (controllers, the pod runtime): the same
    /// route table, translators and checks as an HTTP request, without the HTTP.
    pub async fn call(
        &self,
        method: &Method,
        path: &str,
        query: Query,
        headers: http::HeaderMap,
        body: bytes::Bytes,
        user: User,
    ) -> ApiResult {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let routed = self.resolve(method, &segments, query)?;
        self.authorize(&user, &routed)?;
        generated::dispatch(
            &self.translators,
            routed.request(headers, body, user, None, &self.ctx),
        )
        .await
    }

    /// 403 Forbidden unless the user may do what the request does.
    fn authorize(&self, user: &User, routed: &Routed) -> Result<(), Status> {
        if user
            .groups
            .iter()
            .any(|g| g == crate::security::auth::ADMIN_GROUP)
        {
            return Ok(());
        }
        let verb = match routed.verb {
            // Exec, attach and port-forward need `create`, whichever method opens them.
            Verb::Connect => "create",
            v => v.as_str(),
        };
        let attrs = crate::security::authz::Attributes {
            verb,
            group: routed.resource.group,
            resource: routed.resource.name,
            subresource: routed.route.subresource,
            namespace: routed.namespace.as_deref(),
            name: routed.name.as_deref(),
        };
        let store = &self.ctx.store;
        super::objects::blocking(|| crate::security::authz::authorize(store, user, &attrs))
            .map(|_| ())
            .map_err(|message| {
                Status::new(403, "Forbidden", message).with_details(super::status::StatusDetails {
                    name: attrs.name.unwrap_or_default().into(),
                    group: attrs.group.into(),
                    kind: attrs.resource.into(),
                    ..Default::default()
                })
            })
    }

    /// The route, resource and verb a method and path name.
    fn resolve(&self, method: &Method, segments: &[&str], query: Query) -> Result<Routed, Status> {
        let found = generated::match_path(segments).ok_or_else(Status::path_not_found)?;
        let route = found
            .routes
            .iter()
            .map(|i| &ROUTES[*i as usize])
            .find(|r| r.method == method.as_str())
            .ok_or_else(|| {
                Status::method_not_allowed(
                    "the server does not allow this method on the requested resource",
                )
            })?;
        let resource = &RESOURCES[route.resource as usize];
        let mut verb = route.verb;
        if verb == Verb::List && query.flag("watch") {
            if !resource.verbs.contains(&Verb::Watch) {
                return Err(Status::method_not_allowed(format!(
                    "{} does not support watch",
                    resource.qualified_name()
                )));
            }
            verb = Verb::Watch;
        }
        Ok(Routed {
            route,
            resource,
            verb,
            namespace: found.namespace.map(str::to_string),
            name: found.name.map(str::to_string),
            query,
        })
    }
}

/// A request matched to its route, before its headers and body are attached.
struct Routed {
    route: &'static super::model::Route,
    resource: &'static super::model::ResourceInfo,
    verb: Verb,
    namespace: Option<String>,
    name: Option<String>,
    query: Query,
}

impl Routed {
    fn request(
        self,
        headers: http::HeaderMap,
        body: bytes::Bytes,
        user: User,
        upgrade: Option<hyper::upgrade::OnUpgrade>,
        ctx: &std::sync::Arc<super::objects::ApiContext>,
    ) -> ApiRequest {
        ApiRequest {
            route: self.route,
            resource: self.resource,
            verb: self.verb,
            namespace: self.namespace,
            name: self.name,
            query: self.query,
            headers,
            body,
            user,
            upgrade,
            ctx: ctx.clone(),
        }
    }
}
