//! The protobuf field table k2d's request decoder walks (`crate::api::protobuf::table` in k2d),
//! from `spec/protobuf.json`: the messages of every object schema of `spec/`, plus `DeleteOptions`
//! and everything they reach (ObjectMeta, Time, IntOrString, ...). The other messages of the data
//! file are left out, so the binary carries only what the API surface needs.
//!
//! JSON names are checked against the spec's own schemas (the data file may have been derived
//! before a schema was added), and a field whose schema gives it a zero `default` is marked
//! `KEEP_ZERO`: Go writes such a field (no `omitempty`) even when it is zero.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use openapiv3::{ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::model::Api;
use super::schemas::ObjectSchema;
use crate::protobuf::{self as data, names};

/// Name of the generated Rust file inside the output directory.
pub const RUST_FILE: &str = "k2d_protobuf.rs";

const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";

/// A property of a spec schema: its name and whether its `default` is a zero value.
struct Property {
    name: String,
    zero_default: bool,
}

fn spec_properties(api: &Api) -> BTreeMap<String, Vec<Property>> {
    let mut out: BTreeMap<String, Vec<Property>> = BTreeMap::new();
    for gv in &api.groups {
        let Some(c) = &gv.openapi.components else {
            continue;
        };
        for (name, s) in &c.schemas {
            let ReferenceOr::Item(s) = s else { continue };
            let SchemaKind::Type(Type::Object(o)) = &s.schema_kind else {
                continue;
            };
            out.entry(name.clone()).or_insert_with(|| {
                o.properties
                    .iter()
                    .map(|(p, ps)| Property {
                        name: p.clone(),
                        zero_default: match ps {
                            ReferenceOr::Item(ps) => zero_default(ps),
                            ReferenceOr::Reference { .. } => false,
                        },
                    })
                    .collect()
            });
        }
    }
    out
}

