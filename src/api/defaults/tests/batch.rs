//! batch/v1: what `kubectl create job` and `kubectl create cronjob` send, and the rules between
//! `completions`, `parallelism`, `backoffLimit` and the pod failure policy.

use serde_json::{Value, json};

use super::{defaulted, template_spec_defaults};

fn pi_template() -> Value {
    json!({
        "metadata": {},
        "spec": {
            "containers": [{"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"], "resources": {}}],
            "restartPolicy": "Never"
        }
    })
}

fn job(spec: Value) -> Value {
    defaulted(
        "batch",
        "jobs",
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"}, "spec": spec}),
    )
}

/// `kubectl create job pi --image=perl:5.34.0 -- perl ...`.
#[test]
fn kubectl_create_job() {
    let out = job(json!({"template": pi_template()}));
    let mut pod_spec = template_spec_defaults(json!([{
        "name": "pi", "image": "perl:5.34.0",
        "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
        "imagePullPolicy": "IfNotPresent",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File"
    }]));
    pod_spec["restartPolicy"] = json!("Never");
    assert_eq!(
        out["spec"],
        json!({
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "completions": 1,
            "manualSelector": false,
            "parallelism": 1,
            "podReplacementPolicy": "TerminatingOrFailed",
            "suspend": false,
            "template": {"metadata": {}, "spec": pod_spec}
        })
    );
    assert_eq!(out["status"], json!({}));
}

#[test]
fn completions_and_parallelism() {
    let out = job(json!({"parallelism": 3, "template": pi_template()}));
    assert!(
        out["spec"].get("completions").is_none(),
        "a work queue keeps completions unset"
    );
    assert_eq!(out["spec"]["parallelism"], 3);

    let out = job(json!({"completions": 5, "template": pi_template()}));
    assert_eq!(out["spec"]["completions"], 5);
    assert_eq!(out["spec"]["parallelism"], 1);
}

#[test]
fn indexed_jobs_with_a_backoff_limit_per_index() {
    let out = job(json!({
        "completionMode": "Indexed", "completions": 10, "backoffLimitPerIndex": 1, "template": pi_template()
    }));
    assert_eq!(out["spec"]["backoffLimit"], 2147483647);
    assert_eq!(out["spec"]["completionMode"], "Indexed");
}

#[test]
fn a_pod_failure_policy_changes_the_replacement_policy() {
    let out = job(json!({
        "template": pi_template(),
        "podFailurePolicy": {"rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}
        ]}
    }));
    assert_eq!(out["spec"]["podReplacementPolicy"], "Failed");
    assert_eq!(
        out["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"],
        json!([{"type": "DisruptionTarget", "status": "True"}])
    );
}

#[test]
fn a_job_without_labels_takes_its_templates() {
    let mut template = pi_template();
    template["metadata"] = json!({"labels": {"app": "pi"}});
    let out = job(json!({"template": template.clone()}));
    assert_eq!(out["metadata"]["labels"], json!({"app": "pi"}));

    let out = defaulted(
        "batch",
        "jobs",
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "pi", "labels": {"team": "a"}},
            "spec": {"template": template}
        }),
    );
    assert_eq!(out["metadata"]["labels"], json!({"team": "a"}));

    let out = job(json!({"template": pi_template()}));
    assert!(out["metadata"].get("labels").is_none());
}

/// `kubectl create cronjob hello --image=busybox --schedule="*/1 * * * *"`: the job template
/// gets pod template defaults only.
#[test]
fn kubectl_create_cronjob() {
    let out = defaulted(
        "batch",
        "cronjobs",
        json!({
            "kind": "CronJob", "apiVersion": "batch/v1",
            "metadata": {"name": "hello"},
            "spec": {
                "schedule": "*/1 * * * *",
                "jobTemplate": {
                    "metadata": {"name": "hello"},
                    "spec": {"template": {
                        "metadata": {},
                        "spec": {"containers": [{"name": "hello", "image": "busybox", "resources": {}}], "restartPolicy": "OnFailure"}
                    }}
                }
            },
            "status": {}
        }),
    );
    let mut pod_spec = template_spec_defaults(json!([{
        "name": "hello", "image": "busybox", "imagePullPolicy": "Always",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File"
    }]));
    pod_spec["restartPolicy"] = json!("OnFailure");
    assert_eq!(
        out["spec"],
        json!({
            "concurrencyPolicy": "Allow",
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"name": "hello"},
                "spec": {"template": {"metadata": {}, "spec": pod_spec}}
            },
            "schedule": "*/1 * * * *",
            "successfulJobsHistoryLimit": 3,
            "suspend": false
        })
    );
}

#[test]
fn a_job_template_without_metadata_gets_it() {
    let out = defaulted(
        "batch",
        "cronjobs",
        json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": "@daily", "concurrencyPolicy": "Forbid", "jobTemplate": {"spec": {"template": pi_template()}}}
        }),
    );
    assert_eq!(out["spec"]["jobTemplate"]["metadata"], json!({}));
    assert_eq!(out["spec"]["concurrencyPolicy"], "Forbid");
    assert!(
        out["spec"]["jobTemplate"]["spec"]
            .get("backoffLimit")
            .is_none()
    );
}
