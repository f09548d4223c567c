//! The engine's state of a pod's containers as a PodStatus: phase, conditions, container
//! statuses, IPs, start time and QoS class. Pure: the runtime gathers what the engine says
//! ([`Instance`]) and what only it knows (waiting reasons, readiness) into a [`PodView`].

use serde_json::{Map, Value, json};

/// One engine container of a pod, as inspected.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Instance {
    /// The engine id.
    pub id: String,
    /// Which run of its pod container this is (0 for the first).
    pub attempt: u32,
    /// The engine's state: `created`, `running`, `exited`, `dead`, ...
    pub state: String,
    /// The exit code (when exited).
    pub exit_code: i64,
    /// The engine's error message, if it could not run the container.
    pub error: String,
    /// Killed for lack of memory.
    pub oom_killed: bool,
    /// When it started (RFC 3339, seconds), if it ever did.
    pub started_at: Option<String>,
    /// When it ended (RFC 3339, seconds), if it did.
    pub finished_at: Option<String>,
    /// The image it was created from, as named.
    pub image: String,
    /// The image's id (`sha256:...`).
    pub image_id: String,
    /// The sandbox it joined (app and init containers).
    pub sandbox_id: Option<String>,
}

impl Instance {
    /// Running (or paused or restarting by the engine's own means).
    pub fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "paused" | "restarting")
    }

    /// Ran and ended.
    pub fn exited(&self) -> bool {
        matches!(self.state.as_str(), "exited" | "dead") && self.finished_at.is_some()
    }

    /// Ended with exit code 0.
    pub fn succeeded(&self) -> bool {
        self.exited() && self.exit_code == 0
    }

    /// The terminated state of an ended container.
    pub fn terminated(&self) -> Value {
        let reason = if self.oom_killed {
            "OOMKilled"
        } else if !self.error.is_empty() && self.started_at.is_none() {
            "StartError"
        } else if self.exit_code == 0 {
            "Completed"
        } else {
            "Error"
        };
        let mut t = json!({
            "exitCode": self.exit_code,
            "reason": reason,
            "containerID": format!("docker://{}", self.id),
        });
        if let Some(s) = &self.started_at {
            t["startedAt"] = json!(s);
        }
        if let Some(f) = &self.finished_at {
            t["finishedAt"] = json!(f);
        }
        if !self.error.is_empty() {
            t["message"] = json!(self.error);
        }
        json!({ "terminated": t })
    }
}

/// Why a container is not running, when the runtime knows better than the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    /// ContainerCreating, PodInitializing, ErrImagePull, ImagePullBackOff, ErrImageNeverPull,
    /// CrashLoopBackOff, CreateContainerConfigError, ...
    pub reason: String,
    /// The details.
    pub message: String,
}

/// One container of the pod spec and what runs for it.
#[derive(Clone, Debug)]
pub struct ContainerView {
    /// The spec entry.
    pub spec: Value,
    /// The latest engine container for it.
    pub current: Option<Instance>,
    /// The one before (`lastState`, `kubectl logs --previous`).
    pub previous: Option<Instance>,
    /// Set when it is not running for a reason the runtime decided.
    pub waiting: Option<Waiting>,
    /// Passed its readiness probe (or has none) while running.
    pub ready: bool,
    /// Passed its startup probe (or has none) while running.
    pub started: bool,
}

impl ContainerView {
    /// A sidecar: an init container with `restartPolicy: Always`, which keeps running beside
    /// the app containers.
    pub fn sidecar(&self) -> bool {
        self.spec.get("restartPolicy").and_then(Value::as_str) == Some("Always")
    }

    /// An init container that has done its part: ended with 0, or (a sidecar) has run.
    pub fn init_done(&self) -> bool {
        match &self.current {
            Some(i) if self.sidecar() => i.running() || i.exited(),
            Some(i) => i.succeeded(),
            None => false,
        }
    }

    fn name(&self) -> &str {
        self.spec.get("name").and_then(Value::as_str).unwrap_or("")
    }

    /// `restartCount`: the attempt number of the latest run.
    pub fn restart_count(&self) -> u32 {
        self.current.as_ref().map(|c| c.attempt).unwrap_or(0)
    }

