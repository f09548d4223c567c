//! `pods/exec` and `pods/attach`: a command started in a pod's container with the engine's exec
//! API, or the container's own stdio with its attach API, streamed both ways over the channel
//! protocol. Stdin is written by its own task so a command that fills stdout while it still
//! reads stdin (`cat`) never waits on k2d.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecResults};
use bollard::query_parameters::{AttachContainerOptions, ResizeContainerTTYOptions};
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::channels::{self, Input, Output};
use super::{StreamOptions, Transport};
use crate::api::objects::read_existing;
use crate::api::{ApiRequest, ApiResult, Status};
use crate::engine::Engine;
use crate::runtime::logs;

/// The WebSocket subprotocols of exec and attach, preferred first.
const WS_PROTOCOLS: &[&str] = &[channels::V5, channels::V4];
/// The SPDY stream protocols of exec and attach.
const SPDY_PROTOCOLS: &[&str] = &[channels::V4];

/// What is being streamed.
enum Target {
    /// A new process.
    Exec(Vec<String>),
    /// The container's main process.
    Attach,
}

/// The engine container a request streams to: the pod's container, running.
async fn running_container(req: &ApiRequest) -> Result<(Arc<Engine>, String), Status> {
    let pod = read_existing(&req.ctx, req)?;
    let pod_name = req.name.clone().unwrap_or_default();
    let container = logs::container_name(req, &pod)?;
    if matches!(phase(&pod), "Succeeded" | "Failed") {
        return Err(Status::bad_request(format!(
            "cannot exec into a container in a completed pod; current phase is {}",
            phase(&pod)
        )));
    }
    let Some(engine) = req.ctx.engine.clone() else {
        return Err(Status::bad_request(format!(
            "container \"{container}\" in pod \"{pod_name}\" is not running: k2d runs without a container engine"
        )));
    };
    let id = logs::container_id(&engine, &pod, &pod_name, &container, false).await?;
    let running = engine
        .inspect_container(&id)
        .await
        .map_err(|e| crate::engine::status(&e))?
        .state
        .and_then(|s| s.running)
        .unwrap_or(false);
    if !running {
        return Err(Status::bad_request(format!(
            "container \"{container}\" in pod \"{pod_name}\" is not running"
        )));
    }
    Ok((engine, id))
}

fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Answers `pods/exec` (GET with a WebSocket, POST with SPDY).
pub async fn serve_exec(req: ApiRequest) -> ApiResult {
    let command: Vec<String> = req.query.all("command").map(str::to_string).collect();
    if command.is_empty() {
        return Err(Status::bad_request("you must specify at least 1 command"));
    }
    serve(req, Target::Exec(command)).await
}

/// Answers `pods/attach`.
pub async fn serve_attach(req: ApiRequest) -> ApiResult {
    serve(req, Target::Attach).await
}

async fn serve(mut req: ApiRequest, target: Target) -> ApiResult {
    let opts = StreamOptions::from_request(&req)?;
    let (engine, id) = running_container(&req).await?;
    let transport = super::negotiate(&req.headers, WS_PROTOCOLS, SPDY_PROTOCOLS)?;
    let upgrade = super::take_upgrade(&mut req)?;
    let reply = super::switching(&transport);
    tokio::spawn(run(engine, id, target, opts, transport, upgrade));
    Ok(reply)
}

type EngineOutput = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type EngineInput = Pin<Box<dyn AsyncWrite + Send>>;

