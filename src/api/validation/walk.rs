//! One pass over a request body, driven by the schema model, that finds what kube-apiserver's
//! decoder finds: the first value of the wrong JSON type, unknown fields and repeated keys.
//!
//! Why a serde `DeserializeSeed` and not a walk over `serde_json::Value`: a `Value` keeps only the
//! last of two equal keys (`{"a":1,"a":2}` parses as `{"a":2}`, as Go's decoder would), so
//! duplicates are gone by the time anything sees the parsed object; and its maps are sorted, so
//! reports would not follow the order of the body. Visiting the raw body with the schema at hand
//! sees every key, in order, while serde still does the lexing. The same seed walks a `&Value`
//! (patched objects, YAML bodies) when there are no raw bytes.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::api::model::Ty;
use crate::generated::SCHEMAS;

/// What a value is expected to be.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Node {
    /// An object of the schema at this index of `SCHEMAS`.
    Object(usize),
    /// A value of this type.
    Ty(&'static Ty),
    /// Maps and lists of anything: only repeated keys are reported (a merge patch body).
    Untyped,
    /// A JSON patch: a list of `{op, path, from, value}`.
    JsonPatch,
}

/// One step of a path.
#[derive(Clone, Debug)]
pub(crate) enum Seg {
    /// A field of an object.
    Field(String),
    /// A key of a map.
    Key(String),
    /// An index of a list.
    Index(usize),
}

/// Formats a path as Kubernetes' strict decoder does: `spec.containers[0].name`, map keys as
/// fields.
pub(crate) fn strict_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Field(n) | Seg::Key(n) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(n);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Where a value lands in the Go types, for the wording of a type error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The top-level object of this schema.
    Root(usize),
    /// The field of this schema, `depth` lists or maps deep (0: the field itself).
    Field {
        /// Index of the schema that has the field.
        schema: usize,
        /// JSON name of the field.
        field: &'static str,
        /// How many list elements or map values down from the field.
        depth: usize,
    },
    /// Nowhere that matters (untyped walks).
    None,
}

impl Target {
    fn deeper(self) -> Self {
        match self {
            Target::Field {
                schema,
                field,
                depth,
            } => Target::Field {
                schema,
                field,
                depth: depth + 1,
            },
            other => other,
        }
    }
}

/// The JSON type of a value in a type error, as Go names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// A string.
    String,
    /// A number; with its text when it does not fit the integer expected (`number 1.5`).
    Number(Option<String>),
    /// `true` or `false`.
    Bool,
    /// An object.
    Object,
    /// A list.
    Array,
    /// A string that is not valid base64 where bytes are expected: the offset of the bad byte.
    Base64(usize),
}

/// The first value of the wrong type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TypeMismatch {
    /// What the body had.
    pub found: Found,
    /// The schema of the innermost object around the value (Go's "struct"), if any.
    pub in_struct: Option<usize>,
    /// The JSON field names from the top, without list indices or map keys.
    pub go_path: String,
    /// Where the value lands.
    pub target: Target,
    /// The expected type is int-or-string (its errors carry no context).
    pub int_or_string: bool,
}

/// A strict-decoding problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// A field the schema does not declare.
    Unknown(String),
    /// A key that appears twice in one object.
    Duplicate(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unknown(p) => write!(f, "unknown field \"{p}\""),
            Problem::Duplicate(p) => write!(f, "duplicate field \"{p}\""),
        }
    }
}

/// Everything one walk found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// The first value of the wrong type.
    pub mismatch: Option<TypeMismatch>,
    /// Unknown and duplicate fields, in the order met.
    pub problems: Vec<Problem>,
}

struct State {
    path: Vec<Seg>,
    go_path: Vec<&'static str>,
    found: Findings,
    /// Whether an integer target is an `int32` (looked up once per target, only for numbers
    /// that do not fit one).
    int32: Vec<(Target, bool)>,
}

