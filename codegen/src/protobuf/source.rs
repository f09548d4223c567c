//! Reads the prost bindings of k8s-pb with `syn`: every `#[derive(::prost::Message)]` struct, with
//! its module path and, per field, the `#[prost(...)]` attribute (wire kind, label, tag) and the
//! message type it refers to. Nothing is compiled; the crate's source is only parsed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use syn::{Fields, GenericArgument, Item, LitStr, PathArguments, Type};

/// A message as prost declares it.
#[derive(Clone, Debug)]
pub struct RawMessage {
    /// Module path inside the crate, e.g. `["api", "apps", "v1"]`.
    pub module: Vec<String>,
    /// The struct name, as prost spells it (`ApiService` for the proto's `APIService`).
    pub name: String,
    /// Fields in declaration order.
    pub fields: Vec<RawField>,
}

impl RawMessage {
    /// `api.apps.v1.Deployment`: the module path and the struct name joined with dots.
    pub fn path(&self) -> String {
        let mut p = self.module.join(".");
        if !p.is_empty() {
            p.push('.');
        }
        p.push_str(&self.name);
        p
    }
}

/// A field as prost declares it.
#[derive(Clone, Debug)]
pub struct RawField {
    /// The Rust field name (snake case, `r#` removed).
    pub ident: String,
    /// Field number.
    pub tag: u32,
    /// Scalar or `message` (`string`, `bytes`, `int32`, ...), or `map` for maps.
    pub kind: String,
    /// For maps: the key and value kinds (`string`, `bytes`, `message`, ...).
    pub map: Option<(String, String)>,
    /// `repeated`.
    pub repeated: bool,
    /// For `message` fields and maps with message values: the referenced message, as a
    /// dot-separated path from the crate root (`apimachinery.pkg.apis.meta.v1.ObjectMeta`).
    pub message: Option<String>,
}

/// Every `.rs` file under `src`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The module path of a source file: `src/api/apps/v1/mod.rs` is `api::apps::v1`, `src/lib.rs` the
/// root, `src/a/b.rs` is `a::b`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    if last != "mod.rs" && last != "lib.rs" {
        parts.push(last.trim_end_matches(".rs").to_string());
    }
    parts
}

/// Parses every message of the crate whose `src/` directory is `src`.
pub fn read_crate(src: &Path) -> Result<Vec<RawMessage>> {
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let module = module_of(src, &file);
        out.extend(read_source(&text, &module).with_context(|| format!("in {}", file.display()))?);
    }
    out.sort_by_key(|m| m.path());
    Ok(out)
}

/// Parses the messages of one source file, whose module path is `module`.
pub fn read_source(text: &str, module: &[String]) -> Result<Vec<RawMessage>> {
    let parsed = syn::parse_file(text).context("parsing")?;
    let mut out = Vec::new();
    read_items(&parsed.items, module, &mut out)?;
    Ok(out)
}

