//! The `pod-template-hash` of a Deployment's pod template: an FNV-1a 32-bit hash of the
//! template (and the Deployment's `collisionCount`), written as Kubernetes writes it: the
//! decimal digits of the hash, each mapped onto the alphabet "bcdfghjklmnpqrstvwxz2456789"
//! (no vowels, no look-alikes). The value has the format of a real cluster's, not necessarily
//! the same value (a cluster hashes Go's printing of the template, k2d its canonical JSON).

use serde_json::Value;

/// The alphabet of Kubernetes' "safe" encoding.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bits. Hand-written: the algorithm is four lines and the `fnv` crate offers only
/// the 64-bit variant.
pub fn fnv1a_32(bytes: &[u8], mut hash: u32) -> u32 {
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// FNV-1a's initial hash value.
pub const FNV_OFFSET: u32 = 0x811c_9dc5;

/// The hash of a pod template with the Deployment's collision count.
pub fn template_hash(template: &Value, collision_count: Option<u32>) -> String {
    // serde_json's maps are ordered by key, so equal templates serialize identically.
    let text = serde_json::to_vec(template).expect("a JSON value serializes");
    let mut hash = fnv1a_32(&text, FNV_OFFSET);
    if let Some(c) = collision_count {
        hash = fnv1a_32(&c.to_le_bytes(), hash);
    }
    safe_encode(&hash.to_string())
}

/// Maps each byte onto the safe alphabet (Kubernetes' `rand.SafeEncodeString`).
fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_32(b"", FNV_OFFSET), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a", FNV_OFFSET), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar", FNV_OFFSET), 0xbf9c_f968);
    }

    #[test]
    fn hashes_use_the_safe_alphabet_and_change_with_template_and_collisions() {
        let t = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "a"}]}});
        let h = template_hash(&t, None);
        assert!((1..=10).contains(&h.len()), "{h}");
        assert!(h.bytes().all(|b| SAFE_ALPHABET.contains(&b)), "{h}");
        assert_eq!(h, template_hash(&t.clone(), None));
        let mut other = t.clone();
        other["spec"]["containers"][0]["image"] = json!("b");
        assert_ne!(h, template_hash(&other, None));
        assert_ne!(h, template_hash(&t, Some(1)));
        assert_ne!(template_hash(&t, Some(1)), template_hash(&t, Some(2)));
    }

    #[test]
    fn digits_map_onto_the_alphabet() {
        // '0' is byte 48: 48 % 27 = 21 → '4'; '9' is 57 % 27 = 3 → 'f'.
        assert_eq!(safe_encode("09"), "4f");
    }
}
