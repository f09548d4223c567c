//! The ReplicaSet and Deployment controllers against a k2d with no engine: the test plays the
//! kubelet (it patches pods' status to Running and Ready) and checks what the controllers do
//! through the API, as kubectl and Helm would see it.

mod common;

use std::time::{Duration, Instant};

use common::K2d;
use common::api::{
    create, delete, eventually, get, is_ready, items, make_ready, merge_patch, name, pods_selected,
    write,
};
use serde_json::{Value, json};

const NS: &str = "default";

async fn pods(k2d: &K2d, selector: &str) -> Vec<Value> {
    pods_selected(k2d, NS, selector).await
}

async fn replicasets(k2d: &K2d, selector: &str) -> Vec<Value> {
    let mut rs = items(
        get(
            k2d,
            &format!("/apis/apps/v1/namespaces/{NS}/replicasets?labelSelector={selector}"),
        )
        .await,
    );
    rs.sort_by_key(revision);
    rs
}

fn revision(obj: &Value) -> u64 {
    obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn template(app: &str, image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": image}]},
    })
}

fn deployment(app: &str, replicas: u64, strategy: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "strategy": strategy,
            "template": template(app, "k2d-test/busybox:1"),
        },
    })
}

fn deployment_path(app: &str) -> String {
    format!("/apis/apps/v1/namespaces/{NS}/deployments/{app}")
}

async fn set_image(k2d: &K2d, app: &str, image: &str) {
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}});
    merge_patch(k2d, &deployment_path(app), &patch).await;
}

/// Whether the Deployment's rollout is done, as `kubectl rollout status` decides it.
fn rolled_out(d: &Value) -> bool {
    let s = &d["status"];
    let want = d["spec"]["replicas"].as_u64().unwrap();
    let n = |f: &str| s[f].as_u64().unwrap_or(0);
    s["observedGeneration"].as_u64() >= d["metadata"]["generation"].as_u64()
        && n("updatedReplicas") == want
        && n("replicas") == want
        && n("availableReplicas") == want
}

fn condition<'a>(d: &'a Value, kind: &str) -> &'a Value {
    d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind))
        .unwrap_or(&Value::Null)
}

