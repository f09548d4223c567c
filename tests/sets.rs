//! The StatefulSet and DaemonSet controllers against a k2d with no engine: the test plays the
//! kubelet (it patches pods' status to Running and Ready) and checks through the API the order
//! in which pods come and go, their identities and claims, rolling updates and the status
//! `kubectl rollout status` reads.

mod common;

use std::collections::BTreeSet;

use common::K2d;
use common::api::{
    create, delete, eventually, get, items, make_ready, merge_patch, name, pods_selected,
};
use serde_json::{Value, json};

const NS: &str = "default";

async fn pods(k2d: &K2d, selector: &str) -> Vec<Value> {
    pods_selected(k2d, NS, selector).await
}

fn names(pods: &[Value]) -> BTreeSet<String> {
    pods.iter().map(|p| name(p).to_string()).collect()
}

fn set_names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn sts_path(name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{NS}/statefulsets/{name}")
}

fn statefulset(app: &str, replicas: u64, policy: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": app},
        "spec": {
            "replicas": replicas,
            "serviceName": format!("{app}-hl"),
            "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "c", "image": "k2d-test/busybox:1"}]},
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}},
            }],
        },
    })
}

/// Makes every pod of `app` that is not ready ready, once.
async fn ready_all(k2d: &K2d, app: &str) {
    for p in pods(k2d, &format!("app={app}")).await {
        if p["status"]["phase"] != "Running" {
            make_ready(k2d, &p).await;
        }
    }
}

/// Waits until the pods of `app` are exactly `want`.
async fn pods_are(k2d: &K2d, app: &str, want: &[&str]) -> Vec<Value> {
    let want = set_names(want);
    eventually(&format!("pods {want:?}"), 20, async || {
        let p = pods(k2d, &format!("app={app}")).await;
        (names(&p) == want).then_some(p)
    })
    .await
}

