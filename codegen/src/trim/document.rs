//! Trimming one group-version's upstream document down to the listed resources.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};

use super::resource_list::{Column, GroupVersion, GroupVersionEntry, ResourceEntry};
use super::strip::{METHODS, strip_descriptions, strip_path_item};
use crate::api_path::{self, ApiPath, ResourcePath};

/// Where schema references point.
const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// The name of the top-level extension holding the discovery facts.
pub const RESOURCES_EXTENSION: &str = "x-k2d-resources";

/// What the upstream document offers for one resource.
#[derive(Debug, Default)]
struct Offered {
    /// Subresources found, with or without a path in the list.
    subresources: BTreeSet<String>,
    /// Kind, from `x-kubernetes-group-version-kind` of the resource's own operations, by the
    /// preference of [`kind_rank`] (lower is better).
    kind: Option<(u8, String)>,
}

/// Trims `upstream`, the full document of `entry`'s group-version read from `source` (named in
/// errors), to the listed resources. The result is not yet key-sorted.
pub fn trim(upstream: &Value, entry: &GroupVersionEntry, source: &str) -> Result<Value> {
    let gv = GroupVersion::parse(&entry.group_version)?;
    let prefix = gv.url_prefix();
    let upstream_paths = upstream
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("{source} has no `paths` object"))?;

    let offered = inventory(upstream_paths, &prefix);
    let listed: BTreeMap<&str, &ResourceEntry> = entry
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r))
        .collect();
    for r in &entry.resources {
        check_offered(&offered, &entry.group_version, r, source)?;
    }

    let mut paths = Map::new();
    for (path, item) in upstream_paths {
        let keep = match api_path::parse(path, &prefix) {
            Some(ApiPath::Discovery) => true,
            Some(ApiPath::Resource(rp)) => listed.get(rp.resource.as_str()).is_some_and(|r| {
                rp.subresource
                    .as_ref()
                    .is_none_or(|s| r.subresources.contains(s))
            }),
            None => false,
        };
        if keep {
            let mut item = item.clone();
            strip_path_item(&mut item);
            paths.insert(path.clone(), item);
        }
    }

    let mut document = Map::new();
    for (key, value) in upstream.as_object().into_iter().flatten() {
        if key != "paths" && key != "components" && key != RESOURCES_EXTENSION {
            let mut value = value.clone();
            strip_descriptions(&mut value);
            document.insert(key.clone(), value);
        }
    }
    let components = upstream
        .get("components")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let schemas = reachable_schemas(&paths, components.get("schemas"), source)?;
    let mut components: Map<String, Value> = components
        .into_iter()
        .filter(|(k, _)| k != "schemas")
        .map(|(k, mut v)| {
            strip_descriptions(&mut v);
            (k, v)
        })
        .collect();
    components.insert("schemas".into(), Value::Object(schemas));
    document.insert("components".into(), Value::Object(components));
    document.insert("paths".into(), Value::Object(paths));

    let mut facts = Map::new();
    for r in &entry.resources {
        let kind = offered[&r.name].kind.as_ref().map(|(_, k)| k.as_str()).ok_or_else(|| {
            anyhow!(
                "resource {}/{} in {source}: no operation carries x-kubernetes-group-version-kind",
                entry.group_version,
                r.name
            )
        })?;
        facts.insert(r.name.clone(), resource_facts(r, kind));
    }
    document.insert(RESOURCES_EXTENSION.into(), Value::Object(facts));
    Ok(Value::Object(document))
}

/// The resources the upstream paths offer, with their subresources and kinds.
fn inventory(paths: &Map<String, Value>, prefix: &str) -> BTreeMap<String, Offered> {
    let mut offered: BTreeMap<String, Offered> = BTreeMap::new();
    for (path, item) in paths {
        let Some(ApiPath::Resource(rp)) = api_path::parse(path, prefix) else {
            continue;
        };
        let entry = offered.entry(rp.resource.clone()).or_default();
        match &rp.subresource {
            Some(sub) => {
                entry.subresources.insert(sub.clone());
            }
            None => {
                for (rank, kind) in kinds_of(&rp, item) {
                    if entry.kind.as_ref().is_none_or(|(best, _)| rank < *best) {
                        entry.kind = Some((rank, kind));
                    }
                }
            }
        }
    }
    offered
}

/// The kinds the operations of a resource's own path state, ranked by [`kind_rank`].
fn kinds_of(rp: &ResourcePath, item: &Value) -> Vec<(u8, String)> {
    METHODS
        .iter()
        .filter_map(|m| item.get(*m))
        .filter_map(|op| {
            let kind = op
                .pointer("/x-kubernetes-group-version-kind/kind")?
                .as_str()?;
            let action = op
                .get("x-kubernetes-action")
                .and_then(Value::as_str)
                .unwrap_or("");
            Some((kind_rank(rp, action), kind.to_string()))
        })
        .collect()
}