/// Plays the kubelet, one pod at a time, until the Deployment has rolled out; at every step
/// checks that at least `min_ready` pods are ready. Returns the Deployment.
async fn roll_out(k2d: &K2d, app: &str, min_ready: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = get(k2d, &deployment_path(app)).await.unwrap();
        let all = pods(k2d, &format!("app={app}")).await;
        let ready = all.iter().filter(|p| is_ready(p)).count();
        assert!(
            ready >= min_ready,
            "only {ready} ready pods (at least {min_ready} must be): {all:#?}"
        );
        if rolled_out(&d) && all.len() == d["spec"]["replicas"].as_u64().unwrap() as usize {
            return d;
        }
        if let Some(p) = all.iter().find(|p| !is_ready(p)) {
            make_ready(k2d, p).await;
        }
        assert!(
            Instant::now() < deadline,
            "rollout of {app} did not finish: {d:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn replicaset_keeps_its_pods() {
    let k2d = K2d::start("ctl-rs");
    let rs = create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/replicasets"),
        &json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "keeper"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "keeper"}}, "template": template("keeper", "k2d-test/busybox:1")},
        }),
    )
    .await;
    let rs_path = format!("/apis/apps/v1/namespaces/{NS}/replicasets/keeper");
    let first = eventually("3 pods", 10, async || {
        let p = pods(&k2d, "app=keeper").await;
        (p.len() == 3).then_some(p)
    })
    .await;
    for p in &first {
        let n = name(p);
        assert!(
            n.starts_with("keeper-") && n.len() == "keeper-".len() + 5,
            "{n}"
        );
        let owner = &p["metadata"]["ownerReferences"][0];
        assert_eq!(owner["uid"], rs["metadata"]["uid"]);
        assert_eq!(owner["kind"], "ReplicaSet");
        assert_eq!(owner["controller"], true);
        assert_eq!(owner["blockOwnerDeletion"], true);
        assert_eq!(p["metadata"]["labels"]["app"], "keeper");
    }

    // A deleted pod is replaced.
    delete(
        &k2d,
        &format!("/api/v1/namespaces/{NS}/pods/{}", name(&first[0])),
    )
    .await;
    let replaced = eventually("a replacement pod", 10, async || {
        let p = pods(&k2d, "app=keeper").await;
        (p.len() == 3 && !p.iter().any(|p| name(p) == name(&first[0]))).then_some(p)
    })
    .await;

    // Ready pods show in the status.
    for p in &replaced {
        make_ready(&k2d, p).await;
    }
    eventually("status with 3 ready", 10, async || {
        let s = get(&k2d, &rs_path).await.unwrap()["status"].clone();
        (s["readyReplicas"] == 3
            && s["availableReplicas"] == 3
            && s["replicas"] == 3
            && s["fullyLabeledReplicas"] == 3
            && s["observedGeneration"] == 1)
            .then_some(())
    })
    .await;

    // A failed pod is deleted and replaced.
    let failed = name(&replaced[1]).to_string();
    merge_patch(
        &k2d,
        &format!("/api/v1/namespaces/{NS}/pods/{failed}/status"),
        &json!({"status": {"phase": "Failed", "conditions": null}}),
    )
    .await;
    eventually("the failed pod replaced", 10, async || {
        let p = pods(&k2d, "app=keeper").await;
        (p.len() == 3 && !p.iter().any(|p| name(p) == failed)).then_some(())
    })
    .await;

    // Scaling down through the scale subresource keeps the ready pods (the new, not-ready one goes).
    merge_patch(
        &k2d,
        &format!("{rs_path}/scale"),
        &json!({"spec": {"replicas": 2}}),
    )
    .await;
    let left = eventually("2 pods", 10, async || {
        let p = pods(&k2d, "app=keeper").await;
        (p.len() == 2).then_some(p)
    })
    .await;
    assert!(
        left.iter().all(is_ready),
        "the not-ready pod goes first: {left:#?}"
    );

    // An orphan matching the selector is adopted (and, being one too many, deleted).
    create(
        &k2d,
        &format!("/api/v1/namespaces/{NS}/pods"),
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "orphan", "labels": {"app": "keeper"}},
            "spec": {"containers": [{"name": "c", "image": "x"}]}}),
    )
    .await;
    eventually("the orphan adopted and scaled away", 10, async || {
        let p = pods(&k2d, "app=keeper").await;
        (p.len() == 2 && !p.iter().any(|p| name(p) == "orphan")).then_some(())
    })
    .await;

    // A pod relabelled out of the selector is released (and replaced).
    let out = name(&left[0]).to_string();
    merge_patch(
        &k2d,
        &format!("/api/v1/namespaces/{NS}/pods/{out}"),
        &json!({"metadata": {"labels": {"app": "elsewhere"}}}),
    )
    .await;
    eventually("the relabelled pod released", 10, async || {
        let p = get(&k2d, &format!("/api/v1/namespaces/{NS}/pods/{out}")).await?;
        let released = p["metadata"].get("ownerReferences").is_none();
        (released && pods(&k2d, "app=keeper").await.len() == 2).then_some(())
    })
    .await;

    // Events of the replicaset-controller.
    let events = items(get(&k2d, &format!("/api/v1/namespaces/{NS}/events")).await);
    let reasons: Vec<&str> = events
        .iter()
        .filter(|e| e["source"]["component"] == "replicaset-controller")
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"SuccessfulCreate") && reasons.contains(&"SuccessfulDelete"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn deployment_rolls_out_rolls_back_and_prunes_history() {
    let k2d = K2d::start("ctl-roll");
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    let mut body = deployment("web", 3, strategy);
    body["spec"]["revisionHistoryLimit"] = json!(1);
    body["metadata"]["annotations"] = json!({"kubernetes.io/change-cause": "first"});
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &body,
    )
    .await;

    let d = roll_out(&k2d, "web", 0).await;
    let rs = replicasets(&k2d, "app=web").await;
    assert_eq!(rs.len(), 1);
    let first = &rs[0];
    let hash = first["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        hash.bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)),
        "{hash}"
    );
    assert_eq!(name(first), format!("web-{hash}"));
    assert_eq!(
        first["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        json!(hash)
    );
    assert_eq!(
        first["spec"]["template"]["metadata"]["labels"]["pod-template-hash"],
        json!(hash)
    );
    assert_eq!(revision(first), 1);
    assert_eq!(
        first["metadata"]["annotations"]["kubernetes.io/change-cause"],
        "first"
    );
    assert_eq!(
        first["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"],
        "3"
    );
    assert_eq!(
        first["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"],
        "4"
    );
    assert_eq!(
        first["metadata"]["ownerReferences"][0]["kind"],
        "Deployment"
    );
    assert_eq!(revision(&d), 1);
    assert_eq!(condition(&d, "Available")["status"], "True");
    assert_eq!(
        condition(&d, "Available")["reason"],
        "MinimumReplicasAvailable"
    );
    let progressing = condition(&d, "Progressing");
    assert_eq!(progressing["status"], "True");
    assert_eq!(progressing["reason"], "NewReplicaSetAvailable");
    assert_eq!(
        progressing["message"],
        format!("ReplicaSet \"web-{hash}\" has successfully progressed.")
    );
    assert_eq!(d["status"]["readyReplicas"], 3);
    assert!(d["status"].get("unavailableReplicas").is_none());
    for p in pods(&k2d, "app=web").await {
        assert!(name(&p).starts_with(&format!("web-{hash}-")));
    }

    // A new image rolls out with maxUnavailable 0: never fewer than 3 ready pods.
    set_image(&k2d, "web", "k2d-test/busybox:2").await;
    let d = roll_out(&k2d, "web", 3).await;
    let rs = replicasets(&k2d, "app=web").await;
    assert_eq!(rs.len(), 2, "{rs:#?}");
    assert_eq!(revision(&rs[1]), 2);
    assert_eq!(rs[0]["spec"]["replicas"], 0);
    assert_eq!(rs[1]["spec"]["replicas"], 3);
    assert_eq!(revision(&d), 2);
    let second_hash = rs[1]["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second_hash, hash);

    // Undo as kubectl does it: the old ReplicaSet's template, without its hash label.
    let mut old_template = rs[0]["spec"]["template"].clone();
    old_template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    let patch = json!([{"op": "replace", "path": "/spec/template", "value": old_template}]);
    write(
        &k2d,
        "PATCH",
        &deployment_path("web"),
        "application/json-patch+json",
        &patch,
    )
    .await;
    let d = roll_out(&k2d, "web", 3).await;
    let rs = replicasets(&k2d, "app=web").await;
    assert_eq!(rs.len(), 2, "the old ReplicaSet is reused: {rs:#?}");
    let reused = rs
        .iter()
        .find(|r| name(r) == format!("web-{hash}"))
        .unwrap();
    assert_eq!(revision(reused), 3);
    assert_eq!(
        reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "1"
    );
    assert_eq!(reused["spec"]["replicas"], 3);
    assert_eq!(revision(&d), 3);

    // A third template: with revisionHistoryLimit 1 only one old ReplicaSet stays.
    set_image(&k2d, "web", "k2d-test/busybox:3").await;
    roll_out(&k2d, "web", 3).await;
    let rs = eventually("history pruned to one old ReplicaSet", 10, async || {
        let rs = replicasets(&k2d, "app=web").await;
        (rs.len() == 2).then_some(rs)
    })
    .await;
    assert_eq!(revision(&rs[0]), 3);
    assert_eq!(revision(&rs[1]), 4);

    // Scale down and up through the scale subresource.
    merge_patch(
        &k2d,
        &format!("{}/scale", deployment_path("web")),
        &json!({"spec": {"replicas": 1}}),
    )
    .await;
    eventually("1 pod", 10, async || {
        (pods(&k2d, "app=web").await.len() == 1).then_some(())
    })
    .await;
    merge_patch(
        &k2d,
        &format!("{}/scale", deployment_path("web")),
        &json!({"spec": {"replicas": 2}}),
    )
    .await;
    roll_out(&k2d, "web", 1).await;

    let events = items(get(&k2d, &format!("/api/v1/namespaces/{NS}/events")).await);
    assert!(
        events
            .iter()
            .any(|e| e["source"]["component"] == "deployment-controller"
                && e["reason"] == "ScalingReplicaSet"
                && e["involvedObject"]["kind"] == "Deployment"),
        "no ScalingReplicaSet event"
    );
}

#[tokio::test]
async fn rolling_update_with_surge_and_unavailability() {
    let k2d = K2d::start("ctl-surge");
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 1}});
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &deployment("surge", 4, strategy),
    )
    .await;
    roll_out(&k2d, "surge", 0).await;
    set_image(&k2d, "surge", "k2d-test/busybox:2").await;
    // Never more than 4 + 2 pods, never fewer than 4 - 1 ready.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = get(&k2d, &deployment_path("surge")).await.unwrap();
        let all = pods(&k2d, "app=surge").await;
        assert!(all.len() <= 6, "{} pods exceed maxSurge", all.len());
        let ready = all.iter().filter(|p| is_ready(p)).count();
        assert!(ready >= 3, "only {ready} ready");
        if rolled_out(&d) && all.len() == 4 {
            break;
        }
        if let Some(p) = all.iter().find(|p| !is_ready(p)) {
            make_ready(&k2d, p).await;
        }
        assert!(Instant::now() < deadline, "rollout did not finish: {d:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn recreate_stops_old_pods_before_new_ones() {
    let k2d = K2d::start("ctl-recreate");
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &deployment("rec", 2, json!({"type": "Recreate"})),
    )
    .await;
    roll_out(&k2d, "rec", 0).await;
    let old_hash =
        replicasets(&k2d, "app=rec").await[0]["metadata"]["labels"]["pod-template-hash"].clone();
    set_image(&k2d, "rec", "k2d-test/busybox:2").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = get(&k2d, &deployment_path("rec")).await.unwrap();
        let all = pods(&k2d, "app=rec").await;
        let old = all
            .iter()
            .filter(|p| p["metadata"]["labels"]["pod-template-hash"] == old_hash)
            .count();
        assert!(
            old == 0 || old == all.len(),
            "old and new pods at once: {all:#?}"
        );
        if rolled_out(&d) && all.len() == 2 && old == 0 {
            break;
        }
        if let Some(p) = all.iter().find(|p| !is_ready(p)) {
            make_ready(&k2d, p).await;
        }
        assert!(Instant::now() < deadline, "recreate did not finish: {d:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn paused_deployment_does_not_roll() {
    let k2d = K2d::start("ctl-paused");
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &deployment("pz", 2, json!({"type": "RollingUpdate"})),
    )
    .await;
    roll_out(&k2d, "pz", 0).await;
    merge_patch(
        &k2d,
        &deployment_path("pz"),
        &json!({"spec": {"paused": true}}),
    )
    .await;
    set_image(&k2d, "pz", "k2d-test/busybox:2").await;
    let d = eventually("the paused condition", 10, async || {
        let d = get(&k2d, &deployment_path("pz")).await.unwrap();
        (condition(&d, "Progressing")["reason"] == "DeploymentPaused"
            && d["status"]["observedGeneration"] == d["metadata"]["generation"])
            .then_some(d)
    })
    .await;
    assert_eq!(condition(&d, "Progressing")["status"], "Unknown");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        replicasets(&k2d, "app=pz").await.len(),
        1,
        "no rollout while paused"
    );
    // Scaling still works while paused.
    merge_patch(
        &k2d,
        &format!("{}/scale", deployment_path("pz")),
        &json!({"spec": {"replicas": 3}}),
    )
    .await;
    eventually("3 pods while paused", 10, async || {
        (pods(&k2d, "app=pz").await.len() == 3).then_some(())
    })
    .await;
    merge_patch(
        &k2d,
        &deployment_path("pz"),
        &json!({"spec": {"paused": false}}),
    )
    .await;
    let d = roll_out(&k2d, "pz", 0).await;
    assert_eq!(replicasets(&k2d, "app=pz").await.len(), 2);
    assert_eq!(revision(&d), 2);
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
}