/// Walks raw JSON bytes. Malformed JSON stops the walk; what was found so far is returned.
pub(crate) fn walk_json(raw: &[u8], node: Node, target: Target) -> Findings {
    let mut state = State {
        path: Vec::new(),
        go_path: Vec::new(),
        found: Findings::default(),
        int32: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_slice(raw);
    let _ = Walk {
        node,
        target,
        in_struct: None,
        state: &mut state,
    }
    .deserialize(&mut de);
    state.found
}

/// Walks a parsed value.
pub(crate) fn walk_value(value: &serde_json::Value, node: Node, target: Target) -> Findings {
    let mut state = State {
        path: Vec::new(),
        go_path: Vec::new(),
        found: Findings::default(),
        int32: Vec::new(),
    };
    let _ = Walk {
        node,
        target,
        in_struct: None,
        state: &mut state,
    }
    .deserialize(value);
    state.found
}

/// The fields of a JSON patch operation.
const JSON_PATCH_FIELDS: &[&str] = &["op", "path", "from", "value"];

/// The `(schema, field)` pairs whose map values are base64 bytes (`format: byte` in the spec).
const BYTE_MAPS: &[(&str, &str)] = &[
    ("io.k8s.api.core.v1.Secret", "data"),
    ("io.k8s.api.core.v1.ConfigMap", "binaryData"),
];

struct Walk<'s> {
    node: Node,
    target: Target,
    in_struct: Option<usize>,
    state: &'s mut State,
}

