//! The strategic merge patch directives: `$patch`, `$retainKeys`, `$setElementOrder/…` and
//! `$deleteFromPrimitiveList/…`, and what happens with unknown ones.

use serde_json::json;

use super::support::{
    container_names, patch_deployment, patch_deployment_err, pod_spec, three_containers,
    web_deployment,
};
use crate::api::patch::PatchErrorKind;

#[test]
fn patch_delete_removes_a_container_by_name() {
    let patched = patch_deployment(
        &three_containers(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"a"},{"name":"c"}],
            "containers":[{"$patch":"delete","name":"b"}]}}}}),
    );
    assert_eq!(container_names(&patched), ["a", "c"]);
}

#[test]
fn patch_delete_of_an_env_item_and_an_update_together() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[
            {"$patch":"delete","name":"A"},{"name":"B","value":"22"}]}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0]["env"],
        json!([{"name": "B", "value": "22"}])
    );
}

#[test]
fn patch_delete_without_the_merge_key_fails() {
    let err = patch_deployment_err(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"$patch":"delete","image":"x"}]}}}}),
    );
    assert_eq!(err.kind, PatchErrorKind::Unclassified);
    assert_eq!(
        err.message,
        "map: map[$patch:delete image:x] does not contain declared merge key: name"
    );
}

#[test]
fn patch_replace_item_replaces_the_whole_list() {
    let patched = patch_deployment(
        &three_containers(),
        json!({"spec":{"template":{"spec":{"containers":[
            {"name":"z","image":"busybox:z","env":[{"name":"N","value":null}]},
            {"$patch":"replace"}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["containers"],
        json!([{"name": "z", "image": "busybox:z", "env": [{"name": "N"}]}])
    );
}

#[test]
fn patch_replace_on_a_map_replaces_it() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
            "resources":{"$patch":"replace","requests":{"cpu":"100m"}}}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0]["resources"],
        json!({"requests": {"cpu": "100m"}})
    );
}

#[test]
fn patch_delete_on_a_map_empties_it() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"nodeSelector":{"$patch":"delete"}}}}}),
    );
    assert_eq!(pod_spec(&patched)["nodeSelector"], json!({}));
}

#[test]
fn patch_delete_on_a_new_map_adds_nothing() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"affinity":{"$patch":"delete"}}}}}),
    );
    assert!(pod_spec(&patched).get("affinity").is_none());
}

#[test]
fn patch_merge_is_refused_as_on_a_real_server() {
    let err = patch_deployment_err(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"$patch":"merge"}]}}}}),
    );
    assert_eq!(err.kind, PatchErrorKind::Unclassified);
    assert_eq!(
        err.message,
        "merging lists cannot yet be specified in the patch"
    );

    let err = patch_deployment_err(
        &web_deployment(),
        json!({"spec":{"strategy":{"$patch":"merge","type":"Recreate"}}}),
    );
    assert_eq!(
        err.message,
        "unknown patch type: merge in map: map[$patch:merge type:Recreate]"
    );
}

#[test]
fn unknown_patch_value_is_an_error() {
    let err = patch_deployment_err(&web_deployment(), json!({"spec":{"$patch":"explode"}}));
    assert_eq!(err.kind, PatchErrorKind::Unclassified);
    assert!(
        err.message
            .starts_with("unknown patch type: explode in map:")
    );
    assert_eq!(err.code(), 500);
}

#[test]
fn retain_keys_switches_a_volume_source() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/volumes":[{"name":"data"}],
            "volumes":[{"$retainKeys":["hostPath","name"],"emptyDir":null,
                "hostPath":{"path":"/srv/data"},"name":"data"}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["volumes"],
        json!([{"name": "data", "hostPath": {"path": "/srv/data"}}])
    );
}

#[test]
fn retain_keys_clears_what_it_does_not_list() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}),
    );
    assert_eq!(patched["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn retain_keys_must_list_what_the_patch_sets() {
    let err = patch_deployment_err(
        &web_deployment(),
        json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"RollingUpdate",
            "rollingUpdate":{"maxSurge":1}}}}),
    );
    assert_eq!(err.kind, PatchErrorKind::BadRequest);
    assert_eq!(err.message, "invalid patch format of retainKeys");

    let err = patch_deployment_err(
        &web_deployment(),
        json!({"spec":{"strategy":{"$retainKeys":"type"}}}),
    );
    assert_eq!(err.code(), 400);
}

