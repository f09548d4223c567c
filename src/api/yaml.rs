//! YAML request bodies into JSON values, with a bound on what aliases may expand to.
//!
//! `serde_yaml_ng` bounds nesting (128 levels) and the number of alias jumps (100 per event of
//! the document), but not what the jumps produce: a 3 MiB body with one anchored list of 10,000
//! strings and 500,000 aliases to it (a "billion laughs" without the nesting) expands to five
//! billion values and takes the process's memory. Every YAML body goes through [`from_slice`]:
//! a body with an alias is first walked without building anything, counting the nodes and
//! scalar bytes it expands to, and refused when that is more than a body without aliases could
//! hold ([`MAX_EXPANDED`]).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The most a YAML document may expand to, in units of one per node plus one per scalar byte.
/// Written out without aliases, every node takes at least one byte of the body and every scalar
/// byte one more, so twice the request body limit is what the largest body k2d accepts can hold
/// without aliases: an alias may repeat content, never make the document bigger than that.
pub const MAX_EXPANDED: usize = 2 * crate::api::router::DEFAULT_BODY_LIMIT;

/// The error text of a document over [`MAX_EXPANDED`].
/// go-yaml's words for the same refusal (kube-apiserver's YAML decoder bounds aliases too).
const TOO_BIG: &str = "document contains excessive aliasing";

/// A YAML document (or JSON, which is YAML) as a JSON value; errors are `serde_yaml_ng`'s text.
pub fn from_slice(body: &[u8]) -> Result<Value, String> {
    if body.contains(&b'*') {
        check_expansion(body, MAX_EXPANDED)?;
    }
    serde_yaml_ng::from_slice(body).map_err(|e| e.to_string())
}

/// Walks the document without building it; fails once it expands beyond `budget`.
fn check_expansion(body: &[u8], budget: usize) -> Result<(), String> {
    let left = Cell::new(budget);
    let de = serde_yaml_ng::Deserializer::from_slice(body);
    match (Count { left: &left }).deserialize(de) {
        Ok(()) => Ok(()),
        // A syntax error is reported by the real decode, in its own words.
        Err(e) if e.to_string().contains(TOO_BIG) => Err(TOO_BIG.to_string()),
        Err(_) => Ok(()),
    }
}

/// A visitor that counts what a document expands to.
#[derive(Clone, Copy)]
struct Count<'a> {
    left: &'a Cell<usize>,
}

impl Count<'_> {
    fn spend<E: de::Error>(&self, units: usize) -> Result<(), E> {
        match self.left.get().checked_sub(units.saturating_add(1)) {
            Some(rest) => {
                self.left.set(rest);
                Ok(())
            }
            None => Err(E::custom(TOO_BIG)),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.spend(0)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.spend(8)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.spend(8)
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.spend(16)
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.spend(16)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.spend(8)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.spend(v.len())
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.spend(v.len())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.spend(0)
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.spend(0)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.spend(0)?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.spend(0)?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged node (`!tag value`): count the value.
        let ((), variant) = data.variant_seed(self)?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_documents_decode_as_before() {
        let v = from_slice(b"a: [1, two, {b: null}]\nc: *x\n");
        assert!(v.is_err(), "an unknown anchor is still an error: {v:?}");
        let v = from_slice(b"a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(v, serde_json::json!({"a": [1, 2], "b": [1, 2]}));
        assert_eq!(from_slice(b"{\"k\": \"*\"}").unwrap()["k"], "*");
    }

    #[test]
    fn wide_alias_bombs_are_refused() {
        let mut doc = String::from("a: &a [");
        doc.push_str(&"xxxxxxxxxx,".repeat(10_000));
        doc.push_str("]\nb: [");
        doc.push_str(&"*a,".repeat(100_000));
        doc.push_str("]\n");
        assert_eq!(from_slice(doc.as_bytes()).unwrap_err(), TOO_BIG);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{p}"); 10].join(", ")
            ));
        }
        let err = from_slice(doc.as_bytes()).unwrap_err();
        assert!(err == TOO_BIG || err.contains("repetition limit"), "{err}");
    }

    #[test]
    fn the_bound_is_what_the_body_limit_allows() {
        // A modest expansion is fine.
        let doc = "a: &a [x, y, z]\nb: [*a, *a, *a, *a]\n";
        assert!(check_expansion(doc.as_bytes(), MAX_EXPANDED).is_ok());
        assert_eq!(check_expansion(doc.as_bytes(), 10).unwrap_err(), TOO_BIG);
    }
}
