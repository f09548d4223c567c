//! JSON patch (RFC 6902): every operation, and the errors kube-apiserver gives.

use serde_json::{Value, json};

use crate::api::patch::{MAX_OPERATIONS, PatchErrorKind, json_patch};

fn doc() -> Value {
    json!({"metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "list": ["a", "b"]}})
}

fn apply(ops: Value) -> Result<Value, crate::api::patch::PatchError> {
    json_patch(&doc(), &serde_json::to_vec(&ops).unwrap())
}

#[test]
fn add_remove_replace() {
    let out = apply(json!([
        {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
        {"op": "add", "path": "/spec/list/-", "value": "c"},
        {"op": "add", "path": "/spec/list/0", "value": "z"},
        {"op": "remove", "path": "/metadata/labels/app"},
        {"op": "replace", "path": "/spec/replicas", "value": 5}
    ]))
    .unwrap();
    assert_eq!(
        out,
        json!({"metadata": {"name": "web", "labels": {"tier": "front"}},
            "spec": {"replicas": 5, "list": ["z", "a", "b", "c"]}})
    );
}

#[test]
fn move_copy_test() {
    let out = apply(json!([
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "copy", "from": "/metadata/labels", "path": "/spec/selector"},
        {"op": "move", "from": "/spec/list", "path": "/spec/items"}
    ]))
    .unwrap();
    assert_eq!(
        out,
        json!({"metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "selector": {"app": "web"}, "items": ["a", "b"]}})
    );
}

#[test]
fn a_failing_test_is_a_422_and_nothing_applies() {
    let err = apply(json!([
        {"op": "replace", "path": "/spec/replicas", "value": 7},
        {"op": "test", "path": "/spec/replicas", "value": 2}
    ]))
    .unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::Unprocessable);
    assert_eq!(err.code(), 422);
    assert_eq!(err.reason(), "Invalid");
    assert_eq!(
        err.message,
        "testing value /spec/replicas failed: test failed"
    );
    let status = err.to_status().to_json();
    assert_eq!(
        status["message"],
        "the server rejected our request due to an error in our request"
    );
    assert_eq!(
        status["details"]["causes"][0],
        json!({"reason": "UnexpectedServerResponse",
            "message": "testing value /spec/replicas failed: test failed"})
    );
}

#[test]
fn missing_paths_are_422() {
    for (ops, message) in [
        (
            json!([{"op": "replace", "path": "/spec/nope", "value": 1}]),
            "replace operation does not apply: doc is missing key: /spec/nope: missing value",
        ),
        (
            json!([{"op": "remove", "path": "/spec/nope"}]),
            "remove operation does not apply: doc is missing path: \"/spec/nope\": missing value",
        ),
        (
            json!([{"op": "add", "path": "/nope/deeper", "value": 1}]),
            "add operation does not apply: doc is missing path: \"/nope/deeper\": missing value",
        ),
        (
            json!([{"op": "move", "from": "/nope", "path": "/spec/x"}]),
            "move operation does not apply: doc is missing from path: /nope: missing value",
        ),
    ] {
        let err = apply(ops).unwrap_err();
        assert_eq!(err.kind, PatchErrorKind::Unprocessable);
        assert_eq!(err.message, message);
    }
}

#[test]
fn malformed_bodies_are_400_and_bad_operations_422() {
    let err = json_patch(&doc(), b"[{").unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::BadRequest);
    let err = json_patch(&doc(), br#"{"op":"add"}"#).unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
    );
    let err = json_patch(&doc(), b"[1]").unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::BadRequest);

    let err = apply(json!([{"op": "frobnicate", "path": "/spec"}])).unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::Unprocessable);
    assert_eq!(err.message, "Unexpected kind: frobnicate");
    let err = apply(json!([{"op": "add", "path": "/spec/x"}])).unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::Unprocessable);
}

#[test]
fn too_many_operations_is_413() {
    let ops: Vec<Value> = (0..=MAX_OPERATIONS)
        .map(|_| json!({"op": "test", "path": "/spec/replicas", "value": 2}))
        .collect();
    let err = apply(Value::Array(ops)).unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::TooLarge);
    assert_eq!(err.code(), 413);
    assert_eq!(err.reason(), "RequestEntityTooLarge");
}

#[test]
fn an_empty_patch_changes_nothing() {
    assert_eq!(json_patch(&doc(), b"[]").unwrap(), doc());
}

#[test]
fn a_failing_move_after_other_operations_is_a_422_not_a_panic() {
    let doc = json!({"metadata": {"labels": {"app": "a"}}});
    let ops = br#"[{"op":"add","path":"/metadata/labels/x","value":"1"},{"op":"move","from":"/metadata/labels","path":"/metadata/labels/y"}]"#;
    let err = crate::api::patch::json_patch(&doc, ops).unwrap_err();
    assert_eq!(err.code(), 422, "{}", err.message);
}