    /// The container status entry.
    pub fn status(&self) -> Value {
        let mut s = Map::new();
        s.insert("name".into(), json!(self.name()));
        let spec_image = self.spec.get("image").and_then(Value::as_str).unwrap_or("");
        s.insert("image".into(), json!(spec_image));
        s.insert("restartCount".into(), json!(self.restart_count()));
        let running = self.current.as_ref().is_some_and(Instance::running);
        s.insert("ready".into(), json!(running && self.ready));
        s.insert("started".into(), json!(running && self.started));
        let mut image_id = String::new();
        if let Some(c) = &self.current {
            s.insert("containerID".into(), json!(format!("docker://{}", c.id)));
            image_id = format!("docker://{}", c.image_id);
        }
        s.insert("imageID".into(), json!(image_id));
        let state = match (&self.waiting, &self.current) {
            (Some(w), _) => waiting(w),
            (None, Some(c)) if c.running() => {
                json!({"running": {"startedAt": c.started_at.clone().unwrap_or_default()}})
            }
            (None, Some(c)) if c.exited() => c.terminated(),
            _ => waiting(&Waiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            }),
        };
        s.insert("state".into(), state);
        // While a restart is held back, the run that ended is the last state; otherwise the
        // run before the current one.
        let last = match (&self.waiting, &self.current, &self.previous) {
            (Some(_), Some(c), _) if c.exited() => c.terminated(),
            (_, _, Some(p)) if p.exited() => p.terminated(),
            _ => json!({}),
        };
        s.insert("lastState".into(), last);
        Value::Object(s)
    }
}

fn waiting(w: &Waiting) -> Value {
    let mut inner = json!({ "reason": w.reason });
    if !w.message.is_empty() {
        inner["message"] = json!(w.message);
    }
    json!({ "waiting": inner })
}

/// Everything a PodStatus is made of.
#[derive(Clone, Debug)]
pub struct PodView {
    /// `spec.restartPolicy`.
    pub restart_policy: String,
    /// The init containers, in order.
    pub init: Vec<ContainerView>,
    /// The app containers.
    pub app: Vec<ContainerView>,
    /// The sandbox runs.
    pub sandbox_ready: bool,
    /// The pod's IP, once its sandbox has one.
    pub pod_ip: Option<String>,
    /// The node's address.
    pub host_ip: String,
    /// When the runtime first acted on the pod.
    pub start_time: Option<String>,
    /// The QoS class.
    pub qos_class: String,
    /// Now, for new condition transitions.
    pub now: String,
}

/// The phase of a pod.
pub fn phase(v: &PodView) -> &'static str {
    let never = v.restart_policy == "Never";
    for c in &v.init {
        match &c.current {
            _ if c.init_done() => continue,
            Some(i) if i.exited() && never => return "Failed",
            _ => return "Pending",
        }
    }
    if v.app.is_empty() {
        return "Pending";
    }
    let mut all_ended = true;
    let mut any_failed = false;
    for c in &v.app {
        match &c.current {
            Some(i) if i.running() => return "Running",
            Some(i) if i.exited() => any_failed |= i.exit_code != 0,
            Some(_) | None => all_ended = false,
        }
    }
    if !all_ended {
        // Some container has not run yet: Running once any did (it restarts), else Pending.
        return if v
            .app
            .iter()
            .any(|c| c.current.as_ref().is_some_and(Instance::exited))
        {
            "Running"
        } else {
            "Pending"
        };
    }
    match v.restart_policy.as_str() {
        "Never" if any_failed => "Failed",
        "Never" | "OnFailure" if !any_failed => "Succeeded",
        _ => "Running",
    }
}

/// Whether a pod in this phase is done: its containers are never started again.
pub fn terminal(phase: &str) -> bool {
    matches!(phase, "Succeeded" | "Failed")
}

fn condition(kind: &str, ok: bool, reason: &str, message: String) -> Value {
    let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" }});
    if !ok && !reason.is_empty() {
        c["reason"] = json!(reason);
        if !message.is_empty() {
            c["message"] = json!(message);
        }
    }
    c
}

