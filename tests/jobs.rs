//! The Job and CronJob controllers against a k2d with no engine: the test plays the kubelet
//! (it patches pods' status to Succeeded or Failed) and checks what the controllers do
//! through the API, as kubectl and Helm would see it.

mod common;

use std::time::Duration;

use common::K2d;
use common::api::{create, eventually, get, items, merge_patch, name, patch_status, pods_selected};
use serde_json::{Value, json};

const NS: &str = "default";

/// The pods of Job `job` that are not being deleted.
async fn pods(k2d: &K2d, job: &str) -> Vec<Value> {
    pods_selected(k2d, NS, &format!("batch.kubernetes.io/job-name={job}"))
        .await
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or("Pending")
}

fn running(pods: &[Value]) -> Vec<Value> {
    pods.iter()
        .filter(|p| !matches!(phase(p), "Succeeded" | "Failed"))
        .cloned()
        .collect()
}

fn at(ago: Duration) -> String {
    (time::OffsetDateTime::now_utc() - ago)
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The kubelet's part: the pod's container exited with `code`, `ago` ago.
async fn finish(k2d: &K2d, pod: &Value, code: i64, ago: Duration) {
    let phase = if code == 0 { "Succeeded" } else { "Failed" };
    let status = json!({"status": {
        "phase": phase,
        "containerStatuses": [{"name": "c", "image": "k2d-test/busybox:latest", "imageID": "",
            "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": code, "finishedAt": at(ago), "startedAt": at(ago)}}}],
    }});
    patch_status(k2d, pod, &status).await;
}

fn job(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["template"] = json!({"spec": {"restartPolicy": "Never",
        "containers": [{"name": "c", "image": "k2d-test/busybox:latest"}]}});
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec})
}

fn jobs_path() -> String {
    format!("/apis/batch/v1/namespaces/{NS}/jobs")
}

fn job_path(name: &str) -> String {
    format!("{}/{name}", jobs_path())
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind && c["status"] == "True")
}

