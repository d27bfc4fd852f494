//! Flattens every definition's schema into one static table of nodes that
//! refer to each other by index (`crate::SCHEMAS`). Named definitions take
//! the first indexes, in name order, so a definition's id is stable.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Model;
use crate::schema::{Schema, SchemaKind};

/// Definition name -> node index.
pub type DefinitionIds = BTreeMap<String, u32>;

/// The flattened table and the index of each named definition.
pub struct Table {
    nodes: Vec<TokenStream>,
    pub ids: DefinitionIds,
}

impl Table {
    /// Flattens every definition of the model.
    pub fn new(model: &Model) -> Table {
        let ids: DefinitionIds = model
            .definitions
            .keys()
            .enumerate()
            .map(|(i, name)| (name.clone(), i as u32))
            .collect();
        let mut table = Table {
            nodes: vec![TokenStream::new(); ids.len()],
            ids,
        };
        for (name, def) in &model.definitions {
            let id = table.ids[name];
            let node = table.node(&def.schema, name, model);
            table.nodes[id as usize] = node;
        }
        table
    }

    /// The `SCHEMAS` static and the `DEFINITIONS` index.
    pub fn tokens(&self) -> TokenStream {
        let nodes = &self.nodes;
        let entries = self
            .ids
            .iter()
            .map(|(name, id)| quote!((#name, SchemaId(#id))));
        quote! {
            use crate::support::schema::{ListType, MapType, Property, Schema, SchemaId, SchemaTable, Type};

            /// Every schema node of every definition.
            pub static SCHEMAS: SchemaTable = SchemaTable { nodes: &[#(#nodes),*] };

            /// Definition name -> its root node in `SCHEMAS`, sorted by name.
            pub static DEFINITIONS: &[(&str, SchemaId)] = &[#(#entries),*];

            /// The root node of a definition such as `io.k8s.api.core.v1.Pod`.
            pub fn definition(name: &str) -> Option<SchemaId> {
                DEFINITIONS
                    .binary_search_by(|(n, _)| (*n).cmp(name))
                    .ok()
                    .map(|i| DEFINITIONS[i].1)
            }
        }
    }

    /// Index of the node for `schema` as a child, pushing inline nodes.
    fn child(&mut self, schema: &Schema, model: &Model) -> u32 {
        if let SchemaKind::Ref(target) = &schema.kind {
            let id = self.ids.get(target).copied().unwrap_or(u32::MAX);
            // A reference that adds its own extensions (a patch strategy on a
            // struct field, say) needs a copy of the target that carries them.
            if !carries_extensions(schema) {
                return id;
            }
            if let Some(def) = model.definitions.get(target) {
                let mut merged = def.schema.clone();
                merge_extensions(&mut merged, schema);
                return self.push(&merged, target, model);
            }
            return id;
        }
        self.push(schema, "", model)
    }

    fn push(&mut self, schema: &Schema, name: &str, model: &Model) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(TokenStream::new());
        let node = self.node(schema, name, model);
        self.nodes[id as usize] = node;
        id
    }

    fn node(&mut self, schema: &Schema, name: &str, model: &Model) -> TokenStream {
        let mut fields = Vec::new();
        if !name.is_empty() {
            fields.push(quote!(name: #name));
        }
        let ty = match &schema.kind {
            SchemaKind::Ref(_) => quote!(Any),
            SchemaKind::Object {
                properties,
                required,
                additional,
            } => {
                let props: Vec<TokenStream> = properties
                    .iter()
                    .map(|(prop, s)| {
                        let id = self.child(s, model);
                        quote!(Property { name: #prop, schema: SchemaId(#id) })
                    })
                    .collect();
                if !props.is_empty() {
                    fields.push(quote!(properties: &[#(#props),*]));
                }
                if !required.is_empty() {
                    fields.push(quote!(required: &[#(#required),*]));
                }
                if let Some(values) = additional {
                    let id = self.child(values, model);
                    fields.push(quote!(additional_properties: Some(SchemaId(#id))));
                }
                quote!(Object)
            }
            SchemaKind::Array(items) => {
                let id = self.child(items, model);
                fields.push(quote!(items: Some(SchemaId(#id))));
                quote!(Array)
            }
            SchemaKind::String if schema.extensions.int_or_string => quote!(IntOrString),
            SchemaKind::String => quote!(String),
            SchemaKind::Integer => quote!(Integer),
            SchemaKind::Number => quote!(Number),
            SchemaKind::Boolean => quote!(Boolean),
            SchemaKind::Any => quote!(Any),
        };
        fields.push(quote!(ty: Type::#ty));
        fields.extend(constraint_fields(schema));
        quote!(Schema { #(#fields,)* ..Schema::ANY })
    }
}

fn constraint_fields(schema: &Schema) -> Vec<TokenStream> {
    let c = &schema.constraints;
    let e = &schema.extensions;
    let mut fields = Vec::new();
    let opt_str = |v: &Option<String>| v.as_ref().map(|s| quote!(Some(#s)));
    let opt_u64 = |v: Option<u64>| v.map(|n| quote!(Some(#n)));
    let opt_f64 = |v: Option<f64>| v.map(|n| quote!(Some(#n)));
    let mut set = |name: &str, value: Option<TokenStream>| {
        if let Some(value) = value {
            let name = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
            fields.push(quote!(#name: #value));
        }
    };
    set("format", opt_str(&schema.format));
    if !c.enum_values.is_empty() {
        let values = &c.enum_values;
        set("enum_values", Some(quote!(&[#(#values),*])));
    }
    set("minimum", opt_f64(c.minimum));
    set("maximum", opt_f64(c.maximum));
    set(
        "exclusive_minimum",
        c.exclusive_minimum.then(|| quote!(true)),
    );
    set(
        "exclusive_maximum",
        c.exclusive_maximum.then(|| quote!(true)),
    );
    set("min_length", opt_u64(c.min_length));
    set("max_length", opt_u64(c.max_length));
    set("min_items", opt_u64(c.min_items));
    set("max_items", opt_u64(c.max_items));
    set("min_properties", opt_u64(c.min_properties));
    set("max_properties", opt_u64(c.max_properties));
    set("pattern", opt_str(&c.pattern));
    set("nullable", schema.nullable.then(|| quote!(true)));
    set(
        "default",
        schema.default.as_ref().map(|d| {
            let text = d.to_string();
            quote!(Some(#text))
        }),
    );
    set(
        "list_type",
        e.list_type.as_deref().and_then(|t| match t {
            "atomic" => Some(quote!(Some(ListType::Atomic))),
            "set" => Some(quote!(Some(ListType::Set))),
            "map" => Some(quote!(Some(ListType::Map))),
            _ => None,
        }),
    );
    if !e.list_map_keys.is_empty() {
        let keys = &e.list_map_keys;
        set("list_map_keys", Some(quote!(&[#(#keys),*])));
    }
    set(
        "map_type",
        e.map_type.as_deref().and_then(|t| match t {
            "atomic" => Some(quote!(Some(MapType::Atomic))),
            "granular" => Some(quote!(Some(MapType::Granular))),
            _ => None,
        }),
    );
    set("patch_strategy", opt_str(&e.patch_strategy));
    set("patch_merge_key", opt_str(&e.patch_merge_key));
    set(
        "preserve_unknown_fields",
        e.preserve_unknown_fields.then(|| quote!(true)),
    );
    set(
        "embedded_resource",
        e.embedded_resource.then(|| quote!(true)),
    );
    fields
}

fn carries_extensions(schema: &Schema) -> bool {
    let e = &schema.extensions;
    e.list_type.is_some()
        || e.map_type.is_some()
        || e.patch_strategy.is_some()
        || e.patch_merge_key.is_some()
        || schema.default.is_some()
}

fn merge_extensions(target: &mut Schema, from: &Schema) {
    let (t, f) = (&mut target.extensions, &from.extensions);
    t.list_type = f.list_type.clone().or(t.list_type.take());
    t.map_type = f.map_type.clone().or(t.map_type.take());
    t.patch_strategy = f.patch_strategy.clone().or(t.patch_strategy.take());
    t.patch_merge_key = f.patch_merge_key.clone().or(t.patch_merge_key.take());
    target.default = from.default.clone().or(target.default.take());
}
