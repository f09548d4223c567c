//! What a DNS name asks the cluster DNS for, as the Kubernetes DNS specification lays names
//! out under the cluster domain.

use std::net::Ipv4Addr;

use super::CLUSTER_DOMAIN;

/// The meaning of a queried name.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// `<service>.<namespace>.svc.<domain>`.
    Service {
        /// Namespace.
        namespace: String,
        /// Service name.
        name: String,
    },
    /// `<hostname>.<service>.<namespace>.svc.<domain>`: one endpoint of a headless Service.
    Endpoint {
        /// Namespace.
        namespace: String,
        /// Service name.
        service: String,
        /// The endpoint's hostname.
        hostname: String,
    },
    /// `<a-b-c-d>.<namespace>.pod.<domain>`.
    PodIp(Ipv4Addr),
    /// Under the cluster domain, but nothing can be there.
    NotFound,
    /// The cluster domain itself or `svc.<domain>`/`<ns>.svc.<domain>`: exists, holds no
    /// address.
    Empty,
    /// Outside the cluster domain: ask the host's resolvers.
    Outside,
}

/// Reads a queried name (any case, with or without the final dot).
pub fn lookup(name: &str) -> Lookup {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let Some(rest) = name
        .strip_suffix(CLUSTER_DOMAIN)
        .filter(|r| r.is_empty() || r.ends_with('.'))
    else {
        return Lookup::Outside;
    };
    let labels: Vec<&str> = rest
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .collect();
    match labels.as_slice() {
        [] | ["svc"] | [_, "svc"] | ["pod"] | [_, "pod"] => Lookup::Empty,
        [name, namespace, "svc"] => Lookup::Service {
            namespace: namespace.to_string(),
            name: name.to_string(),
        },
        [hostname, service, namespace, "svc"] => Lookup::Endpoint {
            namespace: namespace.to_string(),
            service: service.to_string(),
            hostname: hostname.to_string(),
        },
        [dashed, _namespace, "pod"] => dashed
            .replace('-', ".")
            .parse::<Ipv4Addr>()
            .map_or(Lookup::NotFound, Lookup::PodIp),
        _ => Lookup::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names() {
        assert_eq!(
            lookup("Web.Shop.svc.cluster.local."),
            Lookup::Service {
                namespace: "shop".into(),
                name: "web".into()
            }
        );
        assert_eq!(
            lookup("db-0.db.data.svc.cluster.local"),
            Lookup::Endpoint {
                namespace: "data".into(),
                service: "db".into(),
                hostname: "db-0".into()
            }
        );
        assert_eq!(
            lookup("172-18-0-5.default.pod.cluster.local"),
            Lookup::PodIp(Ipv4Addr::new(172, 18, 0, 5))
        );
        assert_eq!(
            lookup("web.shop.svc.cluster.local.shop.svc.cluster.local"),
            Lookup::NotFound
        );
        assert_eq!(lookup("web.cluster.local"), Lookup::NotFound);
        assert_eq!(lookup("shop.svc.cluster.local"), Lookup::Empty);
        assert_eq!(lookup("cluster.local"), Lookup::Empty);
        assert_eq!(lookup("example.com"), Lookup::Outside);
        assert_eq!(lookup("notcluster.local"), Lookup::Outside);
        assert_eq!(lookup("x-y.default.pod.cluster.local"), Lookup::NotFound);
    }
}
