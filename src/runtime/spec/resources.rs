//! Limits and requests as cgroup settings: `limits.memory` → Memory, `limits.cpu` → a CFS
//! quota over a 100ms period (as the kubelet sets it; NanoCpus cannot go below 10m),
//! `requests.cpu` → CpuShares (the kubelet's milliCPU → shares formula),
//! `requests.memory` → MemoryReservation. Other resources cannot be enforced by the engine
//! and are named in warnings.

use bollard::models::HostConfig;
use serde_json::Value;

use super::quantity::{Quantity, to_i64};

/// The CFS period the kubelet uses (100ms, in microseconds).
pub const CPU_PERIOD: i64 = 100_000;
/// The smallest CFS quota the kubelet sets (1ms).
pub const MIN_QUOTA: i64 = 1_000;
/// The smallest CPU shares.
pub const MIN_SHARES: i64 = 2;

/// Sets the container's cgroup limits from `resources`.
pub fn apply(host: &mut HostConfig, container: &Value, at: &str, warnings: &mut Vec<String>) {
    let Some(resources) = container.get("resources") else {
        return;
    };
    for section in ["limits", "requests"] {
        let Some(map) = resources.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in map {
            let field = format!("{at}.resources.{section}.{name}");
            let q = match Quantity::from_json(value) {
                Ok(q) => q,
                Err(e) => {
                    warnings.push(format!("{field}: {e}, ignored"));
                    continue;
                }
            };
            match (section, name.as_str()) {
                ("limits", "memory") => host.memory = Some(to_i64(q.value())),
                ("limits", "cpu") => {
                    host.cpu_period = Some(CPU_PERIOD);
                    host.cpu_quota = Some(quota(q.milli()));
                }
                ("requests", "cpu") => host.cpu_shares = Some(shares(q.milli())),
                ("requests", "memory") => host.memory_reservation = Some(to_i64(q.value())),
                (_, "ephemeral-storage") => warnings.push(format!(
                    "{field}: ephemeral storage is not limited by k2d on Docker, ignored"
                )),
                (_, n) if n.starts_with("hugepages-") => warnings.push(format!(
                    "{field}: huge pages are not reserved by k2d on Docker, ignored"
                )),
                _ => warnings.push(format!("{field}: not supported by k2d on Docker, ignored")),
            }
        }
    }
    if let Some(claims) = resources.get("claims").and_then(Value::as_array)
        && !claims.is_empty()
    {
        warnings.push(format!(
            "{at}.resources.claims: dynamic resource allocation is not supported by k2d on Docker, ignored"
        ));
    }
}

/// The kubelet's `MilliCPUToShares`: 1024 shares per CPU, at least 2.
pub fn shares(milli: i128) -> i64 {
    to_i64(milli * 1024 / 1000).max(MIN_SHARES)
}

/// The kubelet's `MilliCPUToQuota` over [`CPU_PERIOD`], at least [`MIN_QUOTA`].
pub fn quota(milli: i128) -> i64 {
    to_i64(milli * i128::from(CPU_PERIOD) / 1000).max(MIN_QUOTA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(resources: Value) -> (HostConfig, Vec<String>) {
        let mut host = HostConfig::default();
        let mut w = Vec::new();
        apply(
            &mut host,
            &json!({"name": "c", "resources": resources}),
            "spec.containers[0]",
            &mut w,
        );
        (host, w)
    }

    #[test]
    fn limits_and_requests() {
        let (h, w) = run(json!({
            "limits": {"cpu": "1500m", "memory": "256Mi"},
            "requests": {"cpu": "250m", "memory": "100M"}
        }));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(h.memory, Some(256 * 1024 * 1024));
        assert_eq!(h.cpu_period, Some(100_000));
        assert_eq!(h.cpu_quota, Some(150_000));
        assert_eq!(h.cpu_shares, Some(256));
        assert_eq!(h.memory_reservation, Some(100_000_000));
    }

    #[test]
    fn numbers_and_exponents() {
        let (h, _) = run(json!({"limits": {"cpu": 2, "memory": "1e9"}, "requests": {"cpu": 0.1}}));
        assert_eq!(h.cpu_quota, Some(200_000));
        assert_eq!(h.memory, Some(1_000_000_000));
        assert_eq!(h.cpu_shares, Some(102));
    }

    #[test]
    fn kubelet_minimums() {
        assert_eq!(shares(0), 2);
        assert_eq!(shares(1), 2);
        assert_eq!(shares(1000), 1024);
        assert_eq!(quota(1), 1000);
        assert_eq!(quota(10), 1000);
        assert_eq!(quota(250), 25_000);
    }

    #[test]
    fn unenforceable_resources_warn() {
        let (h, w) = run(json!({
            "limits": {"hugepages-2Mi": "100Mi", "ephemeral-storage": "1Gi", "nvidia.com/gpu": 1, "memory": "lots"},
            "claims": [{"name": "gpu"}]
        }));
        assert_eq!(h.memory, None);
        assert_eq!(w.len(), 5, "{w:?}");
        assert!(w.iter().any(|m| {
            m.starts_with("spec.containers[0].resources.limits.hugepages-2Mi: huge pages")
        }));
        assert!(
            w.iter()
                .any(|m| m.starts_with("spec.containers[0].resources.limits.ephemeral-storage:"))
        );
        assert!(w.iter().any(|m| m == "spec.containers[0].resources.limits.nvidia.com/gpu: not supported by k2d on Docker, ignored"));
        assert!(w.iter().any(|m| {
            m.starts_with("spec.containers[0].resources.limits.memory: quantities must match")
        }));
        assert!(
            w.iter()
                .any(|m| m.starts_with("spec.containers[0].resources.claims:"))
        );
    }
}
