//! Names: from prost's module paths and snake-case field names back to the OpenAPI schema names and
//! JSON property names Kubernetes uses, by matching against OpenAPI documents.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

/// The object schemas of a set of OpenAPI v3 documents: for each schema name, its property names.
#[derive(Default)]
pub struct Schemas {
    /// Normalised schema name → (schema name, property names).
    by_key: BTreeMap<String, (String, Vec<String>)>,
}

/// Lower case, without `_`, `-` and `$`: how both sides of a match are compared.
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | '$'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Schemas {
    /// Adds the `components.schemas` of every `*.json` document under `dir` (recursively).
    pub fn add_dir(&mut self, dir: &Path) -> Result<usize> {
        let mut count = 0;
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let path = e.path();
            if path.is_dir() {
                count += self.add_dir(&path)?;
            } else if path.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let doc: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?;
                if let Some(schemas) = doc
                    .pointer("/components/schemas")
                    .and_then(|s| s.as_object())
                {
                    count += 1;
                    for (name, schema) in schemas {
                        self.add(name, schema);
                    }
                }
            }
        }
        Ok(count)
    }

    /// Adds one schema (its `properties` names).
    pub fn add(&mut self, name: &str, schema: &serde_json::Value) {
        let props: Vec<String> = schema
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let entry = self
            .by_key
            .entry(normalise(name))
            .or_insert_with(|| (name.to_string(), Vec::new()));
        for p in props {
            if !entry.1.contains(&p) {
                entry.1.push(p);
            }
        }
    }

    /// The schema whose name matches `candidate` once both are normalised.
    pub fn find(&self, candidate: &str) -> Option<(&str, &[String])> {
        self.by_key
            .get(&normalise(candidate))
            .map(|(n, p)| (n.as_str(), p.as_slice()))
    }
}

/// The OpenAPI schema name Kubernetes gives the message at `module`/`name` in k8s-pb, before
/// matching (so with prost's casing): `api.apps.v1` + `Deployment` is
/// `io.k8s.api.apps.v1.Deployment`, `apiextensions_apiserver.pkg.apis.apiextensions.v1` +
/// `JsonSchemaProps` is `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JsonSchemaProps`.
pub fn candidate_schema_name(module: &[String], name: &str) -> String {
    let mut parts = vec!["io".to_string(), "k8s".to_string()];
    for (i, m) in module.iter().enumerate() {
        // The first segment is a Go module (`k8s.io/apiextensions-apiserver`); Rust spells its dash
        // as an underscore. Deeper segments are Go package names, where `_` is a real underscore.
        parts.push(if i == 0 {
            m.replace('_', "-")
        } else {
            m.clone()
        });
    }
    parts.push(name.to_string());
    parts.join(".")
}

/// The JSON name go-to-protobuf would have given a field whose prost name is `snake`, when no
/// schema says better: lower camel case (`generate_name` → `generateName`). Acronyms are lost
/// (`host_pid` → `hostPid`, where the real name is `hostPID`), which is why schemas are matched
/// first.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The property of `props` that is the JSON name of the prost field `snake`.
pub fn match_property<'a>(snake: &str, props: &'a [String]) -> Option<&'a str> {
    let key = normalise(snake);
    props
        .iter()
        .find(|p| normalise(p) == key)
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_follow_go_packages() {
        let m = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            candidate_schema_name(&m("api.apps.v1"), "Deployment"),
            "io.k8s.api.apps.v1.Deployment"
        );
        assert_eq!(
            candidate_schema_name(
                &m("kube_aggregator.pkg.apis.apiregistration.v1"),
                "ApiService"
            ),
            "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.ApiService"
        );
        assert_eq!(
            candidate_schema_name(&m("metrics.pkg.apis.custom_metrics.v1beta2"), "MetricValue"),
            "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValue"
        );
    }

    #[test]
    fn fields_match_json_names() {
        let props = vec![
            "hostPID".to_string(),
            "podIPs".to_string(),
            "podIP".to_string(),
        ];
        assert_eq!(match_property("host_pid", &props), Some("hostPID"));
        assert_eq!(match_property("pod_i_ps", &props), Some("podIPs"));
        assert_eq!(match_property("pod_ip", &props), Some("podIP"));
        assert_eq!(match_property("nope", &props), None);
        assert_eq!(camel_case("generate_name"), "generateName");
        assert_eq!(camel_case("type"), "type");
    }
}
