//! Kubernetes protobuf request bodies (the `k8s\0` envelope) decoded into the same JSON objects a
//! JSON body gives.

use serde_json::Value;

use super::status::Status;

/// Decodes a protobuf request body. Not yet: until the decoder lands this answers 415, which
/// clients report as "the body of the request was in an unknown format".
pub fn decode(_body: &[u8]) -> Result<Value, Status> {
    Err(super::body::unsupported_media_type(
        "application/vnd.kubernetes.protobuf",
    ))
}
