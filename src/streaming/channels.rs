//! The remote-command channel protocol (`v4.channel.k8s.io`, `v5.channel.k8s.io`) of exec and
//! attach: what the client sends (stdin, end of stdin, terminal size) and what the server sends
//! (stdout, stderr, the final Status), independent of the transport that carries it (WebSocket
//! frames with a leading channel byte, or SPDY streams).

use bytes::Bytes;
use serde_json::{Value, json};

/// Channel of stdin.
pub const STDIN: u8 = 0;
/// Channel of stdout.
pub const STDOUT: u8 = 1;
/// Channel of stderr.
pub const STDERR: u8 = 2;
/// Channel of the final Status.
pub const ERROR: u8 = 3;
/// Channel of terminal resizes.
pub const RESIZE: u8 = 4;
/// The v5 close message: `[255, channel]` ends that channel.
pub const CLOSE: u8 = 255;

/// WebSocket subprotocol of version 5 (adds the close message).
pub const V5: &str = "v5.channel.k8s.io";
/// WebSocket subprotocol of version 4 (Status with exit code on the error channel).
pub const V4: &str = "v4.channel.k8s.io";

/// What the client sends.
#[derive(Debug, PartialEq)]
pub enum Input {
    /// Bytes for the command's stdin.
    Stdin(Bytes),
    /// Stdin is at its end.
    StdinEnd,
    /// The terminal has this size.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
}

/// What the server sends.
#[derive(Debug, PartialEq)]
pub enum Output {
    /// Bytes of stdout (or the terminal).
    Stdout(Bytes),
    /// Bytes of stderr.
    Stderr(Bytes),
    /// The final Status; nothing follows it.
    Status(Value),
}

/// Parses a terminal size message (`{"Width":W,"Height":H}`).
pub fn resize(data: &[u8]) -> Option<Input> {
    let v: Value = serde_json::from_slice(data).ok()?;
    let dim = |k: &str| {
        v.get(k)
            .and_then(Value::as_u64)
            .map(|n| n.min(u16::MAX as u64) as u16)
    };
    Some(Input::Resize {
        width: dim("Width")?,
        height: dim("Height")?,
    })
}

/// Decodes one WebSocket binary message of the client. `None`: nothing to act on (an unknown
/// channel, a malformed resize, a close of another channel).
pub fn decode_client(version5: bool, msg: &[u8]) -> Option<Input> {
    let (&channel, data) = msg.split_first()?;
    match channel {
        STDIN => Some(Input::Stdin(Bytes::copy_from_slice(data))),
        RESIZE => resize(data),
        CLOSE if version5 && data.first() == Some(&STDIN) => Some(Input::StdinEnd),
        _ => None,
    }
}

/// Encodes a server message as a WebSocket binary payload.
pub fn encode_server(out: &Output) -> Vec<u8> {
    let (channel, data): (u8, &[u8]) = match out {
        Output::Stdout(b) => (STDOUT, b),
        Output::Stderr(b) => (STDERR, b),
        Output::Status(v) => {
            let mut m = vec![ERROR];
            m.extend_from_slice(&serde_json::to_vec(v).expect("a Status serializes"));
            return m;
        }
    };
    let mut m = Vec::with_capacity(data.len() + 1);
    m.push(channel);
    m.extend_from_slice(data);
    m
}

/// The Status that ends a command: Success, or the exit code the client exits with.
pub fn exit_status(code: i64) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command [exit status {code}], exit code {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

/// A Failure Status for an error after the upgrade.
pub fn failure(message: impl Into<String>) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": message.into(),
        "reason": "InternalError",
        "code": 500,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages() {
        assert_eq!(
            decode_client(true, b"\x00hello"),
            Some(Input::Stdin(Bytes::from_static(b"hello")))
        );
        assert_eq!(decode_client(true, &[255, 0]), Some(Input::StdinEnd));
        assert_eq!(decode_client(false, &[255, 0]), None, "no close in v4");
        assert_eq!(decode_client(true, &[255, 1]), None);
        assert_eq!(
            decode_client(true, b"\x04{\"Width\":120,\"Height\":40}"),
            Some(Input::Resize {
                width: 120,
                height: 40
            })
        );
        assert_eq!(decode_client(true, b"\x04{\"Width\":1"), None);
        assert_eq!(decode_client(true, b""), None);
        assert_eq!(decode_client(true, b"\x07x"), None);
    }

    #[test]
    fn server_messages() {
        assert_eq!(
            encode_server(&Output::Stdout(Bytes::from_static(b"out"))),
            b"\x01out"
        );
        assert_eq!(
            encode_server(&Output::Stderr(Bytes::from_static(b"err"))),
            b"\x02err"
        );
        let status = encode_server(&Output::Status(exit_status(0)));
        assert_eq!(status[0], ERROR);
        let v: Value = serde_json::from_slice(&status[1..]).unwrap();
        assert_eq!(v["status"], "Success");
    }

    #[test]
    fn exit_codes_become_causes() {
        let s = exit_status(3);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(s["details"]["causes"][0]["reason"], "ExitCode");
        assert_eq!(s["details"]["causes"][0]["message"], "3");
    }
}