fn types(obj: &Value) -> Vec<String> {
    obj["status"]["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| c["type"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn until_condition(k2d: &K2d, job: &str, kind: &str, secs: u64) -> Value {
    eventually(&format!("{job} {kind}"), secs, async || {
        get(k2d, &job_path(job))
            .await
            .filter(|j| condition(j, kind).is_some())
    })
    .await
}

#[tokio::test]
async fn a_job_runs_parallelism_pods_until_its_completions_succeed() {
    let k2d = K2d::start("job-complete");
    let created = create(
        &k2d,
        &jobs_path(),
        &job("three", json!({"completions": 3, "parallelism": 2})),
    )
    .await;
    let uid = created["metadata"]["uid"].as_str().unwrap().to_string();
    assert_eq!(
        created["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );
    let first = eventually("2 pods", 10, async || {
        let p = pods(&k2d, "three").await;
        (p.len() == 2).then_some(p)
    })
    .await;
    for p in &first {
        assert!(name(p).starts_with("three-"), "{}", name(p));
        assert_eq!(p["metadata"]["labels"]["controller-uid"], uid.as_str());
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "Job");
    }
    let j = eventually("status.active 2", 10, async || {
        get(&k2d, &job_path("three"))
            .await
            .filter(|j| j["status"]["active"] == 2)
    })
    .await;
    assert!(j["status"]["startTime"].is_string(), "{j:#}");
    finish(&k2d, &first[0], 0, Duration::ZERO).await;
    // One succeeded: a third pod starts, never more than 2 at once.
    let second = eventually("a third pod", 10, async || {
        let p = pods(&k2d, "three").await;
        (p.len() == 3).then_some(p)
    })
    .await;
    assert_eq!(running(&second).len(), 2);
    for p in running(&second) {
        finish(&k2d, &p, 0, Duration::ZERO).await;
    }
    let done = until_condition(&k2d, "three", "Complete", 10).await;
    assert_eq!(done["status"]["succeeded"], 3, "{done:#}");
    assert!(done["status"].get("active").is_none(), "{done:#}");
    assert!(done["status"]["completionTime"].is_string());
    assert_eq!(types(&done), ["SuccessCriteriaMet", "Complete"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        pods(&k2d, "three").await.len(),
        3,
        "no pod after completion"
    );
}

#[tokio::test]
async fn a_failing_job_backs_off_and_stops_at_its_backoff_limit() {
    let k2d = K2d::start("job-backoff");
    create(
        &k2d,
        &jobs_path(),
        &job("flaky", json!({"backoffLimit": 1})),
    )
    .await;
    let first = eventually("a pod", 10, async || pods(&k2d, "flaky").await.pop()).await;
    // Failed just now: the replacement waits 10 s.
    finish(&k2d, &first, 1, Duration::ZERO).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        pods(&k2d, "flaky").await.len(),
        1,
        "no replacement during the back-off"
    );
    let j = get(&k2d, &job_path("flaky")).await.unwrap();
    assert_eq!(j["status"]["failed"], 1, "{j:#}");
    assert!(condition(&j, "Failed").is_none());
    // The back-off runs from when the pod failed: one that failed a minute ago is replaced.
    finish(&k2d, &first, 1, Duration::from_secs(60)).await;
    let second = eventually("a replacement", 10, async || {
        running(&pods(&k2d, "flaky").await).pop()
    })
    .await;
    finish(&k2d, &second, 2, Duration::from_secs(60)).await;
    let failed = until_condition(&k2d, "flaky", "Failed", 10).await;
    assert_eq!(failed["status"]["failed"], 2, "{failed:#}");
    assert_eq!(types(&failed), ["FailureTarget", "Failed"]);
    assert_eq!(
        condition(&failed, "Failed").unwrap()["reason"],
        "BackoffLimitExceeded"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(running(&pods(&k2d, "flaky").await).is_empty());
}

#[tokio::test]
async fn an_indexed_job_gives_each_pod_its_index() {
    let k2d = K2d::start("job-indexed");
    create(
        &k2d,
        &jobs_path(),
        &job(
            "idx",
            json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"}),
        ),
    )
    .await;
    let mut all = eventually("3 pods", 10, async || {
        let p = pods(&k2d, "idx").await;
        (p.len() == 3).then_some(p)
    })
    .await;
    all.sort_by_key(|p| {
        p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
            .as_str()
            .unwrap()
            .to_string()
    });
    for (i, p) in all.iter().enumerate() {
        let index = i.to_string();
        assert_eq!(
            p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"],
            index.as_str()
        );
        assert_eq!(p["spec"]["hostname"], format!("idx-{i}"));
        assert!(name(p).starts_with(&format!("idx-{i}-")), "{}", name(p));
        let env = &p["spec"]["containers"][0]["env"][0];
        assert_eq!(env["name"], "JOB_COMPLETION_INDEX");
        assert_eq!(
            env["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.annotations['batch.kubernetes.io/job-completion-index']"
        );
    }
    finish(&k2d, &all[0], 0, Duration::ZERO).await;
    finish(&k2d, &all[2], 0, Duration::ZERO).await;
    let partial = eventually("indexes 0 and 2", 10, async || {
        get(&k2d, &job_path("idx"))
            .await
            .filter(|j| j["status"]["completedIndexes"] == "0,2")
    })
    .await;
    assert_eq!(partial["status"]["succeeded"], 2);
    finish(&k2d, &all[1], 0, Duration::ZERO).await;
    let done = until_condition(&k2d, "idx", "Complete", 10).await;
    assert_eq!(done["status"]["completedIndexes"], "0-2");
}

#[tokio::test]
async fn deadline_suspend_and_ttl() {
    let k2d = K2d::start("job-lifecycle");
    // activeDeadlineSeconds: the running pod is stopped and the Job fails.
    create(
        &k2d,
        &jobs_path(),
        &job("slow", json!({"activeDeadlineSeconds": 2})),
    )
    .await;
    eventually("a pod", 10, async || pods(&k2d, "slow").await.pop()).await;
    let failed = until_condition(&k2d, "slow", "Failed", 10).await;
    assert_eq!(
        condition(&failed, "Failed").unwrap()["reason"],
        "DeadlineExceeded"
    );
    eventually("the pod stopped", 10, async || {
        pods(&k2d, "slow").await.is_empty().then_some(())
    })
    .await;

    // suspend: no pods until resumed.
    create(&k2d, &jobs_path(), &job("later", json!({"suspend": true}))).await;
    let suspended = until_condition(&k2d, "later", "Suspended", 10).await;
    assert!(suspended["status"].get("startTime").is_none());
    assert!(pods(&k2d, "later").await.is_empty());
    merge_patch(
        &k2d,
        &job_path("later"),
        &json!({"spec": {"suspend": false}}),
    )
    .await;
    let pod = eventually("a pod once resumed", 10, async || {
        pods(&k2d, "later").await.pop()
    })
    .await;
    // The controller writes the status after it creates the pod.
    eventually(
        "the Suspended condition gone once resumed",
        10,
        async || {
            let resumed = get(&k2d, &job_path("later")).await.unwrap();
            condition(&resumed, "Suspended").is_none().then_some(())
        },
    )
    .await;

    // ttlSecondsAfterFinished: the finished Job goes away.
    merge_patch(
        &k2d,
        &job_path("later"),
        &json!({"spec": {"ttlSecondsAfterFinished": 1}}),
    )
    .await;
    finish(&k2d, &pod, 0, Duration::ZERO).await;
    until_condition(&k2d, "later", "Complete", 10).await;
    eventually("the Job deleted", 10, async || {
        get(&k2d, &job_path("later")).await.is_none().then_some(())
    })
    .await;
}

fn cronjob(name: &str, schedule: &str, extra: Value) -> Value {
    let mut spec = json!({"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
        "restartPolicy": "Never", "containers": [{"name": "c", "image": "k2d-test/busybox:latest"}]}}}}});
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name}, "spec": spec})
}

