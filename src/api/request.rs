//! A request as translators see it: the route it matched, the resource, the verb, the path
//! parameters, the query, the headers, the body and the authenticated user.

use bytes::Bytes;
use http::HeaderMap;

use super::model::{ResourceInfo, Route, Verb};
use crate::security::auth::User;

/// The parsed query string, in order, percent-decoded.
#[derive(Clone, Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        Query(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a parameter (exec's `command` repeats).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter as Kubernetes decodes one: false when absent, `0` or `false` (any
    /// case), true for anything else (an empty value too).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    }
}

/// A request routed to a resource.
pub struct ApiRequest {
    /// The route of the spec it matched.
    pub route: &'static Route,
    /// The resource of that route.
    pub resource: &'static ResourceInfo,
    /// The verb (a list with `?watch=true` is a [`Verb::Watch`]).
    pub verb: Verb,
    /// `{namespace}` from the path.
    pub namespace: Option<String>,
    /// `{name}` from the path.
    pub name: Option<String>,
    /// Query parameters.
    pub query: Query,
    /// Request headers.
    pub headers: HeaderMap,
    /// The whole body (empty for upgrades, which keep theirs in `upgrade`).
    pub body: Bytes,
    /// Who is asking.
    pub user: User,
    /// The connection upgrade, for `Connect` routes.
    pub upgrade: Option<hyper::upgrade::OnUpgrade>,
    /// The store and what else every request can reach.
    pub ctx: std::sync::Arc<super::objects::ApiContext>,
}

impl ApiRequest {
    /// The subresource, if the route has one.
    pub fn subresource(&self) -> Option<&'static str> {
        self.route.subresource
    }

    /// `pods/log`, `deployments.apps/scale`, `deployments.apps`: how messages name the target.
    pub fn target_name(&self) -> String {
        match self.route.subresource {
            Some(s) => format!("{}/{s}", self.resource.qualified_name()),
            None => self.resource.qualified_name(),
        }
    }
}
