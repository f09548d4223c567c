//! The endpoints controllers and the `kubernetes` Service against a running k2d without an
//! engine: the test plays the kubelet by writing pod status (IP, Ready condition) through the
//! API, and checks the Endpoints and EndpointSlices the controllers keep.

mod common;

use std::time::{Duration, Instant};

use common::K2d;
use serde_json::{Value, json};

async fn call(k2d: &K2d, method: &str, path: &str, body: Value) -> (u16, Value) {
    let content_type = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let a = k2d
        .send(
            method,
            path,
            content_type,
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    let v = if a.body.is_empty() {
        Value::Null
    } else {
        a.json()
    };
    (a.status, v)
}

async fn get(k2d: &K2d, path: &str) -> Option<Value> {
    let a = k2d
        .request(
            "GET",
            path,
            common::Creds::Token(&k2d.token),
            None,
            Duration::from_secs(5),
        )
        .await;
    match a.status {
        200 => Some(a.json()),
        404 => None,
        other => panic!("GET {path}: {other} {}", String::from_utf8_lossy(&a.body)),
    }
}

async fn ok(k2d: &K2d, method: &str, path: &str, body: Value) -> Value {
    let (status, v) = call(k2d, method, path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {v}"
    );
    v
}

/// Polls `path` until `check` accepts what it holds (`None` when missing), for up to 10 s.
async fn until(k2d: &K2d, path: &str, what: &str, check: impl Fn(Option<&Value>) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = get(k2d, path).await;
        if check(v.as_ref()) {
            return v.unwrap_or(Value::Null);
        }
        assert!(Instant::now() < deadline, "{what}: last seen {v:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const NS: &str = "/api/v1/namespaces/default";
const SLICES: &str = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";

fn pod(name: &str, app: &str, ports: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "k2d-test/httpd", "ports": ports}]},
    })
}

/// Writes what a kubelet writes once the pod runs: its IP and readiness.
async fn run_pod(k2d: &K2d, name: &str, ip: &str, ready: bool) {
    let status = if ready { "True" } else { "False" };
    ok(
        k2d,
        "PATCH",
        &format!("{NS}/pods/{name}/status"),
        json!({"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": status}]}}),
    )
    .await;
}