impl Walk<'_> {
    fn child<'c>(&'c mut self, node: Node, target: Target, in_struct: Option<usize>) -> Walk<'c> {
        Walk {
            node,
            target,
            in_struct,
            state: self.state,
        }
    }

    fn mismatch(&mut self, found: Found) {
        if self.state.found.mismatch.is_some() {
            return;
        }
        self.state.found.mismatch = Some(TypeMismatch {
            found,
            in_struct: self.in_struct,
            go_path: self.state.go_path.join("."),
            target: self.target,
            int_or_string: matches!(self.node, Node::Ty(Ty::IntOrString)),
        });
    }

    fn problem(&mut self, make: fn(String) -> Problem, last: Seg) {
        self.state.path.push(last);
        let p = strict_path(&self.state.path);
        self.state.path.pop();
        self.state.found.problems.push(make(p));
    }

    /// The type expected here, with named objects resolved.
    fn ty(&self) -> Option<&'static Ty> {
        match self.node {
            Node::Ty(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the integer expected here is a Go `int32` (the model only says "integer").
    fn is_int32(&mut self) -> bool {
        let target = self.target;
        if let Some((_, yes)) = self.state.int32.iter().find(|(t, _)| *t == target) {
            return *yes;
        }
        let yes = super::go_types::go_type(target) == "int32";
        self.state.int32.push((target, yes));
        yes
    }

    /// An integer for an integer field: Go refuses one that overflows the field's type.
    fn integer(&mut self, fits_i32: bool, text: impl FnOnce() -> String) {
        if !fits_i32 && self.is_int32() {
            self.mismatch(Found::Number(Some(text())));
        }
    }

    fn expects_bytes(&self) -> bool {
        match self.target {
            Target::Field {
                schema,
                field,
                depth: 1,
            } => BYTE_MAPS
                .iter()
                .any(|(s, f)| SCHEMAS[schema].name == *s && field == *f),
            _ => false,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if matches!(self.node, Node::Ty(Ty::Any)) {
            d.deserialize_ignored_any(IgnoredAny)?;
            return Ok(());
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let schema = match (self.node, self.ty()) {
            (Node::Object(i), _) => Some(i),
            (_, Some(Ty::Object(i))) => Some(*i),
            _ => None,
        };
        let map_of = match self.ty() {
            Some(Ty::Map(t)) => Some(*t),
            _ => None,
        };
        let untyped = matches!(self.node, Node::Untyped);
        let json_patch_op = matches!(self.node, Node::JsonPatch) && !self.state.path.is_empty();
        if schema.is_none() && map_of.is_none() && !untyped && !json_patch_op {
            self.mismatch(Found::Object);
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(i) = schema {
                let Some(field) = SCHEMAS[i].field(&key) else {
                    self.problem(Problem::Unknown, Seg::Field(key));
                    map.next_value::<IgnoredAny>()?;
                    continue;
                };
                if seen.contains(&key) {
                    self.problem(Problem::Duplicate, Seg::Field(key.clone()));
                } else {
                    seen.push(key.clone());
                }
                self.state.path.push(Seg::Field(key));
                self.state.go_path.push(field.name);
                let target = Target::Field {
                    schema: i,
                    field: field.name,
                    depth: 0,
                };
                let r = map.next_value_seed(self.child(Node::Ty(&field.ty), target, Some(i)));
                self.state.go_path.pop();
                self.state.path.pop();
                r?;
            } else if json_patch_op {
                if !JSON_PATCH_FIELDS.contains(&key.as_str()) {
                    self.problem(Problem::Unknown, Seg::Field(key));
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                if seen.contains(&key) {
                    self.problem(Problem::Duplicate, Seg::Field(key.clone()));
                } else {
                    seen.push(key.clone());
                }
                map.next_value::<IgnoredAny>()?;
            } else {
                if seen.contains(&key) {
                    self.problem(Problem::Duplicate, Seg::Key(key.clone()));
                } else {
                    seen.push(key.clone());
                }
                self.state.path.push(Seg::Key(key));
                let (node, target) = match map_of {
                    Some(t) => (Node::Ty(t), self.target.deeper()),
                    None => (Node::Untyped, Target::None),
                };
                let in_struct = self.in_struct;
                let r = map.next_value_seed(self.child(node, target, in_struct));
                self.state.path.pop();
                r?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let (node, target) = match (self.node, self.ty()) {
            (_, Some(Ty::Array(t))) => (Node::Ty(t), self.target.deeper()),
            (Node::Untyped, _) => (Node::Untyped, Target::None),
            (Node::JsonPatch, _) if self.state.path.is_empty() => (Node::JsonPatch, Target::None),
            _ => {
                self.mismatch(Found::Array);
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(());
            }
        };
        let in_struct = self.in_struct;
        let mut i = 0;
        loop {
            self.state.path.push(Seg::Index(i));
            let r = seq.next_element_seed(self.child(node, target, in_struct));
            self.state.path.pop();
            if r?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        match self.ty() {
            Some(Ty::String) => {
                if self.expects_bytes()
                    && let Err(at) = super::go_base64::check(v.as_bytes())
                {
                    self.mismatch(Found::Base64(at));
                }
            }
            Some(Ty::IntOrString) | None => {}
            Some(_) => self.mismatch(Found::String),
        }
        Ok(())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.visit_str(&v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.visit_str(v)
    }

    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<(), E> {
        if !matches!(self.ty(), Some(Ty::Boolean) | None) {
            self.mismatch(Found::Bool);
        }
        Ok(())
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        match self.ty() {
            Some(Ty::Integer) => self.integer(i32::try_from(v).is_ok(), || v.to_string()),
            Some(Ty::Number) | None => {}
            Some(Ty::IntOrString) if i32::try_from(v).is_ok() => {}
            Some(Ty::IntOrString) => self.mismatch(Found::Number(Some(v.to_string()))),
            Some(_) => self.mismatch(Found::Number(None)),
        }
        Ok(())
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        match self.ty() {
            Some(Ty::Number) | None => {}
            Some(Ty::Integer) if i64::try_from(v).is_ok() => {
                self.integer(i32::try_from(v).is_ok(), || v.to_string())
            }
            Some(Ty::IntOrString) if i32::try_from(v).is_ok() => {}
            Some(Ty::Integer | Ty::IntOrString) => {
                self.mismatch(Found::Number(Some(v.to_string())))
            }
            Some(_) => self.mismatch(Found::Number(None)),
        }
        Ok(())
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<(), E> {
        match self.ty() {
            Some(Ty::Number) | None => {}
            // Go parses an integer field's text as an integer: `1.0` and `1e3` are refused too.
            Some(Ty::Integer | Ty::IntOrString) => {
                self.mismatch(Found::Number(Some(format!("{v:?}"))))
            }
            Some(_) => self.mismatch(Found::Number(None)),
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;

    fn deployment() -> usize {
        schema_index("io.k8s.api.apps.v1.Deployment").unwrap()
    }

    fn problems(raw: &str) -> Vec<String> {
        let i = deployment();
        walk_json(raw.as_bytes(), Node::Object(i), Target::Root(i))
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn unknown_fields_in_body_order_with_indices() {
        let body = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w","bogus":1},
            "spec":{"zzz":1,"bogusField":2,"template":{"spec":{"containers":[{"name":"c","image":"x"},{"name":"d","bogus":true}]}}}}"#;
        assert_eq!(
            problems(body),
            vec![
                r#"unknown field "metadata.bogus""#,
                r#"unknown field "spec.zzz""#,
                r#"unknown field "spec.bogusField""#,
                r#"unknown field "spec.template.spec.containers[1].bogus""#,
            ]
        );
    }

    #[test]
    fn duplicates_in_objects_and_maps() {
        let body =
            r#"{"spec":{"replicas":1,"replicas":2},"metadata":{"labels":{"a":"1","a":"2"}}}"#;
        assert_eq!(
            problems(body),
            vec![
                r#"duplicate field "spec.replicas""#,
                r#"duplicate field "metadata.labels.a""#
            ]
        );
    }

    #[test]
    fn any_typed_fields_are_not_looked_into() {
        let body = r#"{"metadata":{"managedFields":[{"fieldsV1":{"f:x":{},"f:x":{}}}]}}"#;
        assert!(problems(body).is_empty());
    }

    #[test]
    fn first_type_mismatch_wins() {
        let i = deployment();
        let raw = br#"{"spec":{"replicas":"3","paused":"no"}}"#;
        let f = walk_json(raw, Node::Object(i), Target::Root(i));
        let m = f.mismatch.unwrap();
        assert_eq!(m.found, Found::String);
        assert_eq!(m.go_path, "spec.replicas");
        assert_eq!(
            SCHEMAS[m.in_struct.unwrap()].name,
            "io.k8s.api.apps.v1.DeploymentSpec"
        );
    }

    #[test]
    fn nulls_and_int_or_string_are_fine() {
        let i = deployment();
        let raw = br#"{"metadata":{"creationTimestamp":null},"status":{},
            "spec":{"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}}}}"#;
        let f = walk_json(raw, Node::Object(i), Target::Root(i));
        assert!(f.mismatch.is_none());
        assert!(f.problems.is_empty());
    }

    #[test]
    fn untyped_walk_reports_only_duplicates() {
        let f = walk_json(
            br#"{"a":{"b":1,"b":2},"c":[{"d":1,"d":1}]}"#,
            Node::Untyped,
            Target::None,
        );
        let p: Vec<String> = f.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            p,
            vec![r#"duplicate field "a.b""#, r#"duplicate field "c[0].d""#]
        );
    }

    #[test]
    fn json_patch_operations() {
        let f = walk_json(
            br#"[{"op":"add","path":"/a","value":{"x":1,"x":2}},{"op":"remove","path":"/b","bogus":1,"op":"x"}]"#,
            Node::JsonPatch,
            Target::None,
        );
        let p: Vec<String> = f.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            p,
            vec![
                r#"unknown field "[1].bogus""#,
                r#"duplicate field "[1].op""#
            ]
        );
    }

    #[test]
    fn integers_too_big_for_their_go_type() {
        let i = deployment();
        let f = walk_json(
            br#"{"spec":{"replicas":3000000000}}"#,
            Node::Object(i),
            Target::Root(i),
        );
        assert_eq!(
            f.mismatch.unwrap().found,
            Found::Number(Some("3000000000".into()))
        );
        // metadata.generation is an int64.
        let f = walk_json(
            br#"{"metadata":{"generation":3000000000}}"#,
            Node::Object(i),
            Target::Root(i),
        );
        assert!(f.mismatch.is_none());
    }

    #[test]
    fn the_same_walk_over_a_value() {
        let i = deployment();
        let v = serde_json::json!({"spec": {"replicas": 1.5, "bogus": 1}});
        let f = walk_value(&v, Node::Object(i), Target::Root(i));
        assert_eq!(f.mismatch.unwrap().found, Found::Number(Some("1.5".into())));
        assert_eq!(f.problems, vec![Problem::Unknown("spec.bogus".into())]);
    }
}
