//! Applies the server refuses, with the real server's codes and messages.

use serde_json::json;

use super::*;
use crate::api::apply::{ApplyError, apply};

fn config() -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}})
}

#[test]
fn the_kind_and_version_must_be_the_object_s() {
    let live = apply(None, &config(), "m", false, deployment(), T1).unwrap();
    let mut other = config();
    other["kind"] = json!("StatefulSet");
    assert_eq!(
        apply(Some(&live), &other, "m", false, deployment(), T2).unwrap_err(),
        ApplyError::BadRequest("invalid object type: apps/v1, Kind=StatefulSet".into())
    );
    let mut other = config();
    other["apiVersion"] = json!("apps/v1beta2");
    assert!(matches!(
        apply(None, &other, "m", false, deployment(), T2),
        Err(ApplyError::BadRequest(_))
    ));
    let mut pod = config();
    pod["apiVersion"] = json!("v1");
    pod["kind"] = json!("Pod");
    assert_eq!(
        apply(None, &pod, "m", false, deployment(), T2)
            .unwrap_err()
            .to_string(),
        "invalid object type: /v1, Kind=Pod"
    );
}

#[test]
fn managed_fields_cannot_be_applied() {
    let mut c = config();
    c["metadata"]["managedFields"] = json!([]);
    assert_eq!(
        apply(None, &c, "m", false, deployment(), T1).unwrap_err(),
        ApplyError::BadRequest("metadata.managedFields must be nil".into())
    );
}

#[test]
fn a_field_manager_is_required() {
    let err = apply(None, &config(), "", false, deployment(), T1).unwrap_err();
    assert_eq!(err.to_status().code, 422);
    assert!(
        err.to_string().contains("fieldManager: Required value"),
        "{err}"
    );
    assert!(apply(None, &config(), &"m".repeat(129), false, deployment(), T1).is_err());
}

#[test]
fn list_items_need_their_keys_and_keys_must_be_unique() {
    let mut c = config();
    c["spec"] = json!({"template": {"spec": {"containers": [{"image": "nginx"}]}}});
    let err = apply(None, &c, "m", false, deployment(), T1).unwrap_err();
    assert_eq!(err.to_status().code, 422);
    assert_eq!(
        err.to_string(),
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): \
         .spec.template.spec.containers: element 0: associative list with keys has an element \
         that omits key field \"name\" (and doesn't have default value)"
    );
    c["spec"] = json!({"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}});
    let err = apply(None, &c, "m", false, deployment(), T1).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("duplicate entries for key [name=\"a\"]"),
        "{err}"
    );
}

#[test]
fn the_name_must_be_the_object_s() {
    let live = apply(None, &config(), "m", false, deployment(), T1).unwrap();
    let mut c = config();
    c["metadata"]["name"] = json!("other");
    assert_eq!(
        apply(Some(&live), &c, "m", false, deployment(), T2).unwrap_err(),
        ApplyError::BadRequest(
            "the name of the object (other) does not match the name on the URL (web)".into()
        )
    );
}

#[test]
fn not_an_object() {
    assert!(matches!(
        apply(None, &json!([1]), "m", false, deployment(), T1),
        Err(ApplyError::BadRequest(_))
    ));
    assert!(matches!(
        apply(
            None,
            &json!({"apiVersion": "apps/v1"}),
            "m",
            false,
            deployment(),
            T1
        ),
        Err(ApplyError::BadRequest(_))
    ));
}
