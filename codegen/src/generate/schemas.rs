//! The schema model k2d's API machinery walks: for every object schema of the spec, its fields with
//! their types and their strategic-merge metadata (patch strategy, merge key, list type). It drives
//! strategic merge patch, server-side apply and `fieldValidation=Strict`.

use std::collections::BTreeMap;

use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty,
};

use super::model::{Api, Gvk};

/// The type of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A string (also date-time, byte, quantity).
    String,
    /// An integer.
    Integer,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// `x-kubernetes-int-or-string`.
    IntOrString,
    /// Anything (`x-kubernetes-preserve-unknown-fields`, opaque objects such as `RawExtension`).
    Any,
    /// An object of the named schema.
    Object(String),
    /// A list.
    Array(Box<Ty>),
    /// A map with string keys.
    Map(Box<Ty>),
}

/// A field of an object schema.
#[derive(Clone, Debug)]
pub struct Field {
    /// JSON name.
    pub name: String,
    /// Type.
    pub ty: Ty,
    /// In the schema's `required` list.
    pub required: bool,
    /// `x-kubernetes-patch-strategy` (e.g. `merge`, `retainKeys`, `merge,retainKeys`), or empty.
    pub patch_strategy: String,
    /// `x-kubernetes-patch-merge-key`, or empty.
    pub merge_key: String,
    /// `x-kubernetes-list-type` (`atomic`, `set`, `map`), or empty.
    pub list_type: String,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: Vec<String>,
    /// `x-kubernetes-map-type` (`atomic`, `granular`), or empty.
    pub map_type: String,
    /// The schema's `default`, as compact JSON, or empty.
    pub default: String,
}

/// An object schema.
#[derive(Clone, Debug)]
pub struct ObjectSchema {
    /// `components.schemas` name.
    pub name: String,
    /// Fields in name order.
    pub fields: Vec<Field>,
    /// The kinds this schema is the top level of.
    pub gvks: Vec<Gvk>,
    /// `x-kubernetes-map-type: atomic` on the schema: objects of it are replaced as a whole.
    pub atomic: bool,
}

fn ext_str(s: &Schema, key: &str) -> String {
    s.schema_data
        .extensions
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

fn ref_name(reference: &str) -> &str {
    reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or(reference)
}

struct Resolver<'a> {
    all: &'a BTreeMap<String, Schema>,
}

impl Resolver<'_> {
    /// `true` when a named schema is an object with fields (and so gets its own entry).
    fn is_object(&self, name: &str) -> bool {
        self.all.get(name).is_some_and(|s| match &s.schema_kind {
            SchemaKind::Type(Type::Object(o)) => !o.properties.is_empty(),
            _ => false,
        })
    }

    fn named(&self, name: &str) -> Ty {
        if self.is_object(name) {
            return Ty::Object(name.to_string());
        }
        match self.all.get(name) {
            Some(s) => self.inline(s),
            None => Ty::Any,
        }
    }

    fn reference(&self, r: &ReferenceOr<Box<Schema>>) -> Ty {
        match r {
            ReferenceOr::Reference { reference } => self.named(ref_name(reference)),
            ReferenceOr::Item(s) => self.inline(s),
        }
    }

    fn inline(&self, s: &Schema) -> Ty {
        let ext = &s.schema_data.extensions;
        if ext
            .get("x-kubernetes-int-or-string")
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            return Ty::IntOrString;
        }
        if ext
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            return Ty::Any;
        }
        match &s.schema_kind {
            SchemaKind::Type(Type::String(st)) => match &st.format {
                VariantOrUnknownOrEmpty::Unknown(f) if f == "int-or-string" => Ty::IntOrString,
                _ => Ty::String,
            },
            SchemaKind::Type(Type::Integer(_)) => Ty::Integer,
            SchemaKind::Type(Type::Number(_)) => Ty::Number,
            SchemaKind::Type(Type::Boolean(_)) => Ty::Boolean,
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => Ty::Array(Box::new(self.reference(items))),
                None => Ty::Array(Box::new(Ty::Any)),
            },
            SchemaKind::Type(Type::Object(o)) => match &o.additional_properties {
                Some(AdditionalProperties::Schema(ap)) => Ty::Map(Box::new(match ap.as_ref() {
                    ReferenceOr::Reference { reference } => self.named(ref_name(reference)),
                    ReferenceOr::Item(s) => self.inline(s),
                })),
                _ => Ty::Any,
            },
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => match &all_of[0] {
                ReferenceOr::Reference { reference } => self.named(ref_name(reference)),
                ReferenceOr::Item(s) => self.inline(s),
            },
            _ => Ty::Any,
        }
    }
}

/// Every object schema of every document, in name order. Documents share schemas such as
/// `ObjectMeta`; the first one read is kept.
pub fn object_schemas(api: &Api) -> Vec<ObjectSchema> {
    let mut all: BTreeMap<String, Schema> = BTreeMap::new();
    for gv in &api.groups {
        if let Some(c) = &gv.openapi.components {
            for (name, s) in &c.schemas {
                if let ReferenceOr::Item(s) = s {
                    all.entry(name.clone()).or_insert_with(|| s.clone());
                }
            }
        }
    }
    let resolver = Resolver { all: &all };
    let mut out = Vec::new();
    for (name, s) in &all {
        let SchemaKind::Type(Type::Object(o)) = &s.schema_kind else {
            continue;
        };
        if o.properties.is_empty() {
            continue;
        }
        let fields = o
            .properties
            .iter()
            .map(|(fname, prop)| {
                let (ty, ext_src): (Ty, Option<&Schema>) = match prop {
                    ReferenceOr::Reference { reference } => {
                        (resolver.named(ref_name(reference)), None)
                    }
                    ReferenceOr::Item(p) => (resolver.inline(p), Some(p)),
                };
                let get = |k: &str| ext_src.map(|p| ext_str(p, k)).unwrap_or_default();
                Field {
                    name: fname.clone(),
                    ty,
                    required: o.required.contains(fname),
                    patch_strategy: get("x-kubernetes-patch-strategy"),
                    merge_key: get("x-kubernetes-patch-merge-key"),
                    list_type: get("x-kubernetes-list-type"),
                    list_map_keys: ext_src
                        .and_then(|p| p.schema_data.extensions.get("x-kubernetes-list-map-keys"))
                        .and_then(|v| serde_json::from_value(v.clone()).ok())
                        .unwrap_or_default(),
                    map_type: get("x-kubernetes-map-type"),
                    default: ext_src
                        .and_then(|p| p.schema_data.default.as_ref())
                        .filter(|d| !d.is_null())
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                }
            })
            .collect::<Vec<_>>();
        let gvks = s
            .schema_data
            .extensions
            .get("x-kubernetes-group-version-kind")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let mut fields = fields;
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        let atomic = ext_str(s, "x-kubernetes-map-type") == "atomic";
        out.push(ObjectSchema {
            name: name.clone(),
            fields,
            gvks,
            atomic,
        });
    }
    out
}
