//! Jobs: on create the server generates the Job's selector from its uid and labels the pod
//! template with it, as the real Job storage does (unless `spec.manualSelector` is true), so
//! the Job controller finds its pods by `batch.kubernetes.io/controller-uid`.

use serde_json::{Map, Value, json};

use crate::api::objects;
use crate::api::validation::{FieldError, invalid_status};
use crate::api::{ApiRequest, ApiResult, body};
use crate::generated::batch_v1::JobTranslator;

/// The label holding the uid of the Job that made a pod.
pub const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
/// The label holding the name of the Job that made a pod.
pub const JOB_NAME: &str = "batch.kubernetes.io/job-name";
/// The older, unprefixed forms of those labels, which the real server still adds.
pub const LEGACY_CONTROLLER_UID: &str = "controller-uid";
/// See [`LEGACY_CONTROLLER_UID`].
pub const LEGACY_JOB_NAME: &str = "job-name";

/// The jobs translator.
pub struct Jobs;

fn manual_selector(job: &Value) -> bool {
    job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true)
}

/// The labels a Job's pods carry so that its generated selector matches them.
pub fn pod_labels(uid: &str, name: &str) -> [(&'static str, String); 4] {
    [
        (CONTROLLER_UID, uid.to_string()),
        (JOB_NAME, name.to_string()),
        (LEGACY_CONTROLLER_UID, uid.to_string()),
        (LEGACY_JOB_NAME, name.to_string()),
    ]
}

/// Generates the selector of a new Job (with its uid and name filled in) and labels its pod
/// template to match.
fn generate_selector(job: &mut Value) {
    if manual_selector(job) {
        return;
    }
    let uid = crate::api::meta::meta_str(job, "uid")
        .unwrap_or_default()
        .to_string();
    let name = crate::api::meta::meta_str(job, "name")
        .unwrap_or_default()
        .to_string();
    let Some(spec) = job.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    spec.insert(
        "selector".into(),
        json!({"matchLabels": {CONTROLLER_UID: uid}}),
    );
    let template = spec
        .entry("template")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(template) = template else { return };
    let metadata = template
        .entry("metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(metadata) = metadata else { return };
    let labels = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !labels.is_object() {
        *labels = Value::Object(Map::new());
    }
    let labels = labels.as_object_mut().expect("made an object");
    for (k, v) in pod_labels(&uid, &name) {
        if k.ends_with("job-name") && name.is_empty() {
            continue;
        }
        labels.insert(k.into(), json!(v));
    }
}

#[async_trait::async_trait]
impl JobTranslator for Jobs {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        let (probe, _) = body::decode_object(&req)?;
        if !manual_selector(&probe)
            && probe
                .pointer("/spec/selector")
                .is_some_and(|s| !s.is_null())
        {
            let name = crate::api::meta::meta_str(&probe, "name").unwrap_or_default();
            let error = FieldError::invalid(
                "spec.selector",
                probe.pointer("/spec/selector").cloned().unwrap_or_default(),
                "`selector` will be auto-generated",
            );
            return Err(invalid_status("Job", "batch", name, &[error]));
        }
        objects::create::create_with(&req.ctx, &req, generate_selector).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_and_template_labels_come_from_the_uid() {
        let mut job = json!({"metadata": {"name": "pi", "uid": "u-1"},
            "spec": {"template": {"metadata": {"labels": {"app": "pi"}}, "spec": {}}}});
        generate_selector(&mut job);
        assert_eq!(
            job["spec"]["selector"],
            json!({"matchLabels": {CONTROLLER_UID: "u-1"}})
        );
        let labels = &job["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["app"], "pi");
        assert_eq!(labels[JOB_NAME], "pi");
        assert_eq!(labels[LEGACY_CONTROLLER_UID], "u-1");
        assert_eq!(labels[LEGACY_JOB_NAME], "pi");
    }

    #[test]
    fn a_manual_selector_is_kept() {
        let mut job = json!({"metadata": {"name": "pi", "uid": "u-1"},
            "spec": {"manualSelector": true, "selector": {"matchLabels": {"a": "b"}}, "template": {}}});
        generate_selector(&mut job);
        assert_eq!(job["spec"]["selector"], json!({"matchLabels": {"a": "b"}}));
    }
}