fn ips(list: Option<&Value>) -> Vec<String> {
    let mut v: Vec<String> = list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| a["ip"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// All addresses of the Endpoints: (ready, not ready).
fn addresses(ep: Option<&Value>) -> (Vec<String>, Vec<String>) {
    let mut ready = Vec::new();
    let mut not_ready = Vec::new();
    for s in ep
        .and_then(|e| e["subsets"].as_array())
        .into_iter()
        .flatten()
    {
        ready.extend(ips(s.get("addresses")));
        not_ready.extend(ips(s.get("notReadyAddresses")));
    }
    ready.sort();
    not_ready.sort();
    (ready, not_ready)
}

async fn slices_of(k2d: &K2d, svc: &str) -> Vec<Value> {
    let list = get(
        k2d,
        &format!("{SLICES}?labelSelector=kubernetes.io/service-name%3D{svc}"),
    )
    .await
    .unwrap();
    list["items"].as_array().cloned().unwrap_or_default()
}

/// Polls the Service's slices until `check` accepts them, for up to 10 s.
async fn until_slices(
    k2d: &K2d,
    svc: &str,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let slices = slices_of(k2d, svc).await;
        if check(&slices) {
            return slices;
        }
        assert!(Instant::now() < deadline, "{what}: last seen {slices:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubernetes_service_reaches_k2d() {
    let k2d = K2d::start("kubesvc");
    let svc = until(
        &k2d,
        &format!("{NS}/services/kubernetes"),
        "the Service",
        |v| v.is_some(),
    )
    .await;
    assert_eq!(svc["spec"]["clusterIP"], "10.96.0.1");
    assert_eq!(svc["spec"]["ports"][0]["port"], 443);
    assert_eq!(svc["spec"]["ports"][0]["name"], "https");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], k2d.port);
    assert_eq!(svc["metadata"]["labels"]["component"], "apiserver");
    assert_eq!(svc["metadata"]["labels"]["provider"], "kubernetes");
    assert!(svc["spec"].get("selector").is_none());
    let ep = until(
        &k2d,
        &format!("{NS}/endpoints/kubernetes"),
        "its Endpoints",
        |v| v.is_some(),
    )
    .await;
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], k2d.port);
    assert_eq!(ep["subsets"][0]["addresses"].as_array().unwrap().len(), 1);
    let slice = until(
        &k2d,
        &format!("{SLICES}/kubernetes"),
        "its EndpointSlice",
        |v| v.is_some(),
    )
    .await;
    assert_eq!(slice["ports"][0]["port"], k2d.port);
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "kubernetes"
    );
    assert_eq!(
        slice["endpoints"][0]["addresses"][0],
        ep["subsets"][0]["addresses"][0]["ip"]
    );
    // No other Service holds its address.
    let svcs = get(&k2d, "/api/v1/services").await.unwrap();
    let ten_96_0_1 = svcs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["spec"]["clusterIP"] == "10.96.0.1")
        .count();
    assert_eq!(ten_96_0_1, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_ready_pods_and_named_ports() {
    let k2d = K2d::start("endpoints");
    ok(
        &k2d,
        "POST",
        &format!("{NS}/services"),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "labels": {"tier": "front"}},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
    )
    .await;
    let named = json!([{"name": "http", "containerPort": 8080}]);
    for (name, ports) in [("a", &named), ("b", &named), ("c", &json!([]))] {
        ok(
            &k2d,
            "POST",
            &format!("{NS}/pods"),
            pod(name, "web", ports.clone()),
        )
        .await;
    }
    ok(
        &k2d,
        "POST",
        &format!("{NS}/pods"),
        pod("other", "db", named.clone()),
    )
    .await;
    // An Endpoints object exists as soon as the Service does, empty while no pod runs.
    let ep_path = format!("{NS}/endpoints/web");
    until(&k2d, &ep_path, "empty Endpoints", |v| v.is_some()).await;
    let placeholder = until_slices(&k2d, "web", "an empty slice", |s| s.len() == 1).await;
    assert_eq!(placeholder[0]["endpoints"], json!([]));
    run_pod(&k2d, "a", "10.1.0.1", true).await;
    run_pod(&k2d, "b", "10.1.0.2", false).await;
    run_pod(&k2d, "c", "10.1.0.3", true).await; // lacks the named port: left out
    run_pod(&k2d, "other", "10.1.0.9", true).await; // not selected
    let ep = until(&k2d, &ep_path, "a ready, b not ready", |v| {
        addresses(v) == (vec!["10.1.0.1".into()], vec!["10.1.0.2".into()])
    })
    .await;
    let subset = &ep["subsets"][0];
    assert_eq!(
        subset["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    let a = &subset["addresses"][0];
    assert_eq!(a["nodeName"], "node-1");
    assert_eq!(a["targetRef"]["kind"], "Pod");
    assert_eq!(a["targetRef"]["name"], "a");
    assert_eq!(a["targetRef"]["namespace"], "default");
    assert!(
        a["targetRef"]["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty())
    );
    assert_eq!(ep["metadata"]["labels"]["tier"], "front");

    // The slice: owned by the Service, labelled, with conditions per endpoint.
    let svc = get(&k2d, &format!("{NS}/services/web")).await.unwrap();
    let slices = until_slices(&k2d, "web", "a and b in the slice", |s| {
        s.len() == 1 && s[0]["endpoints"].as_array().is_some_and(|e| e.len() == 2)
    })
    .await;
    let s = &slices[0];
    assert!(s["metadata"]["name"].as_str().unwrap().starts_with("web-"));
    assert_eq!(s["addressType"], "IPv4");
    assert_eq!(
        s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(
        s["metadata"]["ownerReferences"][0]["uid"],
        svc["metadata"]["uid"]
    );
    assert_eq!(s["metadata"]["ownerReferences"][0]["controller"], true);
    assert_eq!(
        s["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    let eps = s["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[0]["addresses"], json!(["10.1.0.1"]));
    assert_eq!(
        eps[0]["conditions"],
        json!({"ready": true, "serving": true, "terminating": false})
    );
    assert_eq!(eps[1]["conditions"]["ready"], false);
    assert_eq!(eps[1]["targetRef"]["name"], "b");

    // Idle: a pod change that touches no endpoint writes nothing.
    let rv = ep["metadata"]["resourceVersion"].clone();
    let slice_rv = s["metadata"]["resourceVersion"].clone();
    ok(
        &k2d,
        "PATCH",
        &format!("{NS}/pods/a"),
        json!({"metadata": {"annotations": {"note": "unrelated"}}}),
    )
    .await;
    ok(
        &k2d,
        "PATCH",
        &format!("{NS}/services/web"),
        json!({"metadata": {"annotations": {"note": "unrelated"}}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = get(&k2d, &ep_path).await.unwrap();
    assert_eq!(
        again["metadata"]["resourceVersion"], rv,
        "no change, no write"
    );
    let s_again = &slices_of(&k2d, "web").await[0];
    assert_eq!(s_again["metadata"]["resourceVersion"], slice_rv);

    // Readiness changes and deletions move the addresses.
    run_pod(&k2d, "b", "10.1.0.2", true).await;
    until(&k2d, &ep_path, "b became ready", |v| {
        addresses(v) == (vec!["10.1.0.1".into(), "10.1.0.2".into()], vec![])
    })
    .await;
    ok(
        &k2d,
        "DELETE",
        &format!("{NS}/pods/a?gracePeriodSeconds=0"),
        json!({}),
    )
    .await;
    until(&k2d, &ep_path, "a deleted", |v| {
        addresses(v) == (vec!["10.1.0.2".into()], vec![])
    })
    .await;
    until_slices(&k2d, "web", "the slice lost a", |s| {
        s.len() == 1 && s[0]["endpoints"].as_array().unwrap().len() == 1
    })
    .await;

    // The pod gets the named port: it joins.
    ok(
        &k2d,
        "DELETE",
        &format!("{NS}/pods/c?gracePeriodSeconds=0"),
        json!({}),
    )
    .await;
    ok(
        &k2d,
        "POST",
        &format!("{NS}/pods"),
        pod("c", "web", named.clone()),
    )
    .await;
    run_pod(&k2d, "c", "10.1.0.3", true).await;
    until(&k2d, &ep_path, "c joined", |v| {
        addresses(v) == (vec!["10.1.0.2".into(), "10.1.0.3".into()], vec![])
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_changes_and_service_deletion() {
    let k2d = K2d::start("selector");
    for (name, app, ip) in [("x", "x", "10.2.0.1"), ("y", "y", "10.2.0.2")] {
        ok(
            &k2d,
            "POST",
            &format!("{NS}/pods"),
            pod(name, app, json!([])),
        )
        .await;
        run_pod(&k2d, name, ip, true).await;
    }
    ok(
        &k2d,
        "POST",
        &format!("{NS}/services"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "pick"},
            "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "targetPort": 9000}]}}),
    )
    .await;
    let ep_path = format!("{NS}/endpoints/pick");
    let ep = until(&k2d, &ep_path, "x selected", |v| {
        addresses(v).0 == ["10.2.0.1"]
    })
    .await;
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], 9000);
    ok(
        &k2d,
        "PATCH",
        &format!("{NS}/services/pick"),
        json!({"spec": {"selector": {"app": "y"}}}),
    )
    .await;
    until(&k2d, &ep_path, "y selected", |v| {
        addresses(v).0 == ["10.2.0.2"]
    })
    .await;
    // The slices are written after the Endpoints, so they may lag behind them for a moment.
    until_slices(&k2d, "pick", "y in the only slice", |s| {
        s.len() == 1 && s[0]["endpoints"][0]["addresses"] == json!(["10.2.0.2"])
    })
    .await;

    // A headless Service lists the pods too, and is labelled headless.
    ok(
        &k2d,
        "POST",
        &format!("{NS}/services"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "peers"},
            "spec": {"clusterIP": "None", "selector": {"app": "x"}}}),
    )
    .await;
    let headless = until(&k2d, &format!("{NS}/endpoints/peers"), "headless", |v| {
        addresses(v).0 == ["10.2.0.1"]
    })
    .await;
    assert_eq!(
        headless["metadata"]["labels"]["service.kubernetes.io/headless"],
        ""
    );

    // Deleting the Service removes its Endpoints, and its slices go with their owner.
    ok(&k2d, "DELETE", &format!("{NS}/services/pick"), json!({})).await;
    until(&k2d, &ep_path, "Endpoints removed", |v| v.is_none()).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !slices_of(&k2d, "pick").await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the slices outlived their Service"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until_slices(&k2d, "peers", "the headless slice", |s| s.len() == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_without_selector_keep_their_own_endpoints() {
    let k2d = K2d::start("noselector");
    ok(
        &k2d,
        "POST",
        &format!("{NS}/services"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "external"},
            "spec": {"ports": [{"port": 5432}]}}),
    )
    .await;
    let mine = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "external"},
        "subsets": [{"addresses": [{"ip": "192.168.7.7"}], "ports": [{"port": 5432}]}]});
    let created = ok(&k2d, "POST", &format!("{NS}/endpoints"), mine).await;
    ok(
        &k2d,
        "POST",
        &format!("{NS}/pods"),
        pod("p", "web", json!([])),
    )
    .await;
    run_pod(&k2d, "p", "10.3.0.1", true).await;
    ok(
        &k2d,
        "PATCH",
        &format!("{NS}/services/external"),
        json!({"metadata": {"labels": {"touched": "yes"}}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ep = get(&k2d, &format!("{NS}/endpoints/external"))
        .await
        .unwrap();
    assert_eq!(
        ep["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(ep["subsets"][0]["addresses"][0]["ip"], "192.168.7.7");
    assert!(slices_of(&k2d, "external").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_get_the_default_class_and_protection() {
    let k2d = K2d::start("claims");
    let sc = until(
        &k2d,
        "/apis/storage.k8s.io/v1/storageclasses/local",
        "the default class",
        |v| v.is_some(),
    )
    .await;
    assert_eq!(sc["provisioner"], "k2d.io/docker-volume");
    assert_eq!(
        sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
        "true"
    );
    assert_eq!(sc["reclaimPolicy"], "Delete");
    assert_eq!(sc["volumeBindingMode"], "Immediate");
    let claim = |name: &str, class: Option<&str>| {
        let mut c = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        if let Some(class) = class {
            c["spec"]["storageClassName"] = json!(class);
        }
        c
    };
    let created = ok(
        &k2d,
        "POST",
        &format!("{NS}/persistentvolumeclaims"),
        claim("data", None),
    )
    .await;
    assert_eq!(created["spec"]["storageClassName"], "local");
    assert_eq!(
        created["metadata"]["finalizers"],
        json!(["kubernetes.io/pvc-protection"])
    );
    assert_eq!(created["status"]["phase"], "Pending");
    let none = ok(
        &k2d,
        "POST",
        &format!("{NS}/persistentvolumeclaims"),
        claim("none", Some("")),
    )
    .await;
    assert_eq!(none["spec"]["storageClassName"], "");
    // Without an engine nothing is provisioned: the claim waits, and an event says why.
    let events = until(
        &k2d,
        &format!("{NS}/events"),
        "a ProvisioningFailed event",
        |v| {
            v.and_then(|l| l["items"].as_array()).is_some_and(|items| {
                items.iter().any(|e| {
                    e["reason"] == "ProvisioningFailed" && e["involvedObject"]["name"] == "data"
                })
            })
        },
    )
    .await;
    assert!(!events["items"].as_array().unwrap().is_empty());
    let data = get(&k2d, &format!("{NS}/persistentvolumeclaims/data"))
        .await
        .unwrap();
    assert_eq!(data["status"]["phase"], "Pending");
    assert!(data["spec"].get("volumeName").is_none());
    // A claim no pod uses is deleted at once: the controller lifts the protection.
    ok(
        &k2d,
        "DELETE",
        &format!("{NS}/persistentvolumeclaims/data"),
        json!({}),
    )
    .await;
    until(
        &k2d,
        &format!("{NS}/persistentvolumeclaims/data"),
        "the claim deleted",
        |v| v.is_none(),
    )
    .await;
    // One used by a running pod stays Terminating until the pod is gone.
    let mut user = pod("user", "db", json!([]));
    user["spec"]["volumes"] =
        json!([{"name": "v", "persistentVolumeClaim": {"claimName": "none"}}]);
    ok(&k2d, "POST", &format!("{NS}/pods"), user).await;
    run_pod(&k2d, "user", "10.4.0.1", true).await;
    ok(
        &k2d,
        "DELETE",
        &format!("{NS}/persistentvolumeclaims/none"),
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = get(&k2d, &format!("{NS}/persistentvolumeclaims/none"))
        .await
        .unwrap();
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    ok(
        &k2d,
        "DELETE",
        &format!("{NS}/pods/user?gracePeriodSeconds=0"),
        json!({}),
    )
    .await;
    until(
        &k2d,
        &format!("{NS}/persistentvolumeclaims/none"),
        "released once the pod is gone",
        |v| v.is_none(),
    )
    .await;
}
