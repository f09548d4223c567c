//! A probe as the container's spec declares it, with the API's defaults, and the kubelet's
//! counting of consecutive results into a verdict.

use std::time::Duration;

use serde_json::Value;

/// What a probe does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Runs a command in the container; exit code 0 is success.
    Exec(Vec<String>),
    /// An HTTP GET; a status from 200 to 399 is success.
    Http {
        /// `host`, empty for the pod's IP.
        host: String,
        /// The port number or name.
        port: Value,
        /// The request path.
        path: String,
        /// `HTTP` or `HTTPS`.
        scheme: String,
        /// Extra request headers.
        headers: Vec<(String, String)>,
    },
    /// A TCP connection; established is success.
    Tcp {
        /// `host`, empty for the pod's IP.
        host: String,
        /// The port number or name.
        port: Value,
    },
    /// A gRPC health check (not supported: always a failure, saying so).
    Grpc {
        /// The port.
        port: i64,
    },
}

/// A probe with its timing and thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// What it does.
    pub action: Action,
    /// `initialDelaySeconds`, counted from the start of the probes.
    pub initial_delay: Duration,
    /// `periodSeconds`.
    pub period: Duration,
    /// `timeoutSeconds`.
    pub timeout: Duration,
    /// `successThreshold`.
    pub success_threshold: u32,
    /// `failureThreshold`.
    pub failure_threshold: u32,
}

impl Config {
    /// Reads a probe (`livenessProbe`, ... of a container); `Err` when it declares no action.
    pub fn parse(probe: &Value) -> Result<Config, String> {
        let secs = |k: &str, default: u64, min: u64| {
            Duration::from_secs(
                probe
                    .get(k)
                    .and_then(Value::as_u64)
                    .unwrap_or(default)
                    .max(min),
            )
        };
        let count = |k: &str, default: u64| {
            probe
                .get(k)
                .and_then(Value::as_u64)
                .unwrap_or(default)
                .clamp(1, u64::from(u32::MAX)) as u32
        };
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let action = if let Some(e) = probe.get("exec") {
            let cmd = e
                .get("command")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .map(|a| a.as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            Action::Exec(cmd)
        } else if let Some(h) = probe.get("httpGet") {
            let headers = h
                .get("httpHeaders")
                .and_then(Value::as_array)
                .map(|hs| {
                    hs.iter()
                        .map(|x| (text(x, "name"), text(x, "value")))
                        .collect()
                })
                .unwrap_or_default();
            let path = text(h, "path");
            Action::Http {
                host: text(h, "host"),
                port: h.get("port").cloned().unwrap_or(Value::Null),
                path: if path.is_empty() { "/".into() } else { path },
                scheme: h
                    .get("scheme")
                    .and_then(Value::as_str)
                    .unwrap_or("HTTP")
                    .to_string(),
                headers,
            }
        } else if let Some(t) = probe.get("tcpSocket") {
            Action::Tcp {
                host: text(t, "host"),
                port: t.get("port").cloned().unwrap_or(Value::Null),
            }
        } else if let Some(g) = probe.get("grpc") {
            Action::Grpc {
                port: g.get("port").and_then(Value::as_i64).unwrap_or(0),
            }
        } else {
            return Err("the probe declares no action (exec, httpGet, tcpSocket or grpc)".into());
        };
        Ok(Config {
            action,
            initial_delay: secs("initialDelaySeconds", 0, 0),
            period: secs("periodSeconds", 10, 1),
            timeout: secs("timeoutSeconds", 1, 1),
            success_threshold: count("successThreshold", 1),
            failure_threshold: count("failureThreshold", 3),
        })
    }
}

/// The port a probe names: a number, or the name of one of the container's ports.
pub fn resolve_port(port: &Value, container: &Value) -> Result<u16, String> {
    match port {
        Value::Number(n) => n
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("invalid port {n}")),
        Value::String(name) => {
            if let Ok(n) = name.parse::<u16>() {
                return Ok(n);
            }
            container
                .get("ports")
                .and_then(Value::as_array)
                .and_then(|ps| {
                    ps.iter()
                        .find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
                })
                .and_then(|p| p.get("containerPort").and_then(Value::as_u64))
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| format!("couldn't find port {name:?} in the container's ports"))
        }
        other => Err(format!("invalid port {other}")),
    }
}

/// Consecutive results counted into a verdict, as the kubelet counts them.
#[derive(Debug)]
pub struct Tracker {
    verdict: Option<bool>,
    successes: u32,
    failures: u32,
    success_threshold: u32,
    failure_threshold: u32,
}

