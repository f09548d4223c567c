//! `pods/log`: a container's output from the engine, with the options `kubectl logs` sends
//! (container, follow, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes, previous).
//! The engine's log stream is passed through as it arrives, never buffered whole.

use bollard::container::LogOutput;
use bollard::query_parameters::{ListContainersOptions, LogsOptions};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::Value;

use crate::api::objects::read_existing;
use crate::api::{ApiRequest, ApiResult, Reply, Status};
use crate::engine::{Engine, labels};

/// The log options of a request, checked.
#[derive(Debug, Default, PartialEq)]
pub struct LogRequest {
    /// The container's name in the pod spec (given or implied).
    pub container: String,
    /// Keep streaming.
    pub follow: bool,
    /// The previous instance of the container (after a restart).
    pub previous: bool,
    /// Only the last lines.
    pub tail_lines: Option<u64>,
    /// Only lines since this UNIX time.
    pub since: Option<i64>,
    /// Prefix every line with its RFC 3339 time.
    pub timestamps: bool,
    /// Stop after this many bytes.
    pub limit_bytes: Option<u64>,
}

fn names(pod: &Value, field: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn positive(query: &crate::api::request::Query, name: &str) -> Result<Option<u64>, Status> {
    match query.get(name) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0 || name == "tailLines")
            .map(|n| Some(n.max(0) as u64))
            .ok_or_else(|| {
                Status::new(
                    422,
                    "Invalid",
                    format!("PodLogOptions \"\" is invalid: {name}: Invalid value: {v:?}: must be a non-negative integer"),
                )
            }),
    }
}

/// The container a pod subresource request (log, exec, attach) names with `container=`, or the
/// pod's only container; 400 with the API server's messages otherwise.
pub fn container_name(req: &ApiRequest, pod: &Value) -> Result<String, Status> {
    let pod_name = req.name.as_deref().unwrap_or_default();
    let containers = names(pod, "containers");
    let inits = names(pod, "initContainers");
    let ephemeral = names(pod, "ephemeralContainers");
    match req.query.get("container").filter(|c| !c.is_empty()) {
        Some(c) => {
            if !containers
                .iter()
                .chain(&inits)
                .chain(&ephemeral)
                .any(|n| n == c)
            {
                return Err(Status::bad_request(format!(
                    "container {c} is not valid for pod {pod_name}"
                )));
            }
            Ok(c.to_string())
        }
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => {
            let mut message = format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !inits.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    inits.join(" ")
                ));
            }
            Err(Status::bad_request(message))
        }
    }
}

/// Reads and checks the options of a log request against the pod.
pub fn options(req: &ApiRequest, pod: &Value, now: i64) -> Result<LogRequest, Status> {
    let container = container_name(req, pod)?;
    let since_seconds = positive(&req.query, "sinceSeconds")?;
    let since_time = match req.query.get("sinceTime").filter(|t| !t.is_empty()) {
        Some(t) => Some(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    Status::bad_request(format!(
                        "sinceTime: Invalid value: {t:?}: must be RFC 3339"
                    ))
                })?
                .unix_timestamp(),
        ),
        None => None,
    };
    if since_seconds.is_some() && since_time.is_some() {
        return Err(Status::new(
            422,
            "Invalid",
            "PodLogOptions \"\" is invalid: sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    }
    if since_seconds == Some(0) {
        return Err(Status::new(
            422,
            "Invalid",
            "PodLogOptions \"\" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0",
        ));
    }
    let tail = match req.query.get("tailLines").filter(|t| !t.is_empty()) {
        Some(t) => match t.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n as u64),
            // kubectl sends -1 for "all lines".
            Ok(_) => None,
            Err(_) => {
                return Err(Status::bad_request(format!(
                    "tailLines: Invalid value: {t:?}: must be an integer"
                )));
            }
        },
        None => None,
    };
    Ok(LogRequest {
        container,
        follow: req.query.flag("follow"),
        previous: req.query.flag("previous"),
        tail_lines: tail,
        since: since_time.or(since_seconds.map(|s| now - s as i64)),
        timestamps: req.query.flag("timestamps"),
        limit_bytes: positive(&req.query, "limitBytes")?.filter(|n| *n > 0),
    })
}

