//! How patch errors become Status answers.

use serde_json::json;

use crate::api::patch::{PatchError, PatchType, apply_patch};
use crate::api::status::Status;

#[test]
fn each_kind_has_kube_apiservers_code_and_reason() {
    let cases = [
        (PatchError::bad_request("x"), 400, "BadRequest"),
        (PatchError::unprocessable("x"), 422, "Invalid"),
        (PatchError::unclassified("x"), 500, ""),
        (
            PatchError::unsupported_media_type(&["a"]),
            415,
            "UnsupportedMediaType",
        ),
    ];
    for (err, code, reason) in cases {
        let status: Status = err.clone().into();
        assert_eq!((status.code, status.reason), (code, reason), "{err:?}");
    }
}

#[test]
fn plain_errors_carry_their_message() {
    let status = PatchError::bad_request("invalid patch format of retainKeys").to_status();
    assert_eq!(
        status.to_json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "invalid patch format of retainKeys", "reason": "BadRequest", "code": 400})
    );
}

#[test]
fn apply_patch_dispatches_and_reports_body_errors() {
    let doc = json!({"spec": {"replicas": 1}});
    let err = apply_patch(&doc, PatchType::StrategicMerge, b"{nope", None).unwrap_err();
    assert_eq!(err.code(), 400);
    let err = apply_patch(&doc, PatchType::Merge, b"null", None).unwrap_err();
    assert_eq!(err.code(), 400);
    let err = apply_patch(&doc, PatchType::Apply, b"{}", None).unwrap_err();
    assert_eq!(err.code(), 500);
    assert_eq!(
        apply_patch(
            &doc,
            PatchType::Json,
            br#"[{"op":"replace","path":"/spec/replicas","value":3}]"#,
            None
        )
        .unwrap(),
        json!({"spec": {"replicas": 3}})
    );
}
