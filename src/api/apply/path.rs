//! Field paths as structured-merge-diff names them: a path is a list of elements, each a field
//! name, the key of an associative list item, the value of a set item, or a list index.
//!
//! The ordering of elements is the one Kubernetes uses to sort `fieldsV1` and to list conflicts:
//! field names first, then keys, then values, then indices.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathElement {
    /// A field of an object or a key of a map: `f:<name>`.
    Field(String),
    /// An item of an associative list, by its key fields sorted by name: `k:{"name":"c"}`.
    Key(Vec<(String, Value)>),
    /// An item of a set, by its value: `v:<json>`.
    Value(Value),
    /// A list item by position: `i:<n>` (only found in foreign `fieldsV1`).
    Index(usize),
}

impl PathElement {
    /// A `Field` element.
    pub fn field(name: &str) -> Self {
        PathElement::Field(name.to_string())
    }

    /// A `Key` element; the fields are sorted by name, as Kubernetes sorts them.
    pub fn key(mut fields: Vec<(String, Value)>) -> Self {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        PathElement::Key(fields)
    }

    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.as_bytes().cmp(b.as_bytes()),
            (PathElement::Key(a), PathElement::Key(b)) => compare_key_fields(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn compare_key_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((an, av), (bn, bv)) in a.iter().zip(b) {
        let c = an
            .as_bytes()
            .cmp(bn.as_bytes())
            .then_with(|| compare_values(av, bv));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

fn value_rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// Orders JSON values as Kubernetes orders set items and key values: numbers, then strings,
/// booleans, lists, maps, null. Consistent with `==` (ties are broken on the text).
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    let c = match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => {
                let (fx, fy) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                fx.partial_cmp(&fy).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            let mut c = Ordering::Equal;
            for (i, j) in x.iter().zip(y) {
                c = compare_values(i, j);
                if c != Ordering::Equal {
                    break;
                }
            }
            c.then_with(|| x.len().cmp(&y.len()))
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut c = Ordering::Equal;
            for ((kx, vx), (ky, vy)) in x.iter().zip(y) {
                c = kx
                    .as_bytes()
                    .cmp(ky.as_bytes())
                    .then_with(|| compare_values(vx, vy));
                if c != Ordering::Equal {
                    break;
                }
            }
            c.then_with(|| x.len().cmp(&y.len()))
        }
        _ => value_rank(a).cmp(&value_rank(b)),
    };
    if c == Ordering::Equal && a != b {
        a.to_string().cmp(&b.to_string())
    } else {
        c
    }
}

/// A field path.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// The path made of these field names.
    pub fn fields(names: &[&str]) -> Self {
        Path(names.iter().map(|n| PathElement::field(n)).collect())
    }
}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", display_value(value))?;
                }
                f.write_str("]")
            }
            PathElement::Value(v) => write!(f, "[={}]", display_value(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// How Kubernetes prints a path: `.spec.template.spec.containers[name="nginx"].image`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in &self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

/// A value inside a printed path: strings quoted, everything else as JSON.
fn display_value(v: &Value) -> String {
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_sort_fields_then_keys_then_values() {
        let mut v = [
            PathElement::Value(json!("a")),
            PathElement::key(vec![("name".into(), json!("x"))]),
            PathElement::field("b"),
            PathElement::field("a"),
        ];
        v.sort();
        assert_eq!(v[0], PathElement::field("a"));
        assert_eq!(v[1], PathElement::field("b"));
        assert!(matches!(v[2], PathElement::Key(_)));
        assert!(matches!(v[3], PathElement::Value(_)));
    }

    #[test]
    fn numeric_keys_sort_as_numbers() {
        let k80 = PathElement::key(vec![("containerPort".into(), json!(80))]);
        let k443 = PathElement::key(vec![("containerPort".into(), json!(443))]);
        assert!(k80 < k443);
    }

    #[test]
    fn paths_print_like_kubernetes() {
        let p = Path(vec![
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::key(vec![
                ("protocol".into(), json!("TCP")),
                ("containerPort".into(), json!(80)),
            ]),
            PathElement::field("image"),
        ]);
        assert_eq!(
            p.to_string(),
            ".spec.containers[containerPort=80,protocol=\"TCP\"].image"
        );
        let s = Path(vec![
            PathElement::field("finalizers"),
            PathElement::Value(json!("x")),
        ]);
        assert_eq!(s.to_string(), ".finalizers[=\"x\"]");
    }
}
