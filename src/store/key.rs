//! Object keys and their byte encoding in the database.
//!
//! A key is encoded as `group \0 resource \0 namespace \0 name`. Kubernetes
//! names, namespaces, groups and resources never contain a NUL byte, and NUL
//! sorts before every other byte, so byte order of encoded keys is exactly the
//! tuple order (group, resource, namespace, name). A range scan over
//! `group \0 resource \0` gives every object of a resource ordered by
//! namespace then name (like etcd's `/registry/<resource>/<ns>/<name>`, without
//! its `a/` versus `a-b/` ordering quirk); a scan over
//! `group \0 resource \0 namespace \0` gives one namespace in name order.

use std::fmt;

use super::error::StoreError;

/// Separator between key components; sorts before every byte a name can hold.
const SEP: u8 = 0;

/// Identifies one stored object.
///
/// `group` is empty for the core group; `namespace` is empty for
/// cluster-scoped resources. `resource` is the plural lower-case resource name
/// (`deployments`), as in the URL path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// API group (`""` for core, `apps`, ...).
    pub group: String,
    /// Plural resource name (`pods`, `deployments`, ...).
    pub resource: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl ObjectKey {
    /// A key for a namespaced object (or a cluster-scoped one with `namespace` empty).
    pub fn new(
        group: impl Into<String>,
        resource: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        ObjectKey {
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// A key for a cluster-scoped object.
    pub fn cluster(
        group: impl Into<String>,
        resource: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self::new(group, resource, String::new(), name)
    }

    /// The list position of this object, `namespace/name` (`/name` when
    /// cluster-scoped): what [`Store::list_from`](super::Store::list_from)
    /// takes as `start_after` to continue after this object.
    pub fn position(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether this key belongs to `group`/`resource`, and to `namespace` if given.
    pub fn matches(&self, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        self.group == group
            && self.resource == resource
            && namespace.is_none_or(|ns| self.namespace == ns)
    }

    /// The encoded database key; refuses components that would make it ambiguous.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, StoreError> {
        if self.name.is_empty() {
            return Err(StoreError::Invalid("object name must not be empty".into()));
        }
        check_name_part("name", &self.name)?;
        let mut key = prefix(&self.group, &self.resource, Some(&self.namespace))?;
        key.extend_from_slice(self.name.as_bytes());
        Ok(key)
    }

    /// Approximate heap bytes held by this key.
    pub(crate) fn heap_size(&self) -> usize {
        self.group.len() + self.resource.len() + self.namespace.len() + self.name.len()
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        if self.namespace.is_empty() {
            write!(f, "{}{}/{}", self.resource, group, self.name)
        } else {
            write!(
                f,
                "{}{} {}/{}",
                self.resource, group, self.namespace, self.name
            )
        }
    }
}

/// The encoded prefix of every key of `group`/`resource`, narrowed to one
/// namespace when `namespace` is given (for cluster-scoped resources pass
/// `Some("")` or `None`: both select every object).
pub(crate) fn prefix(
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> Result<Vec<u8>, StoreError> {
    check_type_part("group", group)?;
    check_type_part("resource", resource)?;
    if resource.is_empty() {
        return Err(StoreError::Invalid("resource must not be empty".into()));
    }
    let mut key =
        Vec::with_capacity(group.len() + resource.len() + namespace.map_or(0, str::len) + 40);
    key.extend_from_slice(group.as_bytes());
    key.push(SEP);
    key.extend_from_slice(resource.as_bytes());
    key.push(SEP);
    if let Some(ns) = namespace {
        check_name_part("namespace", ns)?;
        key.extend_from_slice(ns.as_bytes());
        key.push(SEP);
    }
    Ok(key)
}

/// The smallest key greater than every key that starts with `prefix`
/// (which always ends with the separator).
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        debug_assert_eq!(*last, SEP);
        *last = SEP + 1;
    }
    end
}

/// The encoded key of a list position `namespace/name` inside `group`/`resource`.
pub(crate) fn position_key(
    group: &str,
    resource: &str,
    position: &str,
) -> Result<Vec<u8>, StoreError> {
    let (namespace, name) = position.split_once('/').ok_or_else(|| {
        StoreError::Invalid(format!(
            "list position {position:?} is not of the form namespace/name"
        ))
    })?;
    check_name_part("name", name)?;
    let mut key = prefix(group, resource, Some(namespace))?;
    key.extend_from_slice(name.as_bytes());
    Ok(key)
}

/// The list position `namespace/name` of an encoded key, given the part of
/// it after `group \0 resource \0`.
pub(crate) fn position_of(tail: &[u8]) -> String {
    let text = String::from_utf8_lossy(tail);
    match text.split_once(char::from(SEP)) {
        Some((namespace, name)) => format!("{namespace}/{name}"),
        None => format!("/{text}"),
    }
}

fn check_type_part(what: &str, value: &str) -> Result<(), StoreError> {
    if value.as_bytes().contains(&SEP) {
        return Err(StoreError::Invalid(format!("{what} contains a NUL byte")));
    }
    Ok(())
}

fn check_name_part(what: &str, value: &str) -> Result<(), StoreError> {
    if value.as_bytes().contains(&SEP) || value.contains('/') {
        return Err(StoreError::Invalid(format!(
            "{what} {value:?} must not contain '/' or NUL"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(g: &str, r: &str, ns: &str, n: &str) -> Vec<u8> {
        ObjectKey::new(g, r, ns, n).encode().unwrap()
    }

    #[test]
    fn byte_order_is_tuple_order() {
        let mut keys = vec![
            enc("", "pods", "a-b", "x"),
            enc("", "pods", "a", "z"),
            enc("", "pods", "a", "y"),
            enc("", "pods", "b", "a"),
            enc("", "pods", "a", "y-1"),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                enc("", "pods", "a", "y"),
                enc("", "pods", "a", "y-1"),
                enc("", "pods", "a", "z"),
                enc("", "pods", "a-b", "x"),
                enc("", "pods", "b", "a"),
            ]
        );
    }

    #[test]
    fn prefixes_bound_exactly_their_objects() {
        let p = prefix("apps", "deployments", Some("ns")).unwrap();
        let end = prefix_end(&p);
        let inside = enc("apps", "deployments", "ns", "web");
        let other_ns = enc("apps", "deployments", "ns-2", "web");
        let other_res = enc("apps", "deploymentsx", "ns", "web");
        assert!(p.as_slice() < inside.as_slice() && inside < end);
        assert!(other_ns >= end);
        assert!(other_res >= prefix_end(&prefix("apps", "deployments", None).unwrap()));
    }

    #[test]
    fn positions_round_trip() {
        let key = ObjectKey::new("", "pods", "default", "web-1");
        assert_eq!(
            position_key("", "pods", &key.position()).unwrap(),
            key.encode().unwrap()
        );
        let cluster = ObjectKey::cluster("", "nodes", "n1");
        assert_eq!(cluster.position(), "/n1");
        assert!(position_key("", "pods", "no-slash").is_err());
        let tail_at = prefix("", "pods", None).unwrap().len();
        assert_eq!(
            position_of(&key.encode().unwrap()[tail_at..]),
            "default/web-1"
        );
    }

    #[test]
    fn ambiguous_components_are_refused() {
        assert!(ObjectKey::new("", "pods", "a/b", "x").encode().is_err());
        assert!(ObjectKey::new("", "pods", "a", "x\0y").encode().is_err());
        assert!(ObjectKey::new("", "pods", "a", "").encode().is_err());
        assert!(ObjectKey::new("g\0", "pods", "a", "x").encode().is_err());
    }
}
