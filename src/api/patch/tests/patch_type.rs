//! Recognising the patch type from the Content-Type.

use crate::api::patch::{PatchErrorKind, PatchType};

const ALL_ACCEPTED: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";

#[test]
fn the_four_patch_types() {
    for (ct, t) in [
        ("application/json-patch+json", PatchType::Json),
        ("application/merge-patch+json", PatchType::Merge),
        (
            "application/strategic-merge-patch+json",
            PatchType::StrategicMerge,
        ),
        ("application/apply-patch+yaml", PatchType::Apply),
        (
            "application/merge-patch+json; charset=utf-8",
            PatchType::Merge,
        ),
        (
            "Application/Strategic-Merge-Patch+JSON",
            PatchType::StrategicMerge,
        ),
    ] {
        assert_eq!(PatchType::from_content_type(Some(ct)), Ok(t), "{ct}");
    }
    for t in PatchType::ALL {
        assert_eq!(PatchType::from_content_type(Some(t.media_type())), Ok(t));
    }
}

#[test]
fn anything_else_is_415_with_kube_apiservers_message() {
    for ct in [
        Some("application/json"),
        Some("application/apply-patch+cbor"),
        Some(""),
        None,
    ] {
        let err = PatchType::from_content_type(ct).unwrap_err();
        assert_eq!(err.kind, PatchErrorKind::UnsupportedMediaType);
        assert_eq!(err.code(), 415);
        assert_eq!(err.reason(), "UnsupportedMediaType");
        assert_eq!(err.message, ALL_ACCEPTED);
    }
}

#[test]
fn resources_without_strategic_merge_list_three() {
    let err = PatchType::from_content_type_among(
        Some("application/strategic-merge-patch+json"),
        &PatchType::WITHOUT_STRATEGIC,
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );
}
