//! The API surface as the generators see it: group-versions, resources and routes, read from the
//! OpenAPI v3 documents in `spec/` (with `openapiv3`) plus their `x-k2d-resources` extension.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use openapiv3::{OpenAPI, Operation, PathItem, ReferenceOr};
use serde::Deserialize;

use crate::api_path::{self, ApiPath, ResourcePath};

/// One OpenAPI document of `spec/`, that is one group-version.
pub struct GroupVersion {
    /// API group; empty for the core group.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Where the document lives under `/openapi/v3/`: `api/v1` or `apis/<group>/<version>`.
    pub doc_path: String,
    /// The parsed document.
    pub openapi: OpenAPI,
    /// The document as plain JSON, as it will be served (k2d extensions removed).
    pub served: serde_json::Value,
    /// The resources it serves, in name order.
    pub resources: Vec<Resource>,
}

impl GroupVersion {
    /// `apps/v1`, or `v1` for the core group.
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// A Rust module name unique to this group-version: `core_v1`, `apps_v1`, `rbac_authorization_v1`.
    pub fn module_name(&self) -> String {
        let group = if self.group.is_empty() {
            "core".to_string()
        } else {
            self.group
                .trim_end_matches(".k8s.io")
                .replace(['.', '-'], "_")
        };
        format!("{group}_{}", self.version)
    }
}

/// A group, version and kind, as in `x-kubernetes-group-version-kind`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gvk {
    /// API group (empty for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

pub use crate::trim::resource_list::Column;

/// The facts trim adds per resource (`x-k2d-resources`).
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourceFacts {
    /// Singular name.
    #[serde(default)]
    pub singular_name: String,
    /// Short names kubectl accepts.
    #[serde(default)]
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Table columns.
    #[serde(default)]
    pub columns: Vec<Column>,
}

/// A verb of a resource or subresource, in Kubernetes discovery's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// POST on a collection.
    Create,
    /// DELETE on an object.
    Delete,
    /// DELETE on a collection.
    DeleteCollection,
    /// GET on an object.
    Get,
    /// GET on a collection.
    List,
    /// PATCH on an object.
    Patch,
    /// PUT on an object.
    Update,
    /// watch (a `/watch/` path or `?watch=true` on a list).
    Watch,
    /// An upgrade or proxy subresource (exec, attach, portforward).
    Connect,
}

impl Verb {
    /// The discovery name: `create`, `deletecollection`, ...
    pub fn discovery_name(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Patch => "patch",
            Verb::Update => "update",
            Verb::Watch => "watch",
            Verb::Connect => "connect",
        }
    }

    /// The Rust variant name in `crate::api::model::Verb`.
    pub fn variant(self) -> &'static str {
        match self {
            Verb::Create => "Create",
            Verb::Delete => "Delete",
            Verb::DeleteCollection => "DeleteCollection",
            Verb::Get => "Get",
            Verb::List => "List",
            Verb::Patch => "Patch",
            Verb::Update => "Update",
            Verb::Watch => "Watch",
            Verb::Connect => "Connect",
        }
    }

    /// The trait method name for this verb (without subresource suffix).
    pub fn method_name(self) -> &'static str {
        match self {
            Verb::DeleteCollection => "delete_collection",
            other => other.discovery_name(),
        }
    }

    fn from_action(action: &str) -> Option<Verb> {
        Some(match action {
            "post" => Verb::Create,
            "delete" => Verb::Delete,
            "deletecollection" => Verb::DeleteCollection,
            "get" => Verb::Get,
            "list" => Verb::List,
            "patch" => Verb::Patch,
            "put" => Verb::Update,
            "watch" | "watchlist" => Verb::Watch,
            "connect" => Verb::Connect,
            _ => return None,
        })
    }
}

/// A subresource such as `status` or `log`.
pub struct Subresource {
    /// Name, e.g. `status`.
    pub name: String,
    /// The kind its operations answer with (`autoscaling/v1 Scale` for `scale`).
    pub gvk: Gvk,
    /// Its verbs.
    pub verbs: BTreeSet<Verb>,
}