#[tokio::test]
async fn progress_deadline_and_min_ready_seconds() {
    let k2d = K2d::start("ctl-deadline");
    let mut body = deployment("slow", 1, json!({"type": "RollingUpdate"}));
    body["spec"]["progressDeadlineSeconds"] = json!(2);
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &body,
    )
    .await;
    // No pod becomes ready: the rollout times out by itself.
    let d = eventually("ProgressDeadlineExceeded", 10, async || {
        let d = get(&k2d, &deployment_path("slow")).await.unwrap();
        (condition(&d, "Progressing")["reason"] == "ProgressDeadlineExceeded").then_some(d)
    })
    .await;
    assert_eq!(condition(&d, "Progressing")["status"], "False");
    assert_eq!(condition(&d, "Available")["status"], "False");
    assert_eq!(d["status"]["unavailableReplicas"], 1);

    let mut body = deployment("patient", 2, json!({"type": "RollingUpdate"}));
    body["spec"]["minReadySeconds"] = json!(2);
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &body,
    )
    .await;
    let all = eventually("2 pods", 10, async || {
        let p = pods(&k2d, "app=patient").await;
        (p.len() == 2).then_some(p)
    })
    .await;
    for p in &all {
        make_ready(&k2d, p).await;
    }
    let ready_at = Instant::now();
    let d = eventually("ready but not yet available", 5, async || {
        let d = get(&k2d, &deployment_path("patient")).await.unwrap();
        (d["status"]["readyReplicas"] == 2).then_some(d)
    })
    .await;
    assert!(
        d["status"].get("availableReplicas").is_none(),
        "{:#}",
        d["status"]
    );
    // Available only after minReadySeconds, with no further write from the test.
    let d = eventually("available after minReadySeconds", 10, async || {
        let d = get(&k2d, &deployment_path("patient")).await.unwrap();
        rolled_out(&d).then_some(d)
    })
    .await;
    assert!(
        ready_at.elapsed() >= Duration::from_secs(1),
        "available too early"
    );
    assert_eq!(condition(&d, "Available")["status"], "True");
}

