//! `codegen protobuf`: derives `spec/protobuf.json`, the field table of every Kubernetes protobuf
//! message, from the source of the `k8s-pb` crate (kube-rs's prost bindings of the
//! `generated.proto` files of k8s.io/api, k8s.io/apimachinery, apiextensions-apiserver,
//! kube-aggregator and metrics).
//!
//! k8s-pb is an optional dependency of this crate behind the `k8s-pb-source` feature, which no
//! build enables: it is never compiled. `cargo metadata --all-features` still resolves it and
//! names the directory of its source, which is parsed with `syn` ([`source`]).
//!
//! For every message the table gives its OpenAPI schema name, and for every field its tag, JSON
//! name, wire kind (`string`, `bytes`, `bool`, `int32`, `int64`, `double`, ..., `message` with
//! its target, `map<string,V>`), whether it is repeated, and whether it is one of the Go pointer
//! scalars whose zero value is meaningful ([`pointers`]). prost writes names in its own case
//! (`ApiService`, `host_pid`); the Kubernetes names (`APIService`, `hostPID`) are recovered by
//! matching against OpenAPI documents ([`names`]): those of `spec/`, and with `--upstream` those
//! of a full `/openapi/v3` dump, so that messages k2d does not serve yet are named right too. The
//! names of the previous `protobuf.json` count as well, so a later run without `--upstream` (after
//! a k8s-pb upgrade, say) keeps them.
//!
//! Messages with a JSON form of their own carry a `form`: `time`, `micro-time`, `duration`,
//! `int-or-string`, `quantity`, `raw-json` (RawExtension, FieldsV1, apiextensions JSON) and
//! `string-list` (wrappers of a `[]string` such as `ExtraValue`). Each form's wire layout is
//! checked here, so the runtime decoder can rely on it.

pub mod names;
pub mod pointers;
pub mod source;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

/// Name of the data file inside the spec directory.
pub const FILE: &str = "protobuf.json";

/// `spec/protobuf.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Table {
    /// Where the table comes from (crate and version).
    pub source: String,
    /// Every message, by OpenAPI schema name.
    pub messages: BTreeMap<String, Message>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One protobuf message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    /// `true` when no OpenAPI schema has this name: the name is built from k8s-pb's module path
    /// and struct name, in prost's case.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unmatched: bool,
    /// A JSON form of its own (see the module documentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// Fields by tag.
    pub fields: Vec<Field>,
}

/// One field of a message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Field {
    /// Field number.
    pub tag: u32,
    /// JSON name.
    pub name: String,
    /// `string`, `bytes`, `bool`, `int32`, `int64`, `uint32`, `uint64`, `sint32`, `sint64`,
    /// `fixed32`, `fixed64`, `sfixed32`, `sfixed64`, `float`, `double`, `enum`, `message`, or
    /// `map<K,V>` with V one of those.
    pub kind: String,
    /// The message of a `message` field or of a map's values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `repeated` (every other field is proto2 `optional`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub repeated: bool,
    /// An embedded Go struct (`json:",inline"`): a nested message on the wire, whose fields are
    /// the parent's own in JSON. `name` is then only prost's name, camel-cased.
    #[serde(default, skip_serializing_if = "is_false")]
    pub inline: bool,
    /// A Go pointer scalar whose zero value is kept (see [`pointers`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub pointer: bool,
    /// `true` when no schema property matched: the name is the lower camel case of prost's.
    #[serde(default, skip_serializing_if = "is_false")]
    pub guessed: bool,
}

impl Field {
    /// `("string", "bytes")` for `map<string,bytes>`.
    pub fn map_kinds(&self) -> Option<(&str, &str)> {
        self.kind
            .strip_prefix("map<")
            .and_then(|s| s.strip_suffix('>'))
            .and_then(|s| s.split_once(','))
    }
}

/// Options of [`run`].
pub struct Options {
    /// The spec directory (its documents are matched, and `protobuf.json` is written there).
    pub spec: PathBuf,
    /// A directory laid out like `/openapi/v3/`, whose documents are matched too.
    pub upstream: Option<PathBuf>,
    /// k8s-pb's `src/` directory; found with `cargo metadata` when `None`.
    pub source: Option<PathBuf>,
}