/// A resource of a group-version.
pub struct Resource {
    /// Plural name, e.g. `deployments`.
    pub name: String,
    /// Group-version-kind of the object.
    pub gvk: Gvk,
    /// `true` when the resource lives in namespaces.
    pub namespaced: bool,
    /// Facts from `x-k2d-resources`.
    pub facts: ResourceFacts,
    /// Verbs on the resource itself.
    pub verbs: BTreeSet<Verb>,
    /// Subresources by name.
    pub subresources: BTreeMap<String, Subresource>,
    /// The `components.schemas` name of the kind, e.g. `io.k8s.api.apps.v1.Deployment`.
    pub schema: Option<String>,
    /// The `components.schemas` name of the list kind, when the resource can be listed.
    pub list_schema: Option<String>,
}

/// One path segment of a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A fixed segment.
    Literal(String),
    /// `{namespace}`.
    Namespace,
    /// `{name}`.
    Name,
    /// `{path}` (proxy subresources): the rest of the path.
    Rest,
}

/// One method on one path of the spec.
pub struct Route {
    /// HTTP method in upper case.
    pub method: String,
    /// The path as the spec writes it.
    pub template: String,
    /// Parsed segments.
    pub segments: Vec<Segment>,
    /// Index of the group-version in [`Api::groups`].
    pub group: usize,
    /// Index of the resource in that group-version.
    pub resource: usize,
    /// Subresource name, if any.
    pub subresource: Option<String>,
    /// The verb.
    pub verb: Verb,
    /// `true` for the deprecated `/watch/` paths.
    pub watch_path: bool,
}

/// The whole API surface: every document of `spec/`.
pub struct Api {
    /// Group-versions, in discovery order (see [`super::discovery::group_priority`]).
    pub groups: Vec<GroupVersion>,
    /// Every route of every document.
    pub routes: Vec<Route>,
    /// Files read, for `cargo:rerun-if-changed`.
    pub inputs: Vec<std::path::PathBuf>,
}

/// The segments of a path template.
fn segments(path: &str) -> Vec<Segment> {
    path.split('/')
        .filter(|p| !p.is_empty())
        .map(|p| match p {
            "{namespace}" => Segment::Namespace,
            "{name}" => Segment::Name,
            "{path}" => Segment::Rest,
            lit => Segment::Literal(lit.to_string()),
        })
        .collect()
}

/// What a path of the document addresses; `None` for the group-version's discovery path.
fn target(path: &str, prefix: &str) -> Result<Option<ResourcePath>> {
    match api_path::parse(path, prefix) {
        Some(ApiPath::Discovery) => Ok(None),
        Some(ApiPath::Resource(r)) => Ok(Some(r)),
        None => bail!("path {path} has a shape k2d does not know"),
    }
}

fn operations(item: &PathItem) -> Vec<(&'static str, &Operation)> {
    let mut ops = Vec::new();
    for (method, op) in [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("PATCH", &item.patch),
        ("HEAD", &item.head),
        ("OPTIONS", &item.options),
    ] {
        if let Some(op) = op {
            ops.push((method, op));
        }
    }
    ops
}