#[tokio::test]
async fn rollout_survives_kill_and_restart() {
    let mut k2d = K2d::start("ctl-restart");
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &deployment("phoenix", 2, strategy),
    )
    .await;
    roll_out(&k2d, "phoenix", 0).await;
    set_image(&k2d, "phoenix", "k2d-test/busybox:2").await;
    eventually("the surge pod", 10, async || {
        (pods(&k2d, "app=phoenix").await.len() == 3).then_some(())
    })
    .await;
    k2d.kill_and_restart();
    let d = roll_out(&k2d, "phoenix", 2).await;
    assert_eq!(revision(&d), 2);
    let rs = replicasets(&k2d, "app=phoenix").await;
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[0]["spec"]["replicas"], 0);
    // Idle after the rollout: no more writes.
    let rv =
        get(&k2d, "/api/v1/namespaces/default/pods").await.unwrap()["metadata"]["resourceVersion"]
            .clone();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let list = get(&k2d, "/api/v1/namespaces/default/pods").await.unwrap();
    assert_eq!(list["metadata"]["resourceVersion"], rv, "writes while idle");
}

#[tokio::test]
async fn scaling_in_the_middle_of_a_rollout_is_proportional() {
    let k2d = K2d::start("ctl-proportional");
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    create(
        &k2d,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        &deployment("prop", 4, strategy),
    )
    .await;
    roll_out(&k2d, "prop", 0).await;
    set_image(&k2d, "prop", "k2d-test/busybox:2").await;
    // The rollout starts with one surge pod, which the test leaves not ready.
    let rs = eventually("old 4, new 1", 10, async || {
        let rs = replicasets(&k2d, "app=prop").await;
        (rs.len() == 2 && rs[0]["spec"]["replicas"] == 4 && rs[1]["spec"]["replicas"] == 1)
            .then_some(rs)
    })
    .await;
    assert_eq!(revision(&rs[1]), 2);
    // 8 replicas allow 8 + 1: of the 4 more pods, 4 * 4/5 = 3 go to the old ReplicaSet and
    // 1 * 4/5 = 0 to the new one; the one left over goes to the larger, as in Kubernetes.
    merge_patch(
        &k2d,
        &format!("{}/scale", deployment_path("prop")),
        &json!({"spec": {"replicas": 8}}),
    )
    .await;
    let rs = eventually("both ReplicaSets scaled", 10, async || {
        let rs = replicasets(&k2d, "app=prop").await;
        let settled = rs.iter().all(|r| {
            r["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "8"
        });
        (rs[0]["spec"]["replicas"] != 4 && settled).then_some(rs)
    })
    .await;
    assert_eq!(rs[0]["spec"]["replicas"], 8, "{rs:#?}");
    assert_eq!(rs[1]["spec"]["replicas"], 1, "{rs:#?}");
    for r in &rs {
        assert_eq!(
            r["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"],
            "8"
        );
        assert_eq!(
            r["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"],
            "9"
        );
    }
    // And the rollout goes on to the end.
    let d = roll_out(&k2d, "prop", 0).await;
    assert_eq!(d["status"]["updatedReplicas"], 8);
    let rs = replicasets(&k2d, "app=prop").await;
    assert_eq!(
        (
            rs[0]["spec"]["replicas"].clone(),
            rs[1]["spec"]["replicas"].clone()
        ),
        (json!(0), json!(8))
    );
}
