//! `codegen trim`: upstream OpenAPI v3 documents in, `spec/` out. See spec/README.md.
//!
//! The upstream directory is laid out like a server's `/openapi/v3/` (`api/v1.json`,
//! `apis/<group>/<version>.json`). For each group-version of `spec/resources.yaml`, [`document`]
//! keeps the listed resources' paths and the schemas they reach, [`strip`] drops description
//! prose and CBOR media types, and [`output`] writes canonical JSON, so a re-run is byte-identical.

pub mod add;
pub mod document;
pub mod output;
pub mod resource_list;
pub mod strip;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

pub use add::AddRequest;
pub use resource_list::{GroupVersion, ResourceList};

/// The file, inside the spec directory, that lists what k2d serves.
pub const RESOURCES_FILE: &str = "resources.yaml";

/// What `codegen trim` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// A directory laid out like `/openapi/v3/`.
    pub upstream: PathBuf,
    /// The spec directory (holds `resources.yaml`, receives the documents).
    pub spec: PathBuf,
    /// Resources to append to `resources.yaml` before trimming.
    pub add: Vec<AddRequest>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Resources appended to `resources.yaml`.
    pub added: Vec<String>,
    /// Resources asked for with `--add` that were listed already (left as they were), with what
    /// the request asked for that the listed entry lacks.
    pub already_listed: Vec<(String, Vec<String>)>,
    /// One entry per written document, in list order.
    pub documents: Vec<DocumentReport>,
    /// Documents removed because their group-version is no longer listed.
    pub removed: Vec<String>,
}

/// One produced document.
#[derive(Debug)]
pub struct DocumentReport {
    /// Path relative to the spec directory, e.g. `apis/apps/v1.json`.
    pub path: String,
    /// Size in bytes.
    pub bytes: usize,
    /// Number of paths kept.
    pub paths: usize,
    /// Number of schemas kept.
    pub schemas: usize,
    /// Whether the file on disk changed.
    pub changed: bool,
}

/// Runs `codegen trim`: applies `--add`, trims every listed group-version, checks each result
/// parses with `openapiv3`, then writes `resources.yaml` (if changed) and the documents, and
/// removes stale ones. Nothing is written unless every document could be produced.
pub fn run(opts: &Options) -> Result<Report> {
    let list_path = opts.spec.join(RESOURCES_FILE);
    let mut text = fs::read_to_string(&list_path)
        .with_context(|| format!("reading {} (see spec/README.md)", list_path.display()))?;
    let mut list =
        ResourceList::parse(&text).with_context(|| format!("in {}", list_path.display()))?;
    let mut report = Report::default();
    for req in &opts.add {
        match add::append(&text, &list, req)? {
            add::Appended::AlreadyListed(missing) => {
                report.already_listed.push((req.label(), missing))
            }
            add::Appended::Changed(new_text, new_list) => {
                report.added.push(req.label());
                text = new_text;
                list = new_list;
            }
        }
    }

    let documents = trim_all(&opts.upstream, &list)?;

    if !report.added.is_empty() {
        output::write_if_changed(&list_path, &text)?;
    }
    for (rel, doc) in &documents {
        let changed = output::write_if_changed(&opts.spec.join(rel), &doc.text)?;
        report.documents.push(DocumentReport {
            path: rel.clone(),
            bytes: doc.text.len(),
            paths: doc.paths,
            schemas: doc.schemas,
            changed,
        });
    }
    let keep: BTreeSet<String> = documents.keys().cloned().collect();
    report.removed = output::remove_stale(&opts.spec, &keep)?;
    Ok(report)
}

/// One trimmed document, ready to be written.
#[derive(Debug)]
pub struct TrimmedDocument {
    /// Canonical JSON text.
    pub text: String,
    /// Number of paths kept.
    pub paths: usize,
    /// Number of schemas kept.
    pub schemas: usize,
}

/// The documents for `list`, trimmed from `upstream`, by path relative to the spec directory
/// (`api/v1.json`). Every text has been checked to parse as an `openapiv3::OpenAPI`.
pub fn trim_all(upstream: &Path, list: &ResourceList) -> Result<BTreeMap<String, TrimmedDocument>> {
    let mut out = BTreeMap::new();
    for entry in &list.group_versions {
        let gv = GroupVersion::parse(&entry.group_version)?;
        let (source, full) = load_upstream(upstream, &gv)?;
        let trimmed = document::trim(&full, entry, &source)?;
        let text = output::canonical_json(&trimmed);
        let rel = format!("{}.json", gv.doc_path());
        check_openapiv3(&text)
            .with_context(|| format!("trimmed {rel} of {}", entry.group_version))?;
        let count = |key: &str| {
            trimmed
                .pointer(key)
                .and_then(Value::as_object)
                .map_or(0, |m| m.len())
        };
        let (paths, schemas) = (count("/paths"), count("/components/schemas"));
        out.insert(
            rel,
            TrimmedDocument {
                text,
                paths,
                schemas,
            },
        );
    }
    Ok(out)
}

/// Documents of group-versions no upstream Kubernetes document has, written for k2d (only the
/// schemas and paths k2d serves, no upstream prose), by document path (`apis/<g>/<v>`):
/// `metrics.k8s.io/v1beta1` is an aggregated API in a real cluster (metrics-server), absent from
/// the API server's own OpenAPI. An upstream directory that has one of them wins.
pub const BUILT_IN: &[(&str, &str)] = &[(
    "apis/metrics.k8s.io/v1beta1",
    include_str!("../openapi/apis/metrics.k8s.io/v1beta1.json"),
)];

/// Reads the upstream document of `gv` (or the built-in one, see [`BUILT_IN`]); returns its
/// path (for messages) and its content.
pub fn load_upstream(upstream: &Path, gv: &GroupVersion) -> Result<(String, Value)> {
    if !upstream.is_dir() {
        bail!("upstream directory {} does not exist", upstream.display());
    }
    let path = upstream.join(format!("{}.json", gv.doc_path()));
    let shown = path.display().to_string();
    let built_in = BUILT_IN.iter().find(|(p, _)| *p == gv.doc_path());
    if let (false, Some((p, text))) = (path.is_file(), built_in) {
        let value: Value = serde_json::from_str(text)
            .with_context(|| format!("parsing the built-in document {p}"))?;
        return Ok((format!("built-in {p}"), value));
    }
    if !path.is_file() {
        let gv_name = if gv.group.is_empty() {
            gv.version.clone()
        } else {
            format!("{}/{}", gv.group, gv.version)
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut versions: Vec<String> = fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()?
                            .strip_suffix(".json")
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        versions.sort();
        let known = if versions.is_empty() {
            format!("the upstream has no {}", dir.display())
        } else {
            format!("versions there: {}", versions.join(", "))
        };
        bail!("unknown group-version {gv_name}: {shown} does not exist ({known})");
    }
    let bytes = fs::read(&path).with_context(|| format!("reading {shown}"))?;
    let value: Value =
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {shown} as JSON"))?;
    if !value.is_object() {
        return Err(anyhow!("{shown} is not a JSON object"));
    }
    Ok((shown, value))
}

/// Checks that `text` parses as an OpenAPI v3 document with the `openapiv3` crate (what k2d's
/// build reads it with).
pub fn check_openapiv3(text: &str) -> Result<openapiv3::OpenAPI> {
    serde_json::from_str::<openapiv3::OpenAPI>(text).context("does not parse as openapiv3::OpenAPI")
}
