//! `spec/resources.yaml`: which resources of which group-version k2d serves, and the discovery
//! facts (short names, categories, singular name, Table columns) OpenAPI does not carry.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The whole of `resources.yaml`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceList {
    /// One entry per group-version, in file order.
    pub group_versions: Vec<GroupVersionEntry>,
}

/// The resources of one group-version.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupVersionEntry {
    /// `v1` for the core group, otherwise `<group>/<version>`.
    pub group_version: String,
    /// The resources served, in file order.
    pub resources: Vec<ResourceEntry>,
}

/// One resource (plural name) and the facts about it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceEntry {
    /// Plural resource name as in the URL, e.g. `deployments`.
    pub name: String,
    /// Subresources served (`status`, `scale`, `log`, ...); others of the upstream are dropped.
    #[serde(default)]
    pub subresources: Vec<String>,
    /// Short names, e.g. `deploy`.
    #[serde(default)]
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Singular name; the lower-cased kind when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singular_name: Option<String>,
    /// Table columns in print order; `Name` and `Age` when empty.
    #[serde(default)]
    pub columns: Vec<Column>,
}

/// A Table column, CRD `additionalPrinterColumns` style.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Column {
    /// Column title as printed (upper-cased by kubectl), e.g. `Up-to-date`.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date` (a timestamp printed as an age).
    #[serde(rename = "type")]
    pub ty: String,
    /// Format hint: `name` for the object name column, otherwise usually empty.
    #[serde(default)]
    pub format: String,
    /// 0: always printed; 1: only with `-o wide`.
    #[serde(default)]
    pub priority: u8,
    /// Where the value comes from (JSONPath, e.g. `.status.readyReplicas`).
    pub json_path: String,
}

/// The column types a column may have.
pub const COLUMN_TYPES: &[&str] = &["string", "integer", "number", "boolean", "date"];

impl Column {
    /// `Name` and `Age`: the columns of a resource that lists none.
    pub fn defaults() -> Vec<Column> {
        vec![
            Column {
                name: "Name".into(),
                ty: "string".into(),
                format: "name".into(),
                priority: 0,
                json_path: ".metadata.name".into(),
            },
            Column {
                name: "Age".into(),
                ty: "date".into(),
                format: String::new(),
                priority: 0,
                json_path: ".metadata.creationTimestamp".into(),
            },
        ]
    }
}

impl ResourceList {
    /// Parses and checks the text of `resources.yaml`.
    pub fn parse(text: &str) -> Result<ResourceList> {
        let list: ResourceList = serde_yaml_ng::from_str(text).context("parsing resources.yaml")?;
        list.check()?;
        Ok(list)
    }

    /// The entry of a group-version, if listed.
    pub fn group_version(&self, gv: &str) -> Option<&GroupVersionEntry> {
        self.group_versions.iter().find(|g| g.group_version == gv)
    }