/// What [`run`] did.
pub struct Report {
    /// The crate read, e.g. `k8s-pb 0.9.0`.
    pub source: String,
    /// Messages written.
    pub messages: usize,
    /// Fields written.
    pub fields: usize,
    /// OpenAPI documents read.
    pub documents: usize,
    /// Messages no schema matched.
    pub unmatched_messages: Vec<String>,
    /// `schema.field` whose JSON name was guessed, for messages that do have a schema.
    pub guessed_fields: Vec<String>,
    /// Entries of [`pointers::KEEP_ZERO`] that name no scalar field.
    pub stale_pointers: Vec<String>,
    /// Whether `protobuf.json` changed.
    pub changed: bool,
}

/// Finds k8s-pb's `src/` directory and version through `cargo metadata --all-features`.
pub fn locate_k8s_pb() -> Result<(PathBuf, String)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--all-features"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let pkg = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "k8s-pb")
        .ok_or_else(|| {
            anyhow!("cargo metadata lists no k8s-pb package (is it in codegen/Cargo.toml?)")
        })?;
    let manifest = pkg["manifest_path"]
        .as_str()
        .ok_or_else(|| anyhow!("k8s-pb has no manifest_path"))?;
    let version = pkg["version"].as_str().unwrap_or("?");
    let src = Path::new(manifest)
        .parent()
        .ok_or_else(|| anyhow!("odd manifest path {manifest}"))?
        .join("src");
    Ok((src, format!("k8s-pb {version}")))
}

/// Reads k8s-pb and the OpenAPI documents, writes `<spec>/protobuf.json`.
pub fn run(opts: &Options) -> Result<Report> {
    let (src, source) = match &opts.source {
        Some(s) => (s.clone(), "k8s-pb".to_string()),
        None => locate_k8s_pb()?,
    };
    let raw = source::read_crate(&src)?;
    let mut schemas = names::Schemas::default();
    let mut documents = 0;
    for dir in [Some(opts.spec.clone()), opts.upstream.clone()]
        .into_iter()
        .flatten()
    {
        documents += schemas.add_dir(&dir)?;
    }
    if opts.spec.join(FILE).exists() {
        add_previous(&mut schemas, &load(&opts.spec)?);
    }
    let (table, mut report) = build(&raw, &schemas, &source)?;
    report.documents = documents;
    let text = render(&table);
    let path = opts.spec.join(FILE);
    report.changed = std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str());
    if report.changed {
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}

/// Adds the names a previous table recovered: each of its matched messages as a schema whose
/// properties are its JSON names (those of its embedded structs included). A run without
/// `--upstream` then keeps the names an earlier run with it found, instead of guessing them.
fn add_previous(schemas: &mut names::Schemas, table: &Table) {
    fn collect(
        table: &Table,
        m: &Message,
        props: &mut serde_json::Map<String, serde_json::Value>,
        depth: u32,
    ) {
        for f in &m.fields {
            if f.inline {
                if let Some(t) = f.message.as_ref().and_then(|t| table.messages.get(t))
                    && depth < 8
                {
                    collect(table, t, props, depth + 1);
                }
            } else if !f.guessed {
                props.insert(f.name.clone(), serde_json::Value::Null);
            }
        }
    }
    for (name, m) in &table.messages {
        if m.unmatched {
            continue;
        }
        let mut props = serde_json::Map::new();
        collect(table, m, &mut props, 0);
        schemas.add(name, &serde_json::json!({ "properties": props }));
    }
}