fn gvk_of(op: &Operation) -> Option<Gvk> {
    op.extensions
        .get("x-kubernetes-group-version-kind")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The `$ref` target of the 200 (or 201) JSON response of an operation.
fn response_schema(op: &Operation) -> Option<String> {
    for code in [200u16, 201] {
        let Some(ReferenceOr::Item(resp)) = op
            .responses
            .responses
            .get(&openapiv3::StatusCode::Code(code))
        else {
            continue;
        };
        if let Some(media) = resp.content.get("application/json")
            && let Some(ReferenceOr::Reference { reference }) = &media.schema
        {
            return reference
                .strip_prefix("#/components/schemas/")
                .map(str::to_string);
        }
    }
    None
}

/// Reads every document under `spec_dir` (`api/v1.json`, `apis/*/*.json`).
pub fn load(spec_dir: &Path) -> Result<Api> {
    let mut files = Vec::new();
    let core = spec_dir.join("api/v1.json");
    if core.exists() {
        files.push(("".to_string(), "v1".to_string(), core));
    }
    let apis = spec_dir.join("apis");
    if apis.exists() {
        for group in std::fs::read_dir(&apis)? {
            let group = group?;
            if !group.file_type()?.is_dir() {
                continue;
            }
            for version in std::fs::read_dir(group.path())? {
                let version = version?.path();
                if version.extension().is_some_and(|e| e == "json") {
                    let v = version.file_stem().unwrap().to_string_lossy().into_owned();
                    files.push((group.file_name().to_string_lossy().into_owned(), v, version));
                }
            }
        }
    }
    let mut groups = Vec::new();
    let mut inputs = vec![spec_dir.to_path_buf()];
    for (group, version, file) in files {
        inputs.push(file.clone());
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        groups.push(
            load_group_version(group, version, &text)
                .with_context(|| format!("in {}", file.display()))?,
        );
    }
    super::discovery::sort_groups(&mut groups);
    let mut routes = Vec::new();
    for (gi, gv) in groups.iter().enumerate() {
        routes.extend(routes_of(gi, gv)?);
    }
    Ok(Api {
        groups,
        routes,
        inputs,
    })
}

fn load_group_version(group: String, version: String, text: &str) -> Result<GroupVersion> {
    let mut served: serde_json::Value = serde_json::from_str(text)?;
    let openapi: OpenAPI = serde_json::from_str(text)?;
    let facts: BTreeMap<String, ResourceFacts> = match served
        .as_object_mut()
        .and_then(|o| o.remove("x-k2d-resources"))
    {
        Some(v) => serde_json::from_value(v).context("x-k2d-resources")?,
        None => BTreeMap::new(),
    };
    if let Some(obj) = served.as_object_mut() {
        obj.retain(|k, _| !k.starts_with("x-k2d-"));
    }
    let doc_path = if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    };
    let prefix = format!("/{doc_path}");
    let mut resources: BTreeMap<String, Resource> = BTreeMap::new();
    for (path, item) in &openapi.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let Some(target) = target(path, &prefix)? else {
            continue;
        };
        for (_, op) in operations(item) {
            let action = op
                .extensions
                .get("x-kubernetes-action")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let verb = Verb::from_action(action)
                .ok_or_else(|| anyhow!("{path}: unknown x-kubernetes-action {action:?}"))?;
            let gvk = gvk_of(op).ok_or_else(|| {
                anyhow!("{path}: operation without x-kubernetes-group-version-kind")
            })?;
            let res = resources
                .entry(target.resource.clone())
                .or_insert_with(|| Resource {
                    name: target.resource.clone(),
                    gvk: gvk.clone(),
                    namespaced: false,
                    facts: ResourceFacts::default(),
                    verbs: BTreeSet::new(),
                    subresources: BTreeMap::new(),
                    schema: None,
                    list_schema: None,
                });
            match &target.subresource {
                Some(sub) => {
                    let s = res
                        .subresources
                        .entry(sub.clone())
                        .or_insert_with(|| Subresource {
                            name: sub.clone(),
                            gvk: gvk.clone(),
                            verbs: BTreeSet::new(),
                        });
                    s.verbs.insert(verb);
                }
                None => {
                    // The object's own kind wins over whatever a subresource answered with.
                    res.gvk = gvk.clone();
                    res.namespaced |= target.namespaced;
                    res.verbs.insert(verb);
                    match verb {
                        Verb::List if !target.watch => {
                            res.list_schema = res.list_schema.take().or(response_schema(op))
                        }
                        Verb::Get | Verb::Create | Verb::Update => {
                            res.schema = res.schema.take().or(response_schema(op))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    for (name, res) in resources.iter_mut() {
        let mut f = facts.get(name).cloned().unwrap_or_default();
        if f.singular_name.is_empty() {
            f.singular_name = res.gvk.kind.to_lowercase();
        }
        if f.columns.is_empty() {
            f.columns = Column::defaults();
        }
        res.facts = f;
    }
    for name in facts.keys() {
        if !resources.contains_key(name) {
            bail!("x-k2d-resources names {name}, which has no path in the document");
        }
    }
    Ok(GroupVersion {
        group,
        version,
        doc_path,
        openapi,
        served,
        resources: resources.into_values().collect(),
    })
}

fn routes_of(gi: usize, gv: &GroupVersion) -> Result<Vec<Route>> {
    let prefix = format!("/{}", gv.doc_path);
    let mut routes = Vec::new();
    for (path, item) in &gv.openapi.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let Some(target) = target(path, &prefix)? else {
            continue;
        };
        let ri = gv
            .resources
            .iter()
            .position(|r| r.name == target.resource)
            .expect("every path's resource was recorded");
        for (method, op) in operations(item) {
            let action = op
                .extensions
                .get("x-kubernetes-action")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let verb = Verb::from_action(action).expect("checked while loading");
            routes.push(Route {
                method: method.to_string(),
                template: path.clone(),
                segments: segments(path),
                group: gi,
                resource: ri,
                subresource: target.subresource.clone(),
                verb,
                watch_path: target.watch,
            });
        }
    }
    Ok(routes)
}
