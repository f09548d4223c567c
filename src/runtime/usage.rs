//! Resource usage of pods' containers and of the host, sampled when asked (what `kubectl top`
//! reads through `metrics.k8s.io`): nothing is sampled in the background.
//!
//! CPU: the engine's one-shot stats (`stream=false&one-shot=true`) carry no previous sample, so
//! a rate needs two: each container's cumulative CPU time is read twice, [`WINDOW`] apart, and
//! the usage is the difference over the wall time between the two reads (nanocores). The host's
//! CPU is sampled the same way from `/proc/stat` (all CPU time but idle and iowait).
//!
//! Memory: a container's working set is its usage less its inactive file cache
//! (`inactive_file` on cgroup v2, `total_inactive_file` on v1), as the kubelet computes it; the
//! node's is the host's `MemTotal - MemAvailable` from `/proc/meminfo` (the whole host, not the
//! sum over containers: an edge node's own processes count too).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::models::{ContainerStatsResponse, ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::StatsOptions;
use futures_util::StreamExt;

use super::containers;
use crate::api::status::Status;
use crate::engine::{self, Engine, labels};

/// The time between the two samples of a measurement.
pub const WINDOW: Duration = Duration::from_secs(1);

/// One container's usage over the window.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerUsage {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The container's name in the pod.
    pub container: String,
    /// CPU used, in billionths of a core.
    pub nanocores: u64,
    /// Working-set memory, in bytes.
    pub memory: u64,
}

/// A measurement: the usage and the window it was taken over.
#[derive(Clone, Debug)]
pub struct Measurement<T> {
    /// What was measured.
    pub usage: T,
    /// The wall time between the two samples.
    pub window: Duration,
}

/// The host's usage over the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostUsage {
    /// CPU used (all cores), in billionths of a core.
    pub nanocores: u64,
    /// Memory in use (`MemTotal - MemAvailable`), in bytes.
    pub memory: u64,
}

/// Billionths of a core from two cumulative CPU times (nanoseconds) `wall` apart.
pub fn nanocores(before_ns: u64, after_ns: u64, wall: Duration) -> u64 {
    let wall = wall.as_nanos().max(1);
    (u128::from(after_ns.saturating_sub(before_ns)) * 1_000_000_000 / wall) as u64
}

/// The working set of a container's memory stats: usage less inactive file cache.
pub fn working_set(stats: &ContainerStatsResponse) -> u64 {
    let Some(m) = &stats.memory_stats else {
        return 0;
    };
    let usage = m.usage.unwrap_or(0);
    let inactive = m
        .stats
        .as_ref()
        .and_then(|s| {
            s.get("inactive_file")
                .or_else(|| s.get("total_inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    usage.saturating_sub(inactive)
}

fn cpu_total(stats: &ContainerStatsResponse) -> Option<u64> {
    stats.cpu_stats.as_ref()?.cpu_usage.as_ref()?.total_usage
}

async fn one_shot(engine: &Engine, id: &str) -> Option<ContainerStatsResponse> {
    let options = StatsOptions {
        stream: false,
        one_shot: true,
    };
    engine.docker().stats(id, Some(options)).next().await?.ok()
}

/// The running app containers of this k2d's pods, in `namespace` or all.
async fn running(
    engine: &Engine,
    namespace: Option<&str>,
) -> Result<Vec<ContainerSummary>, Status> {
    let all = containers::list(engine, None)
        .await
        .map_err(|e| engine::status(&e))?;
    Ok(all
        .into_iter()
        .filter(|c| {
            c.state == Some(ContainerSummaryStateEnum::RUNNING)
                && containers::label(c, labels::CONTAINER_ROLE) == Some(labels::ROLE_APP)
                && namespace
                    .is_none_or(|ns| containers::label(c, labels::POD_NAMESPACE) == Some(ns))
        })
        .collect())
}

/// The usage of every running app container of the pods in `namespace` (all namespaces with
/// `None`). A container that stops between the samples is left out.
pub async fn pods(
    engine: &Engine,
    namespace: Option<&str>,
) -> Result<Measurement<Vec<ContainerUsage>>, Status> {
    let list = running(engine, namespace).await?;
    let ids: Vec<String> = list.iter().filter_map(|c| c.id.clone()).collect();
    let sample = || futures_util::future::join_all(ids.iter().map(|id| one_shot(engine, id)));
    let started = Instant::now();
    let first = sample().await;
    tokio::time::sleep_until((started + WINDOW).into()).await;
    let second = sample().await;
    let window = started.elapsed();
    let mut usage = Vec::new();
    for ((c, before), after) in list.iter().zip(first).zip(second) {
        let (Some(before), Some(after)) = (before, after) else {
            continue;
        };
        let (Some(b), Some(a)) = (cpu_total(&before), cpu_total(&after)) else {
            continue;
        };
        let label = |k| containers::label(c, k).unwrap_or_default().to_string();
        usage.push(ContainerUsage {
            namespace: label(labels::POD_NAMESPACE),
            pod: label(labels::POD_NAME),
            container: label(labels::CONTAINER_NAME),
            nanocores: nanocores(b, a, window),
            memory: working_set(&after),
        });
    }
    Ok(Measurement { usage, window })
}

/// Busy CPU time of the host, in nanoseconds, from `/proc/stat`'s first line (user, nice,
/// system, irq, softirq, steal; not idle or iowait). `USER_HZ` is 100 on every Linux
/// architecture k2d runs on.
pub fn busy_cpu_ns(proc_stat: &str) -> Option<u64> {
    let line = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| f.get(*i))
        .sum();
    Some(busy * 10_000_000)
}

/// `MemTotal - MemAvailable` from `/proc/meminfo`, in bytes.
pub fn memory_in_use(meminfo: &str) -> Option<u64> {
    let fields: HashMap<&str, u64> = meminfo
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k, v.split_whitespace().next()?.parse().ok()?))
        })
        .collect();
    Some((fields.get("MemTotal")? - fields.get("MemAvailable")?) * 1024)
}

