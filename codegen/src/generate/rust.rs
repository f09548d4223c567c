//! The Rust half of the generated code: resource and route tables, the path matcher, one translator
//! trait per resource with stored-object defaults, the dispatcher, the schema model and the table of
//! embedded documents. Everything refers to the hand-written types in `crate::api::model`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::model::{Api, Column, Resource, Segment, Verb};
use super::schemas::{ObjectSchema, Ty};

fn ident(s: &str) -> Ident {
    Ident::new(&s.replace(['-', '.'], "_"), Span::call_site())
}

fn opt_str(s: &str) -> TokenStream {
    if s.is_empty() {
        quote!(None)
    } else {
        quote!(Some(#s))
    }
}

fn verb_tokens(v: Verb) -> TokenStream {
    let v = format_ident!("{}", v.variant());
    quote!(Verb::#v)
}

/// The trait method that serves `verb` on `sub` (`get`, `get_status`, `connect_exec`, ...).
pub fn method_name(verb: Verb, sub: Option<&str>) -> String {
    match sub {
        None => verb.method_name().to_string(),
        Some(s) => format!("{}_{}", verb.method_name(), s.replace('-', "_")),
    }
}

/// `true` when the resource's list of routes includes this verb and subresource.
fn methods_of(r: &Resource) -> Vec<(Verb, Option<String>)> {
    let mut m: Vec<(Verb, Option<String>)> = r.verbs.iter().map(|v| (*v, None)).collect();
    for s in r.subresources.values() {
        m.extend(s.verbs.iter().map(|v| (*v, Some(s.name.clone()))));
    }
    m
}

fn column_tokens(c: &Column) -> TokenStream {
    let (name, ty, format, priority, path) = (&c.name, &c.ty, &c.format, c.priority, &c.json_path);
    quote!(Column { name: #name, ty: #ty, format: #format, priority: #priority, json_path: #path })
}

fn ty_tokens(t: &Ty, index: &dyn Fn(&str) -> usize) -> TokenStream {
    match t {
        Ty::String => quote!(Ty::String),
        Ty::Integer => quote!(Ty::Integer),
        Ty::Number => quote!(Ty::Number),
        Ty::Boolean => quote!(Ty::Boolean),
        Ty::IntOrString => quote!(Ty::IntOrString),
        Ty::Any => quote!(Ty::Any),
        Ty::Object(n) => {
            let i = index(n);
            quote!(Ty::Object(#i))
        }
        Ty::Array(t) => {
            let t = ty_tokens(t, index);
            quote!(Ty::Array(&#t))
        }
        Ty::Map(t) => {
            let t = ty_tokens(t, index);
            quote!(Ty::Map(&#t))
        }
    }
}

fn schemas_tokens(schemas: &[ObjectSchema]) -> TokenStream {
    let index = |n: &str| {
        schemas
            .binary_search_by(|s| s.name.as_str().cmp(n))
            .expect("object schema is known")
    };
    let entries = schemas.iter().map(|s| {
        let name = &s.name;
        let fields = s.fields.iter().map(|f| {
            let (fname, required) = (&f.name, f.required);
            let ty = ty_tokens(&f.ty, &index);
            let (ps, mk, lt, mt, default) = (&f.patch_strategy, &f.merge_key, &f.list_type, &f.map_type, &f.default);
            let keys = &f.list_map_keys;
            quote!(Field {
                name: #fname, ty: #ty, required: #required, patch_strategy: #ps, merge_key: #mk,
                list_type: #lt, list_map_keys: &[#(#keys),*], map_type: #mt, default: #default,
            })
        });
        let gvks = s.gvks.iter().map(|g| {
            let (gr, v, k) = (&g.group, &g.version, &g.kind);
            quote!((#gr, #v, #k))
        });
        let atomic = s.atomic;
        quote!(Schema { name: #name, fields: &[#(#fields),*], gvks: &[#(#gvks),*], atomic: #atomic })
    });
    quote! {
        /// Every object schema of the spec, sorted by name (look up with [`schema_index`]).
        pub static SCHEMAS: &[Schema] = &[#(#entries),*];
    }
}

fn segment_pattern(segs: &[Segment]) -> (TokenStream, TokenStream, TokenStream) {
    let mut ns = quote!(None);
    let mut name = quote!(None);
    let mut parts = Vec::new();
    for s in segs {
        parts.push(match s {
            Segment::Literal(l) => quote!(#l),
            Segment::Namespace => {
                ns = quote!(Some(*namespace));
                quote!(namespace)
            }
            Segment::Name => {
                name = quote!(Some(*name));
                quote!(name)
            }
            Segment::Rest => quote!(..),
        });
    }
    (quote!([#(#parts),*]), ns, name)
}

/// Generates the whole Rust file.
pub fn file(api: &Api, schemas: &[ObjectSchema], openapi_hashes: &[String]) -> String {
    // Resources are numbered across all group-versions in discovery order.
    let mut resource_index = Vec::new();
    let mut resources = Vec::new();
    for (gi, gv) in api.groups.iter().enumerate() {
        let mut row = Vec::new();
        for r in &gv.resources {
            row.push(resources.len());
            let (group, version, name, kind) = (&gv.group, &gv.version, &r.name, &r.gvk.kind);
            let list_kind = format!("{kind}List");
            let (singular, namespaced) = (&r.facts.singular_name, r.namespaced);
            let short = &r.facts.short_names;
            let cats = &r.facts.categories;
            let verbs = r.verbs.iter().map(|v| verb_tokens(*v));
            let subs = r.subresources.keys();
            let cols = r.facts.columns.iter().map(column_tokens);
            let schema = match r
                .schema
                .as_deref()
                .and_then(|s| schemas.binary_search_by(|o| o.name.as_str().cmp(s)).ok())
            {
                Some(i) => quote!(Some(#i)),
                None => quote!(None),
            };
            let gi = gi as u16;
            resources.push(quote!(ResourceInfo {
                group_version: #gi, group: #group, version: #version, name: #name, kind: #kind, list_kind: #list_kind,
                singular: #singular, namespaced: #namespaced, short_names: &[#(#short),*], categories: &[#(#cats),*],
                verbs: &[#(#verbs),*], subresources: &[#(#subs),*], columns: &[#(#cols),*], schema: #schema,
            }));
        }
        resource_index.push(row);
    }

    // Routes, and one match arm per distinct path listing the routes of that path.
    let mut route_rows = Vec::new();
    let mut paths: Vec<(String, Vec<Segment>, Vec<usize>)> = Vec::new();
    for (id, r) in api.routes.iter().enumerate() {
        let (method, path) = (&r.method, &r.template);
        let res = resource_index[r.group][r.resource] as u16;
        let sub = opt_str(r.subresource.as_deref().unwrap_or_default());
        let verb = verb_tokens(r.verb);
        let watch = r.watch_path;
        route_rows.push(quote!(Route { method: #method, path: #path, resource: #res, subresource: #sub, verb: #verb, watch_path: #watch }));
        match paths.iter_mut().find(|p| p.0 == r.template) {
            Some(p) => p.2.push(id),
            None => paths.push((r.template.clone(), r.segments.clone(), vec![id])),
        }
    }
    // More literal segments first, so a parameter never shadows a fixed name.
    paths.sort_by_key(|(t, segs, _)| {
        let lits = segs
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (std::cmp::Reverse(lits), t.clone())
    });
    let arms = paths.iter().map(|(_, segs, ids)| {
        let (pat, ns, name) = segment_pattern(segs);
        let ids = ids.iter().map(|i| *i as u16);
        quote!(#pat => Some(PathMatch { routes: &[#(#ids),*], namespace: #ns, name: #name }),)
    });

    // Translator traits, per group-version module.
    let mut modules = Vec::new();
    let mut dispatch_arms = Vec::new();
    let mut stored_impls = Vec::new();
    let mut top_fields = Vec::new();
    for (gi, gv) in api.groups.iter().enumerate() {
        let module = ident(&gv.module_name());
        let mut traits = Vec::new();
        let mut fields = Vec::new();
        let mut defaults = Vec::new();
        let mut dispatchers = Vec::new();
        for (ri, r) in gv.resources.iter().enumerate() {
            let trait_name = format_ident!("{}Translator", r.gvk.kind);
            let field = ident(&r.name);
            let dispatch_fn = format_ident!("dispatch_{}", field);
            let gvr = format!("{}/{}", gv.group_version(), r.name);
            let mut methods = Vec::new();
            let mut arms = Vec::new();
            for (verb, sub) in methods_of(r) {
                let m = format_ident!("{}", method_name(verb, sub.as_deref()));
                let served: Vec<String> = api
                    .routes
                    .iter()
                    .filter(|x| {
                        x.group == gi && x.resource == ri && x.verb == verb && x.subresource == sub
                    })
                    .map(|x| format!("`{} {}`", x.method, x.template))
                    .collect();
                let mut doc = format!(" {} on {gvr}", verb.discovery_name());
                if let Some(s) = &sub {
                    doc = format!(" {} on {gvr}/{s}", verb.discovery_name());
                }
                let serves = format!(" Serves {}.", served.join(", "));
                let also_watch = if verb == Verb::Watch {
                    " Also `?watch=true` on the list paths."
                } else {
                    ""
                };
                let default = match &sub {
                    None => quote!(stored::#m(req).await),
                    Some(_) => {
                        let generic = format_ident!("{}_subresource", verb.method_name());
                        quote!(stored::#generic(req).await)
                    }
                };
                methods.push(quote! {
                    #[doc = #doc]
                    #[doc = ""]
                    #[doc = #serves]
                    #[doc = #also_watch]
                    async fn #m(&self, req: ApiRequest) -> ApiResult { #default }
                });
                let v = verb_tokens(verb);
                let s = opt_str(sub.as_deref().unwrap_or_default());
                arms.push(quote!((#v, #s) => t.#m(req).await,));
            }
            let trait_doc = format!(
                " The translator of {gvr} (kind {}). Every method defaults to stored-object semantics.",
                r.gvk.kind
            );
            traits.push(quote! {
                #[doc = #trait_doc]
                #[async_trait::async_trait]
                pub trait #trait_name: Send + Sync {
                    #(#methods)*
                }
            });
            let field_doc = format!(" {gvr}");
            fields.push(quote!(#[doc = #field_doc] pub #field: Box<dyn #trait_name>,));
            defaults.push(quote!(#field: Box::new(Stored),));
            stored_impls.push(quote!(impl #module::#trait_name for Stored {}));
            let dispatch_doc = format!(
                " Calls the method of a {} translator that serves the request.",
                r.gvk.kind
            );
            dispatchers.push(quote! {
                #[doc = #dispatch_doc]
                pub async fn #dispatch_fn(t: &dyn #trait_name, req: ApiRequest) -> ApiResult {
                    match (req.verb, req.route.subresource) {
                        #(#arms)*
                        _ => Err(stored::unsupported(&req)),
                    }
                }
            });
            let global = resource_index[gi][ri] as u16;
            dispatch_arms
                .push(quote!(#global => #module::#dispatch_fn(&*t.#module.#field, req).await,));
        }
        let mod_doc = format!(" Translators of {}.", gv.group_version());
        modules.push(quote! {
            #[doc = #mod_doc]
            pub mod #module {
                use super::*;
                #(#traits)*
                #[doc = " One translator per resource of this group-version."]
                pub struct Translators { #(#fields)* }
                impl Default for Translators {
                    fn default() -> Self { Self { #(#defaults)* } }
                }
                #(#dispatchers)*
            }
        });
        let doc = format!(" {}", gv.group_version());
        top_fields.push((module, doc));
    }
    let top_field_decls = top_fields
        .iter()
        .map(|(m, doc)| quote!(#[doc = #doc] pub #m: #m::Translators,));
    let top_fields_init = top_fields
        .iter()
        .map(|(m, _)| quote!(#m: Default::default(),));

    // Documents embedded from OUT_DIR.
    let gv_rows = api.groups.iter().zip(openapi_hashes).map(|(gv, hash)| {
        let (group, version, doc_path) = (&gv.group, &gv.version, &gv.doc_path);
        let openapi_file = format!("/openapi/{doc_path}.json.gz");
        let list_file = format!("/discovery/{doc_path}.json");
        quote!(GroupVersionInfo {
            group: #group, version: #version, doc_path: #doc_path, openapi_hash: #hash,
            openapi_gzip: include_bytes!(concat!(env!("OUT_DIR"), #openapi_file)),
            resource_list: include_bytes!(concat!(env!("OUT_DIR"), #list_file)),
        })
    });
    let doc = |name: &str| {
        let f = format!("/discovery/{name}.json");
        quote!(include_bytes!(concat!(env!("OUT_DIR"), #f)))
    };
    let (api_v2, apis_v2, api_v2b, apis_v2b, apis_legacy) = (
        doc("api.v2"),
        doc("apis.v2"),
        doc("api.v2beta1"),
        doc("apis.v2beta1"),
        doc("apis"),
    );
    let schemas = schemas_tokens(schemas);

    let tokens = quote! {
        use crate::api::model::*;
        use crate::api::{stored, ApiRequest, ApiResult};

        /// Every group-version served, in discovery order.
        pub static GROUP_VERSIONS: &[GroupVersionInfo] = &[#(#gv_rows),*];
        /// Every resource served, in discovery order.
        pub static RESOURCES: &[ResourceInfo] = &[#(#resources),*];
        /// Every method on every path of the spec.
        pub static ROUTES: &[Route] = &[#(#route_rows),*];
        /// The aggregated discovery documents, and the legacy group list.
        pub static DISCOVERY: DiscoveryDocs = DiscoveryDocs {
            api_v2: #api_v2, apis_v2: #apis_v2, api_v2beta1: #api_v2b, apis_v2beta1: #apis_v2b, apis: #apis_legacy,
        };
        /// The OpenAPI v3 root document.
        pub static OPENAPI_ROOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/openapi/root.json"));

        /// Finds the path of the spec that matches the request path's segments.
        pub fn match_path<'a>(segments: &[&'a str]) -> Option<PathMatch<'a>> {
            match segments {
                #(#arms)*
                _ => None,
            }
        }

        #schemas

        /// The stored-object translator: every method keeps its default.
        pub struct Stored;
        #(#stored_impls)*

        #(#modules)*

        /// One translator per resource, per group-version.
        pub struct Translators { #(#top_field_decls)* }
        impl Default for Translators {
            fn default() -> Self { Self { #(#top_fields_init)* } }
        }

        /// Sends a request to the translator of its resource.
        pub async fn dispatch(t: &Translators, req: ApiRequest) -> ApiResult {
            match req.route.resource {
                #(#dispatch_arms)*
                _ => Err(stored::unsupported(&req)),
            }
        }
    };
    let file: syn::File = syn::parse2(tokens).expect("generated tokens parse as a file");
    format!(
        "// @generated by k2d-codegen from spec/. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    )
}
