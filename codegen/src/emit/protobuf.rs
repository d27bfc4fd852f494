//! Emits the protobuf table (`crate::protobuf::MESSAGES`): every proto
//! message a served definition reaches, with the JSON property and the wire
//! kind of each field, and the (apiVersion, kind) index a codec looks
//! top-level objects up by.
//!
//! JSON names come from the definitions' properties through
//! `Definition::proto_fields`, so a message that only exists in protobuf
//! (the message of a Go struct that JSON flattens, such as `VolumeSource`)
//! gets its names from the definitions that embed it. Every field is checked
//! against the property's swagger schema so that a spec bump that changes a
//! type fails here rather than on the wire.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Definition, Model};
use crate::proto::{ProtoField, ProtoIndex};
use crate::schema::{Schema, SchemaKind};

/// Kinds swagger.json gives no `x-kubernetes-group-version-kind` for that Go
/// clients still send or ask for as protobuf: metadata-only clients (the
/// garbage collector, `kubectl` with `--chunk-size`) and version-neutral
/// delete options. As (apiVersion, kind, proto message).
const EXTRA_KINDS: &[(&str, &str, &str)] = &[
    (
        "meta.k8s.io/v1",
        "DeleteOptions",
        "apimachinery.pkg.apis.meta.v1.DeleteOptions",
    ),
    (
        "meta.k8s.io/v1",
        "PartialObjectMetadata",
        "apimachinery.pkg.apis.meta.v1.PartialObjectMetadata",
    ),
    (
        "meta.k8s.io/v1",
        "PartialObjectMetadataList",
        "apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList",
    ),
];

/// Go types whose proto message is not the shape of their JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    Time,
    MicroTime,
    Quantity,
    IntOrString,
    RawJson,
    SchemaOrArray,
    SchemaOrBool,
    SchemaOrStringArray,
}

fn special(message: &str) -> Option<Special> {
    Some(match message {
        "apimachinery.pkg.apis.meta.v1.Time" => Special::Time,
        "apimachinery.pkg.apis.meta.v1.MicroTime" => Special::MicroTime,
        "apimachinery.pkg.api.resource.Quantity" => Special::Quantity,
        "apimachinery.pkg.util.intstr.IntOrString" => Special::IntOrString,
        "apimachinery.pkg.runtime.RawExtension" | "apimachinery.pkg.apis.meta.v1.FieldsV1" => {
            Special::RawJson
        }
        _ => {
            let (package, name) = message.rsplit_once('.')?;
            if !package.starts_with("apiextensions_apiserver.") {
                return None;
            }
            match name {
                "JSON" => Special::RawJson,
                "JSONSchemaPropsOrArray" => Special::SchemaOrArray,
                "JSONSchemaPropsOrBool" => Special::SchemaOrBool,
                "JSONSchemaPropsOrStringArray" => Special::SchemaOrStringArray,
                _ => return None,
            }
        }
    })
}

/// What JSON shows of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Carries {
    Property(String),
    /// An embedded Go struct: its own fields are properties of this object.
    Embedded,
}

#[derive(Default)]
struct Entry {
    definition: Option<String>,
    fields: BTreeMap<u32, (Carries, ProtoField)>,
}

/// The table, built from the model.
pub struct Table<'a> {
    model: &'a Model,
    protos: &'a ProtoIndex,
    entries: BTreeMap<String, Entry>,
    kinds: BTreeMap<(String, String), String>,
    /// Messages named by no definition that took their JSON names from the proto.
    by_proto_names: Vec<String>,
}

