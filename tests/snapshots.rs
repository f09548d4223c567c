//! Pins everything `build.rs` generates, so every change to the generated code or documents shows
//! in review. After a deliberate change to spec/ or codegen/, refresh with
//! `EXPECTORATE=overwrite cargo test --test snapshots` and review the diff.
//!
//! The served OpenAPI documents are pinned through their hashes in `openapi/root.json`, and
//! checked to be exactly the spec documents without k2d's own extensions (the spec files are
//! themselves committed, so the content is reviewed there).

use std::path::{Path, PathBuf};

const SNAPSHOTS: &str = "tests/snapshots/generated";

fn files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, base, out);
        } else {
            out.push(path.strip_prefix(base).unwrap().to_path_buf());
        }
    }
}

fn pinned(rel: &Path) -> bool {
    !rel.starts_with("openapi") || rel == Path::new("openapi/root.json")
}

#[test]
fn generated_files_match_their_snapshots() {
    let out = Path::new(env!("OUT_DIR"));
    let mut generated = Vec::new();
    files(out, out, &mut generated);
    generated.retain(|rel| pinned(rel));
    generated.sort();
    assert!(generated.len() > 10, "build.rs generated {generated:?}");
    for rel in &generated {
        let contents = std::fs::read_to_string(out.join(rel)).unwrap();
        let snapshot = Path::new(SNAPSHOTS).join(rel);
        // So that EXPECTORATE=overwrite can write a snapshot of a new file.
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        expectorate::assert_contents(snapshot, &contents);
    }
    let mut snapshots = Vec::new();
    if Path::new(SNAPSHOTS).exists() {
        files(Path::new(SNAPSHOTS), Path::new(SNAPSHOTS), &mut snapshots);
    }
    snapshots.retain(|s| !generated.contains(s));
    assert!(
        snapshots.is_empty(),
        "snapshots of files no longer generated: {snapshots:?}"
    );
}

#[test]
fn served_openapi_documents_are_the_spec_without_k2d_extensions() {
    for gv in k2d::generated::GROUP_VERSIONS {
        let mut spec: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("spec/{}.json", gv.doc_path)).unwrap(),
        )
        .unwrap();
        spec.as_object_mut()
            .unwrap()
            .retain(|k, _| !k.starts_with("x-k2d-"));
        let served: serde_json::Value = serde_json::from_slice(&gv.openapi()).unwrap();
        assert_eq!(served, spec, "{}", gv.doc_path);
        assert!(
            served["components"]["schemas"]
                .as_object()
                .is_some_and(|s| !s.is_empty())
        );
    }
}
