//! What the server knows about each kind and resource without reading any
//! spec at run time: the route table entries and the `Kind` trait.

use super::schema::SchemaId;

/// A generated type that is the wire form of one kind.
pub trait Kind {
    /// API group, "" for the core group.
    const GROUP: &'static str;
    const VERSION: &'static str;
    const KIND: &'static str;
    /// `apps/v1`, or `v1` for the core group.
    const API_VERSION: &'static str;
}

/// A REST verb, spelled as RBAC and discovery spell it.
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
    /// The discovery spelling (`deletecollection`, ...).
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
}

/// A kind named by group, version and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupVersionKind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

/// A subresource such as `pods/status` or `deployments/scale`.
#[derive(Clone, Copy, Debug)]
pub struct SubresourceDescriptor {
    pub name: &'static str,
    /// The kind read and written through it.
    pub kind: Option<GroupVersionKind>,
    pub verbs: &'static [Verb],
    /// Streaming subresources (exec, attach, portforward, proxy) that
    /// upgrade or proxy the connection instead of exchanging an object.
    pub connect: bool,
}

/// A column of the server-side Table printing that `kubectl get` shows.
#[derive(Clone, Copy, Debug)]
pub struct PrinterColumn {
    pub name: &'static str,
    /// OpenAPI type of the cell: string, integer, number, boolean, date.
    pub ty: &'static str,
    /// OpenAPI format hint, for example `name` for the first column.
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for default columns, 1 and up for `-o wide`.
    pub priority: i32,
    /// Where the cell comes from; `None` when a hand-written printer
    /// computes it (a pod's READY, say).
    pub json_path: Option<&'static str>,
}

/// An API group and the versions it serves, most preferred first.
#[derive(Clone, Copy, Debug)]
pub struct GroupDescriptor {
    /// "" for the core group.
    pub name: &'static str,
    pub versions: &'static [&'static str],
}

impl GroupDescriptor {
    /// The version clients should use when they have no preference.
    pub fn preferred_version(&self) -> &'static str {
        self.versions.first().copied().unwrap_or_default()
    }
}

/// One resource in one group/version: an entry of the route table.
#[derive(Clone, Copy, Debug)]
pub struct ResourceDescriptor {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub verbs: &'static [Verb],
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub subresources: &'static [SubresourceDescriptor],
    /// The version objects of this group/resource are stored in.
    pub storage_version: &'static str,
    /// Discovery's `storageVersionHash`: a digest of the storage
    /// group/version/kind that tells clients when the stored form changes.
    /// `None` for resources that are never stored (reviews, bindings).
    pub storage_version_hash: Option<&'static str>,
    /// The OpenAPI definition of the kind, such as `io.k8s.api.apps.v1.Deployment`.
    pub definition: &'static str,
    /// Root of the kind's schema in `crate::SCHEMAS`.
    pub schema: SchemaId,
    /// Field selectors beyond `metadata.name` and `metadata.namespace`.
    pub field_selectors: &'static [&'static str],
    pub printer_columns: &'static [PrinterColumn],
}

impl ResourceDescriptor {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether the resource answers `verb`.
    pub fn supports(&self, verb: Verb) -> bool {
        self.verbs.contains(&verb)
    }

    /// The subresource called `name`, if the resource has it.
    pub fn subresource(&self, name: &str) -> Option<&'static SubresourceDescriptor> {
        self.subresources.iter().find(|s| s.name == name)
    }
}
