//! Desired pods against the engine's containers: one worker per pod, woken by changes (the pod,
//! its containers' events, probe verdicts, its ConfigMaps and Secrets, back-off timers), that
//! creates the sandbox, runs init containers in order, starts and restarts app containers,
//! terminates the pod gracefully when it is deleted, and writes the status the engine shows.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::backoff::Backoff;
use super::containers;
use super::probes::{self, ProbeKind, ProbeUpdate, Probes};
use super::status::{self, ContainerView, Instance, PodView, Waiting};
use super::{adopt, sandbox, spec};
use crate::api::meta;
use crate::client::{Client, path};
use crate::controllers::events::{EventType, Recorder};
use crate::engine::{Engine, labels};
use crate::store::ObjectKey;

/// What wakes a pod's worker.
#[derive(Debug)]
pub enum Msg {
    /// Something about the pod or its containers changed: look again.
    Kick,
    /// A probe's verdict changed.
    Probe(ProbeUpdate),
    /// A ConfigMap or Secret the pod refers to changed: rewrite its volume files.
    Volumes,
}

/// The pod runtime's shared part.
pub struct Runtime {
    /// Writes as `kubelet`.
    pub client: Client,
    /// The engine.
    pub engine: Arc<Engine>,
    /// k2d's data directory (volume contents under `pods/<uid>`).
    pub data_dir: PathBuf,
    /// Records the pods' events.
    pub recorder: Recorder,
    /// The node's name.
    pub node: String,
    /// The node's address.
    pub host_ip: String,
    /// Where probe verdicts go.
    pub probe_tx: mpsc::Sender<ProbeUpdate>,
    workers: Mutex<HashMap<String, Worker>>,
}

struct Worker {
    tx: mpsc::UnboundedSender<Msg>,
    namespace: String,
    name: String,
}

/// What a worker remembers between syncs (lost when k2d restarts, which only resets
/// back-offs: everything else is read back from the engine).
#[derive(Default)]
pub(super) struct State {
    pub(super) restart: HashMap<String, Backoff>,
    pub(super) pull: HashMap<String, Backoff>,
    /// Why a container is not running, when the runtime decided it (pull errors, config
    /// errors), by container name.
    pub(super) waiting: HashMap<String, Waiting>,
    pub(super) probes: HashMap<String, Probes>,
    /// Verdicts by (engine id, kind).
    verdicts: HashMap<(String, ProbeKind), bool>,
    volumes_ready: bool,
    pub(super) resolved: Option<spec::Resolved>,
    references: (Vec<String>, Vec<String>),
    scheduled: bool,
}

impl State {
    fn next_due(&self) -> Option<Instant> {
        self.restart
            .values()
            .chain(self.pull.values())
            .filter_map(Backoff::due)
            .min()
    }
}

/// What a sync ended with.
enum Outcome {
    Continue,
    Finished,
}

/// One container of the pod with its engine runs, newest first.
pub(super) struct Runs {
    pub(super) spec: Value,
    pub(super) runs: Vec<Instance>,
}