#[tokio::test]
async fn statefulset_starts_in_order_keeps_claims_and_scales_down_from_the_top() {
    let k2d = K2d::start("sets-ordered");
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/statefulsets"),
        &statefulset("db", 3, "OrderedReady"),
    )
    .await;
    // One at a time: db-1 only once db-0 is Running and Ready.
    let first = pods_are(&k2d, "db", &["db-0"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(names(&pods(&k2d, "app=db").await), set_names(&["db-0"]));
    let p = &first[0];
    assert_eq!(p["spec"]["hostname"], "db-0");
    assert_eq!(p["spec"]["subdomain"], "db-hl");
    assert_eq!(p["metadata"]["labels"]["apps.kubernetes.io/pod-index"], "0");
    assert_eq!(
        p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
        "db-0"
    );
    assert_eq!(
        p["spec"]["volumes"][0],
        json!({"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}})
    );
    assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
    make_ready(&k2d, p).await;
    let second = pods_are(&k2d, "db", &["db-0", "db-1"]).await;
    for p in &second {
        make_ready(&k2d, p).await;
    }
    pods_are(&k2d, "db", &["db-0", "db-1", "db-2"]).await;
    ready_all(&k2d, "db").await;
    let set = eventually("status ready 3", 20, async || {
        let s = get(&k2d, &sts_path("db")).await.unwrap();
        (s["status"]["readyReplicas"] == 3 && s["status"]["updatedReplicas"] == 3).then_some(s)
    })
    .await;
    let st = &set["status"];
    assert_eq!(st["replicas"], 3);
    assert_eq!(st["availableReplicas"], 3);
    assert_eq!(st["currentReplicas"], 3);
    assert_eq!(st["currentRevision"], st["updateRevision"]);
    assert_eq!(st["observedGeneration"], set["metadata"]["generation"]);
    let revision = st["updateRevision"].as_str().unwrap();
    let cr = get(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/controllerrevisions/{revision}"),
    )
    .await
    .expect("the revision is stored");
    assert_eq!(cr["revision"], 1);
    assert_eq!(
        cr["data"]["spec"]["template"]["spec"]["containers"][0]["image"],
        "k2d-test/busybox:1"
    );
    let claims = items(
        get(
            &k2d,
            &format!("/api/v1/namespaces/{NS}/persistentvolumeclaims"),
        )
        .await,
    );
    assert_eq!(
        names(&claims),
        set_names(&["data-db-0", "data-db-1", "data-db-2"])
    );

    // A deleted pod comes back with its name and its claim.
    let uid = second.iter().find(|p| name(p) == "db-1").unwrap()["metadata"]["uid"].clone();
    delete(&k2d, &format!("/api/v1/namespaces/{NS}/pods/db-1")).await;
    let back = eventually("db-1 back", 20, async || {
        get(&k2d, &format!("/api/v1/namespaces/{NS}/pods/db-1"))
            .await
            .filter(|p| p["metadata"]["uid"] != uid)
    })
    .await;
    assert_eq!(
        back["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "data-db-1"
    );
    make_ready(&k2d, &back).await;

    // Scale down: the highest ordinal goes first, one at a time; claims stay (Retain). A
    // finalizer keeps each deleted pod terminating until the test lets it go, as a kubelet
    // would while the containers stop.
    let hold = json!({"metadata": {"finalizers": ["k2d.test/hold"]}});
    for n in ["db-1", "db-2"] {
        merge_patch(&k2d, &format!("/api/v1/namespaces/{NS}/pods/{n}"), &hold).await;
    }
    merge_patch(&k2d, &sts_path("db"), &json!({"spec": {"replicas": 1}})).await;
    let terminating = async |n: &str| {
        get(&k2d, &format!("/api/v1/namespaces/{NS}/pods/{n}"))
            .await
            .is_some_and(|p| p["metadata"]["deletionTimestamp"].is_string())
    };
    eventually("db-2 terminating", 20, async || {
        terminating("db-2").await.then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!terminating("db-1").await, "db-1 waits until db-2 is gone");
    let release = json!({"metadata": {"finalizers": null}});
    merge_patch(
        &k2d,
        &format!("/api/v1/namespaces/{NS}/pods/db-2"),
        &release,
    )
    .await;
    eventually("db-1 terminating", 20, async || {
        terminating("db-1").await.then_some(())
    })
    .await;
    merge_patch(
        &k2d,
        &format!("/api/v1/namespaces/{NS}/pods/db-1"),
        &release,
    )
    .await;
    pods_are(&k2d, "db", &["db-0"]).await;
    let claims = items(
        get(
            &k2d,
            &format!("/api/v1/namespaces/{NS}/persistentvolumeclaims"),
        )
        .await,
    );
    assert_eq!(claims.len(), 3, "claims are retained");
    eventually("status replicas 1", 20, async || {
        let s = get(&k2d, &sts_path("db")).await.unwrap();
        (s["status"]["replicas"] == 1 && s["status"]["readyReplicas"] == 1).then_some(())
    })
    .await;
    k2d.stop();
}

#[tokio::test]
async fn parallel_statefulset_and_partitioned_rolling_update() {
    let k2d = K2d::start("sets-parallel");
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/statefulsets"),
        &statefulset("web", 3, "Parallel"),
    )
    .await;
    // Parallel: all at once, none ready.
    pods_are(&k2d, "web", &["web-0", "web-1", "web-2"]).await;
    ready_all(&k2d, "web").await;
    let before = eventually("ready", 20, async || {
        let s = get(&k2d, &sts_path("web")).await.unwrap();
        (s["status"]["readyReplicas"] == 3).then_some(s)
    })
    .await;
    let old_rev = before["status"]["currentRevision"]
        .as_str()
        .unwrap()
        .to_string();
    merge_patch(
        &k2d,
        &sts_path("web"),
        &json!({"spec": {
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "template": {"spec": {"containers": [{"name": "c", "image": "k2d-test/busybox:2"}]}},
        }}),
    )
    .await;
    // Highest ordinal first, down to the partition; web-0 keeps the old revision.
    let done = eventually("partitioned rollout", 30, async || {
        ready_all(&k2d, "web").await;
        let s = get(&k2d, &sts_path("web")).await.unwrap();
        (s["status"]["updatedReplicas"] == 2 && s["status"]["readyReplicas"] == 3).then_some(s)
    })
    .await;
    let new_rev = done["status"]["updateRevision"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_rev, old_rev);
    assert_eq!(done["status"]["currentRevision"], old_rev.as_str());
    let by_name = |all: &[Value], n: &str| {
        all.iter()
            .find(|p| name(p) == n)
            .map(|p| p["metadata"]["labels"]["controller-revision-hash"].clone())
    };
    let all = pods(&k2d, "app=web").await;
    assert_eq!(by_name(&all, "web-0"), Some(json!(old_rev)));
    assert_eq!(by_name(&all, "web-1"), Some(json!(new_rev)));
    assert_eq!(by_name(&all, "web-2"), Some(json!(new_rev)));
    let img = |all: &[Value], n: &str| {
        all.iter().find(|p| name(p) == n).unwrap()["spec"]["containers"][0]["image"].clone()
    };
    assert_eq!(img(&all, "web-0"), "k2d-test/busybox:1");
    assert_eq!(img(&all, "web-2"), "k2d-test/busybox:2");
    // Partition 0 finishes the rollout: the update revision becomes current.
    merge_patch(
        &k2d,
        &sts_path("web"),
        &json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}),
    )
    .await;
    eventually("complete rollout", 30, async || {
        ready_all(&k2d, "web").await;
        let s = get(&k2d, &sts_path("web")).await.unwrap();
        (s["status"]["currentRevision"] == new_rev.as_str() && s["status"]["updatedReplicas"] == 3)
            .then_some(())
    })
    .await;
    let revisions = items(
        get(
            &k2d,
            &format!("/apis/apps/v1/namespaces/{NS}/controllerrevisions?labelSelector=app=web"),
        )
        .await,
    );
    assert_eq!(revisions.len(), 2, "{revisions:#?}");
    k2d.stop();
}

fn ds_path(name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{NS}/daemonsets/{name}")
}

#[tokio::test]
async fn daemonset_runs_one_pod_where_it_belongs() {
    let k2d = K2d::start("sets-daemon");
    // With no engine no Node is published: the test makes one.
    create(
        &k2d,
        "/api/v1/nodes",
        &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-1", "labels": {"role": "edge"}}}),
    )
    .await;
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/daemonsets"),
        &json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"nodeSelector": {"role": "edge"}, "containers": [{"name": "c", "image": "k2d-test/busybox:1"}]},
                },
            },
        }),
    )
    .await;
    let first = eventually("one agent pod", 20, async || {
        let p = pods(&k2d, "app=agent").await;
        (p.len() == 1).then(|| p[0].clone())
    })
    .await;
    assert_eq!(first["spec"]["nodeName"], "edge-1");
    assert!(name(&first).starts_with("agent-"));
    let tolerations = first["spec"]["tolerations"].as_array().unwrap();
    assert!(
        tolerations
            .iter()
            .any(|t| t["key"] == "node.kubernetes.io/unschedulable")
    );
    assert!(first["metadata"]["labels"]["controller-revision-hash"].is_string());
    assert_eq!(first["metadata"]["labels"]["pod-template-generation"], "1");
    make_ready(&k2d, &first).await;
    eventually("status", 20, async || {
        let d = get(&k2d, &ds_path("agent")).await.unwrap();
        let s = &d["status"];
        (s["desiredNumberScheduled"] == 1
            && s["currentNumberScheduled"] == 1
            && s["numberReady"] == 1
            && s["numberAvailable"] == 1
            && s["updatedNumberScheduled"] == 1
            && s["numberMisscheduled"] == 0
            && s["observedGeneration"] == 1)
            .then_some(())
    })
    .await;

    // Cordoned: the pod stays.
    merge_patch(&k2d, "/api/v1/nodes/edge-1", &json!({"spec": {"unschedulable": true, "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]}})).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        names(&pods(&k2d, "app=agent").await),
        names(std::slice::from_ref(&first))
    );

    // Rolling update: the old pod is replaced by one of the new template.
    merge_patch(
        &k2d,
        &ds_path("agent"),
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "k2d-test/busybox:2"}]}}}}),
    )
    .await;
    let second = eventually("replaced pod", 20, async || {
        let p = pods(&k2d, "app=agent").await;
        (p.len() == 1 && name(&p[0]) != name(&first)).then(|| p[0].clone())
    })
    .await;
    assert_eq!(
        second["spec"]["containers"][0]["image"],
        "k2d-test/busybox:2"
    );
    assert_eq!(second["metadata"]["labels"]["pod-template-generation"], "2");
    make_ready(&k2d, &second).await;
    eventually("updated status", 20, async || {
        let d = get(&k2d, &ds_path("agent")).await.unwrap();
        (d["status"]["updatedNumberScheduled"] == 1
            && d["status"]["numberAvailable"] == 1
            && d["status"]["observedGeneration"] == 2)
            .then_some(())
    })
    .await;

    // A taint it does not tolerate: the pod goes.
    merge_patch(&k2d, "/api/v1/nodes/edge-1", &json!({"spec": {"unschedulable": null, "taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}})).await;
    eventually("no pod", 20, async || {
        pods(&k2d, "app=agent").await.is_empty().then_some(())
    })
    .await;
    eventually("desired 0", 20, async || {
        let d = get(&k2d, &ds_path("agent")).await.unwrap();
        (d["status"]["desiredNumberScheduled"] == 0).then_some(())
    })
    .await;
    // Tolerating it brings the pod back.
    merge_patch(
        &k2d,
        &ds_path("agent"),
        &json!({"spec": {"template": {"spec": {"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]}}}}),
    )
    .await;
    eventually("pod back", 20, async || {
        (pods(&k2d, "app=agent").await.len() == 1).then_some(())
    })
    .await;
    k2d.stop();
}

#[tokio::test]
async fn daemonset_surge_keeps_the_old_pod_until_the_new_one_is_ready() {
    let k2d = K2d::start("sets-surge");
    create(
        &k2d,
        "/api/v1/nodes",
        &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-1"}}),
    )
    .await;
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/daemonsets"),
        &json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "c", "image": "k2d-test/busybox:1"}]},
                },
            },
        }),
    )
    .await;
    let old = eventually("one pod", 20, async || {
        let p = pods(&k2d, "app=agent").await;
        (p.len() == 1).then(|| p[0].clone())
    })
    .await;
    make_ready(&k2d, &old).await;
    merge_patch(
        &k2d,
        &ds_path("agent"),
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "k2d-test/busybox:2"}]}}}}),
    )
    .await;
    // The new pod comes next to the old one, which stays while the new one is not ready.
    let new = eventually("surge pod", 20, async || {
        let p = pods(&k2d, "app=agent").await;
        (p.len() == 2).then(|| p.into_iter().find(|p| name(p) != name(&old)).unwrap())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(pods(&k2d, "app=agent").await.len(), 2);
    make_ready(&k2d, &new).await;
    eventually("old pod gone", 20, async || {
        let p = pods(&k2d, "app=agent").await;
        (names(&p) == names(std::slice::from_ref(&new))).then_some(())
    })
    .await;
    k2d.stop();
}

#[tokio::test]
async fn on_delete_statefulset_replaces_only_deleted_pods() {
    let k2d = K2d::start("sets-ondelete");
    let mut sts = statefulset("kv", 2, "Parallel");
    sts["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/statefulsets"),
        &sts,
    )
    .await;
    pods_are(&k2d, "kv", &["kv-0", "kv-1"]).await;
    ready_all(&k2d, "kv").await;
    merge_patch(
        &k2d,
        &sts_path("kv"),
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "k2d-test/busybox:2"}]}}}}),
    )
    .await;
    let updated = eventually("new update revision", 20, async || {
        let s = get(&k2d, &sts_path("kv")).await.unwrap();
        (s["status"]["updateRevision"] != s["status"]["currentRevision"]).then_some(s)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let image = |p: &Value| p["spec"]["containers"][0]["image"].clone();
    assert!(
        pods(&k2d, "app=kv")
            .await
            .iter()
            .all(|p| image(p) == "k2d-test/busybox:1"),
        "OnDelete leaves running pods alone"
    );
    delete(&k2d, &format!("/api/v1/namespaces/{NS}/pods/kv-1")).await;
    let back = eventually("kv-1 on the new template", 20, async || {
        get(&k2d, &format!("/api/v1/namespaces/{NS}/pods/kv-1"))
            .await
            .filter(|p| image(p) == "k2d-test/busybox:2")
    })
    .await;
    assert_eq!(
        back["metadata"]["labels"]["controller-revision-hash"],
        updated["status"]["updateRevision"]
    );
    let kv0 = get(&k2d, &format!("/api/v1/namespaces/{NS}/pods/kv-0"))
        .await
        .unwrap();
    assert_eq!(image(&kv0), "k2d-test/busybox:1");
    k2d.stop();
}
