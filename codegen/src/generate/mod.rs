//! `spec/` in, generated Rust and JSON documents out (called by k2d's `build.rs`).
//!
//! Files written under the output directory:
//! - `k2d_generated.rs`: tables, path matcher, translator traits, dispatcher, schema model;
//! - `k2d_protobuf.rs`: the protobuf field table of the request decoder (from `protobuf.json`);
//! - `discovery/{api,apis}.{v2,v2beta1}.json`: aggregated discovery;
//! - `discovery/apis.json`, `discovery/api/v1.json`, `discovery/apis/<g>/<v>.json`: legacy discovery;
//! - `openapi/root.json`, `openapi/api/v1.json`, `openapi/apis/<g>/<v>.json`: the served OpenAPI v3
//!   documents (and `.json.gz`, the form embedded in the binary).

pub mod discovery;
pub mod model;
pub mod openapi;
pub mod protobuf;
pub mod rust;
pub mod schemas;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Name of the generated Rust file inside the output directory.
pub const RUST_FILE: &str = "k2d_generated.rs";

/// Writes `contents` to `out_dir/rel` unless it already holds exactly that (keeps mtimes stable
/// so cargo does not rebuild for nothing). Returns the relative path written.
fn write(out_dir: &Path, rel: &str, contents: &[u8]) -> Result<String> {
    let path = out_dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if std::fs::read(&path).ok().as_deref() != Some(contents) {
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(rel.to_string())
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).expect("a JSON value serializes");
    s.push(b'\n');
    s
}

/// What [`generate`] produced.
pub struct Generated {
    /// The spec files read (for `cargo:rerun-if-changed`).
    pub inputs: Vec<PathBuf>,
    /// Every file written, relative to the output directory, sorted.
    pub outputs: Vec<String>,
}

/// Reads `spec_dir` and writes every generated file into `out_dir`.
pub fn generate(spec_dir: &Path, out_dir: &Path) -> Result<Generated> {
    let api = model::load(spec_dir)?;
    let mut outputs = Vec::new();

    for (core, name) in [(true, "api"), (false, "apis")] {
        for version in ["v2", "v2beta1"] {
            let doc = discovery::aggregated(&api, core, version);
            outputs.push(write(
                out_dir,
                &format!("discovery/{name}.{version}.json"),
                &pretty(&doc),
            )?);
        }
    }
    outputs.push(write(
        out_dir,
        "discovery/apis.json",
        &pretty(&discovery::group_list(&api)),
    )?);
    for gv in &api.groups {
        let doc = discovery::resource_list(gv);
        outputs.push(write(
            out_dir,
            &format!("discovery/{}.json", gv.doc_path),
            &pretty(&doc),
        )?);
    }

    let docs = openapi::documents(&api);
    for d in &docs {
        outputs.push(write(
            out_dir,
            &format!("openapi/{}.json", d.path),
            &d.bytes,
        )?);
        let gzipped = openapi::gzip(&d.bytes);
        outputs.push(write(
            out_dir,
            &format!("openapi/{}.json.gz", d.path),
            &gzipped,
        )?);
    }
    outputs.push(write(
        out_dir,
        "openapi/root.json",
        &pretty(&openapi::root(&docs)),
    )?);

    let schemas = schemas::object_schemas(&api);
    let hashes: Vec<String> = docs.iter().map(|d| d.hash.clone()).collect();
    let code = rust::file(&api, &schemas, &hashes);
    outputs.push(write(out_dir, RUST_FILE, code.as_bytes())?);
    outputs.push(write(
        out_dir,
        protobuf::RUST_FILE,
        protobuf::file(spec_dir, &api, &schemas)?.as_bytes(),
    )?);

    outputs.sort();
    Ok(Generated {
        inputs: api.inputs,
        outputs,
    })
}
