//! A container's process: `command` replaces the image's ENTRYPOINT and `args` its CMD (a
//! command without args runs with no arguments, the image's CMD dropped), both with `$(VAR)`
//! references to the container's env; `workingDir`; `stdin`, `stdinOnce` and `tty`; how it is
//! stopped (`lifecycle.stopSignal`, the pod's `terminationGracePeriodSeconds`).

use bollard::models::ContainerCreateBody;
use serde_json::Value;

use super::expand::expand_with;
use super::{flag, list_at, str_at};

/// Sets entrypoint, cmd, working directory and the stdin/tty flags.
pub fn apply(body: &mut ContainerCreateBody, container: &Value, env: &[(String, String)]) {
    let expanded = |key: &str| -> Vec<String> {
        list_at(container, key)
            .iter()
            .map(|a| expand_with(a.as_str().unwrap_or(""), env))
            .collect()
    };
    let command = expanded("command");
    let args = expanded("args");
    if !command.is_empty() {
        body.entrypoint = Some(command);
        body.cmd = Some(args);
    } else if !args.is_empty() {
        body.cmd = Some(args);
    }
    if let Some(dir) = str_at(container, "workingDir").filter(|d| !d.is_empty()) {
        body.working_dir = Some(dir.to_string());
    }
    if flag(container, "stdin") {
        body.open_stdin = Some(true);
        body.attach_stdin = Some(true);
        body.attach_stdout = Some(true);
        body.attach_stderr = Some(true);
        body.stdin_once = Some(flag(container, "stdinOnce"));
    }
    if flag(container, "tty") {
        body.tty = Some(true);
    }
}

/// Sets the stop signal (`lifecycle.stopSignal`) and the stop timeout (the pod's
/// `terminationGracePeriodSeconds`), used when the container is stopped without an explicit
/// timeout.
pub fn apply_stop(body: &mut ContainerCreateBody, pod: &Value, container: &Value) {
    if let Some(grace) = pod
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
    {
        body.stop_timeout = Some(grace.max(0));
    }
    if let Some(signal) = container
        .pointer("/lifecycle/stopSignal")
        .and_then(Value::as_str)
    {
        body.stop_signal = Some(signal.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(c: Value) -> ContainerCreateBody {
        let env = vec![("WHO".to_string(), "world".to_string())];
        let mut body = ContainerCreateBody::default();
        apply(&mut body, &c, &env);
        body
    }

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn command_replaces_entrypoint_and_clears_cmd() {
        let b = run(json!({"name": "c", "command": ["/bin/echo", "hello $(WHO)"]}));
        assert_eq!(b.entrypoint, strings(&["/bin/echo", "hello world"]));
        assert_eq!(b.cmd, Some(vec![]));
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["Cmd"], json!([]), "an empty Cmd must reach the engine");
    }

    #[test]
    fn args_replace_cmd_only() {
        let b = run(json!({"name": "c", "args": ["--greet", "$(WHO)", "$$(WHO)", "$(NOPE)"]}));
        assert_eq!(b.entrypoint, None);
        assert_eq!(b.cmd, strings(&["--greet", "world", "$(WHO)", "$(NOPE)"]));
    }

    #[test]
    fn command_and_args() {
        let b = run(
            json!({"name": "c", "command": ["sh", "-c"], "args": ["echo $(WHO)"], "workingDir": "/srv"}),
        );
        assert_eq!(b.entrypoint, strings(&["sh", "-c"]));
        assert_eq!(b.cmd, strings(&["echo world"]));
        assert_eq!(b.working_dir.as_deref(), Some("/srv"));
    }

    #[test]
    fn neither_keeps_the_image() {
        let b = run(json!({"name": "c", "command": [], "args": []}));
        assert_eq!((b.entrypoint, b.cmd, b.working_dir), (None, None, None));
        assert_eq!((b.tty, b.open_stdin), (None, None));
    }

    #[test]
    fn stop_signal_and_grace() {
        let mut b = ContainerCreateBody::default();
        let pod = json!({"spec": {"terminationGracePeriodSeconds": 45}});
        apply_stop(
            &mut b,
            &pod,
            &json!({"name": "c", "lifecycle": {"stopSignal": "SIGUSR1"}}),
        );
        assert_eq!(
            (b.stop_timeout, b.stop_signal.as_deref()),
            (Some(45), Some("SIGUSR1"))
        );
        let mut b = ContainerCreateBody::default();
        apply_stop(&mut b, &json!({"spec": {}}), &json!({"name": "c"}));
        assert_eq!((b.stop_timeout, b.stop_signal), (None, None));
    }

    #[test]
    fn stdin_and_tty() {
        let b = run(json!({"name": "c", "stdin": true, "stdinOnce": true, "tty": true}));
        assert_eq!(b.open_stdin, Some(true));
        assert_eq!(b.attach_stdin, Some(true));
        assert_eq!(b.stdin_once, Some(true));
        assert_eq!(b.tty, Some(true));
        let b = run(json!({"name": "c", "stdin": true}));
        assert_eq!(b.stdin_once, Some(false));
        assert_eq!(b.tty, None);
    }
}