impl<'a> Table<'a> {
    /// Collects every message the model's definitions reach.
    pub fn new(model: &'a Model) -> Result<Table<'a>> {
        let mut table = Table {
            model,
            protos: &model.protos,
            entries: BTreeMap::new(),
            kinds: BTreeMap::new(),
            by_proto_names: Vec::new(),
        };
        let mut pending = Vec::new();
        for def in model.definitions.values() {
            let Some(message) = table.protos.definition_message(&def.name) else {
                continue;
            };
            if special(&message).is_some() {
                continue;
            }
            table.add_definition(def, &message)?;
            pending.push(message.clone());
            for gvk in &def.gvks {
                table.add_kind(&gvk.api_version(), &gvk.kind, &message)?;
            }
        }
        for (api_version, kind, message) in EXTRA_KINDS {
            table.add_kind(api_version, kind, message)?;
            if !table.entries.contains_key(*message) {
                table.add_by_proto_names(message)?;
                pending.push((*message).to_owned());
            }
        }
        // Messages that only proto fields reach (not definitions, not
        // embedded structs) take their JSON names from the proto: go-to-protobuf
        // names fields after the JSON tags.
        while let Some(message) = pending.pop() {
            let targets: Vec<String> = table.entries[&message]
                .fields
                .values()
                .filter_map(|(_, f)| table.message_type(&message, f))
                .collect();
            for target in targets {
                let known = table.entries.contains_key(&target);
                if !known && special(&target).is_none() && !table.is_string_list(&target) {
                    table.add_by_proto_names(&target)?;
                    pending.push(target);
                }
            }
        }
        Ok(table)
    }

    /// The `protobuf` module of the generated crate.
    pub fn tokens(&self) -> Result<TokenStream> {
        let ids: BTreeMap<&str, u32> = self
            .entries
            .keys()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i as u32))
            .collect();
        let mut messages = Vec::new();
        for (name, entry) in &self.entries {
            let mut fields = Vec::new();
            for (number, (carries, field)) in &entry.fields {
                let kind = self
                    .kind(name, field, carries, &ids)
                    .with_context(|| format!("{name} field {number} ({})", field.name))?;
                let shape = match (&field.map_key, field.repeated) {
                    (Some(key), _) if key == "string" => quote!(Shape::Map),
                    (Some(key), _) => bail!("{name}.{}: map key {key} unsupported", field.name),
                    (None, true) => quote!(Shape::Repeated),
                    (None, false) => quote!(Shape::Single),
                };
                let json = match carries {
                    Carries::Property(p) => p.as_str(),
                    Carries::Embedded => "",
                };
                fields.push(
                    quote!(Field { number: #number, json: #json, kind: #kind, shape: #shape }),
                );
            }
            let definition = entry.definition.as_deref().unwrap_or_default();
            messages.push(quote! {
                Message { name: #name, definition: #definition, fields: &[#(#fields),*] }
            });
        }
        let mut by_definition: Vec<(&str, u32)> = self
            .entries
            .iter()
            .filter_map(|(name, e)| Some((e.definition.as_deref()?, ids[name.as_str()])))
            .collect();
        by_definition.sort();
        let definitions = by_definition
            .iter()
            .map(|(d, id)| quote!((#d, MessageId(#id))));
        let kinds = self.kinds.iter().map(|((api_version, kind), message)| {
            let id = ids[message.as_str()];
            quote!((#api_version, #kind, MessageId(#id)))
        });
        Ok(quote! {
            #![doc = " The protobuf form of every kind: see `crate::support::protobuf`."]
            use crate::support::protobuf::{Field, Kind, Message, MessageId, MessageTable, Shape};

            /// Every message a served definition reaches, and the indexes
            /// by definition name and by (apiVersion, kind).
            pub static MESSAGES: MessageTable = MessageTable {
                messages: &[#(#messages),*],
                definitions: &[#(#definitions),*],
                kinds: &[#(#kinds),*],
            };
        })
    }

    fn add_kind(&mut self, api_version: &str, kind: &str, message: &str) -> Result<()> {
        let key = (api_version.to_owned(), kind.to_owned());
        match self.kinds.insert(key, message.to_owned()) {
            Some(other) if other != message => {
                bail!("{api_version} {kind} is both {other} and {message}")
            }
            _ => Ok(()),
        }
    }

    fn add_definition(&mut self, def: &Definition, message: &str) -> Result<()> {
        self.entries
            .entry(message.to_owned())
            .or_default()
            .definition = Some(def.name.clone());
        let SchemaKind::Object { properties, .. } = &def.schema.kind else {
            return Ok(());
        };
        for (property, path) in &def.proto_fields {
            let Some((last, hops)) = path.split_last() else {
                continue;
            };
            let mut current = message.to_owned();
            for &hop in hops {
                let field = self.proto_field(&current, hop)?;
                let inner = self.message_type(&current, &field);
                let inner =
                    inner.with_context(|| format!("{current}.{} is no message", field.name))?;
                self.set(&current, field, Carries::Embedded)?;
                current = inner;
            }
            let field = self.proto_field(&current, *last)?;
            if let Some(schema) = properties.get(property) {
                self.check(&current, &field, schema)
                    .with_context(|| format!("{}.{property}", def.name))?;
            }
            self.set(&current, field, Carries::Property(property.clone()))?;
        }
        Ok(())
    }

    fn add_by_proto_names(&mut self, message: &str) -> Result<()> {
        let fields = self.protos.message(message);
        let fields = fields.with_context(|| format!("no proto message {message}"))?;
        self.by_proto_names.push(message.to_owned());
        let entry = self.entries.entry(message.to_owned()).or_default();
        for f in fields {
            let carries = Carries::Property(f.name.clone());
            entry.fields.insert(f.number, (carries, f.clone()));
        }
        Ok(())
    }

    fn proto_field(&self, message: &str, number: u32) -> Result<ProtoField> {
        let fields = self.protos.message(message);
        let fields = fields.with_context(|| format!("no proto message {message}"))?;
        let field = fields.iter().find(|f| f.number == number);
        field
            .cloned()
            .with_context(|| format!("{message} has no field {number}"))
    }

    fn set(&mut self, message: &str, field: ProtoField, carries: Carries) -> Result<()> {
        let entry = self.entries.entry(message.to_owned()).or_default();
        match entry.fields.get(&field.number) {
            Some((existing, _)) if *existing != carries => bail!(
                "{message} field {} carries both {existing:?} and {carries:?}",
                field.number
            ),
            _ => {
                entry.fields.insert(field.number, (carries, field));
                Ok(())
            }
        }
    }

    /// The full name of the message `field` (of `scope`) holds; `None` for scalars.
    fn message_type(&self, scope: &str, field: &ProtoField) -> Option<String> {
        if scalar(&field.type_name).is_some() {
            return None;
        }
        self.protos.resolve_type(scope, &field.type_name)
    }

    /// go-to-protobuf wraps a named `[]string` as {repeated string items = 1}.
    fn is_string_list(&self, message: &str) -> bool {
        matches!(self.protos.message(message), Some([f])
            if f.name == "items" && f.number == 1 && f.repeated && f.type_name == "string")
    }

    fn kind(
        &self,
        scope: &str,
        field: &ProtoField,
        carries: &Carries,
        ids: &BTreeMap<&str, u32>,
    ) -> Result<TokenStream> {
        if let Some(kind) = scalar(&field.type_name) {
            return Ok(kind);
        }
        let target = self.message_type(scope, field);
        let target = target.with_context(|| format!("unknown type {}", field.type_name))?;
        let id = |name: &str| {
            let id = ids.get(name).copied();
            id.with_context(|| format!("{name} is not in the table"))
        };
        if *carries == Carries::Embedded {
            let id = id(&target)?;
            return Ok(quote!(Kind::Embedded(MessageId(#id))));
        }
        let schema_props = || {
            let package = target.rsplit_once('.').map_or("", |(p, _)| p);
            id(&format!("{package}.JSONSchemaProps"))
        };
        Ok(match special(&target) {
            Some(Special::Time) => quote!(Kind::Time),
            Some(Special::MicroTime) => quote!(Kind::MicroTime),
            Some(Special::Quantity) => quote!(Kind::Quantity),
            Some(Special::IntOrString) => quote!(Kind::IntOrString),
            Some(Special::RawJson) => quote!(Kind::RawJson),
            Some(Special::SchemaOrArray) => {
                let id = schema_props()?;
                quote!(Kind::SchemaOrArray(MessageId(#id)))
            }
            Some(Special::SchemaOrBool) => {
                let id = schema_props()?;
                quote!(Kind::SchemaOrBool(MessageId(#id)))
            }
            Some(Special::SchemaOrStringArray) => {
                let id = schema_props()?;
                quote!(Kind::SchemaOrStringArray(MessageId(#id)))
            }
            None if self.is_string_list(&target) => quote!(Kind::StringList),
            None => {
                let id = id(&target)?;
                quote!(Kind::Message(MessageId(#id)))
            }
        })
    }

    /// Fails when the proto field cannot hold what the swagger schema allows.
    fn check(&self, scope: &str, field: &ProtoField, schema: &Schema) -> Result<()> {
        let json = self.resolved(schema);
        let element = match (&field.map_key, field.repeated, json) {
            (
                Some(_),
                _,
                SchemaKind::Object {
                    additional: Some(values),
                    ..
                },
            ) => values,
            (None, true, SchemaKind::Array(items)) => items,
            (None, false, _) => schema,
            _ => bail!("proto {field:?} but swagger {json:?}"),
        };
        let element = self.resolved(element);
        let target = self.message_type(scope, field);
        let expected = match (scalar_name(&field.type_name), target.as_deref()) {
            (Some("string" | "bytes"), _) => "string",
            (Some("int32" | "int64"), _) => "integer",
            (Some("bool"), _) => "boolean",
            (Some("double"), _) => "number",
            (_, Some(t)) if self.is_string_list(t) => "array",
            (_, Some(t)) => match special(t) {
                Some(Special::Time | Special::MicroTime | Special::Quantity) => "string",
                Some(Special::IntOrString) => "string",
                Some(_) => return Ok(()),
                None => "object",
            },
            _ => bail!("unknown proto type {}", field.type_name),
        };
        let actual = match element {
            SchemaKind::String => "string",
            SchemaKind::Integer => "integer",
            SchemaKind::Boolean => "boolean",
            SchemaKind::Number => "number",
            SchemaKind::Array(_) => "array",
            SchemaKind::Object { .. } => "object",
            SchemaKind::Any | SchemaKind::Ref(_) => expected,
        };
        if expected != actual {
            bail!("proto type {} is not swagger's {actual}", field.type_name);
        }
        Ok(())
    }

    /// The schema kind after following definition references.
    fn resolved<'s>(&'s self, schema: &'s Schema) -> &'s SchemaKind {
        let mut kind = &schema.kind;
        for _ in 0..8 {
            let SchemaKind::Ref(target) = kind else { break };
            match self.model.definitions.get(target) {
                Some(def) => kind = &def.schema.kind,
                None => break,
            }
        }
        kind
    }
}

fn scalar_name(type_name: &str) -> Option<&str> {
    scalar(type_name).map(|_| type_name)
}

fn scalar(type_name: &str) -> Option<TokenStream> {
    Some(match type_name {
        "string" => quote!(Kind::String),
        "int32" => quote!(Kind::Int32),
        "int64" => quote!(Kind::Int64),
        "bool" => quote!(Kind::Bool),
        "double" => quote!(Kind::Double),
        "bytes" => quote!(Kind::Bytes),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Gvk;

    /// The workspace's model, loaded once for every test here.
    fn model() -> &'static Model {
        static MODEL: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        MODEL.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            crate::load_model(&crate::Options::for_workspace(&root)).expect("the model loads")
        })
    }

    fn carries(table: &Table, message: &str, number: u32) -> Option<Carries> {
        let entry = table.entries.get(message)?;
        entry.fields.get(&number).map(|(c, _)| c.clone())
    }

    fn property(name: &str) -> Option<Carries> {
        Some(Carries::Property(name.to_owned()))
    }

    #[test]
    fn embedded_structs_take_their_names_from_the_embedding_definition() {
        let table = Table::new(model()).expect("the table builds");
        let cases = [
            ("api.core.v1.Volume", 2, Some(Carries::Embedded)),
            ("api.core.v1.VolumeSource", 19, property("configMap")),
            (
                "api.core.v1.ConfigMapVolumeSource",
                1,
                Some(Carries::Embedded),
            ),
            ("api.core.v1.LocalObjectReference", 1, property("name")),
            ("api.core.v1.Probe", 1, Some(Carries::Embedded)),
            ("api.core.v1.ProbeHandler", 1, property("exec")),
            ("api.core.v1.EphemeralContainer", 1, Some(Carries::Embedded)),
            ("api.core.v1.EphemeralContainerCommon", 2, property("image")),
            ("api.networking.v1.IngressRule", 2, Some(Carries::Embedded)),
            (
                "api.admissionregistration.v1.Rule",
                1,
                property("apiGroups"),
            ),
            (
                "apimachinery.pkg.apis.meta.v1.ObjectMeta",
                11,
                property("labels"),
            ),
            // Proto-only: apiVersion/kind travel in the envelope.
            ("api.apps.v1.Deployment", 1, property("metadata")),
        ];
        for (message, number, want) in cases {
            assert_eq!(carries(&table, message, number), want, "{message} {number}");
        }
        let swagger_less: Vec<&str> = table
            .entries
            .iter()
            .filter(|(_, e)| e.definition.is_none())
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(swagger_less.contains(&"api.core.v1.VolumeSource"));
        assert!(!swagger_less.contains(&"api.core.v1.LocalObjectReference"));
        assert_eq!(
            table.by_proto_names,
            [
                "apimachinery.pkg.apis.meta.v1.PartialObjectMetadata",
                "apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList"
            ]
        );
    }

    #[test]
    fn every_served_kind_and_its_list_has_a_message() {
        let model = model();
        let table = Table::new(model).expect("the table builds");
        let has = |api_version: &str, kind: &str| {
            table
                .kinds
                .contains_key(&(api_version.to_owned(), kind.to_owned()))
        };
        for r in &model.resources {
            if table.protos.definition_message(&r.definition).is_none() {
                // Only our own groups have no proto (and no protobuf form).
                assert!(
                    r.definition.starts_with("dev.ferrokube."),
                    "{}",
                    r.definition
                );
                continue;
            }
            let api_version = r.gvk.api_version();
            assert!(
                has(&api_version, &r.gvk.kind),
                "{api_version} {}",
                r.gvk.kind
            );
            let list = format!("{}List", r.gvk.kind);
            let listed = r.verbs.contains(&crate::model::Verb::List);
            assert!(!listed || has(&api_version, &list), "{api_version} {list}");
        }
        for (api_version, kind) in [
            ("v1", "Status"),
            ("v1", "DeleteOptions"),
            ("apps/v1", "DeleteOptions"),
            ("meta.k8s.io/v1", "DeleteOptions"),
            ("v1", "WatchEvent"),
            ("meta.k8s.io/v1", "PartialObjectMetadataList"),
        ] {
            assert!(has(api_version, kind), "{api_version} {kind}");
        }
    }

    #[test]
    fn wire_kinds_of_special_types() {
        let table = Table::new(model()).expect("the table builds");
        let text = table.tokens().expect("emits").to_string();
        for want in [
            "json : \"extra\" , kind : Kind :: StringList , shape : Shape :: Map",
            "json : \"verbs\" , kind : Kind :: StringList , shape : Shape :: Single",
            "json : \"creationTimestamp\" , kind : Kind :: Time",
            "json : \"renewTime\" , kind : Kind :: MicroTime",
            "json : \"maxSurge\" , kind : Kind :: IntOrString",
            "json : \"fieldsV1\" , kind : Kind :: RawJson",
            "json : \"binaryData\" , kind : Kind :: Bytes , shape : Shape :: Map",
            "json : \"supplementalGroups\" , kind : Kind :: Int64 , shape : Shape :: Repeated",
            "json : \"additionalProperties\" , kind : Kind :: SchemaOrBool",
        ] {
            assert!(text.contains(want), "{want}");
        }
    }

    #[test]
    fn a_type_swagger_disagrees_with_is_an_error() {
        let mut model = Model::default();
        let proto = "package p; message M { optional int32 a = 1; }";
        model
            .protos
            .add_source("inline.proto", proto)
            .expect("parses");
        let json = serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let definition = Definition {
            name: "p.M".into(),
            schema: Schema::from_json(&json, "#/definitions/").expect("reads"),
            gvks: vec![Gvk {
                group: String::new(),
                version: "v1".into(),
                kind: "M".into(),
            }],
            proto_fields: [("a".to_owned(), vec![1])].into(),
        };
        model.definitions.insert("p.M".into(), definition);
        let err = Table::new(&model).err().map(|e| format!("{e:#}"));
        assert_eq!(
            err.as_deref(),
            Some("p.M.a: proto type int32 is not swagger's string")
        );
    }
}