/// The pod's conditions (without transition times).
fn conditions(v: &PodView, phase: &str) -> Vec<Value> {
    let incomplete: Vec<&str> = v
        .init
        .iter()
        .filter(|c| !c.init_done())
        .map(ContainerView::name)
        .collect();
    let initialized = incomplete.is_empty() || phase == "Succeeded";
    let unready: Vec<&str> = v
        .app
        .iter()
        .filter(|c| !(c.ready && c.current.as_ref().is_some_and(Instance::running)))
        .map(ContainerView::name)
        .collect();
    let ready = unready.is_empty() && !terminal(phase);
    let (reason, message) = if terminal(phase) {
        ("PodCompleted", String::new())
    } else {
        (
            "ContainersNotReady",
            format!("containers with unready status: [{}]", unready.join(" ")),
        )
    };
    vec![
        condition(
            "PodReadyToStartContainers",
            v.sandbox_ready,
            "",
            String::new(),
        ),
        condition(
            "Initialized",
            initialized,
            "ContainersNotInitialized",
            format!(
                "containers with incomplete status: [{}]",
                incomplete.join(" ")
            ),
        ),
        condition("Ready", ready, reason, message.clone()),
        condition("ContainersReady", ready, reason, message),
        condition("PodScheduled", true, "", String::new()),
    ]
}

