//! Discovery documents: aggregated (`apidiscovery.k8s.io/v2` and `v2beta1`) for `/api` and `/apis`,
//! and legacy (`APIGroupList`, `APIResourceList` per group-version).

use serde_json::{Value, json};

use super::model::{Api, GroupVersion, Resource, Verb};

/// The order a real kube-apiserver lists its groups in (higher first). kubectl resolves an
/// ambiguous name (`events`, `ev`) to the first group that has it, so the order is part of the API.
const GROUP_PRIORITY: &[&str] = &[
    "",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "resource.k8s.io",
];

/// Kubernetes version priority: GA before beta before alpha, higher numbers first;
/// anything that is not a Kubernetes-style version sorts last, alphabetically.
fn version_key(v: &str) -> (u8, i64, i64, String) {
    let parse = |s: &str| -> Option<(u8, i64, i64)> {
        let s = s.strip_prefix('v')?;
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        let major: i64 = digits.parse().ok()?;
        let rest = &s[digits.len()..];
        if rest.is_empty() {
            return Some((0, -major, 0));
        }
        for (tag, rank) in [("beta", 1u8), ("alpha", 2u8)] {
            if let Some(n) = rest.strip_prefix(tag) {
                let minor: i64 = n.parse().ok()?;
                return Some((rank, -major, -minor));
            }
        }
        None
    };
    match parse(v) {
        Some((rank, a, b)) => (rank, a, b, String::new()),
        None => (3, 0, 0, v.to_string()),
    }
}

fn group_key(g: &str) -> (usize, String) {
    let known = GROUP_PRIORITY
        .iter()
        .position(|p| *p == g)
        .unwrap_or(GROUP_PRIORITY.len());
    (known, g.to_string())
}

/// Sorts group-versions into discovery order: by group priority, then by version priority.
pub fn sort_groups(groups: &mut [GroupVersion]) {
    groups.sort_by(|a, b| {
        group_key(&a.group)
            .cmp(&group_key(&b.group))
            .then_with(|| version_key(&a.version).cmp(&version_key(&b.version)))
    });
}

fn verbs(set: &std::collections::BTreeSet<Verb>) -> Vec<&'static str> {
    let mut v: Vec<&str> = set
        .iter()
        .filter(|v| **v != Verb::Connect)
        .map(|v| v.discovery_name())
        .collect();
    v.sort();
    v
}

fn resource_verbs(r: &Resource) -> Vec<&'static str> {
    verbs(&r.verbs)
}

fn aggregated_resource(gv: &GroupVersion, r: &Resource) -> Value {
    let subresources: Vec<Value> = r
        .subresources
        .values()
        .map(|s| {
            let mut verbs = verbs(&s.verbs);
            if s.verbs.contains(&Verb::Connect) {
                // Real servers list the HTTP methods of connect subresources.
                verbs = vec!["create", "get"];
            }
            json!({
                "subresource": s.name,
                "responseKind": {"group": s.gvk.group, "version": s.gvk.version, "kind": s.gvk.kind},
                "verbs": verbs,
            })
        })
        .collect();
    let mut v = json!({
        "resource": r.name,
        "responseKind": {"group": gv.group, "version": gv.version, "kind": r.gvk.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.facts.singular_name,
        "verbs": resource_verbs(r),
    });
    let o = v.as_object_mut().unwrap();
    if !r.facts.short_names.is_empty() {
        o.insert("shortNames".into(), json!(r.facts.short_names));
    }
    if !r.facts.categories.is_empty() {
        o.insert("categories".into(), json!(r.facts.categories));
    }
    if !subresources.is_empty() {
        o.insert("subresources".into(), Value::Array(subresources));
    }
    v
}

/// `APIGroupDiscoveryList` for `/api` (`core == true`) or `/apis`, in the given version
/// (`v2` or `v2beta1`).
pub fn aggregated(api: &Api, core: bool, version: &str) -> Value {
    let mut items: Vec<Value> = Vec::new();
    let mut current_group: Option<&str> = None;
    for gv in api.groups.iter().filter(|g| g.group.is_empty() == core) {
        let entry = json!({
            "version": gv.version,
            "resources": gv.resources.iter().map(|r| aggregated_resource(gv, r)).collect::<Vec<_>>(),
            "freshness": "Current",
        });
        if current_group == Some(gv.group.as_str()) {
            items.last_mut().unwrap()["versions"]
                .as_array_mut()
                .unwrap()
                .push(entry);
        } else {
            let metadata = if core {
                json!({"creationTimestamp": null})
            } else {
                json!({"name": gv.group, "creationTimestamp": null})
            };
            items.push(json!({"metadata": metadata, "versions": [entry]}));
            current_group = Some(gv.group.as_str());
        }
    }
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

/// Legacy `APIGroupList` for `/apis`.
pub fn group_list(api: &Api) -> Value {
    let mut groups: Vec<Value> = Vec::new();
    let mut current_group: Option<&str> = None;
    for gv in api.groups.iter().filter(|g| !g.group.is_empty()) {
        let entry = json!({"groupVersion": gv.group_version(), "version": gv.version});
        if current_group == Some(gv.group.as_str()) {
            groups.last_mut().unwrap()["versions"]
                .as_array_mut()
                .unwrap()
                .push(entry);
        } else {
            groups.push(
                json!({"name": gv.group, "versions": [entry.clone()], "preferredVersion": entry}),
            );
            current_group = Some(gv.group.as_str());
        }
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `APIGroup` for `/apis/<group>`.
pub fn group(api: &Api, group: &str) -> Value {
    let versions: Vec<Value> = api
        .groups
        .iter()
        .filter(|g| g.group == group)
        .map(|gv| json!({"groupVersion": gv.group_version(), "version": gv.version}))
        .collect();
    json!({"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions.clone(), "preferredVersion": versions[0]})
}

/// Legacy `APIResourceList` for `/api/v1` or `/apis/<group>/<version>`.
pub fn resource_list(gv: &GroupVersion) -> Value {
    let mut resources = Vec::new();
    for r in &gv.resources {
        let mut v = json!({
            "name": r.name,
            "singularName": r.facts.singular_name,
            "namespaced": r.namespaced,
            "kind": r.gvk.kind,
            "verbs": resource_verbs(r),
        });
        let o = v.as_object_mut().unwrap();
        if !r.facts.short_names.is_empty() {
            o.insert("shortNames".into(), json!(r.facts.short_names));
        }
        if !r.facts.categories.is_empty() {
            o.insert("categories".into(), json!(r.facts.categories));
        }
        resources.push(v);
        for s in r.subresources.values() {
            let mut v = json!({
                "name": format!("{}/{}", r.name, s.name),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": s.gvk.kind,
                "verbs": if s.verbs.contains(&Verb::Connect) { vec!["create", "get"] } else { verbs(&s.verbs) },
            });
            if s.gvk.group != gv.group || s.gvk.version != gv.version {
                let o = v.as_object_mut().unwrap();
                o.insert("group".into(), json!(s.gvk.group));
                o.insert("version".into(), json!(s.gvk.version));
            }
            resources.push(v);
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv.group_version(), "resources": resources})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_like_kubernetes() {
        let mut v = vec!["v1beta1", "v1", "v2", "v1alpha1", "v2beta2", "foo", "v10"];
        v.sort_by_key(|v| version_key(v));
        assert_eq!(
            v,
            ["v10", "v2", "v1", "v2beta2", "v1beta1", "v1alpha1", "foo"]
        );
    }
}
