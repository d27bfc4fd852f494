//! Server-side printing: the `meta.k8s.io/v1` `Table` a client gets for
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, which is what
//! `kubectl get` asks for.
//!
//! Start at [`table`]. Columns are the resource's generated
//! `printer_columns` (from `specs/overlays`). A column with a JSON path is
//! copied from the object; the others are computed by a hand-written
//! printer per `(group, plural)`, one module per API group, after
//! upstream's `pkg/printers/internalversion/printers.go`. Every version of a
//! resource shares its printer: objects of a version whose JSON form
//! differs from the storage version's (a conversion hook) are converted to
//! the storage version first, so printers read one shape, as upstream's
//! read the internal version. Resources without columns get upstream's
//! default table (`Name`, `Created At`).
//!
//! A computed column nobody has written a printer for yet reads
//! "<unknown>"; `tests::UNPRINTED` lists every such column so the gap stays
//! visible.

mod admissionregistration;
mod age;
mod apiregistration;
mod apps;
mod autoscaling;
mod batch;
mod certificates;
mod core;
mod discovery;
mod events;
mod flowcontrol;
mod format;
mod internal;
mod networking;
mod pod;
mod policy;
mod rbac;
mod resource;
mod storage;
mod value;
mod writer;

#[cfg(test)]
mod tests;

pub use autoscaling::scale_table;
pub(crate) use writer::write_json;
pub use writer::{Printable, TableWriter};

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use generated::conversions::kind_conversions;
use generated::support::conversion::Conversion;
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::meta::{PrinterColumn, ResourceDescriptor};
use serde_json::{Map, Value, json};

use crate::conversion;

/// `metav1.ObjectMeta`'s documentation of `name`: the description of every
/// Name column, the default table's included.
pub const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// `metav1.ObjectMeta`'s documentation of `creationTimestamp`: the
/// description of every Age column and of the default table's Created At.
pub const CREATION_TIMESTAMP_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The list metadata a table carries (`metav1.ListMeta`). Empty strings and
/// `None` are left out of the JSON, as upstream's `omitempty` does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableListMeta {
    /// The list's resource version; for a single object, the object's.
    pub resource_version: String,
    /// The `continue` token of a paged list.
    pub continue_token: String,
    /// How many items a paged list has left.
    pub remaining_item_count: Option<i64>,
}

impl TableListMeta {
    /// The metadata of a list object (`{"metadata": {"resourceVersion", "continue", ...}}`).
    pub fn of_list(list: &Value) -> TableListMeta {
        TableListMeta {
            resource_version: value::str_at(list, &["metadata", "resourceVersion"]).to_owned(),
            continue_token: value::str_at(list, &["metadata", "continue"]).to_owned(),
            remaining_item_count: value::opt_int(list, &["metadata", "remainingItemCount"]),
        }
    }

    /// The metadata upstream gives the table of one object: its resource version.
    pub fn of_object(object: &Value) -> TableListMeta {
        TableListMeta {
            resource_version: value::str_at(object, &["metadata", "resourceVersion"]).to_owned(),
            ..TableListMeta::default()
        }
    }

    fn to_json(&self) -> Value {
        let mut meta = Map::new();
        if !self.resource_version.is_empty() {
            meta.insert("resourceVersion".into(), json!(self.resource_version));
        }
        if !self.continue_token.is_empty() {
            meta.insert("continue".into(), json!(self.continue_token));
        }
        if let Some(count) = self.remaining_item_count {
            meta.insert("remainingItemCount".into(), json!(count));
        }
        Value::Object(meta)
    }
}

/// What each row carries as `object`: the `includeObject` query parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// `None`: no object (`"object": null`).
    None,
    /// `Metadata`, the default: a `PartialObjectMetadata` with the
    /// object's metadata.
    #[default]
    Metadata,
    /// `Object`: the whole object, in the version requested.
    Object,
}

/// An `includeObject` value upstream does not accept. The message is the
/// one a `400 BadRequest` carries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Unable to convert to Table as requested: {0}")]
pub struct InvalidIncludeObject(String);