#[test]
fn set_element_order_reorders_and_keeps_server_only_items() {
    // Order c, a; b is only on the server and keeps its place before c.
    let patched = patch_deployment(
        &three_containers(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"c"},{"name":"a"}],
            "containers":[{"name":"c","image":"busybox:c2"}]}}}}),
    );
    assert_eq!(container_names(&patched), ["b", "c", "a"]);
    assert_eq!(pod_spec(&patched)["containers"][1]["image"], "busybox:c2");
}

#[test]
fn set_element_order_alone_only_reorders() {
    let patched = patch_deployment(
        &three_containers(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"c"},{"name":"b"},{"name":"a"}]}}}}),
    );
    assert_eq!(container_names(&patched), ["c", "b", "a"]);
    let mut reversed = three_containers();
    reversed["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert_eq!(patched, reversed);
}

#[test]
fn set_element_order_must_agree_with_the_patch_list() {
    let err = patch_deployment_err(
        &three_containers(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
            "containers":[{"name":"b","image":"x"},{"name":"a","image":"y"}]}}}}),
    );
    assert_eq!(err.kind, PatchErrorKind::Unclassified);
    assert!(err.message.starts_with("The order in patch list:"));

    let err = patch_deployment_err(
        &three_containers(),
        json!({"spec":{"template":{"spec":{"$setElementOrder":[{"name":"a"}]}}}}),
    );
    assert_eq!(err.kind, PatchErrorKind::BadRequest);
    assert_eq!(err.message, "invalid patch format of setElementOrder list");
}

#[test]
fn set_element_order_of_a_primitive_list() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"metadata":{
            "$setElementOrder/finalizers":["example.com/b","example.com/c","example.com/a"],
            "finalizers":["example.com/c"]}}),
    );
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["example.com/b", "example.com/c", "example.com/a"])
    );
}

#[test]
fn delete_from_primitive_list_removes_finalizers() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/a"]}}),
    );
    assert_eq!(patched["metadata"]["finalizers"], json!(["example.com/b"]));
}

#[test]
fn delete_from_primitive_list_with_additions_and_order() {
    // What client-side apply sends when a manifest swaps finalizer a for c.
    let patched = patch_deployment(
        &web_deployment(),
        json!({"metadata":{
            "$setElementOrder/finalizers":["example.com/c","example.com/b"],
            "$deleteFromPrimitiveList/finalizers":["example.com/a"],
            "finalizers":["example.com/c"]}}),
    );
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["example.com/c", "example.com/b"])
    );
}

#[test]
fn delete_from_primitive_list_on_a_missing_list_adds_nothing() {
    let mut live = web_deployment();
    live["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("finalizers");
    let patched = patch_deployment(
        &live,
        json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/a"]}}),
    );
    assert!(patched["metadata"].get("finalizers").is_none());
    assert!(
        patched["metadata"]
            .get("$deleteFromPrimitiveList/finalizers")
            .is_none()
    );
}

#[test]
fn delete_from_primitive_list_must_be_a_list() {
    let err = patch_deployment_err(
        &web_deployment(),
        json!({"metadata":{"$deleteFromPrimitiveList/finalizers":"example.com/a"}}),
    );
    assert_eq!(err.kind, PatchErrorKind::BadRequest);
    assert_eq!(err.message, "invalid patch format of primitive list");

    let err = patch_deployment_err(
        &web_deployment(),
        json!({"metadata":{"$deleteFromPrimitiveListfinalizers":["example.com/a"]}}),
    );
    assert_eq!(err.code(), 400);
}

#[test]
fn unknown_directives_are_refused() {
    let err = patch_deployment_err(&web_deployment(), json!({"spec":{"$replaceAll":true}}));
    assert_eq!(err.kind, PatchErrorKind::BadRequest);
    assert!(err.message.contains("\"$replaceAll\""));

    // Also in content that is new to the object.
    let err = patch_deployment_err(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"affinity":{"$whatever":1}}}}}),
    );
    assert_eq!(err.code(), 400);
}

#[test]
fn directives_are_never_stored() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{
            "affinity":{"nodeAffinity":{"$retainKeys":["x"],
                "$setElementOrder/preferredDuringSchedulingIgnoredDuringExecution":[],
                "preferredDuringSchedulingIgnoredDuringExecution":[]}},
            "containers":[{"name":"nginx","securityContext":{"$patch":"replace","privileged":false}}]}}}}),
    );
    let text = serde_json::to_string(&patched).unwrap();
    assert!(!text.contains('$'), "{text}");
    assert_eq!(
        pod_spec(&patched)["affinity"],
        json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}})
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0]["securityContext"],
        json!({"privileged": false})
    );
}
