//! Repeated keys in a YAML body. Kubernetes' strict YAML decoding refuses them with go-yaml's
//! text, which names the line of the second key:
//!
//! ```text
//! yaml: unmarshal errors:
//!   line 7: key "replicas" already set in map
//! ```
//!
//! `serde_yaml_ng` keeps the last of two equal keys when it fills a `serde_json::Value` (as
//! go-yaml does when not strict), so the repeats are found here with a visitor of our own. Only
//! an error carries a position in `serde_yaml_ng`, so the visitor stops at the n-th repeat by
//! failing on it, and the walk runs once per repeat to collect them all.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The message a repeat is reported with, to tell it from a real YAML error.
const MARK: &str = "k2d: repeated key";
/// Stop after this many repeats (a body with more is broken anyway).
const MAX_REPORTED: usize = 64;

/// Every repeated key: its 1-based line and the key as Go's `%#v` prints it (`"replicas"`).
pub fn yaml_duplicate_keys(raw: &[u8]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    while found.len() < MAX_REPORTED {
        let state = RefCell::new(Scan {
            skip: found.len(),
            seen: 0,
            key: None,
        });
        let de = serde_yaml_ng::Deserializer::from_slice(raw);
        match (Node { state: &state }).deserialize(de) {
            Err(e) if e.to_string().contains(MARK) => {
                let line = e.location().map_or(0, |l| l.line());
                let key = state.borrow_mut().key.take().unwrap_or_default();
                found.push((line, key));
            }
            _ => break,
        }
    }
    found
}

/// go-yaml's strict error for the repeated keys of a body, if there are any.
pub fn yaml_strict_error(raw: &[u8]) -> Option<String> {
    let dups = yaml_duplicate_keys(raw);
    if dups.is_empty() {
        return None;
    }
    let lines: Vec<String> = dups
        .iter()
        .map(|(line, key)| format!("line {line}: key {key} already set in map"))
        .collect();
    Some(format!("yaml: unmarshal errors:\n  {}", lines.join("\n  ")))
}

struct Scan {
    /// Repeats already reported by earlier runs.
    skip: usize,
    /// Repeats met in this run.
    seen: usize,
    /// The key of the repeat this run stopped at.
    key: Option<String>,
}

#[derive(Clone, Copy)]
struct Node<'a> {
    state: &'a RefCell<Scan>,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: Vec<String> = Vec::new();
        while map
            .next_key_seed(Key {
                state: self.state,
                keys: &mut keys,
            })?
            .is_some()
        {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag x`): its content is not looked into.
        let (IgnoredAny, _variant) = data.variant::<IgnoredAny>()?;
        Ok(())
    }
}

/// Reads one key, as go-yaml would print it, and fails on the repeat this run is after.
struct Key<'a, 'k> {
    state: &'a RefCell<Scan>,
    keys: &'k mut Vec<String>,
}

impl Key<'_, '_> {
    fn check<E: de::Error>(self, printed: String) -> Result<(), E> {
        if !self.keys.contains(&printed) {
            self.keys.push(printed);
            return Ok(());
        }
        let mut s = self.state.borrow_mut();
        s.seen += 1;
        if s.seen > s.skip {
            s.key = Some(printed);
            return Err(E::custom(MARK));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let printed = super::field_error::go_quote(v);
        self.check(printed)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.check(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.check(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.check(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.check(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.check("interface {}(nil)".to_string())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // A complex key: not compared.
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeats_with_their_lines() {
        let y = b"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 1\n  replicas: 2\n  template:\n    metadata:\n      labels: {a: b, a: c}\n";
        assert_eq!(
            yaml_duplicate_keys(y),
            vec![(5, "\"replicas\"".to_string()), (8, "\"a\"".to_string())]
        );
        assert_eq!(
            yaml_strict_error(y).unwrap(),
            "yaml: unmarshal errors:\n  line 5: key \"replicas\" already set in map\n  line 8: key \"a\" already set in map"
        );
    }

    #[test]
    fn lists_of_maps_and_numeric_keys() {
        let y = b"items:\n- name: a\n  name: b\n- 1: x\n  1: y\n";
        assert_eq!(
            yaml_duplicate_keys(y),
            vec![(3, "\"name\"".to_string()), (5, "1".to_string())]
        );
    }

    #[test]
    fn no_repeats_no_error() {
        assert!(yaml_strict_error(b"a: 1\nb:\n  a: 2\n").is_none());
        assert!(yaml_strict_error(b"{\"a\":1,\"b\":{\"a\":2}}").is_none());
        assert!(yaml_strict_error(b": : bad yaml [").is_none());
    }

    #[test]
    fn json_text_is_yaml_too() {
        assert_eq!(
            yaml_duplicate_keys(br#"{"a":1,"a":2}"#),
            vec![(1, "\"a\"".to_string())]
        );
    }
}
