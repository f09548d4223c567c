//! `Accept` header negotiation. Kubernetes clients ask for special representations through media
//! type parameters (`as=Table;g=meta.k8s.io;v=v1`, `as=APIGroupDiscoveryList;v=v2`), which no
//! general-purpose content negotiation crate models, so this small parser is written by hand.

use http::HeaderMap;

/// One media range of an `Accept` header.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MediaRange {
    /// `type/subtype`, lower case.
    pub essence: String,
    /// Parameters as (name, value), names lower case.
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    /// The value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `true` for `application/json`, `application/*` and `*/*`.
    pub fn accepts_json(&self) -> bool {
        matches!(
            self.essence.as_str(),
            "application/json" | "application/*" | "*/*"
        )
    }
}

/// The media ranges of every `Accept` header, in the order the client wrote them.
pub fn parse(headers: &HeaderMap) -> Vec<MediaRange> {
    let mut out = Vec::new();
    for value in headers.get_all(http::header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
            if essence.is_empty() {
                continue;
            }
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| {
                    (
                        k.trim().to_ascii_lowercase(),
                        v.trim().trim_matches('"').to_string(),
                    )
                })
                .collect();
            out.push(MediaRange { essence, params });
        }
    }
    out
}

/// `true` when `Accept-Encoding` allows gzip (listed, and not with `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The `v` of the first range asking for `as=<kind>` in group `g`, among `versions`.
pub fn wants_as(
    ranges: &[MediaRange],
    kind: &str,
    group: &str,
    versions: &[&str],
) -> Option<String> {
    ranges.iter().find_map(|r| {
        if r.essence != "application/json"
            || r.param("as") != Some(kind)
            || r.param("g") != Some(group)
        {
            return None;
        }
        let v = r.param("v")?;
        versions.contains(&v).then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::ACCEPT, accept.parse().unwrap());
        h
    }

    #[test]
    fn picks_the_first_discovery_version_the_client_lists() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        let r = parse(&headers(kubectl));
        assert_eq!(
            wants_as(
                &r,
                "APIGroupDiscoveryList",
                "apidiscovery.k8s.io",
                &["v2", "v2beta1"]
            )
            .as_deref(),
            Some("v2")
        );
        let old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        let r = parse(&headers(old));
        assert_eq!(
            wants_as(
                &r,
                "APIGroupDiscoveryList",
                "apidiscovery.k8s.io",
                &["v2", "v2beta1"]
            )
            .as_deref(),
            Some("v2beta1")
        );
        let r = parse(&headers("application/json, */*"));
        assert_eq!(
            wants_as(&r, "APIGroupDiscoveryList", "apidiscovery.k8s.io", &["v2"]),
            None
        );
    }

    #[test]
    fn gzip_unless_refused() {
        let enc = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(http::header::ACCEPT_ENCODING, v.parse().unwrap());
            accepts_gzip(&h)
        };
        assert!(enc("gzip"));
        assert!(enc("deflate, gzip;q=0.5"));
        assert!(!enc("gzip;q=0"));
        assert!(!enc("gzip; q=0.0"));
        assert!(!enc("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn recognises_table_requests() {
        let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        let r = parse(&headers(table));
        assert_eq!(
            wants_as(&r, "Table", "meta.k8s.io", &["v1", "v1beta1"]).as_deref(),
            Some("v1")
        );
    }
}