    /// Rejects duplicates, malformed names and unknown column types.
    pub fn check(&self) -> Result<()> {
        let mut gvs = BTreeSet::new();
        for gv in &self.group_versions {
            GroupVersion::parse(&gv.group_version)?;
            if !gvs.insert(gv.group_version.as_str()) {
                bail!(
                    "resources.yaml lists group-version {} twice",
                    gv.group_version
                );
            }
            let mut names = BTreeSet::new();
            for r in &gv.resources {
                let what = format!("{}/{}", gv.group_version, r.name);
                check_word(&r.name, "resource name", &what)?;
                if !names.insert(r.name.as_str()) {
                    bail!("resources.yaml lists {what} twice");
                }
                for s in &r.subresources {
                    check_word(s, "subresource", &what)?;
                }
                for s in &r.short_names {
                    check_word(s, "short name", &what)?;
                }
                for s in &r.categories {
                    check_word(s, "category", &what)?;
                }
                if let Some(s) = &r.singular_name {
                    check_word(s, "singular name", &what)?;
                }
                for c in &r.columns {
                    if !COLUMN_TYPES.contains(&c.ty.as_str()) {
                        bail!(
                            "{what}: column {:?} has type {:?}; expected one of {}",
                            c.name,
                            c.ty,
                            COLUMN_TYPES.join(", ")
                        );
                    }
                    if c.priority > 1 {
                        bail!(
                            "{what}: column {:?} has priority {}; expected 0 or 1",
                            c.name,
                            c.priority
                        );
                    }
                    if !c.json_path.starts_with('.') {
                        bail!(
                            "{what}: column {:?} has jsonPath {:?}; it must start with '.'",
                            c.name,
                            c.json_path
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Accepts lower-case words as Kubernetes uses them for resource names, short names and categories.
pub fn check_word(word: &str, kind: &str, what: &str) -> Result<()> {
    let ok = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && word.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !ok {
        bail!("{what}: {kind} {word:?} is not a lower-case name (a-z, 0-9, '-', '.')");
    }
    Ok(())
}

/// A group-version split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupVersion {
    /// API group; empty for the core group.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
}

impl GroupVersion {
    /// Parses `v1` (core) or `<group>/<version>`.
    pub fn parse(gv: &str) -> Result<GroupVersion> {
        let (group, version) = match gv.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", gv),
        };
        let version_ok = version.starts_with('v')
            && !version.is_empty()
            && version
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let group_ok = !gv.starts_with('/')
            && group
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !version_ok || !group_ok || (group.is_empty() && gv.contains('/')) {
            bail!(
                "{gv:?} is not a group-version (expected `v1` for the core group or `<group>/<version>`)"
            );
        }
        Ok(GroupVersion {
            group: group.into(),
            version: version.into(),
        })
    }

    /// The document's place under `/openapi/v3/` and `spec/`, without `.json`:
    /// `api/v1` or `apis/<group>/<version>`.
    pub fn doc_path(&self) -> String {
        if self.group.is_empty() {
            format!("api/{}", self.version)
        } else {
            format!("apis/{}/{}", self.group, self.version)
        }
    }

    /// The URL prefix of its paths: `/api/v1` or `/apis/<group>/<version>`.
    pub fn url_prefix(&self) -> String {
        format!("/{}", self.doc_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_small_list() {
        let list = ResourceList::parse(
            "groupVersions:\n  - groupVersion: apps/v1\n    resources:\n      - name: deployments\n        subresources: [scale]\n        shortNames: [deploy]\n        columns:\n          - {name: Name, type: string, format: name, jsonPath: .metadata.name}\n          - {name: Containers, type: string, priority: 1, jsonPath: '.spec.template.spec.containers[*].name'}\n",
        )
        .unwrap();
        let r = &list.group_versions[0].resources[0];
        assert_eq!(r.subresources, ["scale"]);
        assert_eq!(r.columns[1].priority, 1);
        assert_eq!(r.columns[1].format, "");
        assert!(r.categories.is_empty());
    }

    #[test]
    fn rejects_duplicates_and_bad_types() {
        let dup = "groupVersions:\n  - groupVersion: v1\n    resources:\n      - name: pods\n      - name: pods\n";
        assert!(
            ResourceList::parse(dup)
                .unwrap_err()
                .to_string()
                .contains("v1/pods twice")
        );
        let ty = "groupVersions:\n  - groupVersion: v1\n    resources:\n      - name: pods\n        columns: [{name: X, type: text, jsonPath: .x}]\n";
        assert!(
            ResourceList::parse(ty)
                .unwrap_err()
                .to_string()
                .contains("type \"text\"")
        );
        let unknown = "groupVersions:\n  - groupVersion: v1\n    resources:\n      - name: pods\n        shortname: [po]\n";
        assert!(ResourceList::parse(unknown).is_err());
    }

    #[test]
    fn group_versions() {
        let core = GroupVersion::parse("v1").unwrap();
        assert_eq!(core.doc_path(), "api/v1");
        assert_eq!(core.url_prefix(), "/api/v1");
        let rbac = GroupVersion::parse("rbac.authorization.k8s.io/v1").unwrap();
        assert_eq!(rbac.doc_path(), "apis/rbac.authorization.k8s.io/v1");
        for bad in ["", "/v1", "apps/", "apps", "Apps/v1", "apps/v1/x"] {
            assert!(GroupVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