impl Runs {
    pub(super) fn name(&self) -> String {
        self.spec
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
    pub(super) fn current(&self) -> Option<&Instance> {
        self.runs.first()
    }
}

pub(super) fn grace_seconds(pod: &Value) -> i64 {
    pod.pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
}

pub(super) fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

/// The exec command of a lifecycle hook (`postStart` or `preStop`), if it is one.
pub(super) fn hook_command(container: &Value, hook: &str) -> Option<Vec<String>> {
    let cmd = container.pointer(&format!("/lifecycle/{hook}/exec/command"))?;
    Some(
        cmd.as_array()?
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect(),
    )
}

/// The seconds of a `sleep` lifecycle hook.
pub(super) fn hook_sleep(container: &Value, hook: &str) -> Option<u64> {
    container
        .pointer(&format!("/lifecycle/{hook}/sleep/seconds"))
        .and_then(Value::as_u64)
}

/// The warning for a lifecycle hook k2d does not run (httpGet and tcpSocket handlers).
pub(super) fn unsupported_hook(container: &Value, hook: &str) -> Option<String> {
    let handler = container.pointer(&format!("/lifecycle/{hook}"))?;
    ["httpGet", "tcpSocket"]
        .iter()
        .find(|kind| handler.get(**kind).is_some())
        .map(|kind| {
            format!(
                "lifecycle.{hook}.{kind} of container {} is not run by k2d (exec and sleep hooks are)",
                container.get("name").and_then(Value::as_str).unwrap_or_default()
            )
        })
}

pub(super) fn field_path(init: bool, name: &str) -> String {
    if init {
        format!("spec.initContainers{{{name}}}")
    } else {
        format!("spec.containers{{{name}}}")
    }
}

impl Runtime {
    /// The runtime of this k2d.
    pub fn new(
        client: Client,
        engine: Arc<Engine>,
        data_dir: PathBuf,
    ) -> (Arc<Runtime>, mpsc::Receiver<ProbeUpdate>) {
        let node = super::node_name();
        let (probe_tx, probe_rx) = mpsc::channel(64);
        let recorder = Recorder::new(client.clone(), "kubelet", &node);
        let rt = Runtime {
            client,
            engine,
            data_dir,
            recorder,
            node,
            host_ip: super::network::host_ip(),
            probe_tx,
            workers: Mutex::default(),
        };
        (Arc::new(rt), probe_rx)
    }