/// The QoS class of a pod spec: Guaranteed when every container's CPU and memory requests
/// equal their limits, BestEffort when none sets any, Burstable otherwise.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let requests = c.pointer("/resources/requests");
        let limits = c.pointer("/resources/limits");
        for r in ["cpu", "memory"] {
            let req = requests.and_then(|m| m.get(r));
            let lim = limits.and_then(|m| m.get(r));
            any |= req.is_some() || lim.is_some();
            // A request defaults to the limit.
            if lim.is_none() || req.is_some_and(|q| Some(q) != lim) {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// The PodStatus. Condition transition times are kept from `old` where a condition did not
/// change, so an unchanged pod gives an identical status (and no write).
pub fn pod_status(v: &PodView, old: Option<&Value>) -> Value {
    let phase = phase(v);
    let old_conditions: Vec<Value> = old
        .and_then(|o| o.get("conditions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let conditions: Vec<Value> = conditions(v, phase)
        .into_iter()
        .map(|mut c| {
            let same = old_conditions
                .iter()
                .find(|o| o.get("type") == c.get("type") && o.get("status") == c.get("status"));
            let at = same
                .and_then(|o| o.get("lastTransitionTime"))
                .cloned()
                .unwrap_or_else(|| json!(v.now));
            c["lastProbeTime"] = Value::Null;
            c["lastTransitionTime"] = at;
            c
        })
        .collect();
    let mut s = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": v.host_ip,
        "hostIPs": [{"ip": v.host_ip}],
        "qosClass": v.qos_class,
        "containerStatuses": v.app.iter().map(ContainerView::status).collect::<Vec<_>>(),
    });
    if !v.init.is_empty() {
        s["initContainerStatuses"] =
            json!(v.init.iter().map(ContainerView::status).collect::<Vec<_>>());
    }
    if let Some(ip) = &v.pod_ip {
        s["podIP"] = json!(ip);
        s["podIPs"] = json!([{"ip": ip}]);
    }
    if let Some(t) = &v.start_time {
        s["startTime"] = json!(t);
    }
    s
}

/// An engine timestamp (`2024-01-02T03:04:05.123456789Z`) in Kubernetes' form (seconds, UTC);
/// `None` for the engine's "never" (`0001-01-01...`).
pub fn engine_time(t: &str) -> Option<String> {
    if t.is_empty() || t.starts_with("0001-01-01") || t.len() < 19 {
        return None;
    }
    Some(format!("{}Z", &t[..19]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(state: &str, code: i64, attempt: u32) -> Instance {
        Instance {
            id: format!("id{attempt}"),
            attempt,
            state: state.into(),
            exit_code: code,
            started_at: Some("2024-01-01T00:00:00Z".into()),
            finished_at: (state == "exited").then(|| "2024-01-01T00:00:05Z".into()),
            image: "busybox".into(),
            image_id: "sha256:abc".into(),
            ..Default::default()
        }
    }

    fn view(name: &str, current: Option<Instance>) -> ContainerView {
        ContainerView {
            spec: json!({"name": name, "image": "busybox"}),
            current,
            previous: None,
            waiting: None,
            ready: true,
            started: true,
        }
    }

    fn pod(policy: &str, init: Vec<ContainerView>, app: Vec<ContainerView>) -> PodView {
        PodView {
            restart_policy: policy.into(),
            init,
            app,
            sandbox_ready: true,
            pod_ip: Some("172.18.0.2".into()),
            host_ip: "10.0.0.1".into(),
            start_time: Some("2024-01-01T00:00:00Z".into()),
            qos_class: "BestEffort".into(),
            now: "2024-01-01T00:00:09Z".into(),
        }
    }

    #[test]
    fn phases() {
        let running = pod(
            "Always",
            vec![],
            vec![view("a", Some(inst("running", 0, 0)))],
        );
        assert_eq!(phase(&running), "Running");
        let creating = pod("Always", vec![], vec![view("a", None)]);
        assert_eq!(phase(&creating), "Pending");
        let failed = pod("Never", vec![], vec![view("a", Some(inst("exited", 3, 0)))]);
        assert_eq!(phase(&failed), "Failed");
        let done = pod(
            "OnFailure",
            vec![],
            vec![view("a", Some(inst("exited", 0, 0)))],
        );
        assert_eq!(phase(&done), "Succeeded");
        let crashing = pod(
            "OnFailure",
            vec![],
            vec![view("a", Some(inst("exited", 1, 2)))],
        );
        assert_eq!(phase(&crashing), "Running");
        let always_done = pod(
            "Always",
            vec![],
            vec![view("a", Some(inst("exited", 0, 0)))],
        );
        assert_eq!(phase(&always_done), "Running");
        let initializing = pod(
            "Always",
            vec![view("i", Some(inst("running", 0, 0)))],
            vec![view("a", None)],
        );
        assert_eq!(phase(&initializing), "Pending");
        let init_failed = pod(
            "Never",
            vec![view("i", Some(inst("exited", 1, 0)))],
            vec![view("a", None)],
        );
        assert_eq!(phase(&init_failed), "Failed");
        let mut sidecar = view("proxy", Some(inst("running", 0, 0)));
        sidecar.spec["restartPolicy"] = json!("Always");
        let with_sidecar = pod(
            "Never",
            vec![sidecar.clone()],
            vec![view("a", Some(inst("exited", 0, 0)))],
        );
        assert_eq!(phase(&with_sidecar), "Succeeded");
        let starting = pod("Always", vec![sidecar], vec![view("a", None)]);
        assert_eq!(phase(&starting), "Pending");
        let s = pod_status(&starting, None);
        assert!(
            s["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["type"] == "Initialized" && c["status"] == "True")
        );
        let partly = pod(
            "Always",
            vec![],
            vec![view("a", Some(inst("exited", 0, 0))), view("b", None)],
        );
        assert_eq!(phase(&partly), "Running");
    }

    #[test]
    fn container_status_of_a_running_container() {
        let s = view("a", Some(inst("running", 0, 0))).status();
        assert_eq!(
            s["state"],
            json!({"running": {"startedAt": "2024-01-01T00:00:00Z"}})
        );
        assert_eq!(s["containerID"], "docker://id0");
        assert_eq!(s["imageID"], "docker://sha256:abc");
        assert_eq!(s["ready"], true);
        assert_eq!(s["started"], true);
        assert_eq!(s["restartCount"], 0);
        assert_eq!(s["lastState"], json!({}));
    }

    #[test]
    fn crash_loop_shows_the_last_run() {
        let mut v = view("a", Some(inst("exited", 2, 3)));
        v.waiting = Some(Waiting {
            reason: "CrashLoopBackOff".into(),
            message: "back-off 40s restarting failed container=a".into(),
        });
        let s = v.status();
        assert_eq!(s["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(s["lastState"]["terminated"]["exitCode"], 2);
        assert_eq!(s["lastState"]["terminated"]["reason"], "Error");
        assert_eq!(s["restartCount"], 3);
        assert_eq!(s["ready"], false);
    }

    #[test]
    fn restarted_container_keeps_the_previous_run_as_last_state() {
        let mut v = view("a", Some(inst("running", 0, 1)));
        v.previous = Some(inst("exited", 137, 0));
        let s = v.status();
        assert_eq!(s["restartCount"], 1);
        assert_eq!(s["lastState"]["terminated"]["exitCode"], 137);
    }

    #[test]
    fn a_container_that_could_not_start_ended_with_start_error() {
        let mut i = inst("exited", 127, 0);
        i.started_at = None;
        i.error = "exec: \"nope\": executable file not found".into();
        let t = i.terminated();
        assert_eq!(t["terminated"]["reason"], "StartError");
        assert_eq!(t["terminated"]["exitCode"], 127);
        assert!(
            t["terminated"]["message"]
                .as_str()
                .unwrap()
                .contains("nope")
        );
    }

    #[test]
    fn never_created_container_waits() {
        let s = view("a", None).status();
        assert_eq!(s["state"]["waiting"]["reason"], "ContainerCreating");
        assert_eq!(s["imageID"], "");
        assert!(s.get("containerID").is_none());
    }

    #[test]
    fn conditions_and_transition_times() {
        let mut p = pod(
            "Always",
            vec![],
            vec![view("a", Some(inst("running", 0, 0)))],
        );
        p.app[0].ready = false;
        let s = pod_status(&p, None);
        let ready = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap()
            .clone();
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["reason"], "ContainersNotReady");
        assert_eq!(ready["message"], "containers with unready status: [a]");
        // Nothing changed: the same status, times included.
        p.now = "2030-01-01T00:00:00Z".into();
        assert_eq!(pod_status(&p, Some(&s)), s);
        // Ready now: that condition moves, the others keep their times.
        p.app[0].ready = true;
        let s2 = pod_status(&p, Some(&s));
        for c in s2["conditions"].as_array().unwrap() {
            let t = c["lastTransitionTime"].as_str().unwrap();
            if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                assert_eq!(t, "2030-01-01T00:00:00Z");
                assert_eq!(c["status"], "True");
            } else {
                assert_eq!(t, "2024-01-01T00:00:09Z");
            }
        }
        assert_eq!(s2["podIP"], "172.18.0.2");
        assert_eq!(s2["podIPs"], json!([{"ip": "172.18.0.2"}]));
        assert_eq!(s2["hostIPs"], json!([{"ip": "10.0.0.1"}]));
    }

    #[test]
    fn init_containers_gate_initialized() {
        let p = pod(
            "Always",
            vec![view("i", Some(inst("running", 0, 0)))],
            vec![view("a", None)],
        );
        let s = pod_status(&p, None);
        let init = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Initialized")
            .unwrap()
            .clone();
        assert_eq!(init["status"], "False");
        assert_eq!(init["message"], "containers with incomplete status: [i]");
        assert_eq!(s["initContainerStatuses"][0]["name"], "i");
    }

    #[test]
    fn qos_classes() {
        assert_eq!(
            qos_class(&json!({"containers": [{"name": "a"}]})),
            "BestEffort"
        );
        let g = json!({"containers": [{"name": "a", "resources": {
            "limits": {"cpu": "1", "memory": "1Gi"}}}]});
        assert_eq!(qos_class(&g), "Guaranteed");
        let b = json!({"containers": [{"name": "a", "resources": {
            "requests": {"cpu": "1"}}}]});
        assert_eq!(qos_class(&b), "Burstable");
    }

    #[test]
    fn engine_times() {
        assert_eq!(
            engine_time("2024-05-06T07:08:09.123456789Z").as_deref(),
            Some("2024-05-06T07:08:09Z")
        );
        assert_eq!(engine_time("0001-01-01T00:00:00Z"), None);
        assert_eq!(engine_time(""), None);
    }
}