impl IncludeObject {
    /// Parses the `includeObject` query parameter; absent or empty is `Metadata`.
    pub fn from_query(value: Option<&str>) -> Result<IncludeObject, InvalidIncludeObject> {
        match value.unwrap_or_default() {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(InvalidIncludeObject(
                FieldError::invalid(
                    &FieldPath::new("includeObject"),
                    other,
                    "must be 'Metadata', 'Object', 'None', or empty",
                )
                .to_string(),
            )),
        }
    }
}

/// Prints the Table of objects of one resource row by row (one object for
/// a single GET, every item for a list), as kube-apiserver builds it with
/// wide output (servers always print every column): column definitions,
/// one row of cells per object, each row's object as `include` says, and
/// ages counted up to `now`. Objects are in the resource's version.
pub struct TablePrinter {
    resource: &'static ResourceDescriptor,
    /// The resource's hand-written printer, if it has one.
    printer: Option<&'static Printer>,
    context: Context,
    writer: TableWriter,
}

impl TablePrinter {
    /// Starts the table; `headers` false leaves the column definitions
    /// out, as upstream does for every watch event after the first.
    pub fn new(
        resource: &'static ResourceDescriptor,
        list_meta: &TableListMeta,
        include: IncludeObject,
        now: DateTime<Utc>,
        headers: bool,
    ) -> TablePrinter {
        let columns = headers.then(|| columns(resource));
        TablePrinter {
            resource,
            printer: printer(resource.group, resource.plural),
            context: Context { now },
            writer: TableWriter::new(columns.as_deref(), list_meta, include),
        }
    }

    /// Prints the row of one object.
    pub fn print(&mut self, object: &impl Printable) {
        let printed = object.printed();
        if self.resource.printer_columns.is_empty() {
            self.writer.row(&default_cells(printed), &[], object);
        } else {
            let (cells, conditions) =
                printed_cells(self.resource, self.printer, printed, &self.context);
            self.writer.row(&cells, &conditions, object);
        }
    }

    /// The finished table's JSON.
    pub fn finish(self) -> Vec<u8> {
        self.writer.finish()
    }
}

/// The column definitions of `resource`'s tables.
fn columns(resource: &ResourceDescriptor) -> Vec<Value> {
    if resource.printer_columns.is_empty() {
        default_columns()
    } else {
        resource.printer_columns.iter().map(column_json).collect()
    }
}

/// What printers know besides the object.
pub(crate) struct Context {
    /// The time ages are counted up to.
    pub(crate) now: DateTime<Utc>,
}

impl Context {
    /// `translateTimestampSince` of a timestamp field.
    pub(crate) fn age(&self, timestamp: Option<&Value>) -> String {
        age::since(timestamp, self.now)
    }

    /// How long ago a (non-zero) time was.
    pub(crate) fn ago(&self, then: DateTime<Utc>) -> String {
        age::ago(then, self.now)
    }
}

/// The cells a hand-written printer computes for one object, by column
/// name; columns with a JSON path and the Age column are filled generically.
#[derive(Debug, Default)]
pub(crate) struct Cells {
    named: Vec<(&'static str, Value)>,
    /// Cells upstream appends beyond its declared columns.
    extra: Vec<Value>,
    /// `TableRow.conditions`.
    conditions: Vec<Value>,
}

impl Cells {
    /// No cells yet.
    pub(crate) fn new() -> Cells {
        Cells::default()
    }

    /// Sets the cell of `column`.
    pub(crate) fn cell(mut self, column: &'static str, value: impl Into<Value>) -> Cells {
        self.named.push((column, value.into()));
        self
    }

    /// Appends a cell that no column declares (upstream's IPAddress
    /// printer prints an age its columns do not mention).
    pub(crate) fn extra_cell(mut self, value: impl Into<Value>) -> Cells {
        self.extra.push(value.into());
        self
    }

    /// Adds a row condition (`{"type": "Completed", ...}`).
    pub(crate) fn condition(mut self, condition: Value) -> Cells {
        self.conditions.push(condition);
        self
    }

