//! Emits one Rust module per group/version with a serde struct for every
//! definition, mirroring the wire format field by field.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;

use super::names::{field_ident, ident, split_definition, support_type, type_path};
use crate::model::{Definition, Model};
use crate::schema::{Schema, SchemaKind};

/// Module path -> the token stream of that module's file.
pub fn modules(model: &Model) -> BTreeMap<Vec<String>, TokenStream> {
    let boxed = BoxedFields::new(&model.definitions);
    let mut items: BTreeMap<Vec<String>, Vec<TokenStream>> = BTreeMap::new();
    for def in model.definitions.values() {
        let (module, _) = split_definition(&def.name);
        items
            .entry(module)
            .or_default()
            .push(definition(def, &boxed));
    }
    items
        .into_iter()
        .map(|(module, items)| (module, quote!(#(#items)*)))
        .collect()
}

fn definition(def: &Definition, boxed: &BoxedFields) -> TokenStream {
    let (_, name) = split_definition(&def.name);
    let name = ident(&name);
    let docs = doc_attrs(def.schema.description.as_deref());
    if let Some((module, ty)) = support_type(&def.name) {
        let module = ident(module);
        let ty = ident(ty);
        return quote! {
            #docs
            pub use crate::support::#module::#ty as #name;
        };
    }
    let kind_impl = kind_impl(def, &name);
    let SchemaKind::Object {
        properties,
        required,
        additional: None,
    } = &def.schema.kind
    else {
        return quote! {
            #docs
            pub type #name = serde_json::Value;
        };
    };
    if properties.is_empty() {
        // Declared as a bare object: any JSON object passes through.
        return quote! {
            #docs
            #[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
            #[serde(transparent)]
            pub struct #name(pub serde_json::Map<String, serde_json::Value>);
            #kind_impl
        };
    }
    let fields = properties.iter().map(|(json, schema)| {
        let field = field_ident(json);
        let docs = doc_attrs(schema.description.as_deref());
        let mut ty = rust_type(schema);
        if let SchemaKind::Ref(target) = &schema.kind
            && boxed.is_boxed(&def.name, target)
        {
            ty = quote!(Box<#ty>);
        }
        if required.contains(json) {
            quote! {
                #docs
                #[serde(rename = #json, default)]
                pub #field: #ty,
            }
        } else {
            quote! {
                #docs
                #[serde(rename = #json, default, skip_serializing_if = "Option::is_none")]
                pub #field: Option<#ty>,
            }
        }
    });
    quote! {
        #docs
        #[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        pub struct #name {
            #(#fields)*
        }
        #kind_impl
    }
}

/// `impl Kind` for definitions that are the wire form of exactly one kind.
fn kind_impl(def: &Definition, name: &proc_macro2::Ident) -> TokenStream {
    let [gvk] = def.gvks.as_slice() else {
        return TokenStream::new();
    };
    let (group, version, kind) = (&gvk.group, &gvk.version, &gvk.kind);
    let api_version = gvk.api_version();
    quote! {
        impl crate::support::meta::Kind for #name {
            const GROUP: &'static str = #group;
            const VERSION: &'static str = #version;
            const KIND: &'static str = #kind;
            const API_VERSION: &'static str = #api_version;
        }
    }
}

/// The Rust type of a schema node (without the `Option` of optional fields).
fn rust_type(schema: &Schema) -> TokenStream {
    match &schema.kind {
        SchemaKind::Ref(name) => type_path(name),
        SchemaKind::Object {
            additional: Some(values),
            ..
        } => {
            let values = rust_type(values);
            quote!(std::collections::BTreeMap<String, #values>)
        }
        SchemaKind::Object { .. } | SchemaKind::Any => quote!(serde_json::Value),
        SchemaKind::Array(items) => {
            let items = rust_type(items);
            quote!(Vec<#items>)
        }
        SchemaKind::String if schema.extensions.int_or_string => {
            quote!(crate::support::int_or_string::IntOrString)
        }
        SchemaKind::String => match schema.format.as_deref() {
            Some("byte") => quote!(crate::support::byte_string::ByteString),
            Some("date-time") => quote!(crate::support::time::Time),
            _ => quote!(String),
        },
        SchemaKind::Integer => match schema.format.as_deref() {
            Some("int32") => quote!(i32),
            _ => quote!(i64),
        },
        SchemaKind::Number => quote!(crate::support::float64::Float64),
        SchemaKind::Boolean => quote!(bool),
    }
}

/// `#[doc]` attributes from a schema description.
pub fn doc_attrs(description: Option<&str>) -> TokenStream {
    let Some(text) = description.filter(|d| !d.trim().is_empty()) else {
        return TokenStream::new();
    };
    let lines = text
        .lines()
        .map(|line| format!(" {}", line.trim_end().replace('\t', "    ")));
    quote!(#(#[doc = #lines])*)
}

/// Which struct fields must be boxed: those through which a struct would
/// contain itself without a `Vec` or map in between.
struct BoxedFields {
    /// Definition -> definitions it holds inline (not behind a Vec or map).
    direct: BTreeMap<String, BTreeSet<String>>,
}

impl BoxedFields {
    fn new(definitions: &BTreeMap<String, Definition>) -> BoxedFields {
        let direct = definitions
            .values()
            .map(|def| {
                let targets = match &def.schema.kind {
                    SchemaKind::Object { properties, .. } => properties
                        .values()
                        .filter_map(|p| match &p.kind {
                            SchemaKind::Ref(target) if support_type(target).is_none() => {
                                Some(target.clone())
                            }
                            _ => None,
                        })
                        .collect(),
                    _ => BTreeSet::new(),
                };
                (def.name.clone(), targets)
            })
            .collect();
        BoxedFields { direct }
    }

    fn is_boxed(&self, holder: &str, target: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![target];
        while let Some(next) = stack.pop() {
            if next == holder {
                return true;
            }
            if seen.insert(next)
                && let Some(targets) = self.direct.get(next)
            {
                stack.extend(targets.iter().map(String::as_str));
            }
        }
        false
    }
}
