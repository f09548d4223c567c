//! JSON merge patch (RFC 7386).

use serde_json::json;

use crate::api::patch::{PatchErrorKind, merge_patch, parse_merge_patch};

#[test]
fn maps_merge_lists_replace_null_deletes() {
    let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
        "spec": {"containers": [{"name": "x"}, {"name": "y"}], "replicas": 2}});
    let out = merge_patch(
        &doc,
        &json!({"metadata": {"labels": {"a": null, "c": "3"}},
            "spec": {"containers": [{"name": "z"}], "new": {"k": null, "v": 1}}}),
    );
    assert_eq!(
        out,
        json!({"metadata": {"labels": {"b": "2", "c": "3"}},
            "spec": {"containers": [{"name": "z"}], "replicas": 2, "new": {"v": 1}}})
    );
}

#[test]
fn bodies_kube_apiserver_refuses() {
    for body in [&b"{"[..], b"null", b"3", b"\"x\""] {
        let err = parse_merge_patch(body).unwrap_err();
        assert_eq!(err.kind, PatchErrorKind::BadRequest, "{body:?}");
        assert!(
            err.message == "Invalid JSON Patch"
                || err.message.starts_with("error decoding patch: "),
            "{}",
            err.message
        );
    }
    assert_eq!(
        parse_merge_patch(b"[]").unwrap_err().kind,
        PatchErrorKind::Unprocessable
    );
    assert_eq!(
        parse_merge_patch(br#"{"spec":{"replicas":4}}"#).unwrap(),
        json!({"spec": {"replicas": 4}})
    );
}