/// Which operation's kind to believe first: a get of an object, then a create, then the rest.
fn kind_rank(rp: &ResourcePath, action: &str) -> u8 {
    match (action, rp.watch) {
        ("get", false) => 0,
        ("post", false) => 1,
        (_, false) => 2,
        (_, true) => 3,
    }
}

fn check_offered(
    offered: &BTreeMap<String, Offered>,
    gv: &str,
    r: &ResourceEntry,
    source: &str,
) -> Result<()> {
    let Some(found) = offered.get(&r.name) else {
        let names: Vec<&str> = offered.keys().map(String::as_str).collect();
        bail!(
            "resource {gv}/{} not found in upstream {source}; resources there: {}",
            r.name,
            names.join(", ")
        );
    };
    for sub in &r.subresources {
        if !found.subresources.contains(sub) {
            let subs: Vec<&str> = found.subresources.iter().map(String::as_str).collect();
            bail!(
                "subresource {gv}/{}/{sub} not found in upstream {source}; {} has: {}",
                r.name,
                r.name,
                if subs.is_empty() {
                    "no subresources".to_string()
                } else {
                    subs.join(", ")
                }
            );
        }
    }
    Ok(())
}

/// Every schema the kept paths reach through `$ref`, transitively, descriptions stripped.
fn reachable_schemas(
    paths: &Map<String, Value>,
    schemas: Option<&Value>,
    source: &str,
) -> Result<Map<String, Value>> {
    let empty = Map::new();
    let schemas = schemas.and_then(Value::as_object).unwrap_or(&empty);
    let mut queue = VecDeque::new();
    for item in paths.values() {
        collect_refs(item, &mut queue);
    }
    let mut kept = Map::new();
    while let Some(reference) = queue.pop_front() {
        let name = schema_name(&reference).with_context(|| {
            format!("{source}: $ref {reference:?} does not point into components.schemas")
        })?;
        if kept.contains_key(&name) {
            continue;
        }
        let mut schema = schemas.get(&name).cloned().ok_or_else(|| {
            anyhow!("{source}: $ref {reference:?} names a schema the document does not have")
        })?;
        collect_refs(&schema, &mut queue);
        strip_descriptions(&mut schema);
        kept.insert(name, schema);
    }
    Ok(kept)
}

/// Queues every string-valued `$ref` in `value` (a schema *property* named `$ref` has an object
/// value and is not a reference).
fn collect_refs(value: &Value, queue: &mut VecDeque<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => queue.push_back(r.clone()),
                    _ => collect_refs(v, queue),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, queue)),
        _ => {}
    }
}

/// The schema name of `#/components/schemas/<name>` (JSON-pointer unescaped).
fn schema_name(reference: &str) -> Result<String> {
    let raw = reference
        .strip_prefix(SCHEMA_REF_PREFIX)
        .filter(|n| !n.is_empty() && !n.contains('/'));
    let raw = raw.ok_or_else(|| anyhow!("not a local schema reference"))?;
    Ok(raw.replace("~1", "/").replace("~0", "~"))
}

/// The `x-k2d-resources` entry of one resource.
fn resource_facts(r: &ResourceEntry, kind: &str) -> Value {
    let singular = r
        .singular_name
        .clone()
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let columns = if r.columns.is_empty() {
        Column::defaults()
    } else {
        r.columns.clone()
    };
    let columns: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.ty,
                "format": c.format,
                "priority": c.priority,
                "jsonPath": c.json_path,
            })
        })
        .collect();
    json!({
        "singularName": singular,
        "shortNames": r.short_names,
        "categories": r.categories,
        "columns": columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names() {
        assert_eq!(
            schema_name("#/components/schemas/io.k8s.api.core.v1.Pod").unwrap(),
            "io.k8s.api.core.v1.Pod"
        );
        assert_eq!(
            schema_name("#/components/schemas/a~1b~0c").unwrap(),
            "a/b~c"
        );
        assert!(schema_name("#/components/parameters/x").is_err());
        assert!(schema_name("other.json#/components/schemas/x").is_err());
    }

    #[test]
    fn refs_skip_properties_named_ref() {
        let v = json!({"properties": {"$ref": {"type": "string"}, "a": {"$ref": "#/components/schemas/A"}},
                       "allOf": [{"$ref": "#/components/schemas/B"}]});
        let mut q = VecDeque::new();
        collect_refs(&v, &mut q);
        let mut got: Vec<String> = q.into_iter().collect();
        got.sort();
        assert_eq!(got, ["#/components/schemas/A", "#/components/schemas/B"]);
    }
}
