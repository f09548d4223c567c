//! autoscaling: HorizontalPodAutoscalers in v2 (`SetDefaults_HorizontalPodAutoscaler` and its
//! behavior defaults) and in v1.
//!
//! The real server stores HorizontalPodAutoscalers as v2 and reads every object back through
//! the v2 defaults, so a v1 object without `targetCPUUtilizationPercentage` comes back with the
//! v2 default metric seen through v1: `targetCPUUtilizationPercentage: 80`.

use serde_json::{Value, json};

use super::fields::{Object, child, child_or_insert, is_empty_list, set_missing, str_of};

/// Target average CPU utilization of an autoscaler that names no metric, in percent.
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// A HorizontalPodAutoscaler, in the version its `apiVersion` names (v2 when it names none and
/// has no v1-only field).
pub fn horizontal_pod_autoscaler(obj: &mut Object) {
    let v1 = is_v1(obj);
    let Some(spec) = child_or_insert(obj, "spec") else {
        return;
    };
    set_missing(spec, "minReplicas", json!(1));
    if v1 {
        set_missing(
            spec,
            "targetCPUUtilizationPercentage",
            json!(DEFAULT_CPU_UTILIZATION),
        );
        return;
    }
    if is_empty_list(spec.get("metrics")) {
        spec.insert(
            "metrics".into(),
            json!([{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}
                }
            }]),
        );
    }
    if let Some(behavior) = child(spec, "behavior") {
        scaling_rules(behavior, "scaleUp", scale_up_rules());
        scaling_rules(behavior, "scaleDown", scale_down_rules());
    }
}

/// Whether an autoscaler is in autoscaling/v1: its `apiVersion` says so, or it names none and
/// has the v1-only `targetCPUUtilizationPercentage`.
pub fn is_v1(obj: &Object) -> bool {
    match str_of(obj, "apiVersion") {
        "autoscaling/v1" => true,
        "" => obj
            .get("spec")
            .is_some_and(|s| s.get("targetCPUUtilizationPercentage").is_some()),
        _ => false,
    }
}

/// A `behavior` that is given gets both directions filled in: each field of a rule set that is
/// not given takes the default rule's.
fn scaling_rules(behavior: &mut Object, direction: &str, defaults: Value) {
    let Some(rules) = child_or_insert(behavior, direction) else {
        return;
    };
    if let Value::Object(defaults) = defaults {
        for (key, value) in defaults {
            set_missing(rules, &key, value);
        }
    }
}

/// Scale up: no stabilization; at most 4 pods or 100 % more every 15 s, whichever is more.
fn scale_up_rules() -> Value {
    json!({
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15}
        ]
    })
}

/// Scale down: at most 100 % every 15 s. The stabilization window stays unset (the
/// controller's command-line default applies).
fn scale_down_rules() -> Value {
    json!({
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    })
}