/// The table of `raw`, with names matched against `schemas`.
pub fn build(
    raw: &[source::RawMessage],
    schemas: &names::Schemas,
    source: &str,
) -> Result<(Table, Report)> {
    let mut report = Report {
        source: source.to_string(),
        messages: 0,
        fields: 0,
        documents: 0,
        unmatched_messages: Vec::new(),
        guessed_fields: Vec::new(),
        stale_pointers: Vec::new(),
        changed: false,
    };
    // Crate path → schema name, for every message first (fields refer to each other).
    let mut schema_of: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for m in raw {
        let candidate = names::candidate_schema_name(&m.module, &m.name);
        let (name, matched) = match schemas.find(&candidate) {
            Some((n, _)) => (n.to_string(), true),
            None => (candidate, false),
        };
        schema_of.insert(m.path(), (name, matched));
    }
    let keep: BTreeSet<(&str, &str)> = pointers::KEEP_ZERO.iter().copied().collect();
    let mut used_pointers = BTreeSet::new();
    let mut messages = BTreeMap::new();
    for m in raw {
        let (name, matched) = schema_of[&m.path()].clone();
        let props: &[String] = schemas.find(&name).map(|(_, p)| p).unwrap_or(&[]);
        let mut fields = Vec::new();
        for f in &m.fields {
            let (json, guessed) = match names::match_property(&f.ident, props) {
                Some(p) => (p.to_string(), false),
                None => (names::camel_case(&f.ident), true),
            };
            let message = match &f.message {
                Some(path) => Some(
                    schema_of
                        .get(path)
                        .map(|(n, _)| n.clone())
                        .ok_or_else(|| anyhow!("{}.{}: unknown message {path}", name, f.ident))?,
                ),
                None => None,
            };
            let kind = match &f.map {
                Some((k, v)) => format!("map<{k},{v}>"),
                None => f.kind.clone(),
            };
            let scalar = f.map.is_none() && f.kind != "message" && !f.repeated;
            let pointer = scalar && keep.contains(&(name.as_str(), json.as_str()));
            if pointer {
                used_pointers.insert((name.clone(), json.clone()));
            }
            fields.push(Field {
                tag: f.tag,
                name: json,
                kind,
                message,
                repeated: f.repeated,
                inline: false,
                pointer,
                guessed,
            });
        }
        fields.sort_by_key(|f| f.tag);
        let form = form_of(&name, &fields)?;
        if form.is_none() && !matched {
            report.unmatched_messages.push(name.clone());
        }
        report.fields += fields.len();
        let msg = Message {
            unmatched: !matched,
            form: form.map(str::to_string),
            fields,
        };
        if messages.insert(name.clone(), msg).is_some() {
            bail!("two k8s-pb messages have the schema name {name}");
        }
    }
    let embedded = mark_inline(&mut messages, schemas);
    for (name, m) in &messages {
        if m.form.is_none() && (!m.unmatched || embedded.contains(name)) {
            for f in m.fields.iter().filter(|f| f.guessed) {
                report.guessed_fields.push(format!("{name}.{}", f.name));
            }
        }
    }
    for (schema, field) in pointers::KEEP_ZERO {
        if !used_pointers.contains(&(schema.to_string(), field.to_string())) {
            report.stale_pointers.push(format!("{schema}.{field}"));
        }
    }
    report.messages = messages.len();
    Ok((
        Table {
            source: source.to_string(),
            messages,
        },
        report,
    ))
}