fn cronjobs_path() -> String {
    format!("/apis/batch/v1/namespaces/{NS}/cronjobs")
}

async fn owned_jobs(k2d: &K2d, cronjob: &Value) -> Vec<Value> {
    items(get(k2d, &jobs_path()).await)
        .into_iter()
        .filter(|j| {
            j["metadata"]["ownerReferences"][0]["uid"] == cronjob["metadata"]["uid"]
                && j["metadata"]["deletionTimestamp"].is_null()
        })
        .collect()
}

#[tokio::test]
async fn a_cronjob_runs_a_missed_time_within_its_deadline_and_prunes_history() {
    let k2d = K2d::start("cronjob");
    // A yearly schedule last run two years ago: the missed run is too old for the deadline.
    let late = create(
        &k2d,
        &cronjobs_path(),
        &cronjob("yearly", "@yearly", json!({"startingDeadlineSeconds": 60})),
    )
    .await;
    merge_patch(
        &k2d,
        &format!("{}/yearly/status", cronjobs_path()),
        &json!({"status": {"lastScheduleTime": at(Duration::from_secs(2 * 366 * 86400))}}),
    )
    .await;
    // Hourly at the minute two minutes ago, last run three hours ago: that missed time runs
    // now, and the next is an hour away (none starts while the test runs).
    let missed = time::OffsetDateTime::now_utc() - Duration::from_secs(120);
    let cj = create(
        &k2d,
        &cronjobs_path(),
        &cronjob(
            "minutely",
            &format!("{} * * * *", missed.minute()),
            json!({"successfulJobsHistoryLimit": 1}),
        ),
    )
    .await;
    merge_patch(
        &k2d,
        &format!("{}/minutely/status", cronjobs_path()),
        &json!({"status": {"lastScheduleTime": at(Duration::from_secs(3 * 3600))}}),
    )
    .await;
    let run = eventually("a Job of the CronJob", 10, async || {
        owned_jobs(&k2d, &cj).await.pop()
    })
    .await;
    let suffix: i64 = name(&run).rsplit('-').next().unwrap().parse().unwrap();
    assert_eq!(suffix, missed.unix_timestamp() / 60, "{}", name(&run));
    assert!(
        run["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
            .is_string()
    );
    let status = eventually("status.active", 10, async || {
        get(&k2d, &format!("{}/minutely", cronjobs_path()))
            .await
            .filter(|c| c["status"]["active"][0]["name"] == name(&run))
    })
    .await;
    assert!(status["status"]["lastScheduleTime"].is_string());
    assert!(
        owned_jobs(&k2d, &late).await.is_empty(),
        "missed beyond the deadline"
    );

    // History: of two completed Jobs only the newest is kept.
    let pod = eventually("the Job's pod", 10, async || {
        pods(&k2d, name(&run)).await.pop()
    })
    .await;
    finish(&k2d, &pod, 0, Duration::ZERO).await;
    until_condition(&k2d, name(&run), "Complete", 10).await;
    // Completion times have whole seconds: the manual Job finishes in a later one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut older = job("minutely-manual", json!({}));
    older["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "CronJob",
        "name": "minutely", "uid": cj["metadata"]["uid"], "controller": true}]);
    create(&k2d, &jobs_path(), &older).await;
    let pod = eventually("the manual Job's pod", 10, async || {
        pods(&k2d, "minutely-manual").await.pop()
    })
    .await;
    finish(&k2d, &pod, 0, Duration::ZERO).await;
    until_condition(&k2d, "minutely-manual", "Complete", 10).await;
    let kept = eventually("one Job kept", 10, async || {
        let jobs = owned_jobs(&k2d, &cj).await;
        (jobs.len() == 1).then_some(jobs)
    })
    .await;
    assert_eq!(name(&kept[0]), "minutely-manual");
    // The CronJob's status follows its Jobs' a moment later.
    eventually("lastSuccessfulTime set and no active Job", 10, async || {
        let c = get(&k2d, &format!("{}/minutely", cronjobs_path()))
            .await
            .unwrap();
        (c["status"]["lastSuccessfulTime"].is_string() && c["status"].get("active").is_none())
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_cronjob_with_a_bad_schedule_or_zone_is_refused() {
    let k2d = K2d::start("cronjob-invalid");
    let body = cronjob("bad", "61 * * * *", json!({"timeZone": "Mars/Olympus"}));
    let a = k2d
        .send(
            "POST",
            &cronjobs_path(),
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));
    let status = a.json();
    let fields: Vec<_> = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["spec.schedule", "spec.timeZone"], "{status:#}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("unknown time zone Mars/Olympus"),
        "{status:#}"
    );
}

