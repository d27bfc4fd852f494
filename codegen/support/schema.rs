//! The schema of every generated kind as static data: one flat table of
//! nodes that point at each other by index. Validation, defaulting, pruning,
//! patch strategies and server-side apply all read this one model.

/// Index of a node in a schema table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaId(pub u32);

/// The JSON shape a node accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    /// `x-kubernetes-int-or-string`: an integer or a string.
    IntOrString,
    /// No type constraint (RawExtension, JSON, preserved unknown fields).
    Any,
}

/// `x-kubernetes-list-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    Atomic,
    Set,
    Map,
}

/// `x-kubernetes-map-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapType {
    Atomic,
    Granular,
}

/// One property of an object node.
#[derive(Clone, Copy, Debug)]
pub struct Property {
    pub name: &'static str,
    pub schema: SchemaId,
}

/// One schema node. Named definitions and inline schemas are both nodes.
#[derive(Clone, Copy, Debug)]
pub struct Schema {
    /// Definition name (`io.k8s.api.core.v1.Pod`) for named nodes, else "".
    pub name: &'static str,
    pub ty: Type,
    pub format: Option<&'static str>,
    /// Object properties, sorted by name.
    pub properties: &'static [Property],
    pub required: &'static [&'static str],
    /// Element schema of an array.
    pub items: Option<SchemaId>,
    /// Value schema of a map (`additionalProperties`).
    pub additional_properties: Option<SchemaId>,
    /// Allowed values of a string enum.
    pub enum_values: &'static [&'static str],
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub pattern: Option<&'static str>,
    pub nullable: bool,
    /// JSON text of the `default` value, if the schema declares one.
    pub default: Option<&'static str>,
    pub list_type: Option<ListType>,
    pub list_map_keys: &'static [&'static str],
    pub map_type: Option<MapType>,
    /// `x-kubernetes-patch-strategy`, for example `merge` or `merge,retainKeys`.
    pub patch_strategy: Option<&'static str>,
    pub patch_merge_key: Option<&'static str>,
    pub preserve_unknown_fields: bool,
    pub embedded_resource: bool,
}

impl Schema {
    /// A node that accepts anything; generated nodes override what they declare.
    pub const ANY: Schema = Schema {
        name: "",
        ty: Type::Any,
        format: None,
        properties: &[],
        required: &[],
        items: None,
        additional_properties: None,
        enum_values: &[],
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        min_length: None,
        max_length: None,
        min_items: None,
        max_items: None,
        min_properties: None,
        max_properties: None,
        pattern: None,
        nullable: false,
        default: None,
        list_type: None,
        list_map_keys: &[],
        map_type: None,
        patch_strategy: None,
        patch_merge_key: None,
        preserve_unknown_fields: false,
        embedded_resource: false,
    };

    /// The property called `name`, if this object node declares one.
    pub fn property(&self, name: &str) -> Option<SchemaId> {
        self.properties
            .binary_search_by(|p| p.name.cmp(name))
            .ok()
            .map(|i| self.properties[i].schema)
    }
}

/// A table of schema nodes; `SchemaId`s index into it.
#[derive(Clone, Copy, Debug)]
pub struct SchemaTable {
    pub nodes: &'static [Schema],
}

impl SchemaTable {
    pub fn get(&self, id: SchemaId) -> &'static Schema {
        &self.nodes[id.0 as usize]
    }
}
