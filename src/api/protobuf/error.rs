//! What can go wrong decoding a protobuf body, and the `Status` a real API server answers with.

use std::fmt;

use crate::api::Status;

/// A protobuf request body k2d cannot turn into JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtobufError {
    /// The body does not start with the `k8s\0` magic.
    NotProtobuf,
    /// The `runtime.Unknown` envelope is malformed (truncated, bad varint, wrong wire type).
    Envelope(String),
    /// The envelope names no kind.
    MissingKind {
        /// `typeMeta.apiVersion`.
        api_version: String,
    },
    /// The envelope uses a `contentEncoding` or a `contentType` k2d does not decode.
    Encoding(String),
    /// No schema of the spec is this kind: k2d does not serve it.
    UnknownKind {
        /// `typeMeta.apiVersion`.
        api_version: String,
        /// `typeMeta.kind`.
        kind: String,
    },
    /// k2d serves this kind but has no protobuf message for it (a kind added to `spec/` that k8s-pb
    /// does not describe). JSON and YAML bodies still work for it.
    NoMessage {
        /// `typeMeta.apiVersion`.
        api_version: String,
        /// `typeMeta.kind`.
        kind: String,
    },
    /// The object's own bytes are malformed.
    Object {
        /// `typeMeta.apiVersion`.
        api_version: String,
        /// `typeMeta.kind`.
        kind: String,
        /// What is wrong, in the words of Go's generated unmarshallers (`unexpected EOF`,
        /// `proto: wrong wireType = 0 for field name`).
        reason: String,
    },
}

impl fmt::Display for ProtobufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtobufError::NotProtobuf => write!(
                f,
                "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
            ),
            ProtobufError::Envelope(reason) => f.write_str(reason),
            ProtobufError::MissingKind { api_version } => write!(
                f,
                "Object 'Kind' is missing in 'runtime.TypeMeta{{APIVersion:\"{api_version}\", Kind:\"\"}}'"
            ),
            ProtobufError::Encoding(what) => write!(
                f,
                "the body of the request was in an unknown format ({what}) - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
            ),
            ProtobufError::UnknownKind { api_version, kind } => write!(
                f,
                "no kind \"{kind}\" is registered for version \"{api_version}\" in scheme \"k2d\""
            ),
            ProtobufError::NoMessage { api_version, kind } => write!(
                f,
                "k2d has no protobuf definition of {kind} ({api_version}) - accepted media types for it include: application/json, application/yaml"
            ),
            ProtobufError::Object { reason, .. } => f.write_str(reason),
        }
    }
}

impl std::error::Error for ProtobufError {}

/// Go's `summarizeData`: the first 30 bytes of a body, as text when it looks like JSON and in hex
/// otherwise, with ` ...` when cut.
/// The head of an undecodable body as kube-apiserver quotes it in its error: `<empty>`, the
/// first 30 bytes as text when it looks like JSON, else in hex; ` ...` when cut.
pub fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let cut = body.len() > MAX;
    let head = &body[..body.len().min(MAX)];
    let mut s = if body.is_empty() {
        return "<empty>".to_string();
    } else if body[0] == b'{' {
        String::from_utf8_lossy(head).into_owned()
    } else {
        head.iter().map(|b| format!("{b:02x}")).collect()
    };
    if cut {
        s.push_str(" ...");
    }
    s
}

impl ProtobufError {
    /// The HTTP code: 415 for a body k2d cannot read by design ([`ProtobufError::Encoding`],
    /// [`ProtobufError::NoMessage`]), 400 for a bad body.
    pub fn code(&self) -> u16 {
        match self {
            ProtobufError::Encoding(_) | ProtobufError::NoMessage { .. } => 415,
            _ => 400,
        }
    }

    /// The `Status` kube-apiserver would answer a create or update of an `expected_kind` object
    /// (`Deployment`) with this `body`: `Deployment in version "v1" cannot be handled as a
    /// Deployment: unexpected EOF` when the envelope named a kind, `the object provided is
    /// unrecognized (must be of type Deployment): <reason> (<first bytes in hex>)` otherwise, and
    /// 415 UnsupportedMediaType for what k2d does not decode by design.
    pub fn status(&self, expected_kind: &str, body: &[u8]) -> Status {
        match self {
            ProtobufError::Encoding(_) | ProtobufError::NoMessage { .. } => {
                Status::new(415, "UnsupportedMediaType", self.to_string())
            }
            ProtobufError::UnknownKind { api_version, kind }
            | ProtobufError::Object {
                api_version, kind, ..
            } => {
                let version = api_version.rsplit('/').next().unwrap_or(api_version);
                Status::bad_request(format!(
                    "{kind} in version \"{version}\" cannot be handled as a {expected_kind}: {self}"
                ))
            }
            _ => Status::bad_request(format!(
                "the object provided is unrecognized (must be of type {expected_kind}): {self} ({})",
                summarize(body)
            )),
        }
    }
}
