//! `metadata.generateName`: the name Kubernetes makes from a prefix.
//!
//! kube-apiserver keeps at most 58 characters of the prefix and appends 5 random characters from
//! `bcdfghjklmnpqrstvwxz2456789` (no vowels, so no words; no `0`, `1`, `3` that read as letters).
//! The result must then pass the kind's name rule like any name.

use ring::rand::{SecureRandom, SystemRandom};

/// The alphabet of the random suffix.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Length of the random suffix.
pub const RANDOM_LEN: usize = 5;
/// Longest prefix kept: 63 minus the suffix.
pub const MAX_PREFIX_LEN: usize = 63 - RANDOM_LEN;

/// `prefix` (cut to 58 bytes) followed by 5 random characters.
pub fn generate_name(prefix: &str) -> String {
    let mut cut = prefix.len().min(MAX_PREFIX_LEN);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut name = String::with_capacity(cut + RANDOM_LEN);
    name.push_str(&prefix[..cut]);
    name.push_str(&random_suffix());
    name
}

/// Five characters drawn uniformly from [`ALPHABET`] (rejection sampling, no modulo bias).
fn random_suffix() -> String {
    let rng = SystemRandom::new();
    // 27 * 9 = 243: bytes at or above are redrawn so that every letter is equally likely.
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = String::with_capacity(RANDOM_LEN);
    let mut buf = [0u8; 16];
    while out.len() < RANDOM_LEN {
        rng.fill(&mut buf).expect("the system random source works");
        for &b in &buf {
            if b < limit && out.len() < RANDOM_LEN {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validation::names::{NameRule, validate_name};

    #[test]
    fn appends_five_characters_of_the_alphabet() {
        let n = generate_name("web-");
        assert_eq!(n.len(), 9);
        assert!(n.starts_with("web-"));
        assert!(n[4..].bytes().all(|b| ALPHABET.contains(&b)));
        assert!(validate_name(NameRule::Subdomain, &n).is_ok());
    }

    #[test]
    fn long_prefixes_are_cut_to_58() {
        let n = generate_name(&"a".repeat(80));
        assert_eq!(n.len(), 63);
        assert!(validate_name(NameRule::Label, &n).is_ok());
    }

    #[test]
    fn two_names_differ() {
        assert_ne!(generate_name("x-"), generate_name("x-"));
    }
}
