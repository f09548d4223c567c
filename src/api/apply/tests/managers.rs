//! Several managers on one object: conflicts, forcing, shared ownership, lists merged by key.

use serde_json::{Value, json};

use super::*;
use crate::api::apply::{ApplyError, apply, record_update};

fn web(replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}
        }
    })
}

fn nginx() -> Value {
    json!([{"name": "nginx", "image": "nginx:1.27"}])
}

/// `kubectl scale`: a merge patch on the scale subresource, recorded as an Update.
fn scale(live: &Value, replicas: i64, now: &str) -> Value {
    let mut new = live.clone();
    new["spec"]["replicas"] = json!(replicas);
    record_update(
        Some(live),
        &new,
        "kubectl",
        "Update",
        Some("scale"),
        deployment(),
        now,
    )
}

#[test]
fn scale_then_apply_with_other_replicas_conflicts_then_force_takes_over() {
    let created = apply(None, &web(2, nginx()), "helm", false, deployment(), T1).unwrap();
    let scaled = scale(&created, 4, T2);
    assert_eq!(
        fields(entry(&scaled, "kubectl", "Update")),
        r#"{"f:spec":{"f:replicas":{}}}"#
    );
    assert_eq!(entry(&scaled, "kubectl", "Update")["subresource"], "scale");
    assert!(
        !fields(entry(&scaled, "helm", "Apply")).contains("f:replicas"),
        "the scale took the field"
    );

    let err = apply(
        Some(&scaled),
        &web(2, nginx()),
        "helm",
        false,
        deployment(),
        T3,
    )
    .unwrap_err();
    let ApplyError::Conflict(conflicts) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].manager, "kubectl");
    assert_eq!(conflicts[0].field, ".spec.replicas");
    assert_eq!(
        err.to_status().message,
        "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"
    );
    assert_eq!(err.to_status().code, 409);

    let same = apply(
        Some(&scaled),
        &web(4, nginx()),
        "helm",
        false,
        deployment(),
        T3,
    )
    .unwrap();
    assert!(
        fields(entry(&same, "helm", "Apply")).contains("f:replicas")
            && fields(entry(&same, "kubectl", "Update")).contains("f:replicas"),
        "applying the live value shares the field"
    );

    let forced = apply(
        Some(&scaled),
        &web(2, nginx()),
        "helm",
        true,
        deployment(),
        T3,
    )
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], 2);
    assert!(
        try_entry(&forced, "kubectl", "Update").is_none(),
        "owns nothing any more"
    );
    assert!(fields(entry(&forced, "helm", "Apply")).contains("f:replicas"));
}

#[test]
fn leaving_a_conflicting_field_out_is_no_conflict() {
    let created = apply(None, &web(2, nginx()), "helm", false, deployment(), T1).unwrap();
    let scaled = scale(&created, 4, T2);
    let mut config = web(0, nginx());
    config["spec"].as_object_mut().unwrap().remove("replicas");
    let out = apply(Some(&scaled), &config, "helm", false, deployment(), T3).unwrap();
    assert_eq!(out["spec"]["replicas"], 4, "the scale's value stays");
}

