//! Maps in strategic merge patch: recursive merge, `null` deletes, `replace` strategy, and JSON
//! merge semantics where the schema says nothing.

use serde_json::json;

use super::support::{patch_deployment, patch_deployment_err, pod_spec, schema, web_deployment};
use crate::api::patch::{PatchErrorKind, merge_patch, strategic_merge_patch};

#[test]
fn null_deletes_fields_at_any_depth() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({
            "metadata": {"labels": {"app": null}, "finalizers": null},
            "spec": {"strategy": {"rollingUpdate": null},
                "template": {"spec": {"nodeSelector": null, "absent": null}}}
        }),
    );
    assert_eq!(patched["metadata"]["labels"], json!({}));
    assert!(patched["metadata"].get("finalizers").is_none());
    assert_eq!(
        patched["spec"]["strategy"],
        json!({"type": "RollingUpdate"})
    );
    assert!(pod_spec(&patched).get("nodeSelector").is_none());
    assert!(pod_spec(&patched).get("absent").is_none());
}

#[test]
fn nested_maps_in_the_pod_spec_merge() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{
            "securityContext":{"runAsUser":1000},
            "containers":[{"name":"nginx","resources":{"limits":{"memory":"256Mi"},
                "requests":{"cpu":"100m"}}}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["securityContext"],
        json!({"runAsUser": 1000})
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0]["resources"],
        json!({"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m"}})
    );
}

#[test]
fn atomic_maps_still_merge_as_on_a_real_server() {
    // nodeSelector is `x-kubernetes-map-type: atomic`, which strategic merge ignores.
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"nodeSelector":{"zone":"a"}}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["nodeSelector"],
        json!({"disk": "ssd", "zone": "a"})
    );
}

#[test]
fn replace_strategy_replaces_the_map() {
    let pdb = json!({"spec": {"minAvailable": 1,
        "selector": {"matchLabels": {"app": "web", "tier": "front"}}}});
    let patched = strategic_merge_patch(
        &pdb,
        &json!({"spec":{"selector":{"matchLabels":{"app":"api"}}}}),
        schema("io.k8s.api.policy.v1.PodDisruptionBudget"),
    )
    .unwrap();
    assert_eq!(
        patched["spec"],
        json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "api"}}})
    );
}

#[test]
fn a_change_of_type_replaces() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"strategy":{"rollingUpdate":{"maxSurge":1}},
            "template":{"spec":{"nodeSelector":["not","a","map"]}}}}),
    );
    assert_eq!(patched["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
    assert_eq!(
        patched["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        "25%"
    );
    assert_eq!(
        pod_spec(&patched)["nodeSelector"],
        json!(["not", "a", "map"])
    );
}

#[test]
fn new_subtrees_lose_their_nulls() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"affinity":{"podAffinity":null,
            "nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":null}}}}}}),
    );
    assert_eq!(pod_spec(&patched)["affinity"], json!({"nodeAffinity": {}}));
}

#[test]
fn without_schema_it_is_a_json_merge_patch() {
    let doc = web_deployment();
    let patch = json!({
        "metadata": {"labels": {"tier": "front"}, "finalizers": ["example.com/z"]},
        "spec": {"template": {"spec": {"containers": [{"name": "other"}], "nodeSelector": null}}}
    });
    let patched = strategic_merge_patch(&doc, &patch, None).unwrap();
    assert_eq!(patched, merge_patch(&doc, &patch));
    assert_eq!(patched["metadata"]["finalizers"], json!(["example.com/z"]));
}

#[test]
fn without_schema_directives_still_apply() {
    let doc = json!({"spec": {"a": {"b": 1}, "c": {"d": 1, "e": 2}}});
    let patched = strategic_merge_patch(
        &doc,
        &json!({"spec":{"a":{"$patch":"delete"},"c":{"$retainKeys":["e"],"e":3}}}),
        None,
    )
    .unwrap();
    assert_eq!(patched, json!({"spec": {"a": {}, "c": {"e": 3}}}));
}

#[test]
fn fields_the_schema_does_not_declare_merge_like_json() {
    let mut live = web_deployment();
    live["spec"]["extra"] = json!({"list": [1, 2], "keep": true});
    let patched = patch_deployment(&live, json!({"spec":{"extra":{"list":[3]}}}));
    assert_eq!(patched["spec"]["extra"], json!({"list": [3], "keep": true}));
}

#[test]
fn lists_of_lists_are_refused() {
    // Refused when the first item is a list; after strings it is a type mix (as in Go).
    let mut live = web_deployment();
    live["metadata"]["finalizers"] = json!([]);
    let err = patch_deployment_err(&live, json!({"metadata":{"finalizers":[["x"]]}}));
    assert_eq!(err.kind, PatchErrorKind::Unprocessable);
    assert_eq!(err.message, "lists of lists are not supported");
}

#[test]
fn mixed_item_types_are_refused() {
    let err = patch_deployment_err(&web_deployment(), json!({"metadata":{"finalizers":[1]}}));
    assert_eq!(err.kind, PatchErrorKind::Unclassified);
    assert!(
        err.message
            .starts_with("list element types are not identical")
    );
}

#[test]
fn a_merge_list_item_without_its_key_is_refused() {
    let err = patch_deployment_err(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"image":"nginx:1.29"}]}}}}),
    );
    assert_eq!(err.kind, PatchErrorKind::Unclassified);
    assert_eq!(
        err.message,
        "map: map[image:nginx:1.29] does not contain declared merge key: name"
    );
    assert_eq!(err.code(), 500);
    assert_eq!(err.reason(), "");
}

#[test]
fn the_patch_must_be_an_object() {
    let doc = web_deployment();
    let err = strategic_merge_patch(&doc, &json!([1]), None).unwrap_err();
    assert_eq!(err.kind, PatchErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
    assert_eq!(
        strategic_merge_patch(&doc, &json!(null), None).unwrap(),
        doc
    );
    assert_eq!(strategic_merge_patch(&doc, &json!({}), None).unwrap(), doc);
}

#[test]
fn the_original_is_not_changed() {
    let doc = web_deployment();
    let copy = doc.clone();
    let _ = patch_deployment(&doc, json!({"spec":{"replicas":9}}));
    assert_eq!(doc, copy);
}