/// Marks the embedded structs: a message field that no property of its schema names, whose
/// message's JSON names are mostly properties of that schema (`Volume.volumeSource`,
/// `Probe.handler`, `ConfigMapKeySelector.localObjectReference`). An embedded message without a
/// schema of its own (`VolumeSource`, `ProbeHandler`) takes its JSON names from the embedding
/// schema. Repeats until nothing changes, for embedded structs that embed others. Returns the
/// embedded messages.
fn mark_inline(
    messages: &mut BTreeMap<String, Message>,
    schemas: &names::Schemas,
) -> BTreeSet<String> {
    let mut embedded = BTreeSet::new();
    loop {
        let mut found = Vec::new();
        for (name, m) in messages.iter() {
            let Some((_, props)) = schemas.find(name) else {
                continue;
            };
            for (i, f) in m.fields.iter().enumerate() {
                if !f.guessed || f.kind != "message" || f.repeated {
                    continue;
                }
                let Some(target) = f.message.as_ref().and_then(|t| messages.get(t)) else {
                    continue;
                };
                let matching = target
                    .fields
                    .iter()
                    .filter(|tf| tf.inline || names::match_property(&tf.name, props).is_some())
                    .count();
                if matching * 2 > target.fields.len() {
                    found.push((name.clone(), i, props.to_vec()));
                }
            }
        }
        if found.is_empty() {
            return embedded;
        }
        for (name, i, props) in found {
            let f = &mut messages.get_mut(&name).expect("listed above").fields[i];
            f.inline = true;
            f.guessed = false;
            let target = f.message.clone().expect("a message field");
            embedded.insert(target.clone());
            let t = messages.get_mut(&target).expect("known message");
            if t.unmatched {
                for tf in t.fields.iter_mut().filter(|tf| tf.guessed) {
                    if let Some(p) = names::match_property(&tf.name, &props) {
                        tf.name = p.to_string();
                        tf.guessed = false;
                    }
                }
            }
        }
    }
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// The JSON form of a message, checking that its wire layout is the one the form expects.
fn form_of(name: &str, fields: &[Field]) -> Result<Option<&'static str>> {
    let layout = |expected: &[(u32, &str)]| -> Result<()> {
        let actual: Vec<(u32, &str)> = fields.iter().map(|f| (f.tag, f.kind.as_str())).collect();
        if actual != expected || fields.iter().any(|f| f.repeated) {
            bail!("{name}: unexpected wire layout {actual:?}, expected {expected:?}");
        }
        Ok(())
    };
    let short = name.rsplit('.').next().unwrap_or(name);
    let package = name.strip_suffix(short).unwrap_or("").trim_end_matches('.');
    let form = match (package, short) {
        (META, "Time") => {
            layout(&[(1, "int64"), (2, "int32")])?;
            "time"
        }
        (META, "MicroTime") => {
            layout(&[(1, "int64"), (2, "int32")])?;
            "micro-time"
        }
        (META, "Duration") => {
            layout(&[(1, "int64")])?;
            "duration"
        }
        ("io.k8s.apimachinery.pkg.util.intstr", "IntOrString") => {
            layout(&[(1, "int64"), (2, "int32"), (3, "string")])?;
            "int-or-string"
        }
        ("io.k8s.apimachinery.pkg.api.resource", "Quantity") => {
            layout(&[(1, "string")])?;
            "quantity"
        }
        ("io.k8s.apimachinery.pkg.runtime", "RawExtension") | (META, "FieldsV1") => {
            layout(&[(1, "bytes")])?;
            "raw-json"
        }
        (p, "JSON") if p.starts_with("io.k8s.apiextensions-apiserver.") => {
            layout(&[(1, "bytes")])?;
            "raw-json"
        }
        _ if fields.len() == 1
            && fields[0].tag == 1
            && fields[0].name == "items"
            && fields[0].kind == "string"
            && fields[0].repeated =>
        {
            "string-list"
        }
        _ => return Ok(None),
    };
    Ok(Some(form))
}

/// The table as JSON: sorted, one field per line, so that diffs read well.
pub fn render(table: &Table) -> String {
    let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let mut out = String::new();
    out.push_str("{\n");
    out.push_str(&format!("  \"source\": {},\n", q(&table.source)));
    out.push_str("  \"messages\": {\n");
    let n = table.messages.len();
    for (i, (name, m)) in table.messages.iter().enumerate() {
        out.push_str(&format!("    {}: {{\n", q(name)));
        if m.unmatched {
            out.push_str("      \"unmatched\": true,\n");
        }
        if let Some(form) = &m.form {
            out.push_str(&format!("      \"form\": {},\n", q(form)));
        }
        if m.fields.is_empty() {
            out.push_str("      \"fields\": []\n");
        } else {
            out.push_str("      \"fields\": [\n");
            for (j, f) in m.fields.iter().enumerate() {
                let line = serde_json::to_string(f).expect("a field serializes");
                let comma = if j + 1 < m.fields.len() { "," } else { "" };
                out.push_str(&format!("        {line}{comma}\n"));
            }
            out.push_str("      ]\n");
        }
        out.push_str(if i + 1 < n { "    },\n" } else { "    }\n" });
    }
    out.push_str("  }\n}\n");
    out
}

/// Reads `<spec>/protobuf.json`.
pub fn load(spec: &Path) -> Result<Table> {
    let path = spec.join(FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (derive it with `cargo run -p k2d-codegen -- protobuf`)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
