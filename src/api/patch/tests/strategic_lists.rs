//! Lists in strategic merge patch: merge lists by merge key, primitive merge lists, replaced
//! lists, and the order of the result.

use serde_json::json;

use super::support::{
    container_names, names, patch_deployment, pod_spec, schema, three_containers, web_deployment,
};
use crate::api::patch::strategic_merge_patch;

#[test]
fn containers_merge_by_name_and_a_new_one_comes_first() {
    let live = web_deployment();
    let patched = patch_deployment(
        &live,
        json!({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}),
    );
    // As on a real server (the kubectl patch task page shows the same): without
    // $setElementOrder, items the patch names come before items only the original has.
    assert_eq!(container_names(&patched), ["sidecar", "nginx"]);
    assert_eq!(
        pod_spec(&patched)["containers"][1],
        pod_spec(&live)["containers"][0]
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0],
        json!({"name": "sidecar", "image": "busybox"})
    );
}

#[test]
fn set_element_order_appends_a_new_container() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"nginx"},{"name":"sidecar"}],
            "containers":[{"name":"sidecar","image":"busybox"}]}}}}),
    );
    assert_eq!(container_names(&patched), ["nginx", "sidecar"]);
}

#[test]
fn env_merges_by_name() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
            "env":[{"name":"B","value":"20"},{"name":"C","value":"3"}]}]}}}}),
    );
    let env = &pod_spec(&patched)["containers"][0]["env"];
    assert_eq!(
        *env,
        json!([
            {"name": "A", "value": "1"},
            {"name": "B", "value": "20"},
            {"name": "C", "value": "3"}
        ])
    );
}

#[test]
fn env_value_from_replaces_value_with_null() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
            "env":[{"name":"A","value":null,
                "valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0]["env"][0],
        json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
    );
}

#[test]
fn container_ports_merge_by_container_port() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx","ports":[
            {"containerPort":80,"name":"http"},
            {"containerPort":443,"name":"https"}]}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0]["ports"],
        json!([
            {"containerPort": 80, "name": "http", "protocol": "TCP"},
            {"containerPort": 443, "name": "https"}
        ])
    );
}

#[test]
fn volume_mounts_merge_by_mount_path() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx","volumeMounts":[
            {"mountPath":"/data","readOnly":true},
            {"mountPath":"/cache","name":"cache"}]}]}}}}),
    );
    let mounts = &pod_spec(&patched)["containers"][0]["volumeMounts"];
    assert_eq!(names(mounts, "mountPath"), ["/data", "/cache"]);
    assert_eq!(
        mounts[0],
        json!({"name": "data", "mountPath": "/data", "readOnly": true})
    );
}

#[test]
fn volumes_merge_by_name() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/volumes":[{"name":"data"},{"name":"config"}],
            "volumes":[{"name":"config","configMap":{"name":"web-config"}}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["volumes"],
        json!([
            {"name": "data", "emptyDir": {"medium": "Memory"}},
            {"name": "config", "configMap": {"name": "web-config"}}
        ])
    );
}

#[test]
fn service_ports_merge_by_port() {
    let service = json!({
        "metadata": {"name": "web"},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.20",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}]
        }
    });
    let patched = strategic_merge_patch(
        &service,
        &json!({"spec":{
            "$setElementOrder/ports":[{"port":80},{"port":443}],
            "ports":[{"port":80,"targetPort":8080},{"name":"https","port":443,"targetPort":8443}]}}),
        schema("io.k8s.api.core.v1.Service"),
    )
    .unwrap();
    assert_eq!(
        patched["spec"]["ports"],
        json!([
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
            {"name": "https", "port": 443, "targetPort": 8443}
        ])
    );
    assert_eq!(patched["spec"]["clusterIP"], "10.96.0.20");
}

#[test]
fn lists_without_merge_strategy_are_replaced() {
    let mut live = web_deployment();
    live["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["-a", "-b"]);
    live["spec"]["template"]["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists"}]);
    let patched = patch_deployment(
        &live,
        json!({"spec":{"template":{"spec":{
            "tolerations":[{"key":"other","operator":"Exists"}],
            "containers":[{"name":"nginx","args":["-c"]}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["tolerations"],
        json!([{"key": "other", "operator": "Exists"}])
    );
    assert_eq!(pod_spec(&patched)["containers"][0]["args"], json!(["-c"]));
}

#[test]
fn list_type_map_without_patch_strategy_is_replaced() {
    // Container.resources.claims is `x-kubernetes-list-type: map` keyed by name but has no
    // patch strategy: a real server's strategic merge replaces it.
    let mut live = web_deployment();
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["claims"] =
        json!([{"name": "gpu"}, {"name": "fpga"}]);
    let patched = patch_deployment(
        &live,
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
            "resources":{"claims":[{"name":"tpu"}]}}]}}}}),
    );
    let resources = &pod_spec(&patched)["containers"][0]["resources"];
    assert_eq!(resources["claims"], json!([{"name": "tpu"}]));
    assert_eq!(resources["limits"]["cpu"], "500m");
}

#[test]
fn primitive_merge_list_is_a_union() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"metadata":{"finalizers":["example.com/c","example.com/a"]}}),
    );
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["example.com/c", "example.com/a", "example.com/b"])
    );
}

#[test]
fn owner_references_merge_by_uid() {
    let mut live = web_deployment();
    live["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "u1"}]);
    let patched = patch_deployment(
        &live,
        json!({"metadata":{"ownerReferences":[{"uid":"u1","controller":true}]}}),
    );
    assert_eq!(
        patched["metadata"]["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "u1", "controller": true}])
    );
}

#[test]
fn items_only_in_the_original_keep_their_place() {
    let patched = patch_deployment(
        &three_containers(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:c2"}]}}}}),
    );
    assert_eq!(container_names(&patched), ["a", "b", "c"]);
    assert_eq!(pod_spec(&patched)["containers"][2]["image"], "busybox:c2");
}

#[test]
fn a_new_list_is_taken_from_the_patch() {
    let patched = patch_deployment(
        &web_deployment(),
        json!({"spec":{"template":{"spec":{
            "$setElementOrder/initContainers":[{"name":"init"}],
            "initContainers":[{"name":"init","image":"busybox","env":[{"name":"X","value":null}]}]}}}}),
    );
    assert_eq!(
        pod_spec(&patched)["initContainers"],
        json!([{"name": "init", "image": "busybox", "env": [{"name": "X"}]}])
    );
}

#[test]
fn empty_lists_stay_empty() {
    let mut live = web_deployment();
    live["metadata"]["finalizers"] = json!([]);
    let patched = patch_deployment(&live, json!({"metadata":{"finalizers":[]}}));
    assert_eq!(patched["metadata"]["finalizers"], json!([]));
}
