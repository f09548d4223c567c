//! Writing `spec/`: canonical JSON (sorted keys, two-space indentation, trailing newline) and
//! removal of documents of group-versions no longer listed.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value};

/// `value` as canonical text: object keys sorted, two spaces of indentation, a trailing newline.
/// The same value always gives the same bytes.
pub fn canonical_json(value: &Value) -> String {
    let mut text =
        serde_json::to_string_pretty(&sorted(value)).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// A copy of `value` whose objects hold their keys in sorted order (also when serde_json keeps
/// insertion order).
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Writes `text` to `path` unless it already holds exactly that; creates parent directories.
/// Returns whether the file changed.
pub fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    match fs::read(path) {
        Ok(old) if old == text.as_bytes() => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// The generated documents present under `spec`: `api/*.json` and `apis/*/*.json`, as paths
/// relative to `spec` with `/` separators.
pub fn generated_documents(spec: &Path) -> Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    collect_json(&spec.join("api"), "api", &mut found)?;
    let apis = spec.join("apis");
    for group in list_dir(&apis)? {
        if group.is_dir() {
            let name = group
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            collect_json(&group, &format!("apis/{name}"), &mut found)?;
        }
    }
    Ok(found)
}

/// Removes the generated documents under `spec` that `keep` (relative paths) does not name, and
/// group directories left empty. Returns the removed documents.
pub fn remove_stale(spec: &Path, keep: &BTreeSet<String>) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for rel in generated_documents(spec)? {
        if !keep.contains(&rel) {
            let path = spec.join(&rel);
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            removed.push(rel);
        }
    }
    for dir in list_dir(&spec.join("apis"))? {
        if dir.is_dir() && list_dir(&dir)?.is_empty() {
            fs::remove_dir(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    Ok(removed)
}

fn collect_json(dir: &Path, rel: &str, found: &mut BTreeSet<String>) -> Result<()> {
    for path in list_dir(dir)? {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if path.is_file() && name.ends_with(".json") {
            found.insert(format!("{rel}/{name}"));
        }
    }
    Ok(())
}

/// The entries of `dir`; none when it does not exist.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut out = Vec::new();
            for e in entries {
                out.push(
                    e.with_context(|| format!("listing {}", dir.display()))?
                        .path(),
                );
            }
            out.sort();
            Ok(out)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("listing {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_and_ends_with_newline() {
        let v = json!({"b": [ {"z": 1, "a": []} ], "a": {}});
        assert_eq!(
            canonical_json(&v),
            "{\n  \"a\": {},\n  \"b\": [\n    {\n      \"a\": [],\n      \"z\": 1\n    }\n  ]\n}\n"
        );
    }
}
