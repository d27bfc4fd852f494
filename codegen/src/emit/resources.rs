//! Emits the route table: one `ResourceDescriptor` per resource per
//! group/version (`crate::RESOURCES`).

use proc_macro2::TokenStream;
use quote::quote;

use super::schemas::DefinitionIds;
use crate::model::{Gvk, Model, Resource, Verb};

/// The `RESOURCES` static.
pub fn tokens(model: &Model, ids: &DefinitionIds) -> TokenStream {
    let resources = model.resources.iter().map(|r| {
        let (group, version, kind) = (&r.gvk.group, &r.gvk.version, &r.gvk.kind);
        let (plural, singular, namespaced) = (&r.plural, &r.singular, r.namespaced);
        let resource_verbs = verbs(r.verbs.iter().copied());
        let short_names = &r.short_names;
        let categories = &r.categories;
        let subresources = r.subresources.iter().map(|s| {
            let name = &s.name;
            let kind = match &s.kind {
                Some(gvk) => {
                    let gvk = gvk_tokens(gvk);
                    quote!(Some(#gvk))
                }
                None => quote!(None),
            };
            let sub_verbs = verbs(s.verbs.iter().copied());
            let connect = s.connect;
            quote!(SubresourceDescriptor { name: #name, kind: #kind, verbs: #sub_verbs, connect: #connect })
        });
        let storage_version = &r.storage_version;
        let storage_version_hash = match storage_version_hash(r) {
            Some(hash) => quote!(Some(#hash)),
            None => quote!(None),
        };
        let definition = &r.definition;
        let schema = ids[&r.definition];
        let field_selectors = r.field_selectors.iter().map(|f| &f.label);
        let columns = r.printer_columns.iter().map(|c| {
            let (name, ty, format, description, priority) = (&c.name, &c.ty, &c.format, &c.description, c.priority);
            let json_path = match &c.json_path {
                Some(path) => quote!(Some(#path)),
                None => quote!(None),
            };
            quote!(crate::support::meta::PrinterColumn {
                name: #name, ty: #ty, format: #format, description: #description,
                priority: #priority, json_path: #json_path,
            })
        });
        quote! {
            ResourceDescriptor {
                group: #group,
                version: #version,
                kind: #kind,
                plural: #plural,
                singular: #singular,
                namespaced: #namespaced,
                verbs: #resource_verbs,
                short_names: &[#(#short_names),*],
                categories: &[#(#categories),*],
                subresources: &[#(#subresources),*],
                storage_version: #storage_version,
                storage_version_hash: #storage_version_hash,
                definition: #definition,
                schema: SchemaId(#schema),
                field_selectors: &[#(#field_selectors),*],
                printer_columns: &[#(#columns),*],
            }
        }
    });
    let groups = model.groups.iter().map(|g| {
        let (name, versions) = (&g.name, &g.versions);
        quote!(GroupDescriptor { name: #name, versions: &[#(#versions),*] })
    });
    quote! {
        use crate::support::meta::{GroupDescriptor, GroupVersionKind, ResourceDescriptor, SubresourceDescriptor, Verb};

        /// Every served group, in the order discovery lists them: the core
        /// group first, then named groups by upstream's priority.
        pub static GROUPS: &[GroupDescriptor] = &[#(#groups),*];
        use crate::support::schema::SchemaId;

        /// Every resource of every served group/version, sorted by group,
        /// version and plural: the route table.
        pub static RESOURCES: &[ResourceDescriptor] = &[#(#resources),*];
    }
}

/// Upstream's `storageVersionHash`: the first 8 bytes of the SHA-256 of
/// `<group>/<storage version>/<kind>`, base64. Only stored resources, the
/// ones that can be watched, carry one.
fn storage_version_hash(r: &Resource) -> Option<String> {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};

    if !r.verbs.contains(&Verb::Watch) {
        return None;
    }
    let digest = Sha256::digest(format!(
        "{}/{}/{}",
        r.gvk.group, r.storage_version, r.gvk.kind
    ));
    Some(base64::engine::general_purpose::STANDARD.encode(&digest[..8]))
}

fn gvk_tokens(gvk: &Gvk) -> TokenStream {
    let (group, version, kind) = (&gvk.group, &gvk.version, &gvk.kind);
    quote!(GroupVersionKind { group: #group, version: #version, kind: #kind })
}

fn verbs(verbs: impl Iterator<Item = Verb>) -> TokenStream {
    let verbs = verbs.map(|v| {
        let name = proc_macro2::Ident::new(
            match v {
                Verb::Create => "Create",
                Verb::Delete => "Delete",
                Verb::DeleteCollection => "DeleteCollection",
                Verb::Get => "Get",
                Verb::List => "List",
                Verb::Patch => "Patch",
                Verb::Update => "Update",
                Verb::Watch => "Watch",
            },
            proc_macro2::Span::call_site(),
        );
        quote!(Verb::#name)
    });
    quote!(&[#(#verbs),*])
}