fn attempt(c: &bollard::models::ContainerSummary) -> u64 {
    c.labels
        .as_ref()
        .and_then(|l| l.get(labels::ATTEMPT))
        .and_then(|a| a.parse().ok())
        .unwrap_or(0)
}

/// The engine container of a pod's container: the newest attempt, or the one before it
/// (`previous`).
pub async fn container_id(
    engine: &Engine,
    pod: &Value,
    pod_name: &str,
    container: &str,
    previous: bool,
) -> Result<String, Status> {
    if let Some(id) = pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(labels::FOREIGN_CONTAINER_ANNOTATION))
        .and_then(Value::as_str)
    {
        return Ok(id.to_string());
    }
    let uid = crate::api::meta::meta_str(pod, "uid").unwrap_or_default();
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![
            format!("{}={uid}", labels::POD_UID),
            format!("{}={}", labels::CONTAINER_NAME, container),
            format!("{}={}", labels::INSTANCE, engine.instance),
        ],
    )]);
    let mut found = engine
        .list_containers(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        })
        .await
        .map_err(|e| crate::engine::status(&e))?;
    found.sort_by_key(|c| std::cmp::Reverse(attempt(c)));
    let pick = if previous {
        found.get(1)
    } else {
        found.first()
    };
    match pick.and_then(|c| c.id.clone()) {
        Some(id) => Ok(id),
        None if previous => Err(Status::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
        ))),
        None => Err(Status::bad_request(format!(
            "container \"{container}\" in pod \"{pod_name}\" is waiting to start: ContainerCreating"
        ))),
    }
}

/// Answers GET pods/{name}/log.
pub async fn serve(req: &ApiRequest) -> ApiResult {
    let pod = read_existing(&req.ctx, req)?;
    let pod_name = req.name.clone().unwrap_or_default();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let want = options(req, &pod, now)?;
    let Some(engine) = req.ctx.engine.clone() else {
        return Err(Status::bad_request(format!(
            "container \"{}\" in pod \"{pod_name}\" is not running: k2d runs without a container engine",
            want.container
        )));
    };
    let id = container_id(&engine, &pod, &pod_name, &want.container, want.previous).await?;
    let opts = LogsOptions {
        follow: want.follow,
        stdout: true,
        stderr: true,
        since: want.since.map_or(0, |s| s.clamp(0, i32::MAX as i64) as i32),
        until: 0,
        timestamps: want.timestamps,
        tail: want
            .tail_lines
            .map_or_else(|| "all".to_string(), |n| n.to_string()),
    };
    let mut logs = engine.docker().logs(&id, Some(opts));
    // The first item tells whether the engine accepted the request; errors after that end the
    // stream.
    let first = match logs.next().await {
        None => None,
        Some(Ok(out)) => Some(out),
        Some(Err(e)) => return Err(crate::engine::status(&e)),
    };
    let mut left = want.limit_bytes.unwrap_or(u64::MAX);
    let chunks = stream::iter(first.map(Ok))
        .chain(logs)
        .take_while(|r| std::future::ready(r.is_ok()))
        .filter_map(|r| std::future::ready(r.ok().map(output_bytes)))
        .map(move |mut b: Bytes| {
            if (b.len() as u64) > left {
                b.truncate(left as usize);
            }
            left -= b.len() as u64;
            (b, left)
        })
        .take_while(|(b, _)| std::future::ready(!b.is_empty()))
        .map(|(b, _)| Ok::<_, std::io::Error>(Frame::data(b)));
    let body = StreamBody::new(chunks).boxed_unsync();
    Ok(Reply::body(
        StatusCode::OK,
        HeaderValue::from_static("text/plain"),
        body,
    ))
}

fn output_bytes(out: LogOutput) -> Bytes {
    match out {
        LogOutput::StdOut { message }
        | LogOutput::StdErr { message }
        | LogOutput::Console { message }
        | LogOutput::StdIn { message } => message,
    }
}
