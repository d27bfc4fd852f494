//! The intermediate model every emitter reads: definitions (named schemas)
//! and the resources served over REST, whatever document they came from.

use std::collections::{BTreeMap, BTreeSet};

use crate::schema::Schema;

/// Group, version and kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A named schema, such as `io.k8s.api.apps.v1.Deployment`.
#[derive(Clone, Debug)]
pub struct Definition {
    pub name: String,
    pub schema: Schema,
    /// The kinds this definition is the wire form of (`x-kubernetes-group-version-kind`).
    pub gvks: Vec<Gvk>,
    /// Protobuf field path of each property, when the definition has a
    /// message: one number, or several where Go embeds a struct that JSON
    /// flattens (`EphemeralContainer.image` is field 2 of field 1).
    pub proto_fields: BTreeMap<String, Vec<u32>>,
}

/// A REST verb, as RBAC and discovery spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Create,
    Delete,
    DeleteCollection,
    Get,
    List,
    Patch,
    Update,
    Watch,
}

impl Verb {
    /// The discovery spelling.
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
        }
    }

    /// Parses the discovery spelling.
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "create" => Verb::Create,
            "delete" => Verb::Delete,
            "deletecollection" => Verb::DeleteCollection,
            "get" => Verb::Get,
            "list" => Verb::List,
            "patch" => Verb::Patch,
            "update" => Verb::Update,
            "watch" => Verb::Watch,
            _ => return None,
        })
    }
}

/// A subresource such as `pods/status` or `deployments/scale`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subresource {
    pub name: String,
    /// The kind read and written through it (`autoscaling/v1 Scale` for scale).
    pub kind: Option<Gvk>,
    pub verbs: BTreeSet<Verb>,
    /// Streaming subresources (exec, attach, portforward, proxy) upgrade or
    /// proxy the connection instead of reading and writing an object.
    pub connect: bool,
}

/// A field selector a kind supports beyond `metadata.name`/`metadata.namespace`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSelector {
    pub label: String,
}

/// A column of the server-side Table printing (`kubectl get`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub format: String,
    pub description: String,
    #[serde(default)]
    pub priority: i32,
    /// Where the cell comes from. Columns upstream computes in Go code
    /// (a pod's READY, say) leave it out and get a hand-written printer.
    #[serde(default, rename = "jsonPath")]
    pub json_path: Option<String>,
}

/// A resource served over REST in one group/version.
#[derive(Clone, Debug)]
pub struct Resource {
    pub gvk: Gvk,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub verbs: BTreeSet<Verb>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Vec<Subresource>,
    /// The definition holding the kind's schema.
    pub definition: String,
    /// The version objects of this group/resource are stored in.
    pub storage_version: String,
    pub field_selectors: Vec<FieldSelector>,
    pub printer_columns: Vec<PrinterColumn>,
}

/// An API group and the versions it serves, most preferred first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// "" for the core group.
    pub name: String,
    pub versions: Vec<String>,
}

/// Everything the emitters need.
#[derive(Debug, Default)]
pub struct Model {
    /// Every group with resources: the core group first, then named groups
    /// in upstream's discovery priority order, then our own groups by name.
    pub groups: Vec<Group>,
    pub definitions: BTreeMap<String, Definition>,
    /// Sorted by group, version, plural.
    pub resources: Vec<Resource>,
    /// Upstream's swagger.json as read: the OpenAPI documents serve it as
    /// is, without the overlays applied to `definitions`.
    pub upstream_openapi: serde_json::Value,
    /// Every upstream proto message, for the protobuf table.
    pub protos: crate::proto::ProtoIndex,
}

impl Model {
    /// Group/versions with at least one resource, sorted.
    pub fn group_versions(&self) -> BTreeSet<(String, String)> {
        self.resources
            .iter()
            .map(|r| (r.gvk.group.clone(), r.gvk.version.clone()))
            .collect()
    }
}