/// The host's usage over [`WINDOW`].
pub async fn host() -> Result<Measurement<HostUsage>, Status> {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map_err(|e| Status::internal(format!("reading {p} for node metrics: {e}")))
    };
    let started = Instant::now();
    let before = busy_cpu_ns(&read("/proc/stat")?);
    tokio::time::sleep(WINDOW).await;
    let after = busy_cpu_ns(&read("/proc/stat")?);
    let window = started.elapsed();
    let memory = memory_in_use(&read("/proc/meminfo")?)
        .ok_or_else(|| Status::internal("/proc/meminfo has no MemTotal or MemAvailable"))?;
    let (Some(b), Some(a)) = (before, after) else {
        return Err(Status::internal("/proc/stat has no cpu line"));
    };
    Ok(Measurement {
        usage: HostUsage {
            nanocores: nanocores(b, a, window),
            memory,
        },
        window,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_rates() {
        assert_eq!(
            nanocores(0, 500_000_000, Duration::from_secs(1)),
            500_000_000
        );
        assert_eq!(nanocores(100, 50, Duration::from_secs(1)), 0);
        assert_eq!(nanocores(0, 1_000, Duration::from_millis(2)), 500_000);
    }

    #[test]
    fn host_files() {
        let stat = "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        assert_eq!(
            busy_cpu_ns(stat),
            Some((100 + 5 + 50 + 3 + 2 + 1) * 10_000_000)
        );
        let mem = "MemTotal:       16000 kB\nMemFree:  1000 kB\nMemAvailable:   6000 kB\n";
        assert_eq!(memory_in_use(mem), Some(10_000 * 1024));
        assert_eq!(memory_in_use("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn working_set_subtracts_inactive_file() {
        let v2: ContainerStatsResponse = serde_json::from_value(serde_json::json!({
            "memory_stats": {"usage": 10_000, "stats": {"inactive_file": 4_000}}
        }))
        .unwrap();
        assert_eq!(working_set(&v2), 6_000);
        let v1: ContainerStatsResponse = serde_json::from_value(serde_json::json!({
            "memory_stats": {"usage": 10_000, "stats": {"total_inactive_file": 3_000}}
        }))
        .unwrap();
        assert_eq!(working_set(&v1), 7_000);
        assert_eq!(working_set(&ContainerStatsResponse::default()), 0);
    }
}
