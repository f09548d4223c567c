//! The OpenAPI v3 documents k2d serves under `/openapi/v3/`: each spec document without k2d's own
//! extensions, compact, with the SHA-512 hash clients use as cache key and ETag.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use super::model::Api;

/// One served document.
pub struct ServedDoc {
    /// `api/v1`, `apis/apps/v1`, ...
    pub path: String,
    /// The bytes served.
    pub bytes: Vec<u8>,
    /// Upper-case hex SHA-512 of `bytes`.
    pub hash: String,
}

/// The bytes gzip-compressed, as they are embedded in the binary and sent to clients that accept
/// gzip (every Kubernetes client does). Deterministic: no file name, no time stamp.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// Upper-case hex SHA-512, the form a real server uses in `?hash=`.
pub fn hash(bytes: &[u8]) -> String {
    Sha512::digest(bytes)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Every group-version document, in discovery order.
pub fn documents(api: &Api) -> Vec<ServedDoc> {
    api.groups
        .iter()
        .map(|gv| {
            let bytes = serde_json::to_vec(&gv.served).expect("a JSON value serializes");
            ServedDoc {
                path: gv.doc_path.clone(),
                hash: hash(&bytes),
                bytes,
            }
        })
        .collect()
}

/// The `/openapi/v3` root document listing every served document with its hash.
pub fn root(docs: &[ServedDoc]) -> Value {
    let mut paths = Map::new();
    for d in docs {
        paths.insert(
            d.path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{}?hash={}", d.path, d.hash)}),
        );
    }
    json!({"paths": paths})
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_is_128_upper_hex() {
        let h = super::hash(b"x");
        assert_eq!(h.len(), 128);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }
}
