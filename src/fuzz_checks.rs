//! The checks behind the fuzz targets in `fuzz/` and the corpus replay test
//! (`tests/fuzz_corpus.rs`): each feeds arbitrary bytes to the same decoder the server calls
//! and panics when an invariant breaks, so libFuzzer reports the input. Invariants, beyond "no
//! panic":
//!
//! - [`body`]: a decoded body is an object that serializes and decodes back to itself as JSON;
//!   a refusal is a 4xx Status;
//! - [`protobuf`]: a decoded object names its `apiVersion` and `kind`; a refusal is a 400 or
//!   415;
//! - [`patch`]: a refusal is one of the codes the patch engine documents; a merge patch applied
//!   twice gives what it gave once (RFC 7386 patches are idempotent);
//! - [`selectors`]: a selector that parses prints as text that parses to the same selector
//!   (the same terms, for a field selector: their order follows their text, as in Go).

use serde_json::Value;

use crate::api::patch::{PatchType, apply_patch, merge_patch, parse_merge_patch};
use crate::api::selector::{FieldSelector, LabelSelector};
use crate::api::{body, protobuf as pb};

/// The media types [`body`] picks from with its first byte.
const MEDIA_TYPES: [&str; 3] = ["application/json", "application/yaml", pb::MEDIA_TYPE];

/// A request body in one of the three media types (chosen by the first byte).
pub fn body(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let media = MEDIA_TYPES[usize::from(pick) % MEDIA_TYPES.len()];
    match body::decode_bytes(media, rest, "ConfigMap") {
        Ok((value, _)) => {
            assert!(value.is_object(), "decoded a non-object: {value}");
            let text = serde_json::to_vec(&value).expect("a decoded value serializes");
            let back: Value = serde_json::from_slice(&text).expect("serialized JSON parses");
            assert_eq!(back, value, "JSON round trip changed the value");
        }
        Err(status) => assert!(
            (400..500).contains(&status.code),
            "body decode answered {}: {}",
            status.code,
            status.message
        ),
    }
}

/// A Kubernetes protobuf body.
pub fn protobuf(data: &[u8]) {
    match pb::decode(data) {
        Ok(value) => {
            assert!(value.is_object(), "decoded a non-object: {value}");
            for key in ["apiVersion", "kind"] {
                assert!(value[key].is_string(), "no {key} in {value}");
            }
        }
        Err(e) => {
            let status = e.status("ConfigMap", data);
            assert!(
                matches!(status.code, 400 | 415),
                "protobuf decode answered {}: {}",
                status.code,
                status.message
            );
        }
    }
}

/// A patch: the first byte picks the patch type and schema, then the target document (JSON)
/// and the patch are separated by the first NUL byte.
pub fn patch(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Some(cut) = rest.iter().position(|&b| b == 0) else {
        return;
    };
    let Ok(doc) = serde_json::from_slice::<Value>(&rest[..cut]) else {
        return;
    };
    let patch = &rest[cut + 1..];
    let types = [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge];
    let patch_type = types[usize::from(pick & 3) % types.len()];
    let schemas = crate::generated::SCHEMAS.len();
    let schema = (pick >= 4).then(|| usize::from(pick >> 2) % schemas);
    match apply_patch(&doc, patch_type, patch, schema) {
        Ok(patched) => {
            if patch_type == PatchType::Merge {
                let p = parse_merge_patch(patch).expect("it parsed the first time");
                assert_eq!(
                    merge_patch(&patched, &p),
                    patched,
                    "merge patch not idempotent"
                );
            }
        }
        Err(e) => {
            let status = crate::api::Status::from(e);
            assert!(
                matches!(status.code, 400 | 413 | 415 | 422 | 500),
                "patch answered {}: {}",
                status.code,
                status.message
            );
        }
    }
}

/// A label selector and a field selector (the same text for both).
pub fn selectors(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sel) = LabelSelector::parse(text) {
        let printed = sel.to_string();
        let again = LabelSelector::parse(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        assert_eq!(again, sel, "{text:?} printed as {printed:?}");
    }
    if let Ok(sel) = FieldSelector::parse(text) {
        let printed = sel.to_string();
        let again = FieldSelector::parse(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
        // Terms are kept in the order of their sorted text, as Go keeps them, and `==` prints
        // as `=`: the order may change, the terms may not.
        assert_eq!(
            term_set(&again),
            term_set(&sel),
            "{text:?} printed as {printed:?}"
        );
    }
}

/// The terms of a field selector, in a canonical order.
fn term_set(sel: &FieldSelector) -> Vec<(&str, &str, bool)> {
    let mut terms: Vec<_> = sel
        .terms()
        .iter()
        .map(|t| (t.field.as_str(), t.value.as_str(), t.negated))
        .collect();
    terms.sort_unstable();
    terms
}
