//! Structural parsing of a Kubernetes API path of one group-version.
//!
//! After the `/api/v1` or `/apis/<group>/<version>` prefix comes an optional `watch` segment, then
//! either `namespaces/{namespace}/<resource>[/{name}[/<subresource>...]]` or
//! `<resource>[/{name}[/<subresource>...]]`. `/api/v1/namespaces/{name}` and
//! `/api/v1/namespaces/{name}/status` therefore belong to the resource `namespaces` itself.

/// What a path of a group-version's document addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiPath {
    /// The group-version's own resource list (`/api/v1/`, `/apis/apps/v1/`).
    Discovery,
    /// A path of one resource.
    Resource(ResourcePath),
}

/// A path of one resource: collection, object or subresource, maybe namespaced, maybe a watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePath {
    /// Under `/watch/`.
    pub watch: bool,
    /// Under `namespaces/{namespace}/`.
    pub namespaced: bool,
    /// Plural resource name.
    pub resource: String,
    /// Addresses one object (`{name}` follows the resource).
    pub object: bool,
    /// The subresource (first segment after `{name}`); `proxy/{path}` counts as `proxy`.
    pub subresource: Option<String>,
}

/// Parses `path` if it starts with `prefix` (`/api/v1`, `/apis/apps/v1`); `None` when it does not
/// or when its shape is not one of a resource's.
pub fn parse(path: &str, prefix: &str) -> Option<ApiPath> {
    let rest = path.strip_prefix(prefix)?;
    if rest == "/" || rest.is_empty() {
        return Some(ApiPath::Discovery);
    }
    let rest = rest.strip_prefix('/')?;
    let mut segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return None;
    }
    let watch = segs[0] == "watch";
    if watch {
        segs.remove(0);
    }
    let namespaced = segs.len() >= 3 && segs[0] == "namespaces" && segs[1] == "{namespace}";
    let segs = if namespaced { &segs[2..] } else { &segs[..] };
    let (resource, tail) = segs.split_first()?;
    if is_parameter(resource) {
        return None;
    }
    let (object, subresource) = match tail {
        [] => (false, None),
        [name] if is_parameter(name) => (true, None),
        [name, sub, ..] if is_parameter(name) && !is_parameter(sub) => {
            (true, Some(sub.to_string()))
        }
        _ => return None,
    };
    Some(ApiPath::Resource(ResourcePath {
        watch,
        namespaced,
        resource: resource.to_string(),
        object,
        subresource,
    }))
}

fn is_parameter(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path, "/api/v1") {
            Some(ApiPath::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn discovery() {
        assert_eq!(parse("/api/v1/", "/api/v1"), Some(ApiPath::Discovery));
        assert_eq!(
            parse("/apis/apps/v1/", "/apis/apps/v1"),
            Some(ApiPath::Discovery)
        );
        assert_eq!(parse("/apis/apps/v1/", "/api/v1"), None);
    }

    #[test]
    fn namespaced_pods() {
        let r = res("/api/v1/namespaces/{namespace}/pods");
        assert!(r.namespaced && !r.object && !r.watch && r.subresource.is_none());
        assert_eq!(r.resource, "pods");
        let r = res("/api/v1/namespaces/{namespace}/pods/{name}/log");
        assert!(r.namespaced && r.object);
        assert_eq!(r.subresource.as_deref(), Some("log"));
        let r = res("/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}");
        assert_eq!(r.subresource.as_deref(), Some("proxy"));
        let r = res("/api/v1/watch/namespaces/{namespace}/pods/{name}");
        assert!(r.watch && r.namespaced && r.object);
        let r = res("/api/v1/pods");
        assert!(!r.namespaced && !r.object);
        let r = res("/api/v1/watch/pods");
        assert!(r.watch && !r.namespaced);
        assert_eq!(r.resource, "pods");
    }

    #[test]
    fn namespaces_themselves() {
        for (path, object, sub, watch) in [
            ("/api/v1/namespaces", false, None, false),
            ("/api/v1/namespaces/{name}", true, None, false),
            (
                "/api/v1/namespaces/{name}/status",
                true,
                Some("status"),
                false,
            ),
            (
                "/api/v1/namespaces/{name}/finalize",
                true,
                Some("finalize"),
                false,
            ),
            ("/api/v1/watch/namespaces", false, None, true),
            ("/api/v1/watch/namespaces/{name}", true, None, true),
        ] {
            let r = res(path);
            assert_eq!(r.resource, "namespaces", "{path}");
            assert!(!r.namespaced, "{path}");
            assert_eq!(
                (r.object, r.subresource.as_deref(), r.watch),
                (object, sub, watch),
                "{path}"
            );
        }
    }

    #[test]
    fn odd_shapes_are_not_resources() {
        assert_eq!(parse("/api/v1/{name}", "/api/v1"), None);
        assert_eq!(parse("/api/v1/pods/x", "/api/v1"), None);
        assert_eq!(parse("/api/v1//pods", "/api/v1"), None);
        assert_eq!(parse("/api/v10/pods", "/api/v1"), None);
    }
}
