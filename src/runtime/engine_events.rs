//! The engine's container events, as a stream that survives engine restarts: on the end of the
//! stream k2d waits for the engine, tells the runtime to resync (what happened meanwhile is
//! read back in full), and subscribes again from where it stopped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::engine::Engine;

/// What the runtime hears from the engine.
#[derive(Debug)]
pub enum Signal {
    /// A container changed (`create`, `start`, `die`, `destroy`, ...), with its labels.
    Container {
        /// The engine id.
        id: String,
        /// The action.
        action: String,
        /// The container's labels (and the engine's other attributes: `name`, `image`, ...).
        attributes: HashMap<String, String>,
    },
    /// The stream (re)started: look at everything again.
    Resync,
}

/// Actions that change what a pod's status shows or what the runtime must do.
fn relevant(action: &str) -> bool {
    matches!(
        action.split(':').next().unwrap_or(action),
        "create"
            | "start"
            | "die"
            | "destroy"
            // Podman's name for `destroy`.
            | "remove"
            | "stop"
            | "kill"
            | "oom"
            | "pause"
            | "unpause"
            | "rename"
            | "restart"
            | "health_status"
    )
}

/// Runs the event stream until `tx` is closed.
pub fn start(engine: Arc<Engine>, tx: mpsc::UnboundedSender<Signal>) {
    tokio::spawn(async move {
        let mut since = unix_now();
        loop {
            engine.wait_ready(Duration::from_secs(5)).await;
            let opts = EventsOptions {
                since: Some(since.to_string()),
                until: None,
                filters: Some(HashMap::from([(
                    "type".to_string(),
                    vec!["container".to_string()],
                )])),
            };
            let mut stream = engine.docker().events(Some(opts));
            if tx.send(Signal::Resync).is_err() {
                return;
            }
            while let Some(item) = stream.next().await {
                match item {
                    Ok(ev) => {
                        if let Some(t) = ev.time {
                            since = since.max(t);
                        }
                        let action = ev.action.unwrap_or_default();
                        if !relevant(&action) {
                            continue;
                        }
                        let actor = ev.actor.unwrap_or_default();
                        let signal = Signal::Container {
                            id: actor.id.unwrap_or_default(),
                            action,
                            attributes: actor.attributes.unwrap_or_default(),
                        };
                        if tx.send(signal).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!("the engine's event stream ended: {e}");
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevant_actions() {
        assert!(relevant("die"));
        assert!(relevant("remove"), "Podman's destroy");
        assert!(relevant("health_status: healthy"));
        assert!(!relevant("exec_start: sh"));
        assert!(!relevant("attach"));
    }
}