#[test]
fn containers_merge_by_name_across_managers() {
    let app = json!([{"name": "app", "image": "app:1"}]);
    let sidecar = json!([{"name": "sidecar", "image": "proxy:1"}]);
    let created = apply(
        None,
        &web(1, app.clone()),
        "team-app",
        false,
        deployment(),
        T1,
    )
    .unwrap();
    let mut mesh = web(1, sidecar);
    mesh["spec"].as_object_mut().unwrap().remove("replicas");
    let both = apply(Some(&created), &mesh, "mesh", false, deployment(), T2).unwrap();
    let names: Vec<&str> = both["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "sidecar"]);
    assert!(fields(entry(&both, "mesh", "Apply")).contains(r#"k:{\"name\":\"sidecar\"}"#));
    assert!(!fields(entry(&both, "mesh", "Apply")).contains(r#"k:{\"name\":\"app\"}"#));

    // The app team re-applies its manifest, which does not know the sidecar: it stays.
    let again = apply(
        Some(&both),
        &web(1, app.clone()),
        "team-app",
        false,
        deployment(),
        T3,
    )
    .unwrap();
    assert_eq!(
        again["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A different image for the app container is the app team's field: a conflict for mesh.
    let mut steal = mesh.clone();
    steal["spec"]["template"]["spec"]["containers"] = json!([{"name": "app", "image": "app:2"}]);
    let err = apply(Some(&again), &steal, "mesh", false, deployment(), T4).unwrap_err();
    let ApplyError::Conflict(c) = err else {
        panic!()
    };
    assert_eq!(c[0].manager, "team-app");
    assert_eq!(
        c[0].field,
        ".spec.template.spec.containers[name=\"app\"].image"
    );

    // Mesh stops applying its sidecar: the item goes, the app's container stays.
    let mut none = mesh.clone();
    none["spec"]["template"]["spec"]["containers"] = json!([]);
    let removed = apply(Some(&again), &none, "mesh", false, deployment(), T4).unwrap();
    let containers = removed["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["name"], "app");
    assert!(!fields(entry(&removed, "mesh", "Apply")).contains("sidecar"));
}

#[test]
fn a_field_removed_by_one_manager_stays_while_another_owns_it() {
    let mut a = web(1, nginx());
    a["metadata"]["labels"] = json!({"team": "a", "shared": "yes"});
    let created = apply(None, &a, "a", false, deployment(), T1).unwrap();
    let b = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"shared": "yes"}}
    });
    let shared = apply(Some(&created), &b, "b", false, deployment(), T2).unwrap();
    a["metadata"]["labels"] = json!({});
    let after = apply(Some(&shared), &a, "a", false, deployment(), T3).unwrap();
    assert_eq!(after["metadata"]["labels"], json!({"shared": "yes"}));
}

#[test]
fn an_object_without_managed_fields_is_claimed_before_the_first_apply() {
    let mut live = web(2, nginx());
    live["metadata"]["uid"] = json!("u");
    let err = apply(
        Some(&live),
        &web(3, nginx()),
        "helm",
        false,
        deployment(),
        T1,
    )
    .unwrap_err();
    let ApplyError::Conflict(c) = err else {
        panic!()
    };
    assert_eq!(c[0].manager, "before-first-apply");
    assert_eq!(c[0].field, ".spec.replicas");
    let ok = apply(
        Some(&live),
        &web(2, nginx()),
        "helm",
        false,
        deployment(),
        T1,
    )
    .unwrap();
    assert_eq!(
        writers(&ok),
        [
            ("helm".into(), "Apply".into(), "".into()),
            ("before-first-apply".into(), "Update".into(), "".into())
        ]
    );
}

#[test]
fn an_apply_to_the_status_subresource_owns_only_status() {
    use crate::api::apply::apply_subresource;
    let created = apply(None, &web(1, nginx()), "helm", false, deployment(), T1).unwrap();
    let mut config = web(9, nginx());
    config["status"] = json!({"replicas": 1, "readyReplicas": 1});
    let out = apply_subresource(
        Some(&created),
        &config,
        "k2d-controller",
        false,
        Some("status"),
        deployment(),
        T2,
    )
    .unwrap();
    assert_eq!(
        out["spec"]["replicas"], 1,
        "spec is not the status subresource's"
    );
    assert_eq!(out["status"], json!({"replicas": 1, "readyReplicas": 1}));
    let e = entry(&out, "k2d-controller", "Apply");
    assert_eq!(e["subresource"], "status");
    assert_eq!(
        fields(e),
        r#"{"f:status":{"f:readyReplicas":{},"f:replicas":{}}}"#
    );
}