fn read_items(items: &[Item], module: &[String], out: &mut Vec<RawMessage>) -> Result<()> {
    for item in items {
        match item {
            Item::Struct(s) if derives_message(&s.attrs) => {
                let Fields::Named(named) = &s.fields else {
                    bail!("message {} has no named fields", s.ident);
                };
                let mut fields = Vec::new();
                for f in &named.named {
                    let ident = f
                        .ident
                        .as_ref()
                        .map(|i| i.to_string().trim_start_matches("r#").to_string())
                        .unwrap_or_default();
                    let Some(attr) = f.attrs.iter().find(|a| a.path().is_ident("prost")) else {
                        bail!("{}.{ident} has no #[prost] attribute", s.ident);
                    };
                    let mut field =
                        read_attr(attr).with_context(|| format!("{}.{ident}", s.ident))?;
                    field.ident = ident;
                    if field.kind == "message"
                        || field.map.as_ref().is_some_and(|(_, v)| v == "message")
                    {
                        field.message = Some(resolve(module, innermost(&f.ty)?)?);
                    }
                    fields.push(field);
                }
                out.push(RawMessage {
                    module: module.to_vec(),
                    name: s.ident.to_string(),
                    fields,
                });
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    let mut inner = module.to_vec();
                    inner.push(m.ident.to_string());
                    read_items(items, &inner, out)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn derives_message(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive") && {
            let mut found = false;
            let _ = a.parse_nested_meta(|meta| {
                if meta
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Message")
                {
                    found = true;
                }
                Ok(())
            });
            found
        }
    })
}

/// `#[prost(int32, optional, tag = "1")]`, `#[prost(btree_map = "string, bytes", tag = "2")]`,
/// `#[prost(bytes = "vec", optional, tag = "3")]`.
fn read_attr(attr: &syn::Attribute) -> Result<RawField> {
    let mut field = RawField {
        ident: String::new(),
        tag: 0,
        kind: String::new(),
        map: None,
        repeated: false,
        message: None,
    };
    attr.parse_nested_meta(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match key.as_str() {
            "tag" => {
                field.tag = meta
                    .value()?
                    .parse::<LitStr>()?
                    .value()
                    .parse()
                    .map_err(|_| meta.error("tag is not a number"))?;
            }
            "optional" | "required" | "boxed" => {}
            "repeated" => field.repeated = true,
            "packed" => {
                meta.value()?.parse::<LitStr>()?;
            }
            "map" | "btree_map" | "hash_map" => {
                let v = meta.value()?.parse::<LitStr>()?.value();
                let (k, val) = v
                    .split_once(',')
                    .ok_or_else(|| meta.error("map = \"key, value\" expected"))?;
                let val = val.trim();
                // `enumeration(Foo)` values carry their enum; k8s-pb has none, treat as int32.
                let val = if val.starts_with("enumeration") {
                    "enum"
                } else {
                    val
                };
                field.kind = "map".to_string();
                field.map = Some((k.trim().to_string(), val.to_string()));
            }
            "bytes" => {
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<LitStr>()?;
                }
                field.kind = "bytes".to_string();
            }
            "enumeration" => {
                meta.value()?.parse::<LitStr>()?;
                field.kind = "enum".to_string();
            }
            "oneof" => return Err(meta.error("oneof fields are not supported")),
            "string" | "bool" | "int32" | "int64" | "uint32" | "uint64" | "sint32" | "sint64"
            | "fixed32" | "fixed64" | "sfixed32" | "sfixed64" | "float" | "double" | "message"
            | "group" => field.kind = key,
            _ => return Err(meta.error(format!("unknown prost attribute `{key}`"))),
        }
        Ok(())
    })?;
    if field.tag == 0 || field.kind.is_empty() {
        bail!("incomplete #[prost] attribute");
    }
    Ok(field)
}

/// The type inside `Option<..>`, `Vec<..>`, `Box<..>` and the value type of `BTreeMap<K, V>`.
fn innermost(ty: &Type) -> Result<&syn::Path> {
    let Type::Path(tp) = ty else {
        bail!("unexpected field type");
    };
    let last = tp
        .path
        .segments
        .last()
        .ok_or_else(|| anyhow!("empty type path"))?;
    let wrapper = matches!(
        last.ident.to_string().as_str(),
        "Option" | "Vec" | "Box" | "BTreeMap" | "HashMap"
    );
    if !wrapper {
        return Ok(&tp.path);
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        bail!("{} without type arguments", last.ident);
    };
    let inner = args
        .args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .next_back()
        .ok_or_else(|| anyhow!("{} without a type argument", last.ident))?;
    innermost(inner)
}

/// Resolves a type path written inside `module` (`super::super::X`, `crate::a::X`, `X`) to a
/// dot-separated path from the crate root.
fn resolve(module: &[String], path: &syn::Path) -> Result<String> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = Vec::new();
    let mut leading = true;
    for seg in &path.segments {
        let s = seg.ident.to_string();
        if leading && s == "super" {
            base.pop()
                .ok_or_else(|| anyhow!("`super` above the crate root"))?;
            continue;
        }
        if leading && (s == "crate" || s == "self") {
            if s == "crate" {
                base.clear();
            }
            continue;
        }
        leading = false;
        rest.push(s);
    }
    if path.leading_colon.is_some() {
        bail!("message type outside the crate");
    }
    base.extend(rest);
    Ok(base.join("."))
}
