//! Kubernetes protobuf request bodies (the `k8s\0` envelope) decoded into the same JSON objects a
//! JSON body gives.
//!
//! kubectl's typed commands (`create deployment|namespace|configmap|secret|serviceaccount|job|
//! service`, `create token`, `autoscale`, `auth can-i`, `auth whoami`) and every Helm release
//! write (Secret POST and PUT, DELETE with a `DeleteOptions` body) send
//! `application/vnd.kubernetes.protobuf`, and never retry in JSON. [`decode`] turns such a body
//! into the JSON object the same Go client would have sent as JSON, so the rest of the API
//! machinery only ever sees JSON.
//!
//! # How
//!
//! No typed message is compiled in. `codegen protobuf` derives `spec/protobuf.json` from the
//! k8s-pb crate's prost bindings; `build.rs` keeps the messages the spec's schemas reach and
//! generates [`table::MESSAGES`]: per message its fields by tag, with JSON name, wire kind and a
//! few flags. [`decode`] checks the magic, reads the `runtime.Unknown` envelope
//! (`typeMeta {apiVersion, kind}`, `raw`, `contentEncoding`, `contentType`), finds the message of
//! the kind through the schemas' group-version-kinds ([`crate::generated::SCHEMAS`]; any
//! `DeleteOptions`), and walks `raw` with prost's wire-format primitives.
//!
//! # The JSON it gives
//!
//! - field JSON names, `apiVersion` and `kind` from the envelope;
//! - nested messages as objects (`{}` when empty, as Go writes a non-pointer struct), repeated
//!   fields as arrays, maps as objects, `bytes` in base64 (so `Secret.data` is what a JSON body
//!   carries); embedded Go structs (`Volume.volumeSource`, `Probe.handler`) flattened into their
//!   parent;
//! - `Time` as `2006-01-02T15:04:05Z`, `MicroTime` with microseconds, `Duration` as Go prints it
//!   (`1m30s`), `IntOrString` as a number or a string, `Quantity` as its string,
//!   `RawExtension`/`FieldsV1` as the embedded JSON, `ExtraValue`-like wrappers as arrays;
//! - zero values dropped as Go's `omitempty` drops them: a Go client writes every non-pointer
//!   scalar, so protobuf bodies are full of `""`, `0` and `false` (`generation: 0`,
//!   `stdin: false`), and a zero `Time` (`creationTimestamp`), which Go's JSON writes as `null`,
//!   is left out.
//!
//! # The one ambiguity: an explicit zero in a pointer
//!
//! `generated.proto` makes every scalar `optional`, whether the Go field is `int32` or `*int32`,
//! so k8s-pb cannot say which is which. On the wire both a non-pointer zero and an explicit zero
//! in a pointer (`kubectl create deployment --replicas=0`) are a present `0`. Dropping it is right
//! for the first and wrong for the second (an unset `replicas` defaults to 1). The decoder drops
//! present zeros except in fields flagged `KEEP_ZERO`: the hand-kept list of Go pointer scalars
//! whose zero value means something (`replicas`, `revisionHistoryLimit`, Job `backoffLimit`,
//! `automountServiceAccountToken`, `gracePeriodSeconds`, `runAsUser`, `defaultMode`, ...; in
//! codegen's `protobuf::pointers`), and the fields Go writes even when zero (no `omitempty`: their
//! schema has a zero `default`, like `containerPort` or a container's `name`). A pointer missing
//! from the list loses an explicit zero and gets the server's default instead.
//!
//! # Errors
//!
//! A malformed body, a wrong magic, an envelope without a kind or a kind k2d does not serve is a
//! 400 BadRequest worded as kube-apiserver words it ([`ProtobufError::status`]). A kind k2d serves
//! but has no protobuf message for (added to `spec/` but absent from k8s-pb), and a
//! `contentEncoding` or foreign `contentType` in the envelope, are 415 UnsupportedMediaType: the
//! media type, not the object, is what k2d cannot read, and the same object in JSON or YAML works.
//! Unknown fields are skipped, as Go's unmarshallers skip them.

mod decode;
mod error;
mod forms;
pub mod table;

#[cfg(test)]
mod tests;

pub use decode::MAGIC;
pub use error::{ProtobufError, summarize};

/// The media type of Kubernetes protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Decodes a protobuf request body (`k8s\0` + `runtime.Unknown`) into the JSON object a Go client
/// would have sent for the same object, `apiVersion` and `kind` included.
pub fn decode(body: &[u8]) -> Result<serde_json::Value, ProtobufError> {
    decode::decode_at(body, 0)
}

/// `true` when `content_type` (a `Content-Type` header value, parameters allowed) is
/// [`MEDIA_TYPE`].
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(MEDIA_TYPE))
}
