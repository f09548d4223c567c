//! How an object is stored: 8 bytes of big-endian revision (its
//! resourceVersion, readable without parsing), then its JSON.

use serde_json::Value;

use super::error::StoreError;

/// Sets `metadata.resourceVersion` (a string, as in Kubernetes) to `revision`.
pub(crate) fn set_resource_version(obj: &mut Value, revision: u64) -> Result<(), StoreError> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| StoreError::Invalid("an object must be a JSON object".into()))?;
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let metadata = metadata
        .as_object_mut()
        .ok_or_else(|| StoreError::Invalid("metadata must be a JSON object".into()))?;
    metadata.insert(
        "resourceVersion".to_owned(),
        Value::String(revision.to_string()),
    );
    Ok(())
}

/// The stored bytes of `obj` at `revision`.
pub(crate) fn encode(revision: u64, obj: &Value) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::with_capacity(512);
    bytes.extend_from_slice(&revision.to_be_bytes());
    serde_json::to_writer(&mut bytes, obj)
        .map_err(|e| StoreError::Invalid(format!("cannot serialize the object: {e}")))?;
    Ok(bytes)
}

/// The revision of stored bytes.
pub(crate) fn revision(bytes: &[u8]) -> Result<u64, StoreError> {
    let head: [u8; 8] = bytes
        .get(..8)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| StoreError::Storage("a stored value is truncated".into()))?;
    Ok(u64::from_be_bytes(head))
}

/// The revision and the object of stored bytes.
pub(crate) fn decode(bytes: &[u8]) -> Result<(u64, Value), StoreError> {
    let revision = revision(bytes)?;
    let obj = serde_json::from_slice(&bytes[8..])
        .map_err(|e| StoreError::Storage(format!("a stored object is not valid JSON: {e}")))?;
    Ok((revision, obj))
}

/// The object of stored bytes decoded as `T` (a projection of its fields).
pub(crate) fn decode_as<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    revision(bytes)?;
    serde_json::from_slice(&bytes[8..])
        .map_err(|e| StoreError::Storage(format!("a stored object does not decode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_with_the_revision_stamped() {
        let mut obj = json!({"kind": "ConfigMap"});
        set_resource_version(&mut obj, 42).unwrap();
        assert_eq!(obj["metadata"]["resourceVersion"], "42");
        let bytes = encode(42, &obj).unwrap();
        assert_eq!(revision(&bytes).unwrap(), 42);
        assert_eq!(decode(&bytes).unwrap(), (42, obj));
        assert!(revision(&bytes[..4]).is_err());
    }
}