/// Patches a pod's status (the kubelet's part).
async fn set_status(k2d: &K2d, pod: &Value, status: Value) {
    let path = format!("/api/v1/namespaces/{NS}/pods/{}/status", name(pod));
    merge_patch(k2d, &path, &json!({ "status": status })).await;
}

#[tokio::test]
async fn restarts_count_toward_the_limit_and_failure_policy_rules_decide() {
    let k2d = K2d::start("job-policies");
    // restartPolicy OnFailure: the kubelet restarts in place; restarts past the limit fail it.
    let mut on_failure = job("restarts", json!({"backoffLimit": 2}));
    on_failure["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
    create(&k2d, &jobs_path(), &on_failure).await;
    let pod = eventually("a pod", 10, async || pods(&k2d, "restarts").await.pop()).await;
    let restarted = |n: u64| {
        json!({"phase": "Running", "containerStatuses": [{"name": "c", "image": "k2d-test/busybox:latest",
            "imageID": "", "ready": false, "restartCount": n, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]})
    };
    set_status(&k2d, &pod, restarted(2)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let j = get(&k2d, &job_path("restarts")).await.unwrap();
    assert!(
        condition(&j, "Failed").is_none(),
        "2 restarts are within the limit: {j:#}"
    );
    set_status(&k2d, &pod, restarted(3)).await;
    let failed = until_condition(&k2d, "restarts", "Failed", 10).await;
    assert_eq!(
        condition(&failed, "Failed").unwrap()["reason"],
        "BackoffLimitExceeded"
    );
    eventually("the restarting pod stopped", 10, async || {
        pods(&k2d, "restarts").await.is_empty().then_some(())
    })
    .await;

    // podFailurePolicy: exit code 42 fails the Job at once, exit code 7 is ignored.
    let policy = json!({"backoffLimit": 6, "podFailurePolicy": {"rules": [
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [7]}},
    ]}});
    create(&k2d, &jobs_path(), &job("policy", policy)).await;
    let first = eventually("a pod", 10, async || pods(&k2d, "policy").await.pop()).await;
    finish(&k2d, &first, 7, Duration::from_secs(60)).await;
    let second = eventually("a replacement", 10, async || {
        running(&pods(&k2d, "policy").await).pop()
    })
    .await;
    let j = get(&k2d, &job_path("policy")).await.unwrap();
    assert!(j["status"].get("failed").is_none(), "ignored: {j:#}");
    finish(&k2d, &second, 42, Duration::from_secs(60)).await;
    let failed = until_condition(&k2d, "policy", "Failed", 10).await;
    let c = condition(&failed, "Failed").unwrap();
    assert_eq!(c["reason"], "PodFailurePolicy");
    assert!(
        c["message"].as_str().unwrap().contains("exit code 42"),
        "{c:#}"
    );
}

#[tokio::test]
async fn a_started_jobs_template_and_completions_are_immutable() {
    let k2d = K2d::start("job-immutable");
    create(&k2d, &jobs_path(), &job("fixed", json!({"completions": 2}))).await;
    create(
        &k2d,
        &jobs_path(),
        &job("waiting", json!({"suspend": true})),
    )
    .await;
    until_condition(&k2d, "waiting", "Suspended", 10).await;
    let image = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "k2d-test/httpd:latest"}]}}}});
    let a = k2d
        .send(
            "PATCH",
            &job_path("fixed"),
            "application/merge-patch+json",
            serde_json::to_vec(&json!({"spec": {"completions": 3}})).unwrap(),
        )
        .await;
    assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("spec.completions: Invalid value: 3: field is immutable")
    );
    let a = k2d
        .send(
            "PATCH",
            &job_path("fixed"),
            "application/merge-patch+json",
            serde_json::to_vec(&image).unwrap(),
        )
        .await;
    assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));
    // A suspended Job that never ran may still change its template.
    merge_patch(&k2d, &job_path("waiting"), &image).await;
}