    /// Wakes the worker of pod `uid` (starting one if it has none).
    pub fn kick(self: &Arc<Self>, uid: &str, namespace: &str, name: &str, msg: Msg) {
        let mut workers = self.workers.lock().expect("workers lock");
        let msg = match workers.get(uid) {
            Some(w) => match w.tx.send(msg) {
                Ok(()) => return,
                Err(mpsc::error::SendError(m)) => m,
            },
            None => msg,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(msg);
        workers.insert(
            uid.to_string(),
            Worker {
                tx,
                namespace: namespace.to_string(),
                name: name.to_string(),
            },
        );
        let rt = self.clone();
        let (uid, namespace, name) = (uid.to_string(), namespace.to_string(), name.to_string());
        tokio::spawn(async move { rt.work(uid, namespace, name, rx).await });
    }

    /// Wakes every worker (after an engine outage).
    pub fn kick_all(self: &Arc<Self>) {
        let all: Vec<(String, String, String)> = self
            .workers
            .lock()
            .expect("workers lock")
            .iter()
            .map(|(u, w)| (u.clone(), w.namespace.clone(), w.name.clone()))
            .collect();
        for (u, ns, n) in all {
            self.kick(&u, &ns, &n, Msg::Kick);
        }
    }

    /// The pods (uid, namespace, name) whose workers run.
    pub fn running_pods(&self) -> Vec<(String, String, String)> {
        self.workers
            .lock()
            .expect("workers lock")
            .iter()
            .map(|(u, w)| (u.clone(), w.namespace.clone(), w.name.clone()))
            .collect()
    }

    async fn work(
        self: Arc<Self>,
        uid: String,
        namespace: String,
        name: String,
        mut rx: mpsc::UnboundedReceiver<Msg>,
    ) {
        let mut st = State::default();
        loop {
            let due = st.next_due().filter(|d| *d > Instant::now());
            let first = match due {
                Some(due) => tokio::select! {
                    m = rx.recv() => m,
                    _ = tokio::time::sleep_until(due.into()) => Some(Msg::Kick),
                },
                None => rx.recv().await,
            };
            let Some(first) = first else { break };
            let mut msgs = vec![first];
            while let Ok(m) = rx.try_recv() {
                msgs.push(m);
            }
            for m in msgs {
                match m {
                    Msg::Kick => {}
                    Msg::Volumes => st.volumes_ready = false,
                    Msg::Probe(u) => self.on_probe(&namespace, &name, &mut st, u).await,
                }
            }
            match self.sync(&uid, &namespace, &name, &mut st).await {
                Ok(Outcome::Continue) => {}
                Ok(Outcome::Finished) => break,
                Err(e) => {
                    tracing::warn!(pod = %format!("{namespace}/{name}"), "pod sync: {e}");
                    // Woken again by the engine's return (resync) or the next change.
                }
            }
        }
        rx.close();
        let mut workers = self.workers.lock().expect("workers lock");
        if workers.get(&uid).is_some_and(|w| w.tx.is_closed()) {
            workers.remove(&uid);
        }
    }

    fn read_pod(&self, namespace: &str, name: &str) -> Option<Value> {
        let key = ObjectKey::new("", "pods", namespace, name);
        tokio::task::block_in_place(|| self.client.ctx().store.get(&key))
            .ok()
            .flatten()
    }

    async fn on_probe(&self, namespace: &str, name: &str, st: &mut State, u: ProbeUpdate) {
        st.verdicts
            .insert((u.container_id.clone(), u.kind), u.success);
        if u.success {
            return;
        }
        let Some(pod) = self.read_pod(namespace, name) else {
            return;
        };
        let kind = match u.kind {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        };
        let fp = field_path(false, &u.container);
        self.recorder
            .record(
                &pod,
                Some(&fp),
                EventType::Warning,
                "Unhealthy",
                &format!("{kind} probe failed: {}", u.message),
            )
            .await;
        if matches!(u.kind, ProbeKind::Liveness | ProbeKind::Startup) {
            let reason = if u.kind == ProbeKind::Liveness {
                "liveness"
            } else {
                "startup"
            };
            self.recorder
                .record(
                    &pod,
                    Some(&fp),
                    EventType::Normal,
                    "Killing",
                    &format!(
                        "Container {} failed {reason} probe, will be restarted",
                        u.container
                    ),
                )
                .await;
            st.probes.remove(&u.container_id);
            let _ = containers::terminate(&self.engine, &u.container_id, grace_seconds(&pod)).await;
        }
    }

    /// The engine's containers of pod `uid`, inspected.
    async fn observe(&self, uid: &str) -> Result<Vec<(String, String, Instance, Value)>, String> {
        let list = containers::list(&self.engine, Some(uid))
            .await
            .map_err(|e| format!("listing containers: {e}"))?;
        let mut out = Vec::new();
        for c in list {
            let Some(id) = c.id.clone() else { continue };
            let role = containers::label(&c, labels::CONTAINER_ROLE)
                .unwrap_or_default()
                .to_string();
            let cname = containers::label(&c, labels::CONTAINER_NAME)
                .unwrap_or_default()
                .to_string();
            match self.engine.inspect_container(&id).await {
                Ok(i) => {
                    let ip = containers::ip_on(&i, super::network::NAME)
                        .map(Value::String)
                        .unwrap_or(Value::Null);
                    out.push((role, cname, containers::instance(&i), ip));
                }
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => {}
                Err(e) => return Err(format!("inspecting {id}: {e}")),
            }
        }
        Ok(out)
    }

    async fn sync(
        self: &Arc<Self>,
        uid: &str,
        namespace: &str,
        name: &str,
        st: &mut State,
    ) -> Result<Outcome, String> {
        let pod = self
            .read_pod(namespace, name)
            .filter(|p| meta::meta_str(p, "uid") == Some(uid));
        let Some(pod) = pod else {
            // Gone (deleted at once, or while k2d was down): its containers go too.
            self.remove_all(uid).await?;
            return Ok(Outcome::Finished);
        };
        if adopt::is_foreign(&pod) {
            return Ok(Outcome::Finished);
        }
        let observed = self.observe(uid).await?;
        if meta::is_deleting(&pod) {
            self.terminate(&pod, uid, &observed, st).await?;
            return Ok(Outcome::Finished);
        }
        if !st.scheduled {
            st.scheduled = true;
            if pod.pointer("/status/startTime").is_none() {
                self.recorder
                    .record(
                        &pod,
                        None,
                        EventType::Normal,
                        "Scheduled",
                        &format!("Successfully assigned {namespace}/{name} to {}", self.node),
                    )
                    .await;
            }
        }
        let old_status = pod.get("status").cloned().unwrap_or(json!({}));
        let old_phase = str_at(&old_status, "/phase").to_string();
        let spec_of = |key: &str| -> Vec<Value> {
            pod.pointer(&format!("/spec/{key}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let group = |role: &str, specs: Vec<Value>| -> Vec<Runs> {
            specs
                .into_iter()
                .map(|s| {
                    let n = s.get("name").and_then(Value::as_str).unwrap_or_default();
                    let mut runs: Vec<Instance> = observed
                        .iter()
                        .filter(|(r, c, _, _)| r == role && c == n)
                        .map(|(_, _, i, _)| i.clone())
                        .collect();
                    runs.sort_by_key(|r| std::cmp::Reverse(r.attempt));
                    Runs { spec: s, runs }
                })
                .collect()
        };
        let mut init = group(labels::ROLE_INIT, spec_of("initContainers"));
        let mut app = group(labels::ROLE_APP, spec_of("containers"));
        let mut sandboxes: Vec<(&Instance, &Value)> = observed
            .iter()
            .filter(|(r, _, _, _)| r == labels::ROLE_SANDBOX)
            .map(|(_, _, i, ip)| (i, ip))
            .collect();
        sandboxes.sort_by_key(|s| std::cmp::Reverse(s.0.attempt));
        let restart_policy = str_at(&pod, "/spec/restartPolicy").to_string();
        let restart_policy = if restart_policy.is_empty() {
            "Always".to_string()
        } else {
            restart_policy
        };
        let host_net = sandbox::host_network(&pod);

        // A pod that ended stays ended: nothing is started again, its sandbox is stopped.
        let ended = status::terminal(&old_phase);
        let mut sandbox_id = sandboxes
            .first()
            .filter(|s| s.0.running())
            .map(|s| s.0.id.clone());
        let mut pod_ip = sandboxes
            .first()
            .filter(|s| s.0.running())
            .and_then(|s| s.1.as_str().map(str::to_string));
        if ended {
            for (s, _) in &sandboxes {
                if s.running() {
                    let _ = containers::stop(&self.engine, &s.id, 0).await;
                }
            }
            st.probes.clear();
        } else {
            if sandbox_id.is_none() {
                let attempt = sandboxes.first().map(|s| s.0.attempt + 1).unwrap_or(0);
                let stale: Vec<String> = sandboxes.iter().map(|s| s.0.id.clone()).collect();
                if !stale.is_empty() {
                    self.recorder
                        .record(
                            &pod,
                            None,
                            EventType::Normal,
                            "SandboxChanged",
                            "Pod sandbox changed, it will be killed and re-created.",
                        )
                        .await;
                }
                // Containers in the old sandbox's namespaces cannot keep running.
                for runs in app.iter().chain(init.iter()) {
                    if let Some(c) = runs.current()
                        && c.running()
                    {
                        let _ = containers::stop(&self.engine, &c.id, 0).await;
                    }
                }
                for id in stale {
                    let _ = containers::remove(&self.engine, &id).await;
                }
                match sandbox::create(&self.engine, &pod, uid, attempt).await {
                    Ok((id, warnings)) => {
                        self.unsupported(&pod, None, &warnings).await;
                        let inspected = self.engine.inspect_container(&id).await.ok();
                        pod_ip = inspected
                            .as_ref()
                            .and_then(|i| containers::ip_on(i, super::network::NAME));
                        sandbox_id = Some(id);
                        // The stopped containers must be seen as ended runs.
                        if !init.is_empty() || !app.is_empty() {
                            let fresh = self.observe(uid).await?;
                            let refresh = |list: &mut Vec<Runs>, role: &str| {
                                for r in list.iter_mut() {
                                    let n = r.name();
                                    let mut runs: Vec<Instance> = fresh
                                        .iter()
                                        .filter(|(ro, c, _, _)| ro == role && *c == n)
                                        .map(|(_, _, i, _)| i.clone())
                                        .collect();
                                    runs.sort_by_key(|r| std::cmp::Reverse(r.attempt));
                                    r.runs = runs;
                                }
                            };
                            refresh(&mut init, labels::ROLE_INIT);
                            refresh(&mut app, labels::ROLE_APP);
                        }
                    }
                    Err(e) => {
                        self.recorder
                            .record(
                                &pod,
                                None,
                                EventType::Warning,
                                "FailedCreatePodSandBox",
                                &format!("Failed to create pod sandbox: {e}"),
                            )
                            .await;
                        let b = st.restart.entry("\0sandbox".into()).or_default();
                        if !b.waiting(Instant::now()) {
                            b.exited(Instant::now(), Duration::ZERO);
                            b.restarted();
                            b.exited(Instant::now(), Duration::ZERO);
                        }
                    }
                }
            }
            if host_net {
                pod_ip = Some(self.host_ip.clone());
            }
        }

        if !ended && sandbox_id.is_some() {
            if !st.volumes_ready {
                self.prepare_volumes(&pod, uid, st).await;
            }
            if st.volumes_ready {
                let sb = sandbox_id.clone().unwrap_or_default();
                let ip = pod_ip.clone().unwrap_or_default();
                self.drive(
                    &pod,
                    uid,
                    &sb,
                    &ip,
                    &restart_policy,
                    &mut init,
                    &mut app,
                    st,
                )
                .await;
            }
        }

        // Probes run while containers run.
        let running: HashSet<String> = app
            .iter()
            .filter_map(|r| r.current().filter(|c| c.running()).map(|c| c.id.clone()))
            .collect();
        st.probes.retain(|id, _| running.contains(id));
        st.verdicts.retain(|(id, _), _| running.contains(id));
        for r in &app {
            let Some(c) = r.current().filter(|c| c.running()) else {
                continue;
            };
            let has_probe = ["readinessProbe", "livenessProbe", "startupProbe"]
                .iter()
                .any(|p| r.spec.get(*p).is_some());
            if has_probe && !st.probes.contains_key(&c.id) {
                let target = probes::Target {
                    pod_uid: uid.to_string(),
                    container: r.name(),
                    container_id: c.id.clone(),
                    pod_ip: pod_ip.clone().unwrap_or_default(),
                    spec: r.spec.clone(),
                };
                st.probes.insert(
                    c.id.clone(),
                    probes::start(self.engine.clone(), target, self.probe_tx.clone()),
                );
            }
        }

        let view = |list: &[Runs], st: &State| -> Vec<ContainerView> {
            list.iter()
                .map(|r| {
                    let current = r.current().cloned();
                    let id = current.as_ref().map(|c| c.id.clone()).unwrap_or_default();
                    let verdict = |kind: ProbeKind, key: &str| {
                        r.spec.get(key).is_none()
                            || st
                                .verdicts
                                .get(&(id.clone(), kind))
                                .copied()
                                .unwrap_or(false)
                    };
                    let started = verdict(ProbeKind::Startup, "startupProbe");
                    ContainerView {
                        spec: r.spec.clone(),
                        previous: r.runs.get(1).cloned(),
                        waiting: st.waiting.get(&r.name()).cloned(),
                        ready: started && verdict(ProbeKind::Readiness, "readinessProbe"),
                        started,
                        current,
                    }
                })
                .collect()
        };
        let now = meta::now();
        let pv = PodView {
            restart_policy,
            init: view(&init, st),
            app: view(&app, st),
            sandbox_ready: sandbox_id.is_some() && !ended,
            // An ended pod keeps the address it had (its sandbox is stopped).
            pod_ip: pod_ip.or_else(|| {
                ended
                    .then(|| old_status.get("podIP").and_then(Value::as_str))
                    .flatten()
                    .map(str::to_string)
            }),
            host_ip: self.host_ip.clone(),
            start_time: Some(
                old_status
                    .get("startTime")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| now.clone()),
            ),
            qos_class: status::qos_class(pod.get("spec").unwrap_or(&Value::Null)).to_string(),
            now,
        };
        let mut new_status = status::pod_status(&pv, Some(&old_status));
        if ended {
            // The phase of an ended pod never changes back.
            new_status["phase"] = json!(old_phase);
        }
        if status::terminal(str_at(&new_status, "/phase")) && !ended {
            // Ended now: stop what still runs (sidecars), then the sandbox; the next sync sees
            // the pod ended.
            let grace = grace_seconds(&pod);
            for r in init.iter().chain(app.iter()) {
                if let Some(c) = r.current().filter(|c| c.running()) {
                    let _ = containers::terminate(&self.engine, &c.id, grace).await;
                }
            }
            for (s, _) in &sandboxes {
                let _ = containers::stop(&self.engine, &s.id, 0).await;
            }
        }
        self.write_status(&pod, new_status).await;
        Ok(Outcome::Continue)
    }

    /// Writes the pod's status when it changed.
    async fn write_status(&self, pod: &Value, new_status: Value) {
        if pod.get("status") == Some(&new_status) {
            return;
        }
        let mut updated = pod.clone();
        updated["status"] = new_status;
        if let Some(m) = updated.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("managedFields");
        }
        let p = path(
            "v1",
            "pods",
            meta::meta_str(pod, "namespace"),
            meta::meta_str(pod, "name"),
            Some("status"),
        );
        if let Err(e) = self.client.replace(&p, &updated).await
            && e.code != 404
        {
            tracing::warn!("writing the status of pod {p}: {e}");
        }
    }

    pub(super) async fn unsupported(
        &self,
        pod: &Value,
        field_path: Option<&str>,
        warnings: &[String],
    ) {
        for w in warnings {
            tracing::warn!(pod = meta::meta_str(pod, "name").unwrap_or_default(), "{w}");
            self.recorder
                .record(pod, field_path, EventType::Warning, "Unsupported", w)
                .await;
        }
    }

    async fn prepare_volumes(&self, pod: &Value, uid: &str, st: &mut State) {
        let resolved = match spec::resolve(&self.client, pod).await {
            Ok(r) => r,
            Err(e) => {
                self.recorder
                    .record(pod, None, EventType::Warning, "FailedMount", &e.message)
                    .await;
                return;
            }
        };
        let dir = self.data_dir.join("pods").join(uid);
        let result = {
            let (pod, resolved, dir) = (pod.clone(), resolved.clone(), dir.clone());
            tokio::task::spawn_blocking(move || spec::prepare_volumes(&pod, &resolved, &dir))
                .await
                .unwrap_or_else(|e| Err(format!("preparing volumes: {e}")))
        };
        st.references = spec::references(pod);
        match result {
            Ok(()) => {
                st.volumes_ready = true;
                st.resolved = Some(resolved);
            }
            Err(e) => {
                self.recorder
                    .record(pod, None, EventType::Warning, "FailedMount", &e)
                    .await;
            }
        }
    }

    /// Whether this worker's pod refers to the ConfigMap (`secret` false) or Secret `name`.
    pub fn refers(st_refs: &(Vec<String>, Vec<String>), secret: bool, name: &str) -> bool {
        let list = if secret { &st_refs.1 } else { &st_refs.0 };
        list.iter().any(|n| n == name)
    }

    /// Init containers in order, then the app containers: start what has not run, restart what
    /// ended (per the restart policy, after the back-off).
    #[allow(clippy::too_many_arguments)]
    async fn drive(
        &self,
        pod: &Value,
        uid: &str,
        sandbox_id: &str,
        pod_ip: &str,
        restart_policy: &str,
        init: &mut [Runs],
        app: &mut [Runs],
        st: &mut State,
    ) {
        let now = Instant::now();
        for r in init.iter_mut() {
            let current = r.current().cloned();
            let sidecar = str_at(&r.spec, "/restartPolicy") == "Always";
            match current {
                None if sidecar => {
                    // A sidecar starts and the next init container follows once it runs.
                    self.run(pod, uid, sandbox_id, pod_ip, true, r, 0, st).await;
                    if !r.current().is_some_and(Instance::running) {
                        return;
                    }
                }
                None => {
                    self.run(pod, uid, sandbox_id, pod_ip, true, r, 0, st).await;
                    return;
                }
                Some(c)
                    if sidecar && c.running() && c.sandbox_id.as_deref() == Some(sandbox_id) =>
                {
                    st.waiting.remove(&r.name());
                    continue;
                }
                Some(c) if sidecar => {
                    // A sidecar that ended is restarted whatever the pod's policy; the app
                    // containers are not held back by it.
                    if !self.held_back(pod, true, r, &c, now, st).await {
                        self.run(pod, uid, sandbox_id, pod_ip, true, r, c.attempt + 1, st)
                            .await;
                    }
                    continue;
                }
                Some(c) if c.succeeded() && c.sandbox_id.as_deref() == Some(sandbox_id) => {
                    st.waiting.remove(&r.name());
                    continue;
                }
                Some(c) if c.running() => return,
                Some(c) => {
                    // Failed, never started, or ran in an earlier sandbox.
                    let failed = !c.succeeded();
                    if failed && restart_policy == "Never" {
                        return;
                    }
                    if self.held_back(pod, true, r, &c, now, st).await {
                        return;
                    }
                    self.run(pod, uid, sandbox_id, pod_ip, true, r, c.attempt + 1, st)
                        .await;
                    return;
                }
            }
        }
        for r in app.iter_mut() {
            match r.current().cloned() {
                None => {
                    self.run(pod, uid, sandbox_id, pod_ip, false, r, 0, st)
                        .await
                }
                // The image of a running container was changed in the pod (the one field of
                // a container that may change): it is restarted with the new one.
                Some(c)
                    if c.running()
                        && !crate::engine::podman::same_image(
                            &c.image,
                            str_at(&r.spec, "/image"),
                        ) =>
                {
                    let name = r.name();
                    self.recorder
                        .record(
                            pod,
                            Some(&field_path(false, &name)),
                            EventType::Normal,
                            "Killing",
                            &format!("Container {name} definition changed, will be restarted"),
                        )
                        .await;
                    let _ = containers::terminate(&self.engine, &c.id, grace_seconds(pod)).await;
                    st.probes.remove(&c.id);
                    self.run(pod, uid, sandbox_id, pod_ip, false, r, c.attempt + 1, st)
                        .await;
                }
                Some(c) if c.running() => {
                    st.waiting.remove(&r.name());
                }
                Some(c) => {
                    let again = match restart_policy {
                        "Never" => false,
                        "OnFailure" => !c.succeeded(),
                        _ => true,
                    };
                    // A container that has not run since the sandbox changed runs again too.
                    let moved =
                        c.sandbox_id.as_deref() != Some(sandbox_id) && restart_policy != "Never";
                    if !(again || moved) {
                        st.waiting.remove(&r.name());
                        continue;
                    }
                    if self.held_back(pod, false, r, &c, now, st).await {
                        continue;
                    }
                    self.run(pod, uid, sandbox_id, pod_ip, false, r, c.attempt + 1, st)
                        .await;
                }
            }
        }
    }

    /// Whether the restart of a container that ended is held back by its back-off (then the
    /// container waits with CrashLoopBackOff).
    async fn held_back(
        &self,
        pod: &Value,
        init: bool,
        r: &Runs,
        c: &Instance,
        now: Instant,
        st: &mut State,
    ) -> bool {
        let name = r.name();
        if st.waiting.get(&name).is_some_and(|w| {
            matches!(
                w.reason.as_str(),
                "ErrImagePull"
                    | "ImagePullBackOff"
                    | "ErrImageNeverPull"
                    | "CreateContainerConfigError"
            )
        }) {
            // Those have their own retry below.
            return false;
        }
        let ran = match (&c.started_at, &c.finished_at) {
            (Some(s), Some(f)) => seconds_between(s, f),
            _ => Duration::ZERO,
        };
        let b = st.restart.entry(name.clone()).or_default();
        let due = b.exited(now, ran);
        if due <= now {
            b.restarted();
            return false;
        }
        let wait = due - now;
        let message = format!(
            "back-off {}s restarting failed container={name} pod={}_{}({})",
            b.delay().as_secs(),
            meta::meta_str(pod, "name").unwrap_or_default(),
            meta::meta_str(pod, "namespace").unwrap_or_default(),
            meta::meta_str(pod, "uid").unwrap_or_default(),
        );
        let first = st.waiting.get(&name).map(|w| w.reason.as_str()) != Some("CrashLoopBackOff");
        st.waiting.insert(
            name.clone(),
            Waiting {
                reason: "CrashLoopBackOff".into(),
                message,
            },
        );
        if first {
            self.recorder
                .record(
                    pod,
                    Some(&field_path(init, &name)),
                    EventType::Warning,
                    "BackOff",
                    &format!(
                        "Back-off restarting failed container {name} in pod {}",
                        meta::meta_str(pod, "name").unwrap_or_default()
                    ),
                )
                .await;
        }
        tracing::debug!("restart of {name} held back {wait:?}");
        true
    }

    /// The pods whose files depend on ConfigMap (`secret` false) or Secret `namespace/name`.
    pub fn wake_referrers(self: &Arc<Self>, secret: bool, namespace: &str, name: &str) {
        for (uid, ns, pod_name) in self.running_pods() {
            if ns != namespace {
                continue;
            }
            let Some(pod) = self.read_pod(&ns, &pod_name) else {
                continue;
            };
            let refs = spec::references(&pod);
            if Self::refers(&refs, secret, name) {
                self.kick(&uid, &ns, &pod_name, Msg::Volumes);
            }
        }
    }
}

/// The time between two RFC 3339 timestamps (zero when unreadable).
fn seconds_between(a: &str, b: &str) -> Duration {
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) if b > a => Duration::from_secs((b - a).whole_seconds() as u64),
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_period_order() {
        assert_eq!(grace_seconds(&json!({})), 30);
        assert_eq!(
            grace_seconds(&json!({"spec": {"terminationGracePeriodSeconds": 5}})),
            5
        );
        assert_eq!(
            grace_seconds(&json!({"metadata": {"deletionGracePeriodSeconds": 2},
                "spec": {"terminationGracePeriodSeconds": 5}})),
            2
        );
    }

    #[test]
    fn hooks_and_durations() {
        let c = json!({"lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "x"]}},
            "postStart": {"sleep": {"seconds": 3}}}});
        assert_eq!(
            hook_command(&c, "preStop"),
            Some(vec!["sh".to_string(), "-c".into(), "x".into()])
        );
        assert_eq!(hook_command(&c, "postStart"), None);
        assert_eq!(hook_sleep(&c, "postStart"), Some(3));
        assert_eq!(
            seconds_between("2024-01-01T00:00:00Z", "2024-01-01T00:10:00Z"),
            Duration::from_secs(600)
        );
        assert_eq!(field_path(true, "a"), "spec.initContainers{a}");
        let web = json!({"name": "w", "lifecycle": {"preStop": {"httpGet": {"port": 80}}}});
        assert!(
            unsupported_hook(&web, "preStop")
                .unwrap()
                .contains("lifecycle.preStop.httpGet of container w")
        );
        assert_eq!(unsupported_hook(&c, "preStop"), None);
    }
}