async fn run(
    engine: Arc<Engine>,
    id: String,
    target: Target,
    opts: StreamOptions,
    transport: Transport,
    upgrade: hyper::upgrade::OnUpgrade,
) {
    let Some((input, output)) = super::remote_command(transport, upgrade, opts).await else {
        return;
    };
    let docker = engine.docker();
    let started: Result<(Option<String>, EngineOutput, EngineInput), bollard::errors::Error> =
        async {
            match &target {
                Target::Exec(cmd) => {
                    let created = docker
                        .create_exec(
                            &id,
                            CreateExecOptions {
                                cmd: Some(cmd.clone()),
                                attach_stdin: Some(opts.stdin),
                                attach_stdout: Some(opts.stdout),
                                attach_stderr: Some(opts.stderr),
                                tty: Some(opts.tty),
                                ..Default::default()
                            },
                        )
                        .await?;
                    match docker.start_exec(&created.id, None).await? {
                        StartExecResults::Attached { output, input } => {
                            Ok((Some(created.id), output, input))
                        }
                        StartExecResults::Detached => Err(bollard::errors::Error::IOError {
                            err: std::io::Error::other("the engine started the exec detached"),
                        }),
                    }
                }
                Target::Attach => {
                    let r = docker
                        .attach_container(
                            &id,
                            Some(AttachContainerOptions {
                                stdin: opts.stdin,
                                stdout: opts.stdout,
                                stderr: opts.stderr,
                                stream: true,
                                logs: false,
                                ..Default::default()
                            }),
                        )
                        .await?;
                    Ok((None, r.output, r.input))
                }
            }
        }
        .await;
    let (exec_id, out, stdin) = match started {
        Ok(s) => s,
        Err(e) => {
            let _ = output
                .send(Output::Status(channels::failure(
                    crate::engine::status(&e).message,
                )))
                .await;
            return;
        }
    };
    let resize_target = (engine.clone(), id.clone(), exec_id.clone());
    let (gone_tx, mut gone) = tokio::sync::oneshot::channel::<()>();
    let writer = tokio::spawn(write_stdin(
        input,
        stdin,
        opts.stdin,
        resize_target,
        gone_tx,
    ));
    let outcome = copy_output(out, &output, &mut gone).await;
    writer.abort();
    let status = match (outcome, &exec_id) {
        (Copied::ClientGone, _) => return,
        (Copied::Done, Some(exec_id)) => exit_status(&engine, exec_id).await,
        (Copied::Done, None) => channels::exit_status(0),
    };
    let _ = output.send(Output::Status(status)).await;
}

enum Copied {
    /// The engine's output ended.
    Done,
    /// The client went away first.
    ClientGone,
}

async fn copy_output(
    mut out: EngineOutput,
    output: &mpsc::Sender<Output>,
    gone: &mut tokio::sync::oneshot::Receiver<()>,
) -> Copied {
    loop {
        let item = tokio::select! {
            item = out.next() => item,
            _ = &mut *gone => return Copied::ClientGone,
        };
        let msg = match item {
            Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => {
                Output::Stdout(message)
            }
            Some(Ok(LogOutput::StdErr { message })) => Output::Stderr(message),
            Some(Ok(LogOutput::StdIn { .. })) => continue,
            Some(Err(e)) => {
                tracing::debug!("exec/attach output ended: {e}");
                return Copied::Done;
            }
            None => return Copied::Done,
        };
        if output.send(msg).await.is_err() {
            return Copied::ClientGone;
        }
    }
}

async fn write_stdin(
    mut input: mpsc::Receiver<Input>,
    mut stdin: EngineInput,
    enabled: bool,
    (engine, id, exec_id): (Arc<Engine>, String, Option<String>),
    gone: tokio::sync::oneshot::Sender<()>,
) {
    let mut open = enabled;
    while let Some(i) = input.recv().await {
        match i {
            Input::Stdin(b) if open && stdin.write_all(&b).await.is_err() => {
                open = false;
            }
            Input::StdinEnd if open => {
                let _ = stdin.shutdown().await;
                open = false;
            }
            Input::Resize { width, height } => {
                let docker = engine.docker();
                let (w, h) = (width, height);
                let r = match &exec_id {
                    Some(e) => {
                        docker
                            .resize_exec(
                                e,
                                ResizeExecOptions {
                                    height: h,
                                    width: w,
                                },
                            )
                            .await
                    }
                    None => {
                        docker
                            .resize_container_tty(
                                &id,
                                ResizeContainerTTYOptions {
                                    h: h as i32,
                                    w: w as i32,
                                },
                            )
                            .await
                    }
                };
                if let Err(e) = r {
                    tracing::debug!("terminal resize: {e}");
                }
            }
            _ => {}
        }
    }
    let _ = gone.send(());
}

/// The final Status of an exec: its exit code, once the engine has it.
async fn exit_status(engine: &Engine, exec_id: &str) -> Value {
    for _ in 0..50 {
        match engine.docker().inspect_exec(exec_id).await {
            Ok(i) if i.running != Some(true) => {
                return match i.exit_code {
                    Some(code) => channels::exit_status(code),
                    None => channels::failure("the command ended without an exit code"),
                };
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => return channels::failure(crate::engine::status(&e).message),
        }
    }
    channels::failure("the command's output ended but it is still running")
}
