//! Startup, liveness and readiness probes (exec through the engine, httpGet and tcpSocket to
//! the pod's IP or `host`), run on their own timers while a container runs, with the
//! thresholds of a kubelet. The runtime hears only changes of a probe's verdict.
//!
//! - [`config`] reads a probe and counts results into verdicts;
//! - [`check`] runs one attempt.
//!
//! As the kubelet: HTTP redirects to the same host are followed (at most 10), one to another
//! host counts as success; HTTPS does not verify the certificate. Unlike it: gRPC probes
//! always fail with a message saying they are unsupported; an exec probe that times out
//! leaves its process running (the engine cannot stop an exec).

pub mod check;
pub mod config;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::engine::Engine;

/// Which probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// startupProbe: holds the others back until it succeeds.
    Startup,
    /// livenessProbe: failure restarts the container.
    Liveness,
    /// readinessProbe: decides the container's `ready` and the pod's Ready condition.
    Readiness,
}

/// A change of a probe's verdict (after its success or failure threshold was reached).
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeUpdate {
    /// The pod's uid.
    pub pod_uid: String,
    /// The container's name in the pod spec.
    pub container: String,
    /// The engine id of the container probed.
    pub container_id: String,
    /// Which probe.
    pub kind: ProbeKind,
    /// The new verdict.
    pub success: bool,
    /// What the last attempt said (for events: "Liveness probe failed: ...").
    pub message: String,
}

/// What a probe task needs to know about the container it probes.
pub struct Target {
    /// The pod's uid.
    pub pod_uid: String,
    /// The container's name in the pod spec.
    pub container: String,
    /// The engine id of the running container.
    pub container_id: String,
    /// The pod's IP (httpGet and tcpSocket connect to it; `host` overrides it).
    pub pod_ip: String,
    /// The container's spec entry (holds the probes and named ports).
    pub spec: Value,
}

/// The probes of one running container; dropping it stops them.
pub struct Probes {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Probes {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts the probes the container's spec declares. A container without readinessProbe is
/// ready once started (the runtime decides that, no update is sent); with one, it is not ready
/// until the first success is reported. With a startupProbe, liveness and readiness wait for
/// its success (which is reported too); its failure (at failureThreshold) is reported like a
/// liveness failure. `initialDelaySeconds` counts from this call. A probe without an action
/// is not run (the API rejects such pods).
pub fn start(engine: Arc<Engine>, target: Target, updates: mpsc::Sender<ProbeUpdate>) -> Probes {
    let target = Arc::new(target);
    let started = Instant::now();
    let startup = parse(&target, "startupProbe");
    let (open_tx, open_rx) = watch::channel(startup.is_none());
    let mut tasks = Vec::new();
    if let Some(cfg) = startup {
        tasks.push(tokio::spawn(run(
            Run {
                kind: ProbeKind::Startup,
                config: cfg,
                engine: engine.clone(),
                target: target.clone(),
                updates: updates.clone(),
                started,
            },
            None,
            Some(open_tx),
        )));
    }
    for (kind, key) in [
        (ProbeKind::Liveness, "livenessProbe"),
        (ProbeKind::Readiness, "readinessProbe"),
    ] {
        if let Some(cfg) = parse(&target, key) {
            tasks.push(tokio::spawn(run(
                Run {
                    kind,
                    config: cfg,
                    engine: engine.clone(),
                    target: target.clone(),
                    updates: updates.clone(),
                    started,
                },
                Some(open_rx.clone()),
                None,
            )));
        }
    }
    Probes { tasks }
}

fn parse(target: &Target, key: &str) -> Option<config::Config> {
    let probe = target.spec.get(key)?;
    match config::Config::parse(probe) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(pod = %target.pod_uid, container = %target.container, "{key}: {e}");
            None
        }
    }
}

/// One probe's task.
struct Run {
    kind: ProbeKind,
    config: config::Config,
    engine: Arc<Engine>,
    target: Arc<Target>,
    updates: mpsc::Sender<ProbeUpdate>,
    started: Instant,
}

/// Probes every period (after the startup gate and the initial delay) and reports verdict
/// changes. A startup probe ends at its first success, opening the gate.
async fn run(r: Run, gate: Option<watch::Receiver<bool>>, opens: Option<watch::Sender<bool>>) {
    if let Some(mut gate) = gate
        && gate.wait_for(|open| *open).await.is_err()
    {
        return;
    }
    tokio::time::sleep_until(r.started + r.config.initial_delay).await;
    let initial = match r.kind {
        ProbeKind::Readiness => Some(false),
        ProbeKind::Liveness => Some(true),
        ProbeKind::Startup => None,
    };
    let mut tracker = config::Tracker::new(initial, &r.config);
    let mut ticks = tokio::time::interval(r.config.period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let docker = r.engine.docker();
    loop {
        ticks.tick().await;
        let subject = check::Subject {
            docker: &docker,
            container_id: &r.target.container_id,
            pod_ip: &r.target.pod_ip,
            spec: &r.target.spec,
        };
        let outcome = check::attempt(&r.config.action, &subject, r.config.timeout).await;
        let Some(verdict) = tracker.observe(outcome.is_ok()) else {
            continue;
        };
        let update = ProbeUpdate {
            pod_uid: r.target.pod_uid.clone(),
            container: r.target.container.clone(),
            container_id: r.target.container_id.clone(),
            kind: r.kind,
            success: verdict,
            message: outcome.err().unwrap_or_default(),
        };
        if r.updates.send(update).await.is_err() {
            return;
        }
        if r.kind == ProbeKind::Startup && verdict {
            if let Some(open) = &opens {
                let _ = open.send(true);
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests;