fn zero_default(s: &Schema) -> bool {
    match &s.schema_data.default {
        Some(serde_json::Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(serde_json::Value::String(v)) => v.is_empty(),
        Some(serde_json::Value::Bool(b)) => !b,
        _ => false,
    }
}

fn kind_tokens(kind: &str, message: Option<usize>) -> Result<TokenStream> {
    let variant = match kind {
        "string" => "String",
        "bytes" => "Bytes",
        "bool" => "Bool",
        "int32" | "enum" => "Int32",
        "int64" => "Int64",
        "uint32" => "Uint32",
        "uint64" => "Uint64",
        "sint32" => "Sint32",
        "sint64" => "Sint64",
        "fixed32" => "Fixed32",
        "fixed64" => "Fixed64",
        "sfixed32" => "Sfixed32",
        "sfixed64" => "Sfixed64",
        "float" => "Float",
        "double" => "Double",
        "message" => {
            let i = u16::try_from(message.ok_or_else(|| anyhow!("message field without target"))?)
                .context("too many messages")?;
            let i = Literal::u16_unsuffixed(i);
            return Ok(quote!(Kind::Message(#i)));
        }
        other => bail!("unsupported wire kind {other}"),
    };
    let v = format_ident!("{variant}");
    Ok(quote!(Kind::#v))
}

fn form_tokens(form: Option<&str>) -> Result<TokenStream> {
    let v = match form {
        None => "Object",
        Some("time") => "Time",
        Some("micro-time") => "MicroTime",
        Some("duration") => "Duration",
        Some("int-or-string") => "IntOrString",
        Some("quantity") => "Quantity",
        Some("raw-json") => "RawJson",
        Some("string-list") => "StringList",
        Some(other) => bail!("unknown form {other}"),
    };
    let v = format_ident!("{v}");
    Ok(quote!(Form::#v))
}

/// The names of the messages to generate: those of `schemas` and DeleteOptions, and all they reach.
fn reachable(table: &data::Table, schemas: &[ObjectSchema]) -> BTreeSet<String> {
    let mut todo: Vec<String> = schemas
        .iter()
        .map(|s| s.name.clone())
        .chain([DELETE_OPTIONS.to_string()])
        .filter(|n| table.messages.contains_key(n))
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        for f in &table.messages[&name].fields {
            if let Some(t) = &f.message
                && !seen.contains(t)
            {
                todo.push(t.clone());
            }
        }
    }
    seen
}

/// The generated Rust file: `NAMES`, `FIELDS`, `MESSAGES`, `SCHEMA_MESSAGES` and `DELETE_OPTIONS`.
pub fn file(spec_dir: &Path, api: &Api, schemas: &[ObjectSchema]) -> Result<String> {
    let table = data::load(spec_dir)?;
    let props = spec_properties(api);
    let names: Vec<String> = reachable(&table, schemas).into_iter().collect();
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut blob = Names::default();
    let mut fields = Vec::new();
    let mut messages = Vec::new();
    for name in &names {
        let m = &table.messages[name];
        let own = props.get(name);
        let first = fields.len();
        for f in &m.fields {
            let prop = own.and_then(|ps| {
                ps.iter().find(|p| p.name == f.name).or_else(|| {
                    ps.iter()
                        .find(|p| names::normalise(&p.name) == names::normalise(&f.name))
                })
            });
            let json = if f.inline {
                String::new()
            } else {
                prop.map_or_else(|| f.name.clone(), |p| p.name.clone())
            };
            let mut flags = Vec::new();
            let kind = match f.map_kinds() {
                Some(("string", value)) => {
                    flags.push(quote!(MAP));
                    value.to_string()
                }
                Some((key, _)) => {
                    bail!(
                        "{name}.{}: map keys of kind {key} are not supported",
                        f.name
                    )
                }
                None => f.kind.clone(),
            };
            if f.repeated {
                flags.push(quote!(REPEATED));
            }
            if f.inline {
                flags.push(quote!(INLINE));
            }
            if f.pointer || prop.is_some_and(|p| p.zero_default) {
                flags.push(quote!(KEEP_ZERO));
            }
            let flags = if flags.is_empty() {
                quote!(0)
            } else {
                quote!(#(#flags)|*)
            };
            let target = f.message.as_deref().map(|t| index[t]);
            let kind = kind_tokens(&kind, target).with_context(|| format!("{name}.{}", f.name))?;
            let tag = u16::try_from(f.tag).with_context(|| format!("{name}.{}: tag", f.name))?;
            let tag = Literal::u16_unsuffixed(tag);
            let (at, len) = blob.add(&json)?;
            fields.push(quote!(field(#tag, #at, #len, #kind, #flags)));
        }
        let form = form_tokens(m.form.as_deref())?;
        let short = name.rsplit('.').next().unwrap_or(name);
        let (at, len) = blob.add(short)?;
        let first_lit = Literal::u16_unsuffixed(u16::try_from(first).context("too many fields")?);
        let count = Literal::u8_unsuffixed(
            u8::try_from(fields.len() - first)
                .with_context(|| format!("{name}: too many fields"))?,
        );
        messages.push(quote!(msg(#at, #len, #form, #first_lit, #count)));
    }
    let schema_messages = schemas.iter().map(|s| {
        let i = index.get(s.name.as_str()).map_or(u16::MAX, |&i| i as u16);
        Literal::u16_unsuffixed(i)
    });
    let delete_options =
        Literal::u16_unsuffixed(index.get(DELETE_OPTIONS).map_or(u16::MAX, |&i| i as u16));
    let (n_fields, n_messages, n_schemas) = (fields.len(), messages.len(), schemas.len());
    let [l_fields, l_messages, l_schemas] =
        [n_fields, n_messages, n_schemas].map(Literal::usize_unsuffixed);
    let names_blob = blob.text;
    let doc_names = format!(
        " Every JSON field name and short message name of the table, concatenated ({} bytes).",
        names_blob.len()
    );
    let mut doc_messages = vec![format!(
        " Every protobuf message k2d decodes ({n_messages}), in OpenAPI schema name order:"
    )];
    doc_messages.push(String::new());
    doc_messages.extend(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| format!(" - {i}: `{n}`")),
    );
    let tokens = quote! {
        #[doc = #doc_names]
        pub static NAMES: &str = #names_blob;
        /// The fields of every message, message after message, each message's by tag.
        pub static FIELDS: [Field; #l_fields] = [#(#fields),*];
        #(#[doc = #doc_messages])*
        pub static MESSAGES: [Message; #l_messages] = [#(#messages),*];
        /// For each entry of `crate::generated::SCHEMAS`, the index of its message in [`MESSAGES`]
        /// (`u16::MAX`: none).
        pub static SCHEMA_MESSAGES: [u16; #l_schemas] = [#(#schema_messages),*];
        /// The index of `DeleteOptions` in [`MESSAGES`] (`u16::MAX`: none).
        pub const DELETE_OPTIONS: u16 = #delete_options;
    };
    let file: syn::File = syn::parse2(tokens).context("generated protobuf table parses")?;
    Ok(format!(
        "// Generated by k2d-codegen from spec/protobuf.json. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// The names blob: each name is stored once, or found inside one already stored (`name` inside
/// `namespace`), and referred to by offset and length, so the table holds no pointers (each
/// pointer in a static costs a relocation in a position-independent binary).
#[derive(Default)]
struct Names {
    text: String,
}

impl Names {
    fn add(&mut self, name: &str) -> Result<(Literal, Literal)> {
        let at = match self.text.find(name) {
            Some(at) => at,
            None => {
                self.text.push_str(name);
                self.text.len() - name.len()
            }
        };
        let at = u16::try_from(at).context("names blob over 64 KiB")?;
        let len = u8::try_from(name.len()).with_context(|| format!("name {name} too long"))?;
        Ok((Literal::u16_unsuffixed(at), Literal::u8_unsuffixed(len)))
    }
}