impl Tracker {
    /// Starts from `initial` (readiness: failure, liveness: success, startup: none).
    pub fn new(initial: Option<bool>, config: &Config) -> Tracker {
        Tracker {
            verdict: initial,
            successes: 0,
            failures: 0,
            success_threshold: config.success_threshold,
            failure_threshold: config.failure_threshold,
        }
    }

    /// Counts one result; returns the new verdict when it changed.
    pub fn observe(&mut self, success: bool) -> Option<bool> {
        let reached = if success {
            self.successes += 1;
            self.failures = 0;
            self.successes >= self.success_threshold
        } else {
            self.failures += 1;
            self.successes = 0;
            self.failures >= self.failure_threshold
        };
        if reached && self.verdict != Some(success) {
            self.verdict = Some(success);
            return Some(success);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_actions() {
        let c = Config::parse(&json!({"httpGet": {"port": "http"}})).unwrap();
        assert_eq!(
            c.action,
            Action::Http {
                host: String::new(),
                port: json!("http"),
                path: "/".into(),
                scheme: "HTTP".into(),
                headers: vec![]
            }
        );
        assert_eq!(c.period, Duration::from_secs(10));
        assert_eq!(c.timeout, Duration::from_secs(1));
        assert_eq!((c.success_threshold, c.failure_threshold), (1, 3));
        let c = Config::parse(&json!({"exec": {"command": ["cat", "/ready"]},
            "initialDelaySeconds": 5, "periodSeconds": 2, "timeoutSeconds": 3,
            "successThreshold": 2, "failureThreshold": 4}))
        .unwrap();
        assert_eq!(c.action, Action::Exec(vec!["cat".into(), "/ready".into()]));
        assert_eq!(c.initial_delay, Duration::from_secs(5));
        assert_eq!(
            (c.period, c.timeout),
            (Duration::from_secs(2), Duration::from_secs(3))
        );
        assert_eq!((c.success_threshold, c.failure_threshold), (2, 4));
        let c = Config::parse(
            &json!({"httpGet": {"port": 8443, "path": "/healthz", "scheme": "HTTPS",
            "host": "127.0.0.1", "httpHeaders": [{"name": "X-Probe", "value": "1"}]}}),
        )
        .unwrap();
        let Action::Http {
            scheme,
            headers,
            host,
            ..
        } = c.action
        else {
            panic!()
        };
        assert_eq!((scheme.as_str(), host.as_str()), ("HTTPS", "127.0.0.1"));
        assert_eq!(headers, vec![("X-Probe".to_string(), "1".to_string())]);
        assert!(matches!(
            Config::parse(&json!({"tcpSocket": {"port": 5432}}))
                .unwrap()
                .action,
            Action::Tcp { .. }
        ));
        assert_eq!(
            Config::parse(&json!({"grpc": {"port": 9000}}))
                .unwrap()
                .action,
            Action::Grpc { port: 9000 }
        );
        assert!(Config::parse(&json!({"periodSeconds": 1})).is_err());
    }

    #[test]
    fn ports_by_number_and_name() {
        let c =
            json!({"ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 9090}]});
        assert_eq!(resolve_port(&json!(80), &c), Ok(80));
        assert_eq!(resolve_port(&json!("http"), &c), Ok(8080));
        assert_eq!(resolve_port(&json!("8081"), &c), Ok(8081));
        assert!(
            resolve_port(&json!("metrics"), &c)
                .unwrap_err()
                .contains("\"metrics\"")
        );
        assert!(resolve_port(&json!(0), &c).is_err());
        assert!(resolve_port(&json!(70000), &c).is_err());
    }

    fn config(success: u32, failure: u32) -> Config {
        let mut c = Config::parse(&json!({"tcpSocket": {"port": 1}})).unwrap();
        c.success_threshold = success;
        c.failure_threshold = failure;
        c
    }

    #[test]
    fn readiness_changes_only_at_thresholds() {
        let mut t = Tracker::new(Some(false), &config(2, 3));
        assert_eq!(t.observe(false), None, "already not ready");
        assert_eq!(t.observe(true), None);
        assert_eq!(t.observe(true), Some(true));
        assert_eq!(t.observe(true), None);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(true), None, "a success resets the failures");
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(false), Some(false));
        assert_eq!(t.observe(false), None);
    }

    #[test]
    fn liveness_starts_alive_and_startup_undecided() {
        let mut t = Tracker::new(Some(true), &config(1, 2));
        assert_eq!(t.observe(true), None);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.observe(false), Some(false));
        let mut s = Tracker::new(None, &config(1, 2));
        assert_eq!(s.observe(false), None);
        assert_eq!(s.observe(false), Some(false));
        assert_eq!(s.observe(true), Some(true));
        let mut s = Tracker::new(None, &config(1, 3));
        assert_eq!(s.observe(true), Some(true));
    }
}
