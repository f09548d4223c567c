//! How server-side apply treats each value, from the schema model: a struct merged field by
//! field, a granular map merged key by key, an associative list merged item by item (by its
//! list-map keys, or by its patch merge key), a set of scalars, or an atomic value replaced and
//! owned as a whole. Without a schema, objects are granular maps and lists are atomic.

use serde_json::Value;

use super::schema_facts;
use crate::api::model::{Field, Ty};
use crate::generated::SCHEMAS;

/// How the items of an associative list are identified.
#[derive(Clone, Copy, Debug)]
pub enum ListKeys {
    /// A set of scalars: an item is its value.
    Set,
    /// Items are objects identified by these fields.
    Keys(&'static [&'static str]),
}

/// How a value is merged, compared and owned.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// An object of this schema (index into `SCHEMAS`), merged field by field.
    Struct(usize),
    /// A map with string keys, merged key by key; values of this type.
    Map(&'static Ty),
    /// An associative list of items of this type.
    List(&'static Ty, ListKeys),
    /// Replaced and owned as a whole: scalars, atomic lists, maps and structs, unknown values.
    Atomic,
    /// No schema: objects are granular maps of deduced values, anything else is atomic.
    Deduced,
}

impl Shape {
    /// The shape of a top-level object of this schema.
    pub fn root(schema: Option<usize>) -> Shape {
        schema.map_or(Shape::Deduced, Shape::Struct)
    }

    /// The shape of a value of this type, with no field metadata (map values, list items).
    pub fn of_ty(ty: &'static Ty) -> Shape {
        match ty {
            Ty::Object(i) => struct_shape(*i),
            Ty::Map(v) => Shape::Map(v),
            _ => Shape::Atomic,
        }
    }

    /// The shape of a field, from its type and its `x-kubernetes-*` metadata.
    pub fn of_field(f: &'static Field) -> Shape {
        match &f.ty {
            Ty::Object(i) if f.map_type != "atomic" => struct_shape(*i),
            Ty::Map(v) if f.map_type != "atomic" => Shape::Map(v),
            Ty::Array(item) => list_shape(f, item),
            _ => Shape::Atomic,
        }
    }

    /// The shape of the member `key` of an object of this shape, and whether `key` is a field
    /// the schema declares (map keys and unknown fields are not).
    pub fn child(self, key: &str) -> (Shape, bool) {
        match self {
            Shape::Struct(i) => match SCHEMAS[i].field(key) {
                Some(f) => (Shape::of_field(f), true),
                None => (Shape::Atomic, false),
            },
            Shape::Map(v) => (Shape::of_ty(v), false),
            Shape::Deduced => (Shape::Deduced, false),
            Shape::List(..) | Shape::Atomic => (Shape::Atomic, false),
        }
    }

    /// The shape of an item of a list of this shape.
    pub fn item(self) -> Shape {
        match self {
            Shape::List(ty, _) => Shape::of_ty(ty),
            _ => Shape::Atomic,
        }
    }

    /// `true` when a value of this shape is merged member by member given this value.
    pub fn is_granular_object(self, v: &Value) -> bool {
        matches!(self, Shape::Struct(_) | Shape::Map(_) | Shape::Deduced) && v.is_object()
    }

    /// `true` when a value of this shape is merged item by item given this value.
    pub fn is_granular_list(self, v: &Value) -> bool {
        matches!(self, Shape::List(..)) && v.is_array()
    }
}

fn struct_shape(i: usize) -> Shape {
    if schema_facts::is_atomic_struct(i) {
        Shape::Atomic
    } else {
        Shape::Struct(i)
    }
}

fn list_shape(f: &'static Field, item: &'static Ty) -> Shape {
    let scalar_items = !matches!(item, Ty::Object(_) | Ty::Map(_) | Ty::Array(_) | Ty::Any);
    match f.list_type {
        "atomic" => Shape::Atomic,
        "set" => Shape::List(item, ListKeys::Set),
        "map" if !f.list_map_keys.is_empty() => Shape::List(item, ListKeys::Keys(f.list_map_keys)),
        "map" => Shape::Atomic,
        _ if f.patch_strategy.split(',').any(|s| s == "merge") => {
            if scalar_items {
                Shape::List(item, ListKeys::Set)
            } else if !f.merge_key.is_empty() {
                Shape::List(item, ListKeys::Keys(std::slice::from_ref(&f.merge_key)))
            } else {
                Shape::Atomic
            }
        }
        _ => Shape::Atomic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;

    fn field_shape(schema: &str, field: &str) -> Shape {
        let i = schema_index(schema).unwrap();
        Shape::Struct(i).child(field).0
    }

    #[test]
    fn shapes_follow_the_schema_extensions() {
        assert!(matches!(
            field_shape("io.k8s.api.core.v1.PodSpec", "containers"),
            Shape::List(_, ListKeys::Keys(["name"]))
        ));
        assert!(matches!(
            field_shape("io.k8s.api.core.v1.Container", "ports"),
            Shape::List(_, ListKeys::Keys(["containerPort", "protocol"]))
        ));
        assert!(matches!(
            field_shape("io.k8s.api.apps.v1.DeploymentSpec", "selector"),
            Shape::Atomic
        ));
        assert!(matches!(
            field_shape("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels"),
            Shape::Map(_)
        ));
        assert!(matches!(
            field_shape("io.k8s.api.core.v1.ServiceSpec", "selector"),
            Shape::Atomic
        ));
        assert!(matches!(
            field_shape(
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "finalizers"
            ),
            Shape::List(_, ListKeys::Set)
        ));
        assert!(matches!(
            field_shape("io.k8s.api.batch.v1.JobStatus", "conditions"),
            Shape::Atomic
        ));
        assert!(matches!(
            field_shape("io.k8s.api.core.v1.Container", "args"),
            Shape::Atomic
        ));
        let (_, declared) = Shape::Deduced.child("anything");
        assert!(!declared);
    }
}
