//! `spec.podFailurePolicy`: what a failed pod means for its Job. The first rule whose
//! `onExitCodes` or `onPodConditions` matches decides: FailJob fails the Job at once, Ignore
//! does not count the failure toward `backoffLimit`, Count (and FailIndex, which needs
//! per-index back-off limits k2d does not keep) counts it.

use serde_json::Value;

use crate::api::meta;

/// What a matching rule asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Fail the Job; the message for its Failed condition.
    FailJob(String),
    /// Do not count this failure.
    Ignore,
    /// Count it (the default with no matching rule).
    Count,
}

fn exit_codes(pod: &Value) -> Vec<(String, i64)> {
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|f| {
            pod.pointer(&format!("/status/{f}"))
                .and_then(Value::as_array)
        })
        .flatten()
        .filter_map(|c| {
            let code = c.pointer("/state/terminated/exitCode")?.as_i64()?;
            Some((c.get("name")?.as_str()?.to_string(), code))
        })
        .collect()
}

fn has_condition(pod: &Value, ty: &str, status: &str) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == ty && c["status"] == status))
}

/// What the Job's policy says about the failed `pod`.
pub fn action(job: &Value, pod: &Value) -> Action {
    let rules = job
        .pointer("/spec/podFailurePolicy/rules")
        .and_then(Value::as_array);
    let pod_name = format!(
        "{}/{}",
        meta::meta_str(pod, "namespace").unwrap_or_default(),
        meta::meta_str(pod, "name").unwrap_or_default()
    );
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        let mut matched = None;
        if let Some(on) = rule.get("onExitCodes") {
            let only = on.get("containerName").and_then(Value::as_str);
            let values: Vec<i64> = on["values"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            let not_in = on["operator"] == "NotIn";
            matched = exit_codes(pod)
                .into_iter()
                .filter(|(name, code)| *code != 0 && only.is_none_or(|o| o == name))
                .find(|(_, code)| values.contains(code) != not_in)
                .map(|(name, code)| {
                    format!("Container {name} for pod {pod_name} failed with exit code {code} matching FailJob rule at index {i}")
                });
        } else if let Some(patterns) = rule.get("onPodConditions").and_then(Value::as_array) {
            matched = patterns
                .iter()
                .find(|p| {
                    let ty = p["type"].as_str().unwrap_or_default();
                    has_condition(pod, ty, p["status"].as_str().unwrap_or("True"))
                })
                .map(|p| {
                    format!(
                        "Pod {pod_name} has condition {} matching FailJob rule at index {i}",
                        p["type"].as_str().unwrap_or_default()
                    )
                });
        }
        if let Some(message) = matched {
            return match rule["action"].as_str() {
                Some("FailJob") => Action::FailJob(message),
                Some("Ignore") => Action::Ignore,
                _ => Action::Count,
            };
        }
    }
    Action::Count
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_matching_rule_decides() {
        let job = json!({"spec": {"podFailurePolicy": {"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        ]}}});
        let failed = |code: i64| {
            json!({"metadata": {"name": "p", "namespace": "d"}, "status": {"containerStatuses": [
            {"name": "main", "state": {"terminated": {"exitCode": code}}}]}})
        };
        assert!(
            matches!(action(&job, &failed(42)), Action::FailJob(m) if m.contains("exit code 42"))
        );
        assert_eq!(action(&job, &failed(1)), Action::Count);
        let mut disrupted = failed(1);
        disrupted["status"]["conditions"] = json!([{"type": "DisruptionTarget", "status": "True"}]);
        assert_eq!(action(&job, &disrupted), Action::Ignore);
    }
}
