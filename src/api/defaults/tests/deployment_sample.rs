//! The Deployment of `samples/deployment-created.json` (the project's recorded answer to
//! `kubectl apply` of Deployment `web`: nginx:1.27, 2 replicas, label app=web, port 80).

use serde_json::{Value, json};

use super::{defaulted, template_spec_defaults};

const SAMPLE: &str = include_str!("deployment-created.json");

/// What the client sent: the sample without what the server added (identity, managedFields,
/// the revision annotation, status, and the defaults).
fn sent() -> Value {
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let spec = &sample["spec"];
    json!({
        "apiVersion": sample["apiVersion"],
        "kind": sample["kind"],
        "metadata": {
            "name": sample["metadata"]["name"],
            "namespace": sample["metadata"]["namespace"],
            "labels": sample["metadata"]["labels"]
        },
        "spec": {
            "replicas": spec["replicas"],
            "selector": spec["selector"],
            "template": spec["template"]
        }
    })
}

#[test]
fn the_client_sent_what_the_sample_says() {
    assert_eq!(
        sent()["spec"],
        json!({
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                ]}
            }
        })
    );
}

/// Every default the sample shows comes out of `apply`, value for value.
#[test]
fn every_default_of_the_sample_comes_out_of_apply() {
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let out = defaulted("apps", "deployments", sent());
    assert_contains(&out["spec"], &sample["spec"], "spec");
}

/// The whole spec, byte for byte as JSON values: the sample's spec plus the pod template
/// defaults a real v1.35 server also returns, which the recorded sample leaves out (its test
/// server did not default pod templates; see `pods-list.json` for the pod spec side).
#[test]
fn the_spec_is_the_samples_plus_the_pod_template_defaults() {
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let mut expected = sample["spec"].clone();
    expected["template"]["spec"] = template_spec_defaults(json!([{
        "name": "nginx",
        "image": "nginx:1.27",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File"
    }]));
    let out = defaulted("apps", "deployments", sent());
    assert_eq!(out["spec"], expected);
    assert_eq!(
        serde_json::to_vec(&out["spec"]).unwrap(),
        serde_json::to_vec(&expected).unwrap()
    );
    // A new Deployment's status is the empty struct until the controller writes it.
    assert_eq!(out["status"], json!({}));
}

/// Every value in `expected` is in `actual` at the same place (objects may hold more).
fn assert_contains(actual: &Value, expected: &Value, at: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, v) in e {
                let a = a.get(k).unwrap_or_else(|| panic!("{at}.{k} is missing"));
                assert_contains(a, v, &format!("{at}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{at}: list length");
            for (i, (a, e)) in a.iter().zip(e).enumerate() {
                assert_contains(a, e, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(actual, expected, "{at}"),
    }
}