    fn take(&mut self, column: &str) -> Option<Value> {
        self.named
            .iter_mut()
            .find(|(name, _)| *name == column)
            .map(|(_, value)| value.take())
    }
}

/// A hand-written printer of one resource.
pub(crate) struct Printer {
    /// API group, "" for the core group.
    pub(crate) group: &'static str,
    /// The resource's plural name.
    pub(crate) plural: &'static str,
    /// Computes the cells of the columns that have no JSON path.
    pub(crate) print: fn(&Value, &Context) -> Cells,
}

/// Every group's printers.
const PRINTERS: &[&[Printer]] = &[
    admissionregistration::PRINTERS,
    apiregistration::PRINTERS,
    apps::PRINTERS,
    autoscaling::PRINTERS,
    batch::PRINTERS,
    certificates::PRINTERS,
    core::PRINTERS,
    discovery::PRINTERS,
    events::PRINTERS,
    flowcontrol::PRINTERS,
    internal::PRINTERS,
    networking::PRINTERS,
    pod::PRINTERS,
    policy::PRINTERS,
    rbac::PRINTERS,
    resource::PRINTERS,
    storage::PRINTERS,
];

/// The hand-written printer of `group`/`plural`, if there is one.
fn printer(group: &str, plural: &str) -> Option<&'static Printer> {
    PRINTERS
        .iter()
        .flat_map(|printers| printers.iter())
        .find(|p| p.group == group && p.plural == plural)
}

/// The row cells of `object` and its row conditions.
fn printed_cells(
    resource: &ResourceDescriptor,
    printer: Option<&Printer>,
    object: &Value,
    context: &Context,
) -> (Vec<Value>, Vec<Value>) {
    let mut computed = printer
        .map(|p| (p.print)(&storage_form(resource, object), context))
        .unwrap_or_default();
    let mut cells: Vec<Value> = resource
        .printer_columns
        .iter()
        .map(|column| match column.json_path {
            Some(path) => value::json_path_cell(resource, path, object),
            None => computed
                .take(column.name)
                .or_else(|| age_cell(column, object, context))
                .unwrap_or_else(|| json!("<unknown>")),
        })
        .collect();
    cells.append(&mut computed.extra);
    (cells, computed.conditions)
}

/// Every Age column upstream prints is `translateTimestampSince` of the
/// creation timestamp, so no printer needs to say it.
fn age_cell(column: &PrinterColumn, object: &Value, context: &Context) -> Option<Value> {
    (column.name == "Age")
        .then(|| json!(context.age(value::get_path(object, &["metadata", "creationTimestamp"]))))
}

/// `object` in the shape printers read: the storage version's, when the
/// requested version's JSON form differs from it. Printing is best effort,
/// so an object the conversion hook rejects is printed as it is.
fn storage_form<'a>(resource: &ResourceDescriptor, object: &'a Value) -> Cow<'a, Value> {
    let Some(conversions) = kind_conversions(resource.group, resource.kind) else {
        return Cow::Borrowed(object);
    };
    let Some(Conversion::Hook { name, .. }) = conversions.conversion(resource.version) else {
        return Cow::Borrowed(object);
    };
    conversion::hook(name)
        .and_then(|hook| {
            hook(
                object.clone(),
                resource.version,
                conversions.storage_version,
            )
            .ok()
        })
        .map_or(Cow::Borrowed(object), Cow::Owned)
}

fn column_json(column: &PrinterColumn) -> Value {
    json!({
        "name": column.name,
        "type": column.ty,
        "format": column.format,
        "description": column.description,
        "priority": column.priority,
    })
}

/// The columns of upstream's `DefaultTableConvertor`.
fn default_columns() -> Vec<Value> {
    vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DESCRIPTION, "priority": 0}),
        json!({"name": "Created At", "type": "date", "format": "", "description": CREATION_TIMESTAMP_DESCRIPTION, "priority": 0}),
    ]
}

/// The default table's cells: the name and the creation time in RFC 3339
/// (Go's zero time when there is none, as upstream formats it).
fn default_cells(object: &Value) -> Vec<Value> {
    let created = age::timestamp(value::get_path(object, &["metadata", "creationTimestamp"]))
        .map_or_else(
            || "0001-01-01T00:00:00Z".to_owned(),
            |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
        );
    vec![
        json!(value::str_at(object, &["metadata", "name"])),
        json!(created),
    ]
}
