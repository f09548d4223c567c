//! What the generated schema model says about a position in a document: which fields an object
//! has, and for each field its strategic-merge strategy and merge key.
//!
//! Only `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` count, as on a real
//! server (whose strategic merge reads the Go struct tags those extensions come from):
//! `x-kubernetes-list-type: map` without `patchStrategy: merge` is replaced as a whole, and
//! `x-kubernetes-map-type: atomic` maps still merge.

use crate::api::model::{Schema, Ty};
use crate::generated::SCHEMAS;

/// What is known about the type of a value.
#[derive(Clone, Copy, Debug)]
pub(super) enum Shape {
    /// An object with declared fields.
    Struct(&'static Schema),
    /// A map with string keys; every value has this type.
    Map(&'static Ty),
    /// A list of this element type.
    List(&'static Ty),
    /// Nothing (scalars, `Any`, fields the schema does not declare, no schema).
    Unknown,
}

impl Shape {
    /// The shape of a value of this type.
    pub(super) fn of(ty: &'static Ty) -> Shape {
        match ty {
            Ty::Object(i) => SCHEMAS.get(*i).map_or(Shape::Unknown, Shape::Struct),
            Ty::Map(value) => Shape::Map(value),
            Ty::Array(element) => Shape::List(element),
            _ => Shape::Unknown,
        }
    }

    /// The shape of the top-level object of this schema (`None`: nothing known).
    pub(super) fn root(schema: Option<usize>) -> Shape {
        schema
            .and_then(|i| SCHEMAS.get(i))
            .map_or(Shape::Unknown, Shape::Struct)
    }

    /// The shape of the elements of a list of this shape.
    pub(super) fn element(self) -> Shape {
        match self {
            Shape::List(element) => Shape::of(element),
            _ => Shape::Unknown,
        }
    }

    /// The metadata of the member `name` of an object of this shape.
    pub(super) fn field(self, name: &str) -> FieldMeta {
        match self {
            Shape::Struct(schema) => schema.field(name).map_or(FieldMeta::UNKNOWN, |f| {
                FieldMeta::new(Shape::of(&f.ty), f.patch_strategy, f.merge_key)
            }),
            Shape::Map(value) => FieldMeta::new(Shape::of(value), "", ""),
            Shape::List(_) | Shape::Unknown => FieldMeta::UNKNOWN,
        }
    }

    /// `true` when this is an object schema that does not declare `name`.
    pub(super) fn lacks_field(self, name: &str) -> bool {
        matches!(self, Shape::Struct(schema) if schema.field(name).is_none())
    }
}

/// How a field is patched.
#[derive(Clone, Copy, Debug)]
pub(super) struct FieldMeta {
    /// The shape of the field's value.
    pub shape: Shape,
    /// `patchStrategy` contains `merge`: lists merge (by `merge_key` for objects).
    pub merge: bool,
    /// `patchStrategy` contains `replace`: maps are replaced, not merged.
    pub replace: bool,
    /// `patchMergeKey`, or empty.
    pub merge_key: &'static str,
}

impl FieldMeta {
    /// Nothing known: maps merge and lists are replaced, as in a JSON merge patch.
    pub(super) const UNKNOWN: FieldMeta = FieldMeta {
        shape: Shape::Unknown,
        merge: false,
        replace: false,
        merge_key: "",
    };

    /// From the schema's strategy list (`merge`, `replace`, `retainKeys`, comma-separated;
    /// `retainKeys` only tells clients to send `$retainKeys`, which applies wherever it is sent).
    fn new(shape: Shape, strategy: &str, merge_key: &'static str) -> FieldMeta {
        let (mut merge, mut replace) = (false, false);
        for s in strategy.split(',').map(str::trim) {
            match s {
                "merge" => merge = true,
                "replace" => replace = true,
                _ => {}
            }
        }
        FieldMeta {
            shape,
            merge,
            replace,
            merge_key,
        }
    }
}
