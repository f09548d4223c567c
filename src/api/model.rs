//! The types the generated tables are made of (see `crate::generated`). Hand-written so that the
//! generated code stays plain data and the API machinery can use the types directly.

/// A verb of the Kubernetes API, as discovery names it (plus `Connect` for upgrade subresources).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// A watch: `/watch/` paths, or `?watch=true` on a list.
    Watch,
    /// An upgrade subresource (exec, attach, portforward).
    Connect,
}

impl Verb {
    /// The discovery name (`create`, `deletecollection`, ...).
    pub fn as_str(self) -> &'static str {
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

    /// `true` for verbs that change something.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Delete | Verb::DeleteCollection | Verb::Patch | Verb::Update
        )
    }
}

/// A Table column of a resource (`kubectl get`).
#[derive(Debug)]
pub struct Column {
    /// Column title.
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub ty: &'static str,
    /// Format hint, e.g. `name`.
    pub format: &'static str,
    /// 0 = always shown, 1 = only with `-o wide`.
    pub priority: u8,
    /// CRD-style JSONPath of the value.
    pub json_path: &'static str,
}

/// A resource k2d serves.
#[derive(Debug)]
pub struct ResourceInfo {
    /// Index into `GROUP_VERSIONS`.
    pub group_version: u16,
    /// API group, empty for core.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural name.
    pub name: &'static str,
    /// Kind of the objects.
    pub kind: &'static str,
    /// Kind of the lists.
    pub list_kind: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Lives in namespaces.
    pub namespaced: bool,
    /// Short names.
    pub short_names: &'static [&'static str],
    /// Categories.
    pub categories: &'static [&'static str],
    /// Verbs on the resource itself.
    pub verbs: &'static [Verb],
    /// Subresource names.
    pub subresources: &'static [&'static str],
    /// Table columns.
    pub columns: &'static [Column],
    /// Index of the kind's schema in `SCHEMAS`.
    pub schema: Option<usize>,
}

impl ResourceInfo {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or `pods` for the core group: how messages name a resource.
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{}", self.name, self.group)
        }
    }
}

/// One method on one path of the spec.
#[derive(Debug)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path template as the spec writes it.
    pub path: &'static str,
    /// Index into `RESOURCES`.
    pub resource: u16,
    /// Subresource, if any.
    pub subresource: Option<&'static str>,
    /// The verb.
    pub verb: Verb,
    /// A deprecated `/watch/` path.
    pub watch_path: bool,
}

/// What the generated path matcher found.
#[derive(Debug)]
pub struct PathMatch<'a> {
    /// Indices into `ROUTES` of the methods of this path.
    pub routes: &'static [u16],
    /// The `{namespace}` segment.
    pub namespace: Option<&'a str>,
    /// The `{name}` segment.
    pub name: Option<&'a str>,
}

/// A group-version k2d serves, with its embedded documents.
#[derive(Debug)]
pub struct GroupVersionInfo {
    /// API group, empty for core.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// `api/v1` or `apis/<group>/<version>`.
    pub doc_path: &'static str,
    /// Upper-case hex SHA-512 of the OpenAPI v3 document.
    pub openapi_hash: &'static str,
    /// The OpenAPI v3 document, gzip-compressed.
    pub openapi_gzip: &'static [u8],
    /// The legacy `APIResourceList`.
    pub resource_list: &'static [u8],
}

impl GroupVersionInfo {
    /// The OpenAPI v3 document, uncompressed (for the rare client that does not accept gzip).
    pub fn openapi(&self) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(self.openapi_gzip)
            .read_to_end(&mut out)
            .expect("the build embedded valid gzip");
        out
    }
}

/// The discovery documents that do not depend on the request.
#[derive(Debug)]
pub struct DiscoveryDocs {
    /// `/api` as `apidiscovery.k8s.io/v2`.
    pub api_v2: &'static [u8],
    /// `/apis` as `apidiscovery.k8s.io/v2`.
    pub apis_v2: &'static [u8],
    /// `/api` as `apidiscovery.k8s.io/v2beta1`.
    pub api_v2beta1: &'static [u8],
    /// `/apis` as `apidiscovery.k8s.io/v2beta1`.
    pub apis_v2beta1: &'static [u8],
    /// `/apis` as a legacy `APIGroupList`.
    pub apis: &'static [u8],
}

/// The type of a field in the schema model.
#[derive(Debug)]
pub enum Ty {
    /// A string (also dates, bytes, quantities).
    String,
    /// An integer.
    Integer,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// Integer or string.
    IntOrString,
    /// Anything (unknown fields preserved).
    Any,
    /// An object: index into `SCHEMAS`.
    Object(usize),
    /// A list.
    Array(&'static Ty),
    /// A map with string keys.
    Map(&'static Ty),
}

/// A field of an object schema, with its strategic-merge metadata.
#[derive(Debug)]
pub struct Field {
    /// JSON name.
    pub name: &'static str,
    /// Type.
    pub ty: Ty,
    /// Required by the schema.
    pub required: bool,
    /// `x-kubernetes-patch-strategy`, or empty.
    pub patch_strategy: &'static str,
    /// `x-kubernetes-patch-merge-key`, or empty.
    pub merge_key: &'static str,
    /// `x-kubernetes-list-type`, or empty.
    pub list_type: &'static str,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: &'static [&'static str],
    /// `x-kubernetes-map-type`, or empty.
    pub map_type: &'static str,
    /// The schema's `default` as compact JSON (`{}` for the non-pointer structs of the Go
    /// types), or empty.
    pub default: &'static str,
}

/// An object schema.
#[derive(Debug)]
pub struct Schema {
    /// `components.schemas` name.
    pub name: &'static str,
    /// Fields sorted by name.
    pub fields: &'static [Field],
    /// (group, version, kind) this schema is the top level of.
    pub gvks: &'static [(&'static str, &'static str, &'static str)],
    /// `x-kubernetes-map-type: atomic`: objects of this schema are replaced as a whole.
    pub atomic: bool,
}

impl Schema {
    /// The field with this JSON name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields
            .binary_search_by(|f| f.name.cmp(name))
            .ok()
            .map(|i| &self.fields[i])
    }
}
